"""Sweep vs sequential: K mixed configs trained as ONE rlscale group vs one after another (K=1 each).

For every K in the size's group sizes, the first K benchmark configs (mixed η, B, σ, seeds) are
trained from a cold compile cache as one group; the wall time includes compilation, the steady-state
rates are measured over the chunks after learning_starts, and the wasted-work fraction is the
measured one (padded batch rows and update slots computed for nothing).

Sequential: the first `sequential_configs` configs are trained one after another as K=1 groups in
one process, starting from a cold cache; as in rlscale, configs with the same compile key (B, σ)
reuse one compile. Sequential wall time for a larger K is EXTRAPOLATED: the measured compiles
(which cover every (B, σ) key) plus K / m times the measured non-compile time of the m configs.

    python -m benchmarks.run --only sweep
"""

from __future__ import annotations

import dataclasses
import sys

from benchmarks.common import BenchSize, bench_configs, clear_compile_caches, train_group


def run(size: BenchSize) -> dict:
    """Returns {"groups": [one row per K], "sequential": {...}} (seconds, rates per second)."""
    groups = []
    for num_configs in size.group_sizes:
        clear_compile_caches()
        result = train_group(size, bench_configs(size, num_configs), size.env_steps)
        print(
            f"sweep K={num_configs:3d}: wall {result.wall_s:7.1f}s compile {result.compile_s:5.1f}s "
            f"{result.steady_updates_per_s:8.0f} updates/s",
            file=sys.stderr,
            flush=True,
        )
        groups.append(dataclasses.asdict(result))

    clear_compile_caches()
    measured = []
    for config in bench_configs(size, size.sequential_configs):
        result = train_group(size, [config], size.env_steps)
        print(f"sequential config {config.config_id}: wall {result.wall_s:6.1f}s", file=sys.stderr, flush=True)
        measured.append(result)
    compile_s = sum(r.compile_s for r in measured)
    training_s = sum(r.wall_s - r.compile_s for r in measured)
    updates = sum(sum(r.grad_steps) for r in measured)
    steady_s = sum(sum(r.grad_steps) / r.steady_updates_per_s for r in measured)

    for row in groups:
        num_configs = row["num_configs"]
        if num_configs <= len(measured):
            row["sequential_wall_s"] = sum(r.wall_s for r in measured[:num_configs])
        else:
            row["sequential_wall_s"] = compile_s + training_s * num_configs / len(measured)
        row["sequential_extrapolated"] = num_configs > len(measured)
        row["sequential_updates_per_s"] = updates / steady_s
        row["wall_speedup_vs_sequential"] = row["sequential_wall_s"] / row["wall_s"]
        row["updates_speedup_vs_sequential"] = row["steady_updates_per_s"] / row["sequential_updates_per_s"]
    return {
        "groups": groups,
        "sequential": {
            "measured_configs": len(measured),
            "env_steps": size.env_steps,
            "wall_s": [r.wall_s for r in measured],
            "compile_s": [r.compile_s for r in measured],
            "steady_updates_per_s": updates / steady_s,
            "steady_env_steps_per_s": len(measured) * size.env_steps / sum(
                r.env_steps / r.steady_env_steps_per_s for r in measured
            ),
            "final_returns": [r.final_returns[0] for r in measured],
        },
    }
