"""`rlscale fit`: fit the scaling laws to a sweep's table and write fit.json and figures."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from rlscale.laws.table import FitInputError
from rlscale.run.archive import ArchiveOptions
from rlscale.run.tables import load_runs, table_signature

FIGURE_FORMATS = ("png", "svg")
FIT_FILE = "fit.json"


def write_json_atomically(path: Path, data) -> None:
    """Write `data` as JSON to `path` through a `.partial` file replaced in one step, so a reader
    (or a process killed mid-write) never leaves a partial file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1) + "\n")
    partial.replace(path)


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
    runs: str | os.PathLike, out: str | os.PathLike, options=None, archive: ArchiveOptions | None = None, columns=None
):
    """Load the table at `runs` (`tables.load_runs`, with the archive options and the tracker runs'
    `ColumnMapping` `columns`), fit every law, and write `out/fit.json` and the figures
    (`out/<name>.png` and `.svg` for each figure in `rlscale.laws.plots.FIGURES`).

    `fit.json` is replaced atomically, so a reader never sees a partial file.

    Returns:
        The `FitResult`.

    Raises:
        FitInputError: the table or options cannot be fitted.
    """
    from rlscale.laws.fit import FitOptions, fit_laws

    result = fit_laws(load_runs(runs, archive, columns), options or FitOptions())
    write_fit(result, out)
    return result


def load_fit(path: str | Path):
    """The fit.json at `path` (or `path/fit.json`) as a typed `FitResult`; FitInputError when
    missing, unreadable or not a fit written by `rlscale fit`."""
    from rlscale.laws.results import read_fit

    path = Path(path)
    if path.is_dir():
        path = path / FIT_FILE
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
    try:
        return read_fit(fit)
    except (FitInputError, TypeError, ValueError, KeyError) as error:
        raise FitInputError(f"{path} is not a fit.json written by `rlscale fit`: {error}") from None


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


def _given(**values) -> dict:
    """The options the command line set (flags left out are None and take the option's own default)."""
    return {name: value for name, value in values.items() if value is not None}


def reset_schedule(args: argparse.Namespace):
    """The `ResetSchedule` of the --reset-* flags."""
    from rlscale.laws.results import ResetSchedule

    return ResetSchedule(
        env_steps=tuple(args.reset_env_steps or ()),
        **_given(
            every_grad_steps=args.reset_every_grad_steps,
            window=args.reset_window,
            recovery=args.reset_recovery,
            at_reset_step=args.reset_at_step,
        ),
    )


def archive_options(args: argparse.Namespace) -> ArchiveOptions:
    """The `ArchiveOptions` of the --archive-* flags."""
    return ArchiveOptions(
        metric=args.archive_metric, step_start=args.archive_step_start, step_every=args.archive_step_every, suite=args.archive_suite
    )


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
    from rlscale.laws.fit import FitOptions

    return FitOptions(
        thresholds=tuple(args.thresholds) if args.thresholds else None,
        selection_threshold=args.selection_threshold,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        delta=args.delta,
        model_size=args.model_size,
        normalization=_normalization(args.normalize),
        data_points=args.data_points,
        hparam_laws=load_fit(args.hparam_laws) if args.hparam_laws else None,
        baseline_utd=args.baseline_utd,
        resets=reset_schedule(args),
        envs=tuple(args.env) if args.env else None,
        horizon_cuts=tuple(args.horizon_cuts),
        sigma_n_shared_exponents=args.sigma_n_shared_exponents,
        **_given(
            data_law_loss=args.data_law_loss,
            unreached_cells=args.unreached_cells,
            n_default_thresholds=args.n_thresholds,
            lowest_threshold=args.lowest_threshold,
            sigma_grid_extension=args.sigma_grid_extension,
            budget_grid_points=args.budget_grid_points,
        ),
    )


def budget_summary(law) -> str:
    """One line on σ*(F): the law, or why its exponent is not determined."""
    from rlscale.laws.budget import exponent_determined

    if exponent_determined(law):
        errors = [round(error, 4) for error in law.held_out_relative_error]
        return f"σ*(F) = {law.coefficient:.4g}·F^{law.exponent:.4f}; held-out relative error {errors}"
    fitted = [point.budget for point in law.points if not point.held_out]
    return (
        f"σ*(F) not determined: the fitted budgets F*(J) span only ×{max(fitted) / min(fitted):.3g} "
        f"(σ* = {', '.join(f'{point.sigma:.3g}' for point in law.points)} at J = "
        f"{', '.join(f'{point.threshold:g}' for point in law.points)}); recommend interpolates σ* between them"
    )


def summary(result) -> str:
    """A few lines: thresholds, the hyperparameter laws, the budget law, degenerate refits."""
    batch, rate = result.batch_size_law, result.learning_rate_law
    source = "from the grid fit" if result.stage == "hparam_laws" else f"[{batch.alpha_ci[0]:.4f}, {batch.alpha_ci[1]:.4f}]"
    rate_source = "from the grid fit" if result.stage == "hparam_laws" else f"[{rate.alpha_ci[0]:.4f}, {rate.alpha_ci[1]:.4f}]"
    lines = [
        f"thresholds {list(result.thresholds)}; selection threshold {result.selection_threshold:g}; "
        f"{result.n_configs} configs, {len(result.censored)} censored (config, threshold) pairs; "
        f"stage {result.stage}, D_J points: {result.data_points}",
        f"B*(σ) = (β_env/σ)^α: α = {batch.alpha:.4f} {source}",
        f"η*(σ) = (β_env/σ)^α: α = {rate.alpha:.4f} {rate_source}",
    ]
    if result.grid_edges is not None:
        lines.append(f"grid edges: {result.grid_edges.summary()}")
    if result.horizon is not None:
        lines += result.horizon.summary()
    law = result.budget_law
    if law is not None:
        lines.append(budget_summary(law))
    degenerate = [item for item in (law, *result.budget_law_per_env) if item is not None and item.degenerate_resamples]
    if degenerate:
        lines.append(
            "degenerate bootstrap refits of σ*(F), left out of its intervals: "
            + ", ".join(f"{item.scope} {item.degenerate_resamples}/{result.n_bootstrap}" for item in degenerate)
        )
    return "\n".join(lines + sigma_n_summary(result))


