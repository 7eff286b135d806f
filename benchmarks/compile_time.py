"""Compile time vs K: seconds to compile a group's init, train_chunk and evaluate, for each K.

Each measurement starts from empty compile caches (rlscale's trainer cache and JAX's); the median
of `compile_repetitions` measurements is reported, in wall seconds and in process CPU seconds (the
figure to trust on a loaded machine), with compile(K) / compile(1) for both. Shapes grow with K
but the program does not (configs are a vmapped axis), so the ratio should stay near 1.

    python -m benchmarks.run --only compile
"""

from __future__ import annotations

import statistics
import sys

from benchmarks.common import BenchSize, bench_configs, clear_compile_caches, compile_group, sweep_config
from rlscale.plan import make_plan


def run(size: BenchSize) -> dict:
    """Returns {"rows": [{num_configs, compile_s, compile_cpu_s (medians), samples, ratios}], ...}."""
    rows = []
    for num_configs in size.compile_group_sizes:
        sweep = sweep_config(size, bench_configs(size, num_configs), size.env_steps)
        (group,) = make_plan(sweep).groups
        hparams = group.hparams(sweep.discount, sweep.resolved_tau)
        wall, cpu = [], []
        for _ in range(size.compile_repetitions):
            clear_compile_caches()
            _, wall_s, cpu_s = compile_group(group.spec, hparams)
            wall.append(wall_s)
            cpu.append(cpu_s)
        row = {
            "num_configs": num_configs,
            "compile_s": statistics.median(wall),
            "compile_cpu_s": statistics.median(cpu),
            "samples_s": wall,
            "samples_cpu_s": cpu,
        }
        print(f"compile K={num_configs:3d}: {row['compile_s']:6.1f}s wall {row['compile_cpu_s']:6.1f}s cpu", file=sys.stderr, flush=True)
        rows.append(row)
    for row in rows:
        row["ratio_to_k1"] = row["compile_s"] / rows[0]["compile_s"]
        row["cpu_ratio_to_k1"] = row["compile_cpu_s"] / rows[0]["compile_cpu_s"]
    return {"rows": rows, "repetitions": size.compile_repetitions}
