"""The results store: one JSON line per (config, evaluation), appended and fsync'ed as it happens.

`evals.jsonl` is the durable, live stream (pandas reads it with `pd.read_json(path, lines=True)`;
`rows.read_rows` is rlscale's own reader); `evals.parquet` is written once a sweep finishes. The row
schema is `rlscale.run.rows`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from rlscale.run.errors import WriteFailed
from rlscale.run.rows import encode_rows, read_rows

EVALS_FILE = "evals.jsonl"
PARQUET_FILE = "evals.parquet"


class EvalStore:
    """Appends rows to `<run_dir>/evals.jsonl`, flushing and fsync-ing after every evaluation.

    Raises WriteFailed when the rows cannot be written; rows appended before are on disk, and a row
    torn by the failure is cut when the sweep resumes.
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / EVALS_FILE
        try:
            self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise WriteFailed("eval rows", self.path, error) from None

    def append(self, rows: list[dict]) -> None:
        data = encode_rows(rows).encode("utf-8")
        try:
            written = 0
            while written < len(data):
                written += os.write(self._descriptor, data[written:])
            os.fsync(self._descriptor)
        except OSError as error:
            raise WriteFailed("eval rows", self.path, error) from None

    def close(self) -> None:
        os.close(self._descriptor)


def rows_prefix_bytes(run_dir: Path, num_rows: int) -> tuple[int, int]:
    """(bytes of the first `num_rows` rows of `<run_dir>/evals.jsonl`, the file's size); reads only.

    Raises ValueError when the file holds fewer than `num_rows` complete rows.
    """
    path = Path(run_dir) / EVALS_FILE
    if not path.exists():
        if num_rows:
            raise ValueError(f"{path} is missing but {num_rows} rows were recorded as written")
        return 0, 0
    with open(path, "rb") as handle:
        kept = 0
        for index in range(num_rows):
            line = handle.readline()
            if not line.endswith(b"\n"):
                raise ValueError(
                    f"{path} holds {index} complete rows but {num_rows} were recorded as written"
                )
            kept += len(line)
        return kept, handle.seek(0, os.SEEK_END)


def truncate_rows(run_dir: Path, num_rows: int) -> int:
    """Keep the first `num_rows` rows of `<run_dir>/evals.jsonl` and cut everything after them (a
    torn last line, rows written after the checkpoint being resumed). Returns the bytes cut.

    Raises ValueError when the file holds fewer than `num_rows` complete rows.
    """
    kept, size = rows_prefix_bytes(run_dir, num_rows)
    if size > kept:
        with open(Path(run_dir) / EVALS_FILE, "r+b") as handle:
            handle.truncate(kept)
            handle.flush()
            os.fsync(handle.fileno())
    return size - kept


def read_evals(run_dir: Path) -> pd.DataFrame:
    """All complete rows of `<run_dir>/evals.jsonl` (a torn last line is ignored)."""
    return read_rows(Path(run_dir) / EVALS_FILE)


def write_parquet(run_dir: Path) -> Path:
    """`<run_dir>/evals.parquet` from the rows (replaced atomically). Raises WriteFailed."""
    path = Path(run_dir) / PARQUET_FILE
    partial = path.with_name(path.name + ".partial")
    try:
        read_evals(run_dir).to_parquet(partial, index=False)
        partial.replace(path)
    except OSError as error:
        raise WriteFailed("the Parquet copy of the rows", path, error) from None
    return path