def sigma_n_summary(result) -> list[str]:
    """Lines on the joint (σ, N) laws (none for a fit without them): the pooled data law at the
    selection threshold, the compute-optimal paths and the one-axis overheads."""
    sigma_n = result.sigma_n
    law = sigma_n.data_law_for(sigma_n.selection_threshold_sigma_n or math.nan, "all")
    lines = []
    if law is not None:
        lines.append(
            f"(σ, N) laws, N = critic parameters {list(sigma_n.model_sizes_sigma_n)}: D_J(σ, N) at J={law.threshold:g} (all) = "
            f"{law.c:.4g}·(1 + ({law.a:.4g}/σ)^{law.alpha:.3f} + ({law.b:.4g}/N)^{law.beta:.3f})"
        )
    allocation = sigma_n.allocation_for("all")
    if allocation is not None and allocation.utd_path is not None and allocation.model_size_path is not None:
        size_path, utd_path = allocation.model_size_path, allocation.utd_path
        lines.append(
            f"compute-optimal paths (δ={allocation.delta:.3g}): N*(F) = {size_path.coefficient:.4g}·F^{size_path.exponent:.4f}, "
            f"σ*(F) = {utd_path.coefficient:.4g}·F^{utd_path.exponent:.4f}; data overhead at F={allocation.overhead_budget:.3g}: "
            f"σ only {allocation.utd_only_data_overhead:+.1%}, N only {allocation.model_size_only_data_overhead:+.1%}"
        )
    return lines


def run_fit(args: argparse.Namespace) -> int:
    """The `fit` subcommand: returns 0 on success, 2 on bad input (message on stderr)."""
    try:
        options = _options(args)
        archive = archive_options(args)
        columns = column_mapping(args)
        if not args.watch:
            result = fit_run_directory(args.runs, args.out, options, archive, columns)
            print(summary(result))
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
            signature = table_signature(args.runs)
        except FitInputError as error:
            signature = None
            print(f"rlscale fit: waiting: {error}", file=sys.stderr)
        if signature is not None and signature != last_signature:
            last_signature = signature
            try:
                result = fit_run_directory(args.runs, args.out, options, archive, columns)
                fits += 1
                print(f"[fit {fits}] {summary(result)}", flush=True)
            except FitInputError as error:
                print(f"rlscale fit: not fitted yet: {error}", file=sys.stderr, flush=True)
            if args.max_refits is not None and fits >= args.max_refits:
                return 0
        if args.timeout is not None and time.monotonic() - started >= args.timeout:
            return 0 if fits else 2
        time.sleep(args.interval)


def add_reset_arguments(parser: argparse.ArgumentParser) -> None:
    """The --reset-* flags (for tables without a reset_env_steps column, and the dip filter)."""
    group = parser.add_argument_group("agent resets (tables without a reset_env_steps column)")
    group.add_argument("--reset-env-steps", type=int, nargs="+", metavar="STEP", help="env steps at which every config reset")
    group.add_argument(
        "--reset-every-grad-steps", type=float, metavar="G", help="a reset every G gradient steps (env steps int(G/σ); qscaled's reset_freq)"
    )
    group.add_argument(
        "--reset-window", type=int, metavar="W", help="evaluations always dropped after each reset (default 1, qscaled's DMC analysis)"
    )
    group.add_argument(
        "--reset-recovery",
        choices=("mean", "overlap"),
        help="a post-reset dip ends when the seed mean is back at its pre-reset value (mean, default) or within standard errors (overlap)",
    )
    group.add_argument(
        "--reset-at-step",
        choices=("after", "before"),
        help="an evaluation logged at a reset's env step is after the reset (default: rlscale's engine) or before it "
        "(the qscaled version behind the published DMC fits)",
    )


def add_archive_arguments(parser: argparse.ArgumentParser) -> None:
    """The --archive-* flags for the authors' archive layout."""
    group = parser.add_argument_group("run archives (utd_<σ>/<env>/<metric>/bs_<B>_lr_<η>.npy, a directory or .zip)")
    group.add_argument("--archive-metric", help="the metric folder to read (default: the only one)")
    group.add_argument("--archive-step-start", type=int, metavar="S", help="arrays without a step column: row k is env step S + F·k")
    group.add_argument("--archive-step-every", type=int, metavar="F", help="arrays without a step column: env steps between rows")
    group.add_argument("--archive-suite", default="archive", help="suite of the archive's rows (dmc: returns already on 0..1000)")


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


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `fit` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        help="fit the scaling laws to a sweep's evaluation table",
        description=(
            "Fit B*(σ), η*(σ), D_J(σ), the data–compute frontier and σ*(F); write DIR/fit.json and figures. "
            "With --hparam-laws GRID_FIT.json the runs are stage 2 of the protocol (runs at the grid fit's B*, η*)."
        ),
    )
    parser.add_argument(
        "runs",
        help="run directory (evals.jsonl files), .jsonl, .csv[.gz] or .parquet table, a run archive, a TensorBoard log "
        "directory, W&B offline runs or a W&B CSV export",
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
    parser.add_argument("--env", nargs="+", metavar="ENV", help="fit only these envs' rows (default: every env in the table)")
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
    parser.set_defaults(func=run_fit)
    return parser
