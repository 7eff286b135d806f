"""`rlscale validate FIT.json RUN_DIR --threshold J`: the held-out check. Every config of RUN_DIR
(usually the one `rlscale recommend` chose, trained with a few seeds) is measured, D_J with a
seed bootstrap, against the fit's predicted D_J and its interval — D_J(σ), or D_J(σ, N) at the runs'
model size for a fit with joint (σ, N) laws (computation in `rlscale.laws.validation`); a table on
stdout, `validation.json` and a figure in --out."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rlscale.laws.table import FitInputError

VALIDATION_FILE = "validation.json"
VALIDATION_FIGURE = "validation"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `validate` subcommand."""
    from rlscale.run.fitting import add_archive_arguments, add_reset_arguments

    parser = subparsers.add_parser(
        "validate",
        help="measured D_J of held-out runs vs the fit's prediction, with both intervals",
        description=(
            "For every config of RUN_DIR: D_J measured as in the fit (isotonic seed mean, first logged step at or "
            "above J) with a bootstrap over seeds, against the fit's data law at the config's σ and the spread of "
            "its bootstrap-refitted laws (a fit with joint (σ, N) laws: D_J(σ, N) at the config's σ and model size N, "
            "any N, e.g. a model bigger than every trained one). Prints a table; writes OUT/validation.json and "
            "OUT/validation.{png,svg}."
        ),
    )
    parser.add_argument("fit", help="fit.json, or a directory containing one")
    parser.add_argument("runs", metavar="RUN_DIR", help="run directory (evals.jsonl files), or a table file")
    parser.add_argument("--threshold", type=float, required=True, help="J, one of the fit's thresholds")
    parser.add_argument("--out", help="directory for validation.json and the figure (default: RUN_DIR, or the table's folder)")
    parser.add_argument("--bootstrap", type=int, help="seed resamples (default: the fit's)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap RNG seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    add_reset_arguments(parser)
    add_archive_arguments(parser)
    parser.set_defaults(func=run_validate)
    return parser


def format_validation(validation) -> str:
    """A readable table of a `Validation`."""

    def span(low, high):
        return f"[{_steps(low)}, {_steps(high)}]"

    lines = [
        f"held-out check at J={validation.threshold:g} (intervals {validation.interval[0]:g}–{validation.interval[1]:g}%, "
        f"{validation.n_bootstrap} seed resamples)"
    ]
    for record in validation.configs:
        error = "never reached" if not math.isfinite(record.relative_error) else f"{record.relative_error:+.1%}"
        size = "" if record.model_size is None else f" N={record.model_size:.4g}"
        lines += [
            f"  {record.env} σ={record.utd:.4g}{size} B={record.batch_size} η={record.learning_rate:.4g} ({record.seeds} seeds)",
            f"    predicted D_J  {_steps(record.predicted):>10}  {span(*record.predicted_interval)}  ({record.data_law} of scope {record.scope})",
            f"    measured D_J   {_steps(record.measured):>10}  {span(*record.measured_interval)}  "
            f"({record.resamples_reaching:.0%} of resamples reach J; last step {record.last_env_step})",
            f"    error {error}; measured within the predicted interval: {'yes' if record.measured_within_predicted else 'no'}; "
            f"intervals overlap: {'yes' if record.intervals_overlap else 'no'}",
        ]
    lines += [f"  note: {note}" for note in validation.notes]
    return "\n".join(lines)


def _steps(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "never"


def validate_run_directory(fit, runs, threshold: float, out: Path, n_bootstrap=None, seed: int = 0, resets=None, archive=None):
    """Measure `runs` against `fit` at J and write `out/validation.json` and the figure; returns the `Validation`."""
    from rlscale.laws.plots import plot_validation
    from rlscale.laws.results import ResetSchedule
    from rlscale.laws.validation import validate_runs
    from rlscale.run.fitting import save_figure, write_json_atomically
    from rlscale.run.tables import load_runs

    validation = validate_runs(fit, load_runs(runs, archive), threshold, n_bootstrap, seed, resets or ResetSchedule())
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / VALIDATION_FILE, validation.to_dict())
    save_figure(plot_validation(fit, validation), out, VALIDATION_FIGURE)
    return validation


def run_validate(args: argparse.Namespace) -> int:
    """The `validate` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.run.fitting import archive_options, load_fit, reset_schedule

    runs = Path(args.runs)
    out = Path(args.out) if args.out else (runs if runs.is_dir() else runs.parent)
    try:
        if args.bootstrap is not None and args.bootstrap < 1:
            raise FitInputError(f"--bootstrap must be at least 1, got {args.bootstrap}")
        validation = validate_run_directory(
            load_fit(args.fit), runs, args.threshold, out, args.bootstrap, args.seed, reset_schedule(args), archive_options(args)
        )
    except FitInputError as error:
        print(f"rlscale validate: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(validation.to_dict(), indent=1))
    else:
        print(format_validation(validation))
        print(f"wrote {out / VALIDATION_FILE} and {out / VALIDATION_FIGURE}.png (and .svg)")
    return 0
