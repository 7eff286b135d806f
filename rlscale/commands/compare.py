"""Fits side by side: `rlscale compare FIT FIT ... --label A --label B ... --out report.md`. Each FIT is a
fit.json written by `rlscale fit` or `rlscale study` (or its directory), e.g. your own study's grid fit
next to `rlscale fit` on the authors' rows of the same env with the same options. The report names the
options on which the fits differ, the share of cells whose fastest (B, η) is inside each grid, the
best time to every threshold per σ, the B*(σ) and η*(σ) slopes with their intervals (decided? do the
fits agree within their intervals?), the data laws and each grid's horizon dependence."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rlscale.commands import Command
from rlscale.laws.comparison import comparison_markdown, option_differences, slope_summary
from rlscale.laws.table import FitInputError
from rlscale.run.files import write_atomically
from rlscale.run.fit_files import fit_path, load_fit_dict

DEFAULT_TITLE = "Fits side by side"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `compare` flags."""
    parser.add_argument("fits", nargs="+", metavar="FIT", help="fit.json files (or directories holding one), two or more")
    parser.add_argument(
        "--label", action="append", help="a name per FIT, in order (default: the name of the folder holding each fit.json)"
    )
    parser.add_argument("--title", default=DEFAULT_TITLE, help=f"the report's heading (default {DEFAULT_TITLE!r})")
    parser.add_argument("--out", help="write the Markdown report here (default: print it)")
    parser.add_argument("--json", action="store_true", help="print the slopes, their agreement and the option differences as JSON")


def _labels(args: argparse.Namespace) -> list[str]:
    if len(args.fits) < 2:
        raise FitInputError(f"compare needs at least two FITs, got {len(args.fits)}")
    labels = args.label or [fit_path(path).parent.name for path in args.fits]
    if len(labels) != len(args.fits):
        raise FitInputError(f"--label given {len(labels)} times for {len(args.fits)} FITs: give one per FIT, or none")
    if len(set(labels)) != len(labels):
        raise FitInputError(f"labels must differ, got {labels} (name them with --label)")
    return labels


def run_compare(args: argparse.Namespace) -> int:
    """The `compare` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    try:
        labels = _labels(args)
        fits = {label: load_fit_dict(path) for label, path in zip(labels, args.fits)}
    except FitInputError as error:
        print(f"rlscale compare: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"slopes": slope_summary(fits), "option_differences": option_differences(fits)}, indent=1))
        return 0
    sources = {label: str(fit_path(path)) for label, path in zip(labels, args.fits)}
    report = comparison_markdown(fits, sources, args.title)
    if args.out:
        try:
            write_atomically(Path(args.out), report)
        except OSError as error:
            print(f"rlscale compare: error: cannot write {args.out}: {error}", file=sys.stderr)
            return 2
        print(f"wrote {args.out}")
    else:
        print(report)
    return 0


COMMANDS = (Command("compare", "fits side by side: slopes with intervals, agreement, grid edges, data laws", __doc__, add_arguments, run_compare),)
