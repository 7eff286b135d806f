"""`rlscale fit`: fit the scaling laws to a sweep's table and write fit.json and figures."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rlscale.laws.table import FitInputError
from rlscale.run.tables import load_runs, table_signature

FIGURE_FORMATS = ("png", "svg")


def fit_run_directory(runs: str | os.PathLike, out: str | os.PathLike, options=None):
    """Load the table at `runs`, fit every law, and write `out/fit.json` and the figures
    (`out/<name>.png` and `.svg` for each figure in `rlscale.laws.plots.FIGURES`).

    `fit.json` is replaced atomically, so a reader never sees a partial file.

    Returns:
        The `FitResult`.

    Raises:
        FitInputError: the table or options cannot be fitted.
    """
    from rlscale.laws.fit import FitOptions, fit_laws
    from rlscale.laws.plots import FIGURES

    result = fit_laws(load_runs(runs), options or FitOptions())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "fit.json.partial"
    partial.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    partial.replace(out / "fit.json")
    for name, make_figure in FIGURES.items():
        figure = make_figure(result)
        for extension in FIGURE_FORMATS:
            figure.savefig(out / f"{name}.{extension}", dpi=120)
    return result


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
    )


def _summary(result) -> str:
    batch, rate = result.batch_size_law, result.learning_rate_law
    lines = [
        f"thresholds {list(result.thresholds)}; selection threshold {result.selection_threshold:g}; "
        f"{result.n_configs} configs, {len(result.censored)} censored (config, threshold) pairs",
        f"B*(σ) = (β_env/σ)^α: α = {batch.alpha:.4f} [{batch.alpha_ci[0]:.4f}, {batch.alpha_ci[1]:.4f}]",
        f"η*(σ) = (β_env/σ)^α: α = {rate.alpha:.4f} [{rate.alpha_ci[0]:.4f}, {rate.alpha_ci[1]:.4f}]",
    ]
    if result.budget_law is not None:
        law = result.budget_law
        lines.append(f"σ*(F) = {law.coefficient:.4g}·F^{law.exponent:.4f}; held-out relative error {list(map(lambda e: round(e, 4), law.held_out_relative_error))}")
    return "\n".join(lines)


def run_fit(args: argparse.Namespace) -> int:
    """The `fit` subcommand: returns 0 on success, 2 on bad input (message on stderr)."""
    try:
        options = _options(args)
        if not args.watch:
            result = fit_run_directory(args.runs, args.out, options)
            print(_summary(result))
            print(f"wrote {Path(args.out) / 'fit.json'}")
            return 0
        return _watch(args, options)
    except FitInputError as error:
        print(f"rlscale fit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _watch(args: argparse.Namespace, options) -> int:
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
                result = fit_run_directory(args.runs, args.out, options)
                fits += 1
                print(f"[fit {fits}] {_summary(result)}", flush=True)
            except FitInputError as error:
                print(f"rlscale fit: not fitted yet: {error}", file=sys.stderr, flush=True)
            if args.max_refits is not None and fits >= args.max_refits:
                return 0
        if args.timeout is not None and time.monotonic() - started >= args.timeout:
            return 0 if fits else 2
        time.sleep(args.interval)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `fit` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        help="fit the scaling laws to a sweep's evaluation table",
        description="Fit B*(σ), η*(σ), D_J(σ), the data–compute frontier and σ*(F); write DIR/fit.json and figures.",
    )
    parser.add_argument("runs", help="run directory (evals.jsonl files), .jsonl, .csv[.gz] or .parquet table")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--thresholds", type=float, nargs="+", help="normalized-return thresholds J (0..1000)")
    parser.add_argument("--selection-threshold", type=float, help="threshold at which the best (B, η) are chosen")
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples over seeds (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap RNG seed (default 0)")
    parser.add_argument("--delta", type=float, help="FLOPs per environment step δ (default: suite's paper value)")
    parser.add_argument("--model-size", type=float, help="agent parameter count N (default: table's model_size column)")
    parser.add_argument(
        "--normalize", action="append", default=[], metavar="ENV=LOW,HIGH", help="per-env raw-return bounds mapped to 0..1000"
    )
    parser.add_argument("--watch", action="store_true", help="refit whenever the table grows, until interrupted")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between checks with --watch (default 10)")
    parser.add_argument("--max-refits", type=int, help="with --watch: stop after this many fits")
    parser.add_argument("--timeout", type=float, help="with --watch: stop after this many seconds")
    parser.set_defaults(func=run_fit)
    return parser
