"""Helpers for the distributed suite: a tiny two-group sweep and row comparison."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# 2 configs in 2 groups (one compiled program), 4 evaluations each, a checkpoint at each.
TWO_GROUP_SWEEP = {
    "env": "pendulum",
    "utd": [1.0],
    "batch_size": [32],
    "learning_rate": [1e-3],
    "seeds": [0, 1],
    "env_steps": 1000,
    "eval_interval": 250,
    "eval_episodes": 2,
    "learning_starts": 200,
    "buffer_capacity": 1000,
    "hidden_width": 16,
    "max_group_size": 1,
    # An explicit axis: the executors keep it (auto: tests/distributed/test_ray_executor.py).
    "config_axis": "vmap",
    "checkpoint_every_env_steps": 250,
    "checkpoint_every_seconds": 0.0,
}


# The config axis left at "auto", in two groups that each mix σ = 0.5 and 1 in lanes of one config:
# map and vmap train them differently (vmap computes the σ = 1 slot for both configs), so the rows
# of two runs agree only when both decided the same axis.
AUTO_AXIS_SWEEP = {
    **{key: value for key, value in TWO_GROUP_SWEEP.items() if key not in ("config_axis", "utd", "batch_size", "learning_rate")},
    "configs": [{"utd": utd, "batch_size": 32, "learning_rate": 1e-3} for utd in (0.5, 1.0, 0.5, 1.0)],
    "seeds": [0],
    "max_group_size": 2,
    "max_wasted_fraction": 1.0,
}


def eval_rows(path: Path) -> list[dict]:
    """Rows of an evals.jsonl without the wall-clock column (the one field that may differ)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("wall_time_s")
    return rows
