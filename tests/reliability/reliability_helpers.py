"""Helpers for the reliability suite: tiny sweeps run in subprocesses that share a persistent XLA
compilation cache (the `compile_cache` fixture), so each resumed process loads the compiled
programs instead of recompiling them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

from rlscale.config import SweepConfig
from rlscale_testing import toml_text
from rlscale.run.checkpoint import FAULT_ENV, PAUSE_ENV

SWEEP_TIMEOUT_S = 900

REPO = Path(__file__).resolve().parents[2]

# 4 configs in 2 groups of 2 (same compiled program), 4 evaluations each, a checkpoint at each.
TINY_SWEEP = {
    "env": "pendulum",
    "utd": [1.0],
    "batch_size": [32],
    "learning_rate": [1e-3, 3e-4],
    "seeds": [0, 1],
    "env_steps": 1000,
    "eval_interval": 250,
    "eval_episodes": 2,
    "learning_starts": 200,
    "buffer_capacity": 2000,
    "hidden_width": 16,
    "max_group_size": 2,
    "checkpoint_every_env_steps": 250,
    "checkpoint_every_seconds": 0.0,
}

def sweep_command(values: dict, out_dir: Path, *flags: str, config_dir: Path | None = None) -> list[str]:
    """The `rlscale sweep` command line for `values`, its TOML written into `config_dir` (default:
    next to `out_dir`)."""
    config_path = (config_dir or out_dir.parent) / f"{out_dir.name}.toml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(toml_text(values))
    return [sys.executable, "-m", "rlscale.cli", "sweep", str(config_path), "--out", str(out_dir),
            "--plain", "--no-fit", *flags]


def sweep_environment(cache: Path, kill_at: str | None = None, stop_at: str | None = None) -> dict:
    """The environment of a sweep subprocess: CPU, the shared compilation cache, and the fault
    points (rlscale/run/checkpoint.py:fault_point) to kill or stop at."""
    env = {key: value for key, value in os.environ.items() if key not in (FAULT_ENV, PAUSE_ENV)}
    env.update(
        JAX_PLATFORMS="cpu",
        JAX_COMPILATION_CACHE_DIR=str(cache),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
    )
    if kill_at is not None:
        env[FAULT_ENV] = kill_at
    if stop_at is not None:
        env[PAUSE_ENV] = stop_at
    return env


def run_sweep_process(
    values: dict, out_dir: Path, cache: Path, kill_at: str | None = None, resume: bool = False
) -> subprocess.CompletedProcess:
    """`rlscale sweep` in a fresh process, config written next to `out_dir`; `kill_at` sets the
    RLSCALE_TEST_KILL_AT fault point (rlscale/run/checkpoint.py:fault_point)."""
    command = sweep_command(values, out_dir, *(["--resume"] if resume else []))
    return subprocess.run(
        command, cwd=REPO, env=sweep_environment(cache, kill_at), capture_output=True, text=True,
        timeout=SWEEP_TIMEOUT_S,
    )


def start_stopped_sweep(values: dict, out_dir: Path, cache: Path, stop_at: str) -> subprocess.Popen:
    """`rlscale sweep` started in the background; returns once it has SIGSTOPped itself at the
    fault point `stop_at` ("<point>:<n>")."""
    process = subprocess.Popen(
        sweep_command(values, out_dir), cwd=REPO, env=sweep_environment(cache, stop_at=stop_at),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_until_stopped(process)
    return process


def wait_until_stopped(process: subprocess.Popen, timeout: float = SWEEP_TIMEOUT_S) -> None:
    """Block until `process` is stopped (SIGSTOP); fails if it exits or the timeout passes."""
    deadline = time.monotonic() + timeout
    stat = Path(f"/proc/{process.pid}/stat")
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the sweep exited ({process.returncode}): {process.communicate()[1][-3000:]}"
        # The state is the field after the parenthesised command name.
        if stat.read_text().rpartition(")")[2].split()[0] == "T":
            return
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the sweep did not reach its stop point in time")


def final_states(run_dir: Path, values: dict) -> list:
    """The done checkpoint of every group of the sweep in `run_dir`, as host pytrees."""
    from rlscale.engine.loop import get_trainer
    from rlscale.plan import make_plan
    from rlscale.run.checkpoint import SweepCheckpoints

    config = SweepConfig.from_dict(values)
    checkpoints = SweepCheckpoints(run_dir)
    checkpoints.manifest = checkpoints.read_manifest()
    states = []
    for index, group in enumerate(make_plan(config).groups):
        assert checkpoints.group_entry(index)["done"]
        abstract = jax.eval_shape(get_trainer(group.spec).init, group.hparams(config.discount, config.resolved_tau))
        states.append(checkpoints.restore(index, abstract)[0])
    return states


def assert_trees_identical(left, right) -> None:
    """Bitwise equality of two pytrees (same structure, dtypes and bytes)."""
    assert jax.tree_util.tree_structure(left) == jax.tree_util.tree_structure(right)
    for a, b in zip(jax.tree_util.tree_leaves(left), jax.tree_util.tree_leaves(right)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def eval_rows(run_dir: Path) -> list[dict]:
    """Rows of evals.jsonl without the wall-clock column (the one field that may differ)."""
    rows = [json.loads(line) for line in (run_dir / "evals.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("wall_time_s")
    return rows
