"""`rlscale sweep` driven end to end in a subprocess, as a new user would run it; the dry runs' plans
and a cached estimate are read in this process (`rlscale.cli.main`), one dry run in a subprocess."""

import json
import re
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from rlscale.cli import main

TINY_CONFIG = """
env = "pendulum"
utd = [0.5, 2]
batch_size = [16, 32]
learning_rate = 1e-3
seeds = [0, 1]
env_steps = 600
eval_interval = 300
eval_episodes = 1
learning_starts = 200
buffer_capacity = 1000
hidden_width = 16
"""


CALIBRATING = dict(os.environ, RLSCALE_CALIBRATE="1")
"""The environment of a run that calibrates (the suite's runs do not: tests/conftest.py)."""


def rlscale(*args, cwd, timeout=600, env=None):
    return subprocess.run(
        [sys.executable, "-m", "rlscale.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG)
    return path


def test_sweep_end_to_end(tmp_path, tiny_config):
    out = tmp_path / "run"
    # A relative --out, as a user types it (checkpoints need absolute paths inside).
    result = rlscale("sweep", str(tiny_config), "--out", "run", "--plain", "--no-fit", cwd=tmp_path, env=CALIBRATING)
    assert result.returncode == 0, result.stderr
    # The config axis is the rule's for one CPU device, recorded with its reason; each group reports
    # estimated vs actual.
    manifest = json.loads((out / "manifest.json").read_text())
    assert {group["config_axis"] for group in manifest["plan"]} == {"map"}
    assert manifest["config_axis"] == {
        "requested": "auto", "config_axis": "map", "platform": "cpu", "num_devices": 1,
        "reason": "auto on one cpu device: map, nothing padded or idle, lanes where batching pays",
    }
    estimates = json.loads((out / "estimates.json").read_text())
    assert estimates and all(entry["seconds"] > 0 and entry["actual_s"] > 0 for entry in estimates.values())
    assert re.search(r"estimated [\d.]+ s: [\d.]+× the estimate", result.stdout)
    rows = [json.loads(line) for line in (out / "evals.jsonl").read_text().splitlines()]
    assert len(rows) == 8 * 2  # 8 configs, 2 evaluations each
    required = {"config_id", "env", "algo", "utd", "batch_size", "learning_rate", "seed",
                "env_step", "grad_step", "return", "wall_time_s", "model_size", "model_size_total"}
    assert required <= set(rows[0])
    assert rows[0]["model_size"] < rows[0]["model_size_total"]  # the critics, and the whole agent
    assert sorted({row["config_id"] for row in rows}) == list(range(8))
    assert pd.read_parquet(out / "evals.parquet").shape[0] == 16
    assert manifest["config"]["utd"] == [0.5, 2.0]
    assert manifest["jax_backend"] == "cpu" and manifest["packages"]["jax"]
    assert manifest["defaults"] == ["tau unset: 0.005, the sac preset"]
    # The plain log has one line per evaluation and group, and the per-config summary.
    assert result.stdout.count("env_step") >= 4
    assert "per-config summary" in result.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, tiny_config, capsys, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RLSCALE_CALIBRATE", "1")  # a dry run does not calibrate even where runs do

    def dry_run(*flags: str) -> str:
        assert main(["sweep", str(tiny_config), "--out", str(out), "--dry-run", *flags]) == 0
        return capsys.readouterr().out

    plans = {}
    for axis in ("vmap", "map"):
        stdout = dry_run("--set", "max_wasted_fraction=1.0", "--set", f"config_axis='{axis}'")
        groups = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        assert len(groups) == 1 and groups[0]["configs"] == 8 and groups[0]["config_axis"] == axis
        assert f"config axis: {axis}" in stdout and "set in the sweep config" in stdout
        assert "wall time: not estimated (--estimate" in stdout
        plans[axis] = groups[0]
    assert 0 < plans["vmap"]["planned_wasted_fraction"] < 1 and plans["map"]["planned_wasted_fraction"] == 0
    # map batches the two seeds of each (σ, B) in a lane.
    assert plans["map"]["lane_width"] == 2 and plans["vmap"]["lane_width"] == 1
    assert plans["map"]["estimated_flops"] < plans["vmap"]["estimated_flops"]
    # auto is a rule of the devices: map on this CPU, vmap for a GPU, at any width.
    for width in (16, 256):
        stdout = dry_run("--set", f"hidden_width={width}")
        assert "config axis: map (" in stdout and "auto on one cpu device" in stdout
    # The one dry run in a fresh process, as a user types it.
    result = rlscale("sweep", str(tiny_config), "--out", str(out), "--dry-run", "--platform", "gpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "for 1 gpu device(s)" in result.stdout and "config axis: vmap (" in result.stdout
    assert "memory and wall time: not checked here (the plan is for gpu, this machine has cpu)" in result.stdout
    assert not out.exists()


def test_estimate_reports_each_group_as_it_goes(tmp_path, tiny_config, capsys, monkeypatch):
    """--estimate calibrates group by group on this machine's device, each group's line flushed
    before its compile starts (read while the command still runs), and names the device. Two groups
    (one per model size) of one batch size each."""
    arguments = ["sweep", str(tiny_config), "--out", str(tmp_path / "run"), "--estimate",
                 "--set", "batch_size=[16]", "--set", "model_sizes=[{hidden_width = 8}, {hidden_width = 16}]"]
    command = [sys.executable, "-m", "rlscale.cli", *arguments]
    env = dict(CALIBRATING, RLSCALE_CACHE_DIR=str(tmp_path / "cache"))
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as process:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("group 1/2"):
                # Printed before the group's compile, which takes seconds: the command still runs.
                assert process.poll() is None
                break
        lines += process.stdout.readlines()
        assert process.wait(timeout=600) == 0, process.stderr.read()
    text = "".join(lines)
    assert "estimating the wall time on cpu" in text and "the time differs: estimate there" in text
    progress = [line for line in lines if line.startswith("group ")]
    assert [line.split(":")[0].split(" (")[0] for line in progress] == ["group 1/2"] * 2 + ["group 2/2"] * 2
    assert "compiling and timing its program" in progress[0] and "estimated" in progress[1]
    assert re.search(r"estimated wall time: \d+ s \([\d.]+ h\) on cpu", text)
    # A second estimate (here in this process) reuses the cached calibrations.
    for name in ("RLSCALE_CALIBRATE", "RLSCALE_CACHE_DIR"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(tmp_path)
    assert main(arguments) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("cached calibration") == 2 and "compiling and timing" not in stdout
    assert not (tmp_path / "run").exists()


def test_every_config_error_at_once_and_no_traceback(tmp_path, tiny_config):
    out = tmp_path / "run"
    result = rlscale("sweep", str(tiny_config), "--out", str(out),
                     "--set", "utd=[0, 1]", "--set", "batch_size=-4", "--set", "env='nope'", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for fragment in ("utd must be in (0, 64], got 0.0", "batch_size must be an integer >= 1, got -4",
                     "env 'nope' is unknown"):
        assert fragment in result.stderr
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_live_progress_view_in_a_real_terminal(tmp_path, tiny_config):
    session = f"rlscale-test-{os.getpid()}"
    out = tmp_path / "run"
    command = f"{sys.executable} -m rlscale.cli sweep {tiny_config} --out {out} --no-fit; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", command],
                   check=True, cwd=tmp_path)
    try:
        screens = []
        deadline = time.time() + 300
        while time.time() < deadline and not (out / "evals.parquet").exists():
            time.sleep(1)
            screens.append(subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                          capture_output=True, text=True).stdout)
        screen = "\n".join(screens)
        assert "rlscale sweep" in screen  # the live table's title
        assert "diverged" in screen and "best" in screen  # its column headers
        assert "300/600" in screen  # a group's progress row
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
