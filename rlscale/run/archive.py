"""Reading the authors' run archives (qscaled's zip layout) as a long-form table.

Layout, in a directory or a `.zip` (optionally under one top folder, as qscaled's zips are):

    utd_<σ>/<env>/<metric>/bs_<B>_lr_<η>.npy

with η written as `3e-4`, `15e-5` or `0.0001`. Each array has shape (T, S) (one column per seed) or
(T, S + 1) with the env step in its first column (what qscaled's `UTDZipHandler` writes). Without a
step column, give the steps as `step_start + step_every · k` for the k-th row (the authors' DMC grid
sweep: start 5000, every 1000). NaN entries (a seed logged fewer steps) are left out.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rlscale.laws.table import FitInputError

ARCHIVE_FILE = re.compile(
    r"(?:^|/)utd_(?P<utd>[^/]+)/(?P<env>[^/]+)/(?P<metric>[^/]+)/bs_(?P<batch>\d+)_lr_(?P<rate>[^/]+)\.npy$"
)
DEFAULT_SUITE = "archive"


@dataclass(frozen=True)
class ArchiveOptions:
    """How to read an archive.

    Attributes:
        metric: the metric folder to read (default: the only one in the archive).
        step_start, step_every: env steps of row k are step_start + step_every · k (arrays without a
            step column); both None: the first column is the env step.
        suite: the `suite` of every row (`dmc` returns are on 0..1000 already; others need bounds).
    """

    metric: str | None = None
    step_start: int | None = None
    step_every: int | None = None
    suite: str = DEFAULT_SUITE

    def __post_init__(self) -> None:
        if (self.step_start is None) != (self.step_every is None):
            raise FitInputError("give both --archive-step-start and --archive-step-every (arrays without a step column), or neither")
        if self.step_every is not None and not self.step_every > 0:
            raise FitInputError(f"--archive-step-every must be positive, got {self.step_every}")
        if self.step_start is not None and self.step_start < 0:
            raise FitInputError(f"--archive-step-start must be >= 0, got {self.step_start}")


def is_archive(path: str | Path) -> bool:
    """Whether `path` is a directory or zip in the archive layout (has `utd_<σ>/.../*.npy` files)."""
    return any(ARCHIVE_FILE.search(name) for name in _members(Path(path)))


def read_archive(path: str | Path, options: ArchiveOptions = ArchiveOptions()) -> pd.DataFrame:
    """The archive at `path` as a long-form table (columns `suite, env, utd, batch_size,
    learning_rate, seed, env_step, return`, one row per finite array entry).

    Raises:
        FitInputError: no archive files, several metrics without `options.metric`, unparsable file
            names, arrays of the wrong shape, or a first column that is not an increasing step.
    """
    root = Path(path)
    matches = [(name, ARCHIVE_FILE.search(name)) for name in _members(root)]
    matches = [(name, match) for name, match in matches if match]
    if not matches:
        raise FitInputError(f"{root} holds no archive files utd_<σ>/<env>/<metric>/bs_<B>_lr_<η>.npy")
    metrics = sorted({match["metric"] for _, match in matches})
    metric = options.metric
    if metric is None:
        if len(metrics) > 1:
            raise FitInputError(f"{root} holds several metrics ({', '.join(metrics)}): choose one with --archive-metric")
        metric = metrics[0]
    elif metric not in metrics:
        raise FitInputError(f"{root} has no metric {metric!r}; its metrics are {', '.join(metrics)}")
    chosen = [(name, match) for name, match in sorted(matches) if match["metric"] == metric]
    return pd.concat([_rows(name, match, array, options) for (name, match), array in zip(chosen, _arrays(root, chosen))], ignore_index=True)


def _members(root: Path) -> list[str]:
    if zipfile.is_zipfile(root):
        with zipfile.ZipFile(root) as archive:
            return [name for name in archive.namelist() if not name.startswith("__MACOSX")]
    if root.is_dir():
        return [str(file.relative_to(root)) for file in root.rglob("*.npy")]
    return []


def _arrays(root: Path, files: list[tuple[str, re.Match]]):
    """The arrays of `files` (archive member names first), read from the directory or the zip."""
    archive = None if root.is_dir() else zipfile.ZipFile(root)
    try:
        for name, _ in files:
            try:
                yield np.load(root / name) if archive is None else np.load(io.BytesIO(archive.read(name)))
            except (OSError, ValueError, zipfile.BadZipFile) as error:
                raise FitInputError(f"cannot read {name} in {root}: {error}") from None
    finally:
        if archive is not None:
            archive.close()


def _rows(name: str, match: re.Match, array: np.ndarray, options: ArchiveOptions) -> pd.DataFrame:
    """One file's (T, S[+1]) array as long-form rows."""
    try:
        utd, batch_size, learning_rate = float(match["utd"]), int(match["batch"]), float(match["rate"])
    except ValueError:
        raise FitInputError(f"{name}: cannot read σ, B and η from the file name") from None
    values = np.asarray(array, dtype=float)
    if values.ndim != 2 or values.shape[0] == 0:
        raise FitInputError(f"{name}: expected a (steps, seeds) array, got shape {values.shape}")
    if options.step_start is None:
        steps, returns = values[:, 0], values[:, 1:]
        if returns.shape[1] == 0 or not (np.all(np.diff(steps) > 0) and np.all(np.isfinite(steps)) and np.all(steps == np.round(steps))):
            raise FitInputError(
                f"{name}: its first column is not an increasing env-step column; for arrays of returns only pass "
                "--archive-step-start and --archive-step-every"
            )
    else:
        steps = options.step_start + options.step_every * np.arange(values.shape[0], dtype=float)
        returns = values
    n_steps, n_seeds = returns.shape
    finite = np.isfinite(returns).reshape(-1)
    return pd.DataFrame(
        {
            "suite": options.suite,
            "env": match["env"],
            "utd": utd,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": np.tile(np.arange(n_seeds), n_steps)[finite],
            "env_step": np.repeat(steps, n_seeds).astype(np.int64)[finite],
            "return": returns.reshape(-1)[finite],
        }
    )
