"""Read a grid fit (rlscale fit on a (σ, B, η) grid) and write a sweep TOML of explicit configs at
B*(σ) (rounded to a multiple of 16) and η*(σ) for every --utd, optionally with the baseline (the
grid's fastest config at --baseline-utd, run unchanged at every σ), with env steps sized from the
fit's data law (one env_steps for the sweep: the most any σ needs). Also writes OUT.proposal.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlscale.commands import Command
from rlscale.config import MAX_UTD, ConfigError, parse_overrides, read_toml
from rlscale.laws.propose import propose_stage2
from rlscale.laws.summaries import proposal_header
from rlscale.laws.table import FitInputError
from rlscale.run.fit_files import PROPOSAL_SUFFIX, load_fit
from rlscale.run.files import write_json_atomically, write_sweep_toml
from rlscale.run.study_runner import read_study
from rlscale.study import StudyError, rounded_env_steps, stage2_sweep_values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `propose` flags."""
    parser.add_argument("fit", help="the grid's fit.json, or a directory containing one")
    parser.add_argument("--utd", type=float, nargs="+", required=True, help="σ to run at the laws' hyperparameters")
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="seeds of every config (at least 2)")
    parser.add_argument("--out", required=True, help="the stage-2 sweep TOML to write")
    parser.add_argument("--env", help="env of the fit whose laws to use (default: the only one)")
    parser.add_argument("--baseline-utd", type=float, metavar="σ", help="also run the grid's fastest config at this σ at every σ")
    parser.add_argument("--base", metavar="GRID.toml", help="the grid's sweep TOML, or the STUDY.toml whose [grid] it is (with its "
                        "[stage2] set applied): every setting but the grid axes is copied")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="set a sweep field (TOML value syntax), e.g. env=dmc/cartpole-swingup; repeatable")
    parser.add_argument("--env-steps", type=int, help="env steps of every config (default: sized from the fit's data law)")
    parser.add_argument("--env-steps-margin", type=float, default=1.5,
                        help="env steps = margin × the upper end of the predicted D_J(σ) interval (default 1.5)")
    parser.add_argument("--threshold", type=float, help="J to size the env steps for (default: the highest fitted)")


def base_values(base: str | None, overrides: list[str], env: str) -> dict:
    """The sweep fields stage 2 starts from: the grid's sweep TOML, or the grid sweep of a STUDY.toml
    (a file with a `grid` key) with its `[stage2] set` applied as `rlscale study` does, or just env =
    the fit's env; then overrides."""
    if base is None:
        values = {"env": env}
    else:
        values = read_toml(Path(base), f"--base {base!r}")
        if "grid" in values:
            values = read_study(Path(base)).stage2_base
    values.update(parse_overrides(overrides))
    return values


def run_propose(args: argparse.Namespace) -> int:
    """The `propose` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    try:
        if not args.utd or not all(0 < utd <= MAX_UTD for utd in args.utd):
            raise FitInputError(f"--utd needs values in (0, {MAX_UTD:g}], got {list(args.utd)}")
        fit = load_fit(args.fit)
        proposal = propose_stage2(fit, args.utd, args.env, args.baseline_utd, args.threshold, args.env_steps_margin)
        base = base_values(args.base, args.overrides, proposal.env)
        eval_interval = int(base.get("eval_interval", 1000))
        values = stage2_sweep_values(proposal, base, tuple(args.seeds), args.env_steps, eval_interval)
        out = Path(args.out)
        header = proposal_header(proposal, args.fit, values["env_steps"])
        config = write_sweep_toml(out, values, header)
        write_json_atomically(out.with_name(out.stem + PROPOSAL_SUFFIX), proposal.to_dict())
    except (FitInputError, ConfigError, StudyError) as error:
        print(f"rlscale propose: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(header))
    print(
        f"wrote {out} ({len(config.run_configs())} runs: {len(proposal.configs)} configs × {len(args.seeds)} seeds, "
        f"{config.env_steps} env steps each); needed at most {rounded_env_steps(proposal.env_steps_needed, eval_interval)}"
    )
    return 0


COMMANDS = (
    Command(
        "propose", "write the stage-2 sweep: explicit configs at a grid fit's B*(σ), η*(σ) at more σ", __doc__, add_arguments,
        run_propose,
    ),
)
