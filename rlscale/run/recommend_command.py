"""`rlscale recommend FIT.json --budget F`: the σ, B, η and data/compute split the fitted laws
recommend for a total budget F = C + δ·D (computation in `rlscale.laws.recommend`). A fit with the
joint (σ, N) laws (several model sizes) recommends the model size N* too
(`rlscale.laws.recommend_sigma_n`), and the hidden width whose critic has N* parameters for the fit's
agent and env (`rlscale.run.critic_width`)."""

from __future__ import annotations

import argparse
import dataclasses
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
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--budget", type=float, help="total budget F in FLOPs (F = C + δ·D)")
    target.add_argument(
        "--utd", type=float, metavar="σ", help="predict at this UTD instead of σ*(F): B*(σ), η*(σ), D_J(σ) and what they cost"
    )
    target.add_argument(
        "--model-size", type=float, metavar="N",
        help="a fit with joint (σ, N) laws: the σ, B*, η* and D_J they recommend for a model of N critic parameters "
        "(σ minimising F_J over the swept UTDs; J: --threshold, default the joint laws' highest), its width and budget",
    )
    parser.add_argument("--env", help="env of the fit (default: the only env, or all envs pooled)")
    parser.add_argument(
        "--threshold",
        type=float,
        help="read D from the data law at this threshold J instead of interpolating between budget points",
    )
    parser.add_argument(
        "--algo", help="agent whose critic width gives N* (fits with several model sizes; default: the fit's algo column)"
    )
    parser.add_argument(
        "--hidden-depth",
        type=int,
        help="hidden depth of that critic (default: the depth at which every trained model size is a critic count, else 2)",
    )
    parser.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    parser.set_defaults(func=run_recommend)
    return parser


def _interval(low, high, spec: str) -> str:
    return f"[{low:{spec}}, {high:{spec}}]"


def _threshold_row(r) -> tuple[str, str, str]:
    return ("threshold J", f"{r.threshold:.1f}", r.threshold_source + (f" (uncapped: {r.uncapped_threshold:.1f})" if r.threshold_capped else ""))


def _render(title: str, r, rows: list[tuple[str, str, str]], footer: str) -> str:
    """The table of a recommendation `r`: `title` for its scope (and what it extrapolates), the
    (name, value, detail) rows aligned, `footer` and its notes."""
    scope = r.env if r.env is not None else f"{r.scope} (envs pooled)"
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    lines = [f"{title} for {scope}" + (" (extrapolated: " + "; ".join(r.extrapolated_quantities) + ")" if r.extrapolated else "")]
    lines += [f"  {name:<{width}}  {value:>{value_width}}  {detail}" for name, value, detail in rows]
    lines.append(f"  {footer}")
    lines += [f"  note: {note}" for note in r.notes]
    return "\n".join(lines)


def format_recommendation(recommendation) -> str:
    """A readable table of a `Recommendation`."""
    r = recommendation
    rows = [
        ("budget F = C + δ·D", f"{r.budget:.4g} FLOPs", f"δ = {r.delta:.3g} FLOPs/env step, N = {r.model_size:.4g}"),
        ("UTD σ*", f"{r.utd:.3g}", _interval(*r.utd_interval, ".3g")),
        ("batch size B*", f"{r.batch_size}", f"{_interval(*r.batch_size_interval, 'd')} (law: {r.batch_size_continuous:.1f})"),
        ("learning rate η*", f"{r.learning_rate:.3g}", _interval(*r.learning_rate_interval, ".3g")),
        _threshold_row(r),
        ("data D (env steps)", f"{r.data:.4g}", _interval(*r.data_interval, ".4g")),
        ("compute C (FLOPs)", f"{r.compute:.4g}", _interval(*r.compute_interval, ".4g")),
    ]
    return _render("recommendation", r, rows, f"fitted budgets: {r.fitted_budget_range[0]:.4g} .. {r.fitted_budget_range[1]:.4g} FLOPs")


def format_sigma_n_recommendation(recommendation) -> str:
    """A readable table of a `SigmaNRecommendation`."""
    r = recommendation
    width = (
        f"{r.hidden_width} (depth {r.hidden_depth}: critic N = {r.width_model_size:.4g})" if r.hidden_width is not None else "unknown (see notes)"
    )
    rows = [
        ("budget F = C + δ·D", f"{r.budget:.4g} FLOPs", f"δ = {r.delta:.3g} FLOPs/env step"),
        ("model size N*", f"{r.model_size:.4g}", f"{_interval(*r.model_size_interval, '.4g')} critic parameters; width {width}"),
        ("UTD σ*", f"{r.utd:.3g}", _interval(*r.utd_interval, ".3g")),
        ("batch size B*", f"{r.batch_size}", f"{_interval(*r.batch_size_interval, '.1f')} (law: {r.batch_size_continuous:.1f})"),
        ("learning rate η*", f"{r.learning_rate:.3g}", _interval(*r.learning_rate_interval, ".3g")),
        _threshold_row(r),
        ("data D (env steps)", f"{r.data:.4g}", _interval(*r.data_interval, ".4g")),
        ("compute C (FLOPs)", f"{r.compute:.4g}", _interval(*r.compute_interval, ".4g")),
    ]
    footer = (
        f"fitted budgets: {r.fitted_budget_range[0]:.4g} .. {r.fitted_budget_range[1]:.4g} FLOPs; trained N: "
        + ", ".join(f"{size:.4g}" for size in r.trained_model_sizes)
    )
    return _render("(σ, N) recommendation", r, rows, footer)


