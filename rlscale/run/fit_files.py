"""The fit layer's files: a fit's `fit.json` and figures (written, refitted from a run directory,
read back typed), learning-curve and TD-error figures of a table, and a held-out check's
`validation.json` and figure. Nothing here imports JAX."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from rlscale.laws.table import FitInputError
from rlscale.run.archive import ArchiveOptions
from rlscale.run.files import write_json_atomically
from rlscale.run.tables import load_runs, load_tables

FIGURE_FORMATS = ("png", "svg")
FIT_FILE = "fit.json"
PROPOSAL_SUFFIX = ".proposal.json"
"""A stage-2 sweep `X.toml` is written with its proposal, `X.proposal.json`."""
VALIDATION_FILE = "validation.json"
VALIDATION_FIGURE = "validation"


def save_figure(figure, out: Path, name: str) -> None:
    """`out/<name>.png` and `.svg`."""
    for extension in FIGURE_FORMATS:
        figure.savefig(out / f"{name}.{extension}", dpi=120)


def write_fit(result, out: str | os.PathLike) -> None:
    """`out/fit.json` (replaced atomically) and the fit's figures (`rlscale.laws.plots.FIGURES`, and
    `SIGMA_N_FIGURES` when the fit has the joint (σ, N) laws)."""
    from rlscale.laws.plots import FIGURES, SIGMA_N_FIGURES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / FIT_FILE, result.to_dict())
    figures = {**FIGURES, **(SIGMA_N_FIGURES if result.sigma_n.data_law_sigma_n else {})}
    for name, make_figure in figures.items():
        save_figure(make_figure(result), out, name)


def fit_run_directory(
    runs: str | os.PathLike | Sequence[str | os.PathLike],
    out: str | os.PathLike,
    options=None,
    archive: ArchiveOptions | None = None,
    columns=None,
):
    """Load the table at `runs`, or the tables at several paths as one (`tables.load_tables`, with the
    archive options and the tracker runs' `ColumnMapping` `columns`), fit every law, and write `out/fit.json` and the figures
    (`out/<name>.png` and `.svg` for each figure in `rlscale.laws.plots.FIGURES`).

    `fit.json` is replaced atomically, so a reader never sees a partial file.

    Returns:
        The `FitResult`.

    Raises:
        FitInputError: the table or options cannot be fitted.
    """
    from rlscale.laws.fit import fit_laws
    from rlscale.laws.options import FitOptions

    paths = [runs] if isinstance(runs, (str, os.PathLike)) else list(runs)
    result = fit_laws(load_tables(paths, archive, columns), options or FitOptions())
    write_fit(result, out)
    return result


def fit_path(path: str | Path) -> Path:
    """The fit.json a user named: `path` itself, or `path/fit.json` for a directory."""
    path = Path(path)
    return path / FIT_FILE if path.is_dir() else path


def load_fit_dict(path: str | Path) -> dict:
    """The fit.json at `path` (or `path/fit.json`) as written; FitInputError when missing, unreadable
    or not a fit written by `rlscale fit`."""
    path = fit_path(path)
    try:
        fit = json.loads(path.read_text())
    except FileNotFoundError:
        raise FitInputError(f"no such file: {path}") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FitInputError(f"{path} is not a readable JSON file: {error}") from None
    required = ("envs", "batch_size_law", "learning_rate_law", "budget_law")
    missing = [key for key in required if not isinstance(fit, dict) or key not in fit]
    if missing:
        raise FitInputError(f"{path} is not a fit.json written by `rlscale fit` (missing {missing})")
    return fit


def load_fit(path: str | Path):
    """The fit.json at `path` (or `path/fit.json`) as a typed `FitResult`; FitInputError when
    missing, unreadable or not a fit written by `rlscale fit`."""
    from rlscale.laws.results import read_fit

    fit = load_fit_dict(path)
    try:
        return read_fit(fit)
    except (FitInputError, TypeError, ValueError, KeyError) as error:
        raise FitInputError(f"{fit_path(path)} is not a fit.json written by `rlscale fit`: {error}") from None


def write_learning_curves(table, out: Path, band: str = "minmax") -> None:
    """Draw the table's learning curves into `out/learning_curves.{png,svg}`."""
    from rlscale.laws.plots import learning_curves

    out.mkdir(parents=True, exist_ok=True)
    save_figure(learning_curves(table, band=band), out, "learning_curves")


def write_td_overfitting(table, out: Path) -> bool:
    """Draw the TD-error figure into `out/td_overfitting.{png,svg}` when the table holds TD errors;
    whether it did."""
    from rlscale.laws.plots import td_overfitting
    from rlscale.laws.td_overfitting import has_td_errors

    if not has_td_errors(table):
        return False
    out.mkdir(parents=True, exist_ok=True)
    save_figure(td_overfitting(table), out, "td_overfitting")
    return True


def validate_run_directory(fit, runs, threshold: float, out: Path, n_bootstrap=None, seed: int = 0, resets=None, archive=None):
    """Measure `runs` against `fit` at J and write `out/validation.json` and the figure; returns the `Validation`."""
    from rlscale.laws.plots import plot_validation
    from rlscale.laws.results import ResetSchedule
    from rlscale.laws.validation import validate_runs

    validation = validate_runs(fit, load_runs(runs, archive), threshold, n_bootstrap, seed, resets or ResetSchedule())
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / VALIDATION_FILE, validation.to_dict())
    save_figure(plot_validation(fit, validation), out, VALIDATION_FIGURE)
    return validation
