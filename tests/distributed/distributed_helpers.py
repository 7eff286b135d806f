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
    # The Ray executor plans "auto" as vmap; the local reference run uses the same axis.
    "config_axis": "vmap",
    "checkpoint_every_env_steps": 250,
    "checkpoint_every_seconds": 0.0,
}


def eval_rows(path: Path) -> list[dict]:
    """Rows of an evals.jsonl without the wall-clock column (the one field that may differ)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("wall_time_s")
    return rows
