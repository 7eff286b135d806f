"""Read a fit.json (from `rlscale fit`) and print the UTD σ*(F) from the budget law, B*(σ*) and η*(σ*)
from the hyperparameter laws, and the threshold, data D and compute C that the budget F = C + δ·D
buys, with intervals from the fit's bootstrap. A fit with the joint (σ, N) laws (several model sizes)
recommends the model size N* too, and the hidden width whose critic has N* parameters for the fit's
agent and env."""

from __future__ import annotations

import argparse
import json
import sys

from rlscale.commands import Command
from rlscale.laws.recommend import recommend, recommend_at_utd
from rlscale.laws.recommend_sigma_n import has_sigma_n_allocation, recommend_at_model_size, recommend_sigma_n
from rlscale.laws.summaries import format_recommendation, format_sigma_n_recommendation
from rlscale.laws.table import FitInputError
from rlscale.run.fit_files import load_fit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `recommend` flags."""
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


def run_recommend(args: argparse.Namespace) -> int:
    """The `recommend` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
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
        elif args.model_size is not None or has_sigma_n_allocation(fit):
            from rlscale.run.critic_width import with_critic_width

            if args.model_size is not None:
                recommendation = recommend_at_model_size(fit, args.model_size, threshold=args.threshold, env=args.env)
            else:
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


COMMANDS = (
    Command(
        "recommend", "σ*, B*, η* and the data/compute split the fitted laws recommend for a budget", __doc__, add_arguments,
        run_recommend,
    ),
)
