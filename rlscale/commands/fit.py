"""Fit B*(σ), η*(σ), D_J(σ), the data–compute frontier and σ*(F); write DIR/fit.json and figures. With
--hparam-laws GRID_FIT.json the runs are stage 2 of the protocol (runs at the grid fit's B*, η*)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rlscale.commands import Command
from rlscale.commands.arguments import (
    add_archive_arguments,
    add_reset_arguments,
    archive_options,
    given,
    reset_schedule,
)
from rlscale.laws.crossings import CROSSING_RULES
from rlscale.laws.summaries import fit_summary
from rlscale.laws.table import FitInputError
from rlscale.run.archive import ArchiveOptions
from rlscale.run.fit_files import FIT_FILE, fit_run_directory, load_fit
from rlscale.run.tables import table_signature

OPTION_FLAGS = (
    "thresholds", "selection_threshold", "bootstrap", "seed", "delta", "model_size", "data_points", "baseline_utd", "envs",
    "horizon_cuts", "sigma_n_shared_exponents", "data_law_loss", "unreached_cells", "tied_votes", "crossing", "running_max", "n_thresholds", "lowest_threshold",
    "sigma_grid_extension", "budget_grid_points",
)
"""The flags (their `dest`) that set a FitOptions field of the same name, or of its alias (`OPTION_ALIASES`)."""


def _normalization(items: list[str]) -> dict[str, tuple[float, float]]:
    bounds = {}
    for item in items:
        env, _, values = item.partition("=")
        parts = values.split(",")
        try:
            if not env or len(parts) != 2:
                raise ValueError
            bounds[env] = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise FitInputError(f"--normalize expects ENV=LOW,HIGH, got '{item}'") from None
    return bounds


def column_mapping(args: argparse.Namespace):
    """The `ColumnMapping` of the --columns, --constant and --run-name-pattern flags (None: none given)."""
    from rlscale.run.tracker_tables import ColumnMapping, parse_assignments

    if not (args.columns or args.constant or args.run_name_pattern):
        return None
    mapping = ColumnMapping(
        columns=parse_assignments(args.columns, "--columns"),
        constants=parse_assignments(args.constant, "--constant"),
        run_name_pattern=args.run_name_pattern,
    )
    mapping.check()
    return mapping


def _options(args: argparse.Namespace):
    """The FitOptions of the flags: those the command line set (`OPTION_FLAGS`, named as the options
    or their `OPTION_ALIASES`), the normalization, the resets and the grid fit of stage 2."""
    from rlscale.laws.options import read_fit_options

    values = given(**{flag: getattr(args, flag) for flag in OPTION_FLAGS})
    values.update(normalization=_normalization(args.normalize), resets=reset_schedule(args))
    if args.hparam_laws:
        values["hparam_laws"] = load_fit(args.hparam_laws)
    return read_fit_options(values)


def run_fit(args: argparse.Namespace) -> int:
    """The `fit` subcommand: returns 0 on success, 2 on bad input (message on stderr)."""
    try:
        options = _options(args)
        archive = archive_options(args)
        columns = column_mapping(args)
        if not args.watch:
            result = fit_run_directory(args.runs, args.out, options, archive, columns)
            print(fit_summary(result))
            print(f"wrote {Path(args.out) / FIT_FILE}")
            return 0
        return _watch(args, options, archive, columns)
    except FitInputError as error:
        print(f"rlscale fit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _watch(args: argparse.Namespace, options, archive: ArchiveOptions, columns) -> int:
    """Refit whenever the table's files change, until interrupted, `--max-refits` fits or
    `--timeout` seconds. A fit that fails on a still-small table is reported and retried."""
    started = time.monotonic()
    last_signature = None
    fits = 0
    while True:
        try:
            signature = tuple(table_signature(path) for path in args.runs)
        except FitInputError as error:
            signature = None
            print(f"rlscale fit: waiting: {error}", file=sys.stderr)
        if signature is not None and signature != last_signature:
            last_signature = signature
            try:
                result = fit_run_directory(args.runs, args.out, options, archive, columns)
                fits += 1
                print(f"[fit {fits}] {fit_summary(result)}", flush=True)
            except FitInputError as error:
                print(f"rlscale fit: not fitted yet: {error}", file=sys.stderr, flush=True)
            if args.max_refits is not None and fits >= args.max_refits:
                return 0
        if args.timeout is not None and time.monotonic() - started >= args.timeout:
            return 0 if fits else 2
        time.sleep(args.interval)


def add_tracker_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags mapping runs logged by a tracker (TensorBoard, W&B) to the table's fields."""
    group = parser.add_argument_group(
        "runs logged by TensorBoard or W&B (a log directory, offline runs or a CSV export; rlscale/laws/SCHEMA.md)"
    )
    group.add_argument(
        "--columns", nargs="+", default=[], metavar="FIELD=NAME",
        help="where a field comes from: a tag/column, a hyperparameter or config key, a --run-name-pattern group, or "
        "'step' (the logged step), e.g. return=eval/episode_reward learning_rate=lr",
    )
    group.add_argument(
        "--constant", nargs="+", default=[], metavar="FIELD=VALUE",
        help="one value of a field for every run, e.g. env=cartpole-swingup suite=dmc",
    )
    group.add_argument(
        "--run-name-pattern", metavar="REGEX",
        help="a regular expression searched in each run's name whose named groups give fields, e.g. "
        "'utd(?P<utd>[0-9.]+)_bs(?P<batch_size>[0-9]+)' (default: rlscale's own run names)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `fit` flags."""
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUNS",
        help="run directory (evals.jsonl files), .jsonl, .csv[.gz] or .parquet table, a run archive, a TensorBoard log "
        "directory, W&B offline runs or a W&B CSV export; several are fitted as one table (e.g. a study's grid and "
        "its extension rounds: DIR/grid DIR/grid_round_1 …)",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        help="normalized-return thresholds J (0..1000); default: the paper's 10 values 1000 − logspace(log10(1000 − J_low), "
        "log10(1000 − J_sel), 10) up to the selection threshold J_sel",
    )
    parser.add_argument("--n-thresholds", type=int, metavar="N", help="how many default thresholds (default 10, the paper's)")
    parser.add_argument(
        "--lowest-threshold", type=float, metavar="J", help="lowest default threshold (default: dmc 200, gym 300, else J_sel / 4)"
    )
    parser.add_argument(
        "--env", dest="envs", nargs="+", metavar="ENV", help="fit only these envs' rows (default: every env in the table)"
    )
    parser.add_argument(
        "--selection-threshold",
        type=float,
        help="threshold at which the best (B, η) are chosen (default: the highest of 100, 200, …, 800 every (env, σ) reaches)",
    )
    parser.add_argument(
        "--unreached-cells",
        choices=("smallest", "drop"),
        help="(env, σ) where no config reaches the selection threshold: their votes go to the smallest B and η (default, "
        "qscaled's) or they are left out of the hyperparameter laws (drop)",
    )
    parser.add_argument(
        "--tied-votes",
        choices=("smallest", "split"),
        help="a vote for the best B (η) that several values tie for (same logged step): to the smallest of them "
        "(default, qscaled's argmin) or shared equally (split)",
    )
    parser.add_argument(
        "--crossing",
        choices=CROSSING_RULES,
        help="where a config's isotonic mean curve crosses J: the first logged step at or above it (default, the "
        "paper's) or interpolated linearly before it (no ties at an evaluation step)",
    )
    parser.add_argument(
        "--running-max",
        action="store_true",
        default=None,
        help="replace each seed's returns by their running maximum before the seed mean (the form of the authors' DMC "
        "sweep; default: the returns as logged)",
    )
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples over seeds (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap RNG seed (default 0)")
    parser.add_argument("--delta", type=float, help="FLOPs per environment step δ (default: suite's paper value)")
    parser.add_argument("--model-size", type=float, help="agent parameter count N (default: table's model_size column)")
    parser.add_argument(
        "--normalize", action="append", default=[], metavar="ENV=LOW,HIGH", help="per-env raw-return bounds mapped to 0..1000"
    )
    parser.add_argument(
        "--hparam-laws", metavar="GRID_FIT.json", help="stage 2: take B*(σ), η*(σ) from this grid fit; fit D_J, C_J, σ*(F) from RUNS"
    )
    parser.add_argument(
        "--baseline-utd", type=float, metavar="σ", help="also fit the baseline's data laws: per env the grid's fastest config at this σ"
    )
    parser.add_argument(
        "--data-points",
        choices=("law", "minimum"),
        default="law",
        help="D_J at each (env, σ) from the config nearest B*(σ), η*(σ) (law, default) or the grid's fastest (minimum)",
    )
    parser.add_argument(
        "--data-law-loss",
        choices=("linear", "log"),
        help="least squares of D_J(σ) on D (linear, default: the paper's, qscaled's fit_powerlaw) or on log D (log)",
    )
    parser.add_argument(
        "--sigma-grid-extension",
        type=float,
        metavar="X",
        help="search σ*(J) and report the frontier over [min σ / X, max σ · X] of the runs (default 1: their range, the paper's)",
    )
    parser.add_argument(
        "--budget-grid-points",
        type=int,
        metavar="N",
        help="log-spaced σ points on which σ*(J) minimises F (default 2000; qscaled's 100 quantize σ*)",
    )
    parser.add_argument(
        "--sigma-n-shared-exponents",
        action="store_true",
        help="several model sizes: one pair of exponents (α, β) of D_J(σ, N) per scope, shared by every threshold",
    )
    parser.add_argument(
        "--horizon-cuts",
        type=float,
        nargs="+",
        default=[],
        metavar="FRACTION",
        help="grid fits: also refit B*(σ), η*(σ) on the rows up to these fractions of the horizon (fit.json horizon)",
    )
    add_reset_arguments(parser)
    add_archive_arguments(parser)
    add_tracker_arguments(parser)
    parser.add_argument("--watch", action="store_true", help="refit whenever the table grows, until interrupted")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between checks with --watch (default 10)")
    parser.add_argument("--max-refits", type=int, help="with --watch: stop after this many fits")
    parser.add_argument("--timeout", type=float, help="with --watch: stop after this many seconds")


COMMANDS = (Command("fit", "fit the scaling laws to a sweep's evaluation table", __doc__, add_arguments, run_fit),)
