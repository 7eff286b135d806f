"""Train a grid of configs (a sweep TOML) in compiled groups, streaming every evaluation into
OUT/evals.jsonl; then fit the laws into OUT/fit and print a per-config summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rlscale.commands import Command
from rlscale.commands.arguments import add_executor_arguments, add_progress_view_arguments, add_tracker_argument
from rlscale.config import ConfigError, SweepConfig
from rlscale.laws.table import FitInputError
from rlscale.run.errors import EXIT_BAD_INPUT, RunError, failure_exit_status, failure_message
from rlscale.run.fit_files import fit_run_directory, write_learning_curves
from rlscale.run.tables import load_runs

PLATFORMS = ("cpu", "gpu", "tpu")
"""JAX platforms a dry run can plan for (`--platform`)."""
CONFIG_AXIS_NOTES = {
    "map": "each config computes only its own updates at its own batch size, configs of equal σ and B "
           "batched in lanes of lane_width: nothing wasted",
    "vmap": "configs updated together on batches padded to the group's largest",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `sweep` flags."""
    parser.add_argument("config", help="sweep config (TOML)")
    parser.add_argument("--out", help="run directory (default: runs/<config name>)")
    parser.add_argument("--fit-every", type=int, default=0, metavar="N",
                        help="refit laws and plots into OUT/fit every N evaluations (0: at the end only)")
    parser.add_argument("--no-fit", action="store_true", help="do not fit laws at the end")
    parser.add_argument("--resume", action="store_true",
                        help="continue OUT from its latest checkpoints (an error if it has none); "
                        "running the same sweep again on OUT also resumes")
    add_progress_view_arguments(parser)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (TOML value syntax), repeatable")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan at once, compiling nothing (groups, config axis, waste, "
                        "memory, env steps, updates, FLOPs and their split over 1, 8 and 64 devices) and exit")
    parser.add_argument("--estimate", action="store_true",
                        help="a dry run that also estimates the wall time on this machine's device: each "
                        "group's program is compiled and timed, group by group (Ctrl-C stops it and prints "
                        "what was estimated)")
    parser.add_argument("--platform", choices=PLATFORMS,
                        help="with --dry-run: plan for one device of this platform instead of this "
                        "machine's devices (e.g. gpu: the config axis and lanes a GPU run would use)")
    add_executor_arguments(parser)
    add_tracker_argument(parser, "the sweep file's `tracker`")


def run_sweep_command(args: argparse.Namespace) -> int:
    overrides = args.overrides + ([f"tracker={json.dumps(args.tracker)}"] if args.tracker else [])
    try:
        config = SweepConfig.from_toml(args.config, overrides)
        if args.platform is not None and not (args.dry_run or args.estimate):
            raise ConfigError([f"--platform {args.platform} plans a dry run: add --dry-run"])
    except ConfigError as error:
        print(f"rlscale sweep: {error}", file=sys.stderr)
        return 2
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    if args.dry_run or args.estimate:
        return _dry_run(config, out, args)
    return _sweep(config, out, args)


def _dry_run(config: SweepConfig, out: Path, args: argparse.Namespace) -> int:
    """Print the plan at once (nothing compiled), check its memory against this machine's device,
    and with --estimate calibrate it group by group."""
    import jax

    from rlscale.plan import decide_config_axis, make_plan
    from rlscale.run.runner import check_memory, stored_axis_decision

    local = jax.default_backend()
    if args.platform is not None:
        decision = decide_config_axis(config, args.platform, 1)
    else:
        decision = stored_axis_decision(out, config) or decide_config_axis(config)
    config = decision.applied_to(config)
    plan = make_plan(config, decision.platform, decision.num_devices)
    _print_plan(plan, decision, config)
    if args.executor == "ray" and args.platform is None:
        print("note: under --executor ray the config axis is decided for the devices of the cluster's tasks "
              "(map on CPUs, vmap on GPUs): --platform cpu or gpu shows that plan")
    if decision.platform != local:
        print(f"memory and wall time: not checked here (the plan is for {decision.platform}, this machine "
              f"has {local}); run the dry run on that machine")
        return 0
    try:
        check_memory(plan)
    except ConfigError as error:
        print(f"rlscale sweep: {error}", file=sys.stderr)
        return 2
    if not args.estimate:
        print("wall time: not estimated (--estimate compiles and times each group's program on this "
              "machine's device, one group after another)")
        return 0
    return _print_estimate(plan, config)


