"""Env steps per second per env and per `num_envs` (1, 16, 128, 1024), with compile times.

Every row times `num_steps` steps of `num_envs` vmapped envs under one jit (uniform-random
actions, terminated envs restart from their first state), after one warm-up run; steps/s is the
median over `repetitions` runs (see rlscale.envs.throughput.measure_throughput).

Sizes:
  tiny: two pure-JAX envs at num_envs 1 and 16 (seconds; for the smoke test).
  cpu:  pure-JAX envs at 1, 16, 128, 1024; brax/halfcheetah on the mjx and generalized backends
        and two DMC envs at 1, 16, 128 (each MJX (env, num_envs) pair compiles for minutes on 2
        cores, so the physics envs are not run at 1024 on CPU).
  gpu:  every suite's paper-relevant envs at 1, 16, 128, 1024.

    python -m benchmarks.env_throughput --size cpu --out runs/bench/env_throughput.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rlscale.envs.throughput import measure_throughput

NUM_ENVS = (1, 16, 128, 1024)
PURE_JAX = ("pendulum", "cartpole-balance")

# size -> list of (env name, options, num_envs values), transitions per timed run (pure-JAX,
# physics), repetitions.
SIZES = {
    "tiny": ([(name, {}, (1, 16)) for name in PURE_JAX], (2_000, 2_000), 1),
    "cpu": (
        [(name, {}, NUM_ENVS) for name in PURE_JAX]
        + [
            ("brax/halfcheetah", {"backend": "mjx"}, NUM_ENVS[:3]),
            ("brax/halfcheetah", {"backend": "generalized"}, NUM_ENVS[:3]),
            ("dmc/cartpole-swingup", {}, NUM_ENVS[:3]),
            ("dmc/cheetah-run", {}, NUM_ENVS[:3]),
        ],
        (256_000, 4_096),
        3,
    ),
    "gpu": (
        [(name, {}, NUM_ENVS) for name in PURE_JAX]
        + [
            (name, {}, NUM_ENVS)
            for name in (
                "brax/halfcheetah",
                "brax/hopper",
                "brax/walker2d",
                "brax/ant",
                "brax/humanoid",
                "dmc/cartpole-swingup",
                "dmc/cheetah-run",
                "dmc/walker-walk",
                "dmc/humanoid-stand",
            )
        ]
        + [("brax/halfcheetah", {"backend": "generalized"}, NUM_ENVS)],
        (1_024_000, 262_144),
        3,
    ),
}


def _num_steps(transitions: int, num_envs: int) -> int:
    """Steps per timed run: about `transitions` env steps in all, between 8 and 1000 steps."""
    return max(8, min(1000, transitions // num_envs))


def run(size: str = "cpu") -> list[dict]:
    """Measures every (env, num_envs) of `size`; returns one row per measurement.

    Rows: env, options, num_envs, num_steps, device, jax_version, compile_s, steps_per_s,
    repetitions.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}; got {size!r}")
    entries, (pure_jax_transitions, physics_transitions), repetitions = SIZES[size]
    rows = []
    for name, options, num_envs_values in entries:
        transitions = pure_jax_transitions if name in PURE_JAX else physics_transitions
        for num_envs in num_envs_values:
            row = measure_throughput(
                name, num_envs, _num_steps(transitions, num_envs), repetitions=repetitions, **options
            )
            print(
                f"{name:24s} {str(options or ''):28s} num_envs={num_envs:5d} "
                f"compile={row['compile_s']:6.1f}s steps/s={row['steps_per_s']:12.0f}",
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=tuple(SIZES), default="cpu", help="benchmark size (default cpu)")
    parser.add_argument("--out", help="write the rows as JSON here (default: print them)")
    args = parser.parse_args(argv)
    rows = run(args.size)
    text = json.dumps(rows, indent=1)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
