"""`rlscale plot DIR`: learning-curve figures of a run directory (or table), the TD-overfitting
figure when its rows carry TD errors, and the fit's figures redrawn when the directory holds a
fit.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlscale.laws.table import FitInputError
from rlscale.run.fitting import save_figure
from rlscale.run.rows import CURVE_COLUMNS

FIT_LOCATIONS = ("fit.json", "fit/fit.json")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `plot` subcommand."""
    parser = subparsers.add_parser(
        "plot",
        help="learning curves per config (and the fit's figures) as PNG and SVG",
        description=(
            "Draw learning curves (mean over seeds with a seed band, one panel per (env, σ), one line per (B, η)) "
            "into OUT/learning_curves.{png,svg}; when the rows carry TD errors (td_error_train, td_error_validation), "
            "the critic's TD error on its replay and on its validation buffer against B, one line per model size, "
            "into OUT/td_overfitting.{png,svg}. When DIR holds a fit.json (DIR/fit.json or DIR/fit/fit.json), "
            "refit with that fit's options and write its figures and fit.json into OUT too (a stage-2 fit, made "
            "with --hparam-laws, has its figures redrawn from its fit.json instead)."
        ),
    )
    parser.add_argument("runs", metavar="DIR", help="run directory (evals.jsonl files), or a .jsonl/.csv/.parquet table")
    parser.add_argument("--out", help="output directory (default: DIR/plots)")
    parser.add_argument(
        "--band", choices=("minmax", "percentile"), default="minmax", help="seed band: min–max (default) or 5–95th percentile"
    )
    parser.set_defaults(func=run_plot)
    return parser


def existing_fit(runs: Path) -> Path | None:
    """The fit.json written for the run directory `runs`, if any."""
    if not runs.is_dir():
        return None
    for location in FIT_LOCATIONS:
        if (runs / location).is_file():
            return runs / location
    return None


def fit_options_of(fit):
    """FitOptions that reproduce a grid-stage fit (a `FitResult`) from the same table (a fit of
    several model sizes is refitted per size and jointly, as it was)."""
    from rlscale.laws.fit import FitOptions

    return FitOptions(
        thresholds=fit.thresholds,
        selection_threshold=fit.selection_threshold,
        n_bootstrap=fit.n_bootstrap,
        seed=fit.seed,
        delta=fit.delta,
        model_size=None if fit.by_model_size else fit.model_size,
        normalization=dict(fit.normalization),
        interval=fit.interval,
        data_points=fit.data_points,
        baseline_utd=fit.baseline[0].utd if fit.baseline else None,
        resets=fit.resets,
        data_law_loss=fit.data_law_loss,
        unreached_cells=fit.unreached_cells,
        sigma_grid_extension=fit.sigma_grid_extension,
        budget_grid_points=fit.budget_grid_points,
        envs=tuple(fit.envs),
        horizon_cuts=tuple(cut.fraction for cut in fit.horizon.cuts) if fit.horizon is not None else (),
        sigma_n_shared_exponents=any(law.shared_exponents for law in fit.sigma_n.data_law_sigma_n),
    )


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


def run_plot(args: argparse.Namespace) -> int:
    """The `plot` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.run.fitting import fit_run_directory, load_fit, write_fit
    from rlscale.run.tables import load_runs

    runs = Path(args.runs)
    out = Path(args.out) if args.out else (runs if runs.is_dir() else runs.parent) / "plots"
    try:
        table = load_runs(runs)
        if table.empty:
            raise FitInputError(f"{runs} holds no evaluations yet")
        missing = [column for column in CURVE_COLUMNS if column not in table]
        if missing:
            raise FitInputError(f"{runs}: the table lacks columns {missing}")
        write_learning_curves(table, out, args.band)
        print(f"wrote {out / 'learning_curves.png'} (and .svg)")
        if write_td_overfitting(table, out):
            print(f"wrote {out / 'td_overfitting.png'} (and .svg)")
        fit_path = existing_fit(runs)
        if fit_path is not None:
            fit = load_fit(fit_path)
            if fit.stage == "hparam_laws":
                write_fit(fit, out)
                print(f"redrew the figures of the stage-2 fit {fit_path} (and its fit.json) in {out}")
            else:
                fit_run_directory(runs, out, fit_options_of(fit))
                print(f"refitted with the options of {fit_path}: fit figures and fit.json in {out}")
    except FitInputError as error:
        print(f"rlscale plot: error: {error}", file=sys.stderr)
        return 2
    return 0