def _sweep(config: SweepConfig, out: Path, args: argparse.Namespace) -> int:
    from rlscale.run.executors import make_executor
    from rlscale.run.progress import make_progress

    fitter = _StreamingFit(out, args.fit_every)
    try:
        executor = make_executor(args.executor, args.address)
        extra = {"progress": make_progress(args.live)} if args.executor == "local" else {}
        results = executor.run(config, out, after_eval=fitter.after_eval, resume=args.resume, **extra)
    except ConfigError as error:
        print(f"rlscale sweep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RunError, KeyboardInterrupt) as error:
        print(f"rlscale sweep: {failure_message(error, out)}", file=sys.stderr)
        return failure_exit_status(error)
    _print_summary(out, results)
    if not args.no_fit:
        fitter.fit(final=True)
    print(f"results: {out / 'evals.jsonl'} (also evals.parquet), manifest: {out / 'manifest.json'}")
    return 0


class _StreamingFit:
    """Refits every `every` evaluations (and at the end) into `<out>/fit`."""

    def __init__(self, out: Path, every: int):
        self.out, self.every, self.evaluations = out, every, 0

    def after_eval(self, _rows: int) -> None:
        self.evaluations += 1
        if self.every and self.evaluations % self.every == 0:
            self.fit(final=False)

    def fit(self, final: bool) -> None:
        from rlscale.laws.options import FitOptions

        try:
            fit_run_directory(self.out, self.out / "fit", FitOptions())
        except FitInputError as error:
            print(f"fit {'skipped' if final else 'not ready yet'}: {error}", flush=True)
            return
        if final:
            write_learning_curves(load_runs(self.out), self.out / "fit")
            print(f"fit: {self.out / 'fit' / 'fit.json'}; figures (fit and learning curves): "
                  f"{self.out / 'fit'}/*.png, *.svg")


def _print_plan(plan, decision, config: SweepConfig) -> None:
    """The plan's groups, work and cost split, the config-axis `decision` (plan.AxisDecision) and the
    defaults the sweep took; flushed, so it appears at once whatever follows."""
    from rlscale.plan import schedule_on_workers

    summary = plan.summary()
    critics = plan.critic_parameter_counts
    totals = sorted({group["parameter_count"] for group in summary})
    critic_text = "whole-agent parameters (no critic_parameter_count)" if plan.critic_counts_are_whole_agent else "critic parameters"
    print(f"{len(summary)} compiled group(s) for {decision.num_devices} {decision.platform} device(s); model size "
          f"N = {', '.join(map(str, critics))} {critic_text} (whole agent: {', '.join(map(str, totals))})")
    print(f"config axis: {decision.config_axis} ({CONFIG_AXIS_NOTES[decision.config_axis]}): {decision.reason}")
    for note in config.default_notes():
        print(f"default: {note}")
    for group in summary:
        print(json.dumps(group))
    total_env = sum(g["env_steps"] for g in summary)
    total_updates = sum(g["grad_updates"] for g in summary)
    print(f"total: {total_env} env steps, {total_updates} gradient updates")
    total_flops = sum(g["estimated_flops"] for g in summary)
    splits = []
    for workers in (1, 8, 64):
        schedule = schedule_on_workers(plan, workers)
        splits.append(
            f"{workers} device(s): busiest {schedule.makespan / 1e12:.3g} TFLOP, speedup {schedule.speedup:.2f}"
        )
    print(f"estimated cost: {total_flops / 1e12:.3g} TFLOP; costliest-first over " + "; ".join(splits), flush=True)


def _print_estimate(plan, config: SweepConfig) -> int:
    """Calibrate the plan's groups one after another (`estimated_seconds`); 0, or 130 when stopped."""
    from rlscale.run.estimate import estimated_seconds

    return 0 if estimated_seconds(plan, config) is not None else 130


def _print_summary(out: Path, results) -> None:
    from rich.console import Console
    from rich.table import Table

    from rlscale.run.store import read_evals

    evals = read_evals(out)
    best = evals.groupby("config_id")["return"].max()
    table = Table(title="per-config summary")
    for column in ("config", "utd", "batch", "lr", "seed", "final return", "best return", "grad steps"):
        table.add_column(column, justify="right")
    final = evals.sort_values("env_step").groupby("config_id").tail(1).set_index("config_id")
    for config_id, row in final.sort_index().iterrows():
        table.add_row(
            str(config_id), f"{row['utd']:g}", str(row["batch_size"]), f"{row['learning_rate']:g}",
            str(row["seed"]), f"{row['return']:.1f}", f"{best[config_id]:.1f}", str(row["grad_step"]),
        )
    console = Console()
    console.print(table)
    for result in results:
        console.print(
            f"group {result.group + 1}: {len(result.config_ids)} configs, "
            f"{result.wall_time_s:.1f} s"
            + (
                f" (estimated {result.estimated_wall_s:.1f} s: {result.wall_time_s / result.estimated_wall_s:.2f}× the estimate)"
                if result.estimated_wall_s
                else ""
            )
            + f", measured wasted work {result.measured_wasted_fraction:.2f}"
            + (f", diverged configs {result.diverged_config_ids}" if result.diverged_config_ids else "")
        )


COMMANDS = (Command("sweep", "train a grid of configs, streaming evals.jsonl", None, add_arguments, run_sweep_command),)
