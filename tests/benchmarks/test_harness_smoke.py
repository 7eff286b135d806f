"""`python -m benchmarks.run --size smoke`: the harness runs end to end and its JSON is complete.

Checks structure and sanity only, never timings; `make test-slow` (two minutes of compiles). The child process inherits the suite's XLA flags
(tests/conftest.py: backend optimizations off): the smoke run is dominated by compiles.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The agents section (BRO's compile is long on CPU) runs in `make bench`, not here.
SECTIONS = ("sweep", "brax", "compile", "bare", "memory", "env_throughput", "fit_speed")


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_smoke_harness_writes_every_section(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "smoke", "--out", str(tmp_path), "--no-readme",
         "--only", *SECTIONS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    (path,) = tmp_path.glob("*-smoke.json")
    report = json.loads(path.read_text())
    meta, results = report["meta"], report["results"]
    assert meta["jax_version"] and meta["device"] and meta["size"]["name"] == "smoke"
    assert set(SECTIONS) <= set(results)

    groups = results["sweep"]["groups"]
    assert [row["num_configs"] for row in groups] == [1, 2]
    for row in groups:
        assert _positive(row["wall_s"]) and _positive(row["compile_s"])
        assert _positive(row["steady_updates_per_s"]) and _positive(row["steady_env_steps_per_s"])
        assert 0.0 <= row["measured_wasted_fraction"] < 1.0
        assert len(row["final_returns"]) == row["num_configs"]
        assert all(math.isfinite(value) for value in row["final_returns"])
        assert _positive(row["sequential_wall_s"]) and _positive(row["estimated_wall_s"])
    assert results["sweep"]["sequential"]["measured_configs"] == 2

    brax = results["brax"]
    assert len(brax["runs"]) == 1 and math.isfinite(brax["runs"][0]["final_return"])
    assert all(_positive(row["wall_ratio_rlscale_over_brax"]) for row in brax["comparisons"])

    compile_rows = results["compile"]["rows"]
    assert compile_rows[0]["ratio_to_k1"] == 1.0
    assert all(_positive(row["compile_cpu_s"]) for row in compile_rows)

    bare = results["bare"]
    for row in bare["rows"]:
        assert _positive(row["map_updates_per_s"]) and _positive(row["vmap_updates_per_s"])
        assert _positive(row["bare_updates_per_s"]) and _positive(row["flops_per_update"])
        assert _positive(row["update_gemm_flops_per_s"]) and _positive(row["map_fraction_of_gemm"])
    assert _positive(bare["large_matmul_flops_per_s"])
    # The mixed group (two batch sizes): vmap pads the smaller one, map computes nothing for nothing.
    assert bare["mixed"]["map"]["measured_wasted_fraction"] == 0.0
    assert bare["mixed"]["vmap"]["measured_wasted_fraction"] > 0.0

    memory = results["memory"]
    # pendulum: obs 3, action 1 -> 2*3 + 1 + 2 floats per transition.
    assert memory["replay_bytes_per_transition"] == 4 * 9
    assert memory["max_configs_planner"] >= 1
    assert all(_positive(check["measured_peak_bytes"]) for check in memory["checks"])

    assert results["env_throughput"] and all(_positive(row["steps_per_s"]) for row in results["env_throughput"])
    assert _positive(results["fit_speed"]["fit_seconds"])
    assert {target["target"] for target in report["targets"]}
    assert "Sweep vs sequential" in completed.stdout
