"""Draw learning curves (mean over seeds with a seed band, one panel per (env, σ), one line per (B, η))
into OUT/learning_curves.{png,svg}; when the rows carry TD errors (td_error_train,
td_error_validation), the critic's TD error on its replay and on its validation buffer against B, one
line per model size, into OUT/td_overfitting.{png,svg}. When DIR holds a fit.json (DIR/fit.json or
DIR/fit/fit.json), refit with that fit's options and write its figures and fit.json into OUT too (a
stage-2 fit, made with --hparam-laws, has its figures redrawn from its fit.json instead)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlscale.commands import Command
from rlscale.laws.table import FitInputError
from rlscale.run.fit_files import FIT_FILE, fit_run_directory, load_fit, write_fit, write_learning_curves, write_td_overfitting
from rlscale.run.rows import CURVE_COLUMNS
from rlscale.run.tables import load_runs

FIT_LOCATIONS = (FIT_FILE, f"fit/{FIT_FILE}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `plot` flags."""
    parser.add_argument("runs", metavar="DIR", help="run directory (evals.jsonl files), or a .jsonl/.csv/.parquet table")
    parser.add_argument("--out", help="output directory (default: DIR/plots)")
    parser.add_argument(
        "--band", choices=("minmax", "percentile"), default="minmax", help="seed band: min–max (default) or 5–95th percentile"
    )


def existing_fit(runs: Path) -> Path | None:
    """The fit.json written for the run directory `runs`, if any."""
    if not runs.is_dir():
        return None
    for location in FIT_LOCATIONS:
        if (runs / location).is_file():
            return runs / location
    return None


def run_plot(args: argparse.Namespace) -> int:
    """The `plot` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.laws.options import FitOptions

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
                fit_run_directory(runs, out, FitOptions.of_fit(fit))
                print(f"refitted with the options of {fit_path}: fit figures and fit.json in {out}")
    except FitInputError as error:
        print(f"rlscale plot: error: {error}", file=sys.stderr)
        return 2
    return 0


COMMANDS = (
    Command("plot", "learning curves per config (and the fit's figures) as PNG and SVG", __doc__, add_arguments, run_plot),
)
