"""The Ray executor on a local cluster reproduces the local executor's rows, also when a task's
worker is killed mid-run (the retry resumes from the group's checkpoint), and with the config axis
left at "auto" (decided for the cluster's devices: on CPUs the local executor's map)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from distributed_helpers import AUTO_AXIS_SWEEP, REPO, TWO_GROUP_SWEEP, eval_rows
from rlscale.config import SweepConfig
from rlscale.run.executors import FAULT_ONCE_ENV, RayExecutor, group_directory
from rlscale_testing import toml_text

# ray.init starts its processes with fork+exec from this (JAX-threaded) process: harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")


@pytest.mark.slow
def test_ray_sweep_gives_the_local_rows(ray_cluster, local_run, compile_cache, tmp_path):
    executor = RayExecutor(compilation_cache_dir=str(compile_cache))
    results = executor.run(SweepConfig.from_dict(TWO_GROUP_SWEEP), tmp_path, log=lambda line: None)

    assert [result.group for result in results] == [0, 1]
    assert eval_rows(tmp_path / "evals.jsonl") == eval_rows(local_run / "evals.jsonl")
    assert len(pd.read_parquet(tmp_path / "evals.parquet")) == 8
    for index in (0, 1):
        assert (group_directory(tmp_path, index) / "checkpoints" / "state.json").exists()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["plan"]) == 2
    assert executor.resumed_from_env_step == {}


@pytest.mark.slow
def test_killed_task_is_retried_and_resumes(ray_cluster, local_run, compile_cache, tmp_path, monkeypatch):
    # Group 1's worker SIGKILLs itself once its third evaluation's rows are written, before that
    # evaluation's checkpoint: the retry resumes from env step 500 and rewrites those rows.
    monkeypatch.setenv(FAULT_ONCE_ENV, "1:eval_rows_written:3")
    executor = RayExecutor(compilation_cache_dir=str(compile_cache))
    executor.run(SweepConfig.from_dict(TWO_GROUP_SWEEP), tmp_path, log=lambda line: None)

    assert (tmp_path / "groups" / "fault-injected-1").exists()
    assert executor.resumed_from_env_step == {1: 500}
    rows = eval_rows(tmp_path / "evals.jsonl")
    keys = [(row["config_id"], row["env_step"]) for row in rows]
    assert len(keys) == len(set(keys)) == 8
    assert rows == eval_rows(local_run / "evals.jsonl")


def test_the_same_command_gives_the_same_rows_locally_and_under_ray(ray_cluster, tmp_path):
    """`rlscale sweep` with config_axis = "auto", run in this machine's process and with --executor ray
    (tasks on this CPU), gives identical rows: every column but the wall clock. Both runs record one
    decision: map, the rule for one CPU device (no timing decides it). (That two local processes give
    the same rows is what tests/reliability compares every resumed run against.)"""
    config_path = tmp_path / "sweep.toml"
    config_path.write_text(toml_text(AUTO_AXIS_SWEEP))
    address = ray_cluster.get_runtime_context().gcs_address
    runs = {"local": [], "ray": ["--executor", "ray", "--address", address]}
    for name, flags in runs.items():
        result = subprocess.run(
            [sys.executable, "-m", "rlscale.cli", "sweep", str(config_path), "--out", str(tmp_path / name),
             "--plain", "--no-fit", *flags],
            cwd=REPO, capture_output=True, text=True, timeout=900,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    rows = {name: eval_rows(tmp_path / name / "evals.jsonl") for name in runs}
    assert len(rows["local"]) == 4 * 4
    assert rows["ray"] == rows["local"]
    decisions = [json.loads((tmp_path / name / "manifest.json").read_text())["config_axis"] for name in runs]
    assert decisions == [{"requested": "auto", "config_axis": "map", "platform": "cpu", "num_devices": 1,
                          "reason": "auto on one cpu device: map, nothing padded or idle, lanes where batching pays"}] * 2
