"""`rlscale recommend FIT.json --budget F`: the σ, B, η and data/compute split the fitted laws
recommend for a total budget F = C + δ·D (computation in `rlscale.laws.recommend`)."""

from __future__ import annotations

import argparse
import json
import sys

from rlscale.laws.table import FitInputError
from rlscale.run.fitting import load_fit


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `recommend` subcommand."""
    parser = subparsers.add_parser(
        "recommend",
        help="σ*, B*, η* and the data/compute split the fitted laws recommend for a budget",
        description=(
            "Read a fit.json (from `rlscale fit`) and print the UTD σ*(F) from the budget law, B*(σ*) and η*(σ*) "
            "from the hyperparameter laws, and the threshold, data D and compute C that the budget F = C + δ·D buys, "
            "with intervals from the fit's bootstrap."
        ),
    )
    parser.add_argument("fit", help="fit.json, or a directory containing one")
    parser.add_argument("--budget", type=float, required=True, help="total budget F in FLOPs (F = C + δ·D)")
    parser.add_argument("--env", help="env of the fit (default: the only env, or all envs pooled)")
    parser.add_argument(
        "--threshold",
        type=float,
        help="read D from the data law at this threshold J instead of interpolating between budget points",
    )
    parser.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    parser.set_defaults(func=run_recommend)
    return parser


def format_recommendation(recommendation) -> str:
    """A readable table of a `Recommendation`."""
    r = recommendation

    def interval(low, high, spec):
        return f"[{low:{spec}}, {high:{spec}}]"

    rows = [
        ("budget F = C + δ·D", f"{r.budget:.4g} FLOPs", f"δ = {r.delta:.3g} FLOPs/env step, N = {r.model_size:.4g}"),
        ("UTD σ*", f"{r.utd:.3g}", interval(*r.utd_interval, ".3g")),
        ("batch size B*", f"{r.batch_size}", f"{interval(*r.batch_size_interval, 'd')} (law: {r.batch_size_continuous:.1f})"),
        ("learning rate η*", f"{r.learning_rate:.3g}", interval(*r.learning_rate_interval, ".3g")),
        ("threshold J", f"{r.threshold:.1f}", r.threshold_source + (f" (uncapped: {r.uncapped_threshold:.1f})" if r.threshold_capped else "")),
        ("data D (env steps)", f"{r.data:.4g}", interval(*r.data_interval, ".4g")),
        ("compute C (FLOPs)", f"{r.compute:.4g}", interval(*r.compute_interval, ".4g")),
    ]
    scope = r.env if r.env is not None else f"{r.scope} (envs pooled)"
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    lines = [f"recommendation for {scope}" + (" (extrapolated: " + "; ".join(r.extrapolated_quantities) + ")" if r.extrapolated else "")]
    lines += [f"  {name:<{width}}  {value:>{value_width}}  {detail}" for name, value, detail in rows]
    lines.append(f"  fitted budgets: {r.fitted_budget_range[0]:.4g} .. {r.fitted_budget_range[1]:.4g} FLOPs")
    lines += [f"  note: {note}" for note in r.notes]
    return "\n".join(lines)


def run_recommend(args: argparse.Namespace) -> int:
    """The `recommend` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.laws.recommend import recommend

    try:
        if not args.budget > 0:
            raise FitInputError(f"--budget must be a positive number of FLOPs, got {args.budget:g}")
        recommendation = recommend(load_fit(args.fit), args.budget, env=args.env, threshold=args.threshold)
    except FitInputError as error:
        print(f"rlscale recommend: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(recommendation.to_dict(), indent=1))
    else:
        print(format_recommendation(recommendation))
    return 0