def with_critic_width(recommendation, fit, algo: str | None, hidden_depth: int | None, layer_norm: bool = False):
    """`recommendation` with the hidden width whose critic count is nearest N* (for the fit's agent
    and the recommendation's env; at `hidden_depth` with `layer_norm` when the depth is given, else
    the network inferred from the trained sizes), or with a note saying why none is given."""
    from rlscale.run.critic_width import DEFAULT_NETWORK, infer_network, width_for

    algo = algo or fit.sigma_n.algo
    env = recommendation.env
    if algo is None or env is None:
        missing = "the agent (pass --algo)" if algo is None else "one env (pass --env)"
        return dataclasses.replace(recommendation, notes=recommendation.notes + (f"no hidden width: {missing} is unknown",))
    try:
        options = json.loads(fit.sigma_n.agent_options) if fit.sigma_n.agent_options else {}
        notes = []
        if hidden_depth is not None:
            depth = hidden_depth
        else:
            inferred = infer_network(algo, env, recommendation.trained_model_sizes, options)
            if inferred is None:
                notes.append(
                    f"the trained model sizes are not critic counts of {algo} on {env} at depths 1-6: depth 2 assumed "
                    "(pass --hidden-depth)"
                )
            depth, layer_norm = inferred or DEFAULT_NETWORK
        chosen = width_for(algo, env, recommendation.model_size, depth, layer_norm, options)
    except ValueError as error:
        reason = getattr(error, "short", str(error))
        return dataclasses.replace(recommendation, notes=recommendation.notes + (f"no hidden width: {reason}",))
    notes.append(
        f"hidden width {chosen.hidden_width} at depth {depth}{' with layer norm' if layer_norm else ''}: its {algo} critic on {env} "
        f"has {chosen.model_size} parameters (N* = {recommendation.model_size:.4g})"
    )
    return dataclasses.replace(
        recommendation,
        hidden_width=chosen.hidden_width,
        hidden_depth=depth,
        width_model_size=float(chosen.model_size),
        notes=recommendation.notes + tuple(notes),
    )


def run_recommend(args: argparse.Namespace) -> int:
    """The `recommend` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.laws.recommend import recommend, recommend_at_utd
    from rlscale.laws.recommend_sigma_n import has_sigma_n_allocation, recommend_at_model_size, recommend_sigma_n

    try:
        if args.budget is not None and not args.budget > 0:
            raise FitInputError(f"--budget must be a positive number of FLOPs, got {args.budget:g}")
        if args.utd is not None and not args.utd > 0:
            raise FitInputError(f"--utd must be a positive UTD ratio, got {args.utd:g}")
        if args.model_size is not None and not args.model_size > 0:
            raise FitInputError(f"--model-size must be a positive number of critic parameters, got {args.model_size:g}")
        if args.hidden_depth is not None and args.hidden_depth < 1:
            raise FitInputError(f"--hidden-depth must be an integer >= 1, got {args.hidden_depth}")
        fit = load_fit(args.fit)
        if args.utd is not None:
            recommendation = recommend_at_utd(fit, args.utd, env=args.env, threshold=args.threshold)
            text = format_recommendation(recommendation)
        elif args.model_size is not None:
            recommendation = recommend_at_model_size(fit, args.model_size, threshold=args.threshold, env=args.env)
            recommendation = with_critic_width(recommendation, fit, args.algo, args.hidden_depth)
            text = format_sigma_n_recommendation(recommendation)
        elif has_sigma_n_allocation(fit):
            recommendation = recommend_sigma_n(fit, args.budget, env=args.env, threshold=args.threshold)
            recommendation = with_critic_width(recommendation, fit, args.algo, args.hidden_depth)
            text = format_sigma_n_recommendation(recommendation)
        else:
            recommendation = recommend(fit, args.budget, env=args.env, threshold=args.threshold)
            text = format_recommendation(recommendation)
    except FitInputError as error:
        print(f"rlscale recommend: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(recommendation.to_dict(), indent=1) if args.json else text)
    return 0
