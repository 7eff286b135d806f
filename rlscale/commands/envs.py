"""List the registered environments: size, episode length, action repeat and return normalization.
With --measure, also jit reset+step of --num-envs vmapped envs and report the compile time and
environment steps per second on the default JAX device (MJX envs compile for 15-60 s each on CPU;
use --env to pick a few)."""

from __future__ import annotations

import argparse
import sys

from rlscale.commands import Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `envs` flags."""
    parser.add_argument("--measure", action="store_true", help="measure compile time and steps/s")
    parser.add_argument("--num-envs", type=int, default=16, help="vmapped envs when measuring (default 16)")
    parser.add_argument("--num-steps", type=int, default=100, help="steps per timed run when measuring (default 100)")
    parser.add_argument(
        "--env", action="append", metavar="NAME",
        help="only this env, a registered name or a reference such as playground:<Name> (repeatable; default: every registered env)"
    )
    parser.add_argument(
        "--backend",
        choices=("mjx", "generalized", "positional", "spring"),
        help="Brax physics backend for brax/* envs (default: the registry's, mjx)",
    )


def _format_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


def run_envs(args: argparse.Namespace) -> int:
    """Prints one row per env (name, suite, sizes, episode length, normalization), measured if asked."""
    from rlscale.envs import env_names, get_spec

    from rlscale.envs.references import is_reference

    names = args.env or env_names()
    unknown = [name for name in names if name not in env_names() and not is_reference(name)]
    if unknown:
        print(f"unknown env name(s) {', '.join(unknown)}; available: {', '.join(env_names())}", file=sys.stderr)
        return 2
    for name in filter(is_reference, names):
        try:
            get_spec(name)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
    if args.num_envs < 1 or args.num_steps < 1:
        print("--num-envs and --num-steps must be >= 1", file=sys.stderr)
        return 2
    header = ["name", "suite", "obs", "act", "episode", "repeat", "return_low", "return_high"]
    widths = [34, 9, 4, 4, 7, 6, 12, 11]
    if args.measure:
        from rlscale.envs.throughput import device_name, measure_throughput

        header += ["num_envs", "compile_s", "steps/s"]
        widths += [8, 9, 10]
        print(f"device: {device_name()}; {args.num_steps} steps per timed run", flush=True)
    print(_format_row(header, widths), flush=True)
    for name in names:
        options = {"backend": args.backend} if args.backend and name.startswith("brax/") else {}
        spec = get_spec(name, **options)
        cells = [
            name + (f" [{args.backend}]" if options else ""),
            spec.suite,
            str(spec.observation_size),
            str(spec.action_size),
            str(spec.episode_length),
            str(spec.action_repeat),
            f"{spec.return_low:g}",
            f"{spec.return_high:g}",
        ]
        if args.measure:
            row = measure_throughput(name, args.num_envs, args.num_steps, **options)
            cells += [str(args.num_envs), f"{row['compile_s']:.1f}", f"{row['steps_per_s']:.0f}"]
        print(_format_row(cells, widths), flush=True)
    return 0


COMMANDS = (
    Command(
        "envs", "list the registered environments (with --measure: compile time and steps/s on this machine)", __doc__,
        add_arguments, run_envs,
    ),
)
