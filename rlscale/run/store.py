"""The results store: one JSON line per (config, evaluation), appended and fsync'ed as it happens.

`evals.jsonl` is the durable, live stream (pandas reads it with `pd.read_json(path, lines=True)`);
`evals.parquet` is written once a sweep finishes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

EVALS_FILE = "evals.jsonl"
PARQUET_FILE = "evals.parquet"

# Columns of every row, in order (documented in the README).
COLUMNS = (
    "config_id",
    "group",
    "suite",
    "env",
    "algo",
    "utd",
    "batch_size",
    "learning_rate",
    "seed",
    "env_step",
    "grad_step",
    "return",
    "wall_time_s",
    "model_size",
    "diverged_at_env_step",
    "agent_options",
    "reset_env_steps",
)


class EvalStore:
    """Appends rows to `<run_dir>/evals.jsonl`, flushing and fsync-ing after every evaluation."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / EVALS_FILE
        self._file = open(self.path, "a", encoding="utf-8")

    def append(self, rows: list[dict]) -> None:
        self._file.write("".join(json.dumps(row) + "\n" for row in rows))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def truncate_rows(run_dir: Path, num_rows: int) -> int:
    """Keep the first `num_rows` rows of `<run_dir>/evals.jsonl` and cut everything after them (a
    torn last line, rows written after the checkpoint being resumed). Returns the bytes cut.

    Raises ValueError when the file holds fewer than `num_rows` complete rows.
    """
    path = Path(run_dir) / EVALS_FILE
    if not path.exists():
        if num_rows:
            raise ValueError(f"{path} is missing but {num_rows} rows were recorded as written")
        return 0
    with open(path, "r+b") as handle:
        kept = 0
        for index in range(num_rows):
            line = handle.readline()
            if not line.endswith(b"\n"):
                raise ValueError(
                    f"{path} holds {index} complete rows but {num_rows} were recorded as written"
                )
            kept += len(line)
        size = handle.seek(0, os.SEEK_END)
        handle.truncate(kept)
        handle.flush()
        os.fsync(handle.fileno())
    return size - kept


def read_evals(run_dir: Path) -> pd.DataFrame:
    """All complete rows of `<run_dir>/evals.jsonl` (a torn last line is ignored)."""
    lines = (Path(run_dir) / EVALS_FILE).read_text(encoding="utf-8").splitlines()
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return pd.DataFrame(rows, columns=list(COLUMNS) if not rows else None)


def write_parquet(run_dir: Path) -> Path:
    path = Path(run_dir) / PARQUET_FILE
    read_evals(run_dir).to_parquet(path, index=False)
    return path
