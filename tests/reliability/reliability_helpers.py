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

# The sweep command of a subprocess: argv[1] a JSON config, argv[2] the run dir, argv[3] "resume"
# to pass resume=True. Bad input exits 2 with the message on stderr, like the CLI.
SWEEP_ENTRY = """
import json, sys
import jax
jax.config.update("jax_compilation_cache_dir", sys.argv[4])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
from rlscale.config import ConfigError, SweepConfig
from rlscale.run.runner import run_sweep
try:
    config = SweepConfig.from_dict(json.loads(sys.argv[1]))
    run_sweep(config, sys.argv[2], resume=sys.argv[3] == "resume")
except ConfigError as error:
    print(f"rlscale sweep: {error}", file=sys.stderr)
    sys.exit(2)
"""


def run_sweep_process(
    values: dict, out_dir: Path, cache: Path, kill_at: str | None = None, resume: bool = False
) -> subprocess.CompletedProcess:
    """Run a sweep in a fresh Python process; `kill_at` sets the RLSCALE_TEST_KILL_AT fault point."""
    env = {key: value for key, value in os.environ.items() if key != "RLSCALE_TEST_KILL_AT"}
    env["JAX_PLATFORMS"] = "cpu"
    if kill_at is not None:
        env["RLSCALE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", SWEEP_ENTRY, json.dumps(values), str(out_dir),
         "resume" if resume else "fresh", str(cache)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )


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
        abstract = jax.eval_shape(get_trainer(group.spec).init, group.hparams(config.discount, config.tau))
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
