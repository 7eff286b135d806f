"""Reading long-form evaluation tables: engine run directories, JSON lines, CSV (gzip), Parquet, the
authors' run archives (`run/archive.py`), and runs logged by trackers: TensorBoard log directories,
W&B offline runs and W&B CSV exports (`run/tracker_tables.py`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rlscale.laws.table import REQUIRED_COLUMNS, FitInputError
from rlscale.run.archive import ArchiveOptions, is_archive, read_archive
from rlscale.run.rows import RowsFileError, read_rows
from rlscale.run.tracker_tables import (
    ColumnMapping,
    is_tracker_file,
    is_wandb_export,
    read_tracker_directory,
    read_wandb_export,
    runs_table,
    tracker_files,
)

LIVE_TABLE_NAME = "evals.jsonl"
PARQUET_TABLE_NAME = "evals.parquet"


def table_files(path: str | os.PathLike) -> list[Path]:
    """The table files behind `path`: itself when it is a file, the `.npy` files of an archive
    directory, else every `evals.jsonl` in the directory tree (a directory without one contributes
    its `evals.parquet` instead), else its TensorBoard event files, else its W&B `.wandb` run files.

    Raises:
        FitInputError: the path does not exist, or a directory holds no table.
    """
    root = Path(path)
    if not root.exists():
        raise FitInputError(f"no such file or directory: {root}")
    if root.is_file():
        return [root]
    if is_archive(root):
        return sorted(root.rglob("*.npy"))
    files = []
    for directory, _, names in sorted(os.walk(root)):
        if LIVE_TABLE_NAME in names:
            files.append(Path(directory) / LIVE_TABLE_NAME)
        elif PARQUET_TABLE_NAME in names:
            files.append(Path(directory) / PARQUET_TABLE_NAME)
    if not files:
        files = tracker_files(root)
    if not files:
        raise FitInputError(
            f"directory {root} holds no {LIVE_TABLE_NAME} or {PARQUET_TABLE_NAME}, TensorBoard event files or W&B "
            "run files (searched its subdirectories too)"
        )
    return sorted(files)


def table_signature(path: str | os.PathLike) -> tuple[tuple[str, int, int], ...]:
    """(file, size, mtime_ns) of every table file behind `path`: changes when the table grows."""
    return tuple((str(file), file.stat().st_size, file.stat().st_mtime_ns) for file in table_files(path))


def _read_file(file: Path) -> pd.DataFrame:
    name = file.name.lower()
    try:
        if name.endswith(".jsonl") or name.endswith(".json"):
            return read_rows(file)
        if name.endswith(".parquet") or name.endswith(".pq"):
            return pd.read_parquet(file)
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            return pd.read_csv(file, engine="pyarrow")
    except RowsFileError as error:
        raise FitInputError(str(error)) from None
    except Exception as error:  # pandas/pyarrow raise many types for unreadable files
        raise FitInputError(f"cannot read {file}: {error}") from None
    raise FitInputError(f"unsupported table file {file}: expected .jsonl, .csv, .csv.gz or .parquet")


def load_runs(
    path: str | os.PathLike, archive: ArchiveOptions | None = None, columns: ColumnMapping | None = None
) -> pd.DataFrame:
    """Read a long-form table from a file, an engine run directory, a run archive or a tracker's runs.

    Accepts a `.jsonl` file (a torn last line is ignored), a CSV file (optionally `.csv.gz`), a
    Parquet file, a run directory: every `evals.jsonl` under it (or `evals.parquet` where a
    directory has no jsonl) is read and concatenated, or an archive directory or `.zip` in the
    authors' layout, read with `archive`'s options (`run/archive.py`). A directory without such
    tables is read as a TensorBoard log directory or W&B offline runs, and a table that is a W&B
    CSV export (or any table when `columns` is given) as tracker runs, each with `columns`
    (`run/tracker_tables.py`). `env` and `suite` become categoricals.

    Raises:
        FitInputError: missing path, unreadable or unsupported file, or no rows at all.
    """
    if Path(path).exists() and is_archive(path):
        table = read_archive(path, archive or ArchiveOptions())
    else:
        files = table_files(path)
        if is_tracker_file(files[0]):
            root = Path(path) if Path(path).is_dir() else Path(path).parent
            return _categorical(read_tracker_directory(root, columns or ColumnMapping()))
        frames = [frame for frame in (_read_file(file) for file in files) if len(frame)]
        if not frames:
            raise FitInputError(f"{path}: the table has no rows yet")
        table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
        if columns is not None or (missing and is_wandb_export(table)):
            table = runs_table(read_wandb_export(table), columns or ColumnMapping(), f"W&B export {path}")
    return _categorical(table)


def load_tables(
    paths: Sequence[str | os.PathLike], archive: ArchiveOptions | None = None, columns: ColumnMapping | None = None
) -> pd.DataFrame:
    """The rows of every path in `paths` (each read by `load_runs`) as one table, e.g. a study's grid
    sweep and its extension rounds. Raises FitInputError as `load_runs` does."""
    tables = [load_runs(path, archive, columns) for path in paths]
    return tables[0] if len(tables) == 1 else _categorical(pd.concat(tables, ignore_index=True))


def _categorical(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with `env` and `suite` as categoricals."""
    for column in ("env", "suite"):
        if column in table.columns:
            table[column] = table[column].astype(str).astype("category")
    return table
