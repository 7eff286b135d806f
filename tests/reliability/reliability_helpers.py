"""Helpers for the reliability suite: tiny sweeps run in subprocesses that share a persistent XLA
compilation cache (the `compile_cache` fixture), so each resumed process loads the compiled
programs instead of recompiling them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

from rlscale.config import SweepConfig

REPO = Path(__file__).resolve().parents[2]

# 4 configs in 2 groups of 2 (same compiled program), 4 evaluations each, a checkpoint at each.
TINY_SWEEP = {
    "env": "pendulum",
    "utd": [1.0],
    "batch_size": [32],
    "learning_rate": [1e-3, 3e-4],
    "seeds": [0, 1],
    "env_steps": 2000,
    "eval_interval": 500,
    "eval_episodes": 2,
    "learning_starts": 200,
    "buffer_capacity": 2000,
    "hidden_width": 16,
    "max_group_size": 2,
    "checkpoint_every_env_steps": 500,
    "checkpoint_every_seconds": 0.0,
}



def toml_text(values: dict) -> str:
    """A flat TOML document for a dict of strings, numbers, booleans and lists of numbers."""
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def run_sweep_process(
    values: dict, out_dir: Path, cache: Path, kill_at: str | None = None, resume: bool = False
) -> subprocess.CompletedProcess:
    """`rlscale sweep` in a fresh process, config written next to `out_dir`; `kill_at` sets the
    RLSCALE_TEST_KILL_AT fault point (rlscale/run/checkpoint.py:fault_point)."""
    config_path = out_dir.parent / f"{out_dir.name}.toml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(toml_text(values))
    env = {key: value for key, value in os.environ.items() if key != "RLSCALE_TEST_KILL_AT"}
    env.update(
        JAX_PLATFORMS="cpu",
        JAX_COMPILATION_CACHE_DIR=str(cache),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
    )
    if kill_at is not None:
        env["RLSCALE_TEST_KILL_AT"] = kill_at
    command = [sys.executable, "-m", "rlscale.cli", "sweep", str(config_path), "--out", str(out_dir),
               "--plain", "--no-fit"] + (["--resume"] if resume else [])
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


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
