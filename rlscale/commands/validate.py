"""The held-out check: for every config of RUN_DIR (usually the one `rlscale recommend` chose, trained
with a few seeds), D_J measured as in the fit (isotonic seed mean, first logged step at or above J)
with a bootstrap over seeds, against the fit's data law at the config's σ and the spread of its
bootstrap-refitted laws (a fit with joint (σ, N) laws: D_J(σ, N) at the config's σ and model size N,
any N, e.g. a model bigger than every trained one). Prints a table; writes OUT/validation.json and OUT/validation.{png,svg}."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rlscale.commands import Command
from rlscale.commands.arguments import add_archive_arguments, add_reset_arguments, archive_options, reset_schedule
from rlscale.laws.summaries import format_validation
from rlscale.laws.table import FitInputError
from rlscale.run.fit_files import VALIDATION_FIGURE, VALIDATION_FILE, load_fit, validate_run_directory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `validate` flags."""
    parser.add_argument("fit", help="fit.json, or a directory containing one")
    parser.add_argument("runs", metavar="RUN_DIR", help="run directory (evals.jsonl files), or a table file")
    parser.add_argument("--threshold", type=float, required=True, help="J, one of the fit's thresholds")
    parser.add_argument("--out", help="directory for validation.json and the figure (default: RUN_DIR, or the table's folder)")
    parser.add_argument("--bootstrap", type=int, help="seed resamples (default: the fit's)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap RNG seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    add_reset_arguments(parser)
    add_archive_arguments(parser)


def run_validate(args: argparse.Namespace) -> int:
    """The `validate` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
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


COMMANDS = (
    Command(
        "validate", "measured D_J of held-out runs vs the fit's prediction, with both intervals", __doc__, add_arguments, run_validate
    ),
)
