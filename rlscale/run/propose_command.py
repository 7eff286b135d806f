"""`rlscale propose GRID_FIT.json --utd ... --seeds ... --out STAGE2.toml`: the stage-2 sweep of
the protocol (computation in `rlscale.laws.propose`, sweep fields in `rlscale.study`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlscale.laws.table import FitInputError

PROPOSAL_SUFFIX = ".proposal.json"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `propose` subcommand."""
    parser = subparsers.add_parser(
        "propose",
        help="write the stage-2 sweep: explicit configs at a grid fit's B*(σ), η*(σ) at more σ",
        description=(
            "Read a grid fit (rlscale fit on a (σ, B, η) grid) and write a sweep TOML of explicit configs at "
            "B*(σ) (rounded to a multiple of 16) and η*(σ) for every --utd, optionally with the baseline (the grid's "
            "fastest config at --baseline-utd, run unchanged at every σ), with env steps sized from the fit's data "
            "law (one env_steps for the sweep: the most any σ needs). Also writes OUT.proposal.json."
        ),
    )
    parser.add_argument("fit", help="the grid's fit.json, or a directory containing one")
    parser.add_argument("--utd", type=float, nargs="+", required=True, help="σ to run at the laws' hyperparameters")
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="seeds of every config (at least 2)")
    parser.add_argument("--out", required=True, help="the stage-2 sweep TOML to write")
    parser.add_argument("--env", help="env of the fit whose laws to use (default: the only one)")
    parser.add_argument("--baseline-utd", type=float, metavar="σ", help="also run the grid's fastest config at this σ at every σ")
    parser.add_argument("--base", metavar="GRID.toml", help="the grid's sweep TOML: every setting but the grid axes is copied")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="set a sweep field (TOML value syntax), e.g. env=dmc/cartpole-swingup; repeatable")
    parser.add_argument("--env-steps", type=int, help="env steps of every config (default: sized from the fit's data law)")
    parser.add_argument("--env-steps-margin", type=float, default=1.5,
                        help="env steps = margin × the upper end of the predicted D_J(σ) interval (default 1.5)")
    parser.add_argument("--threshold", type=float, help="J to size the env steps for (default: the highest fitted)")
    parser.set_defaults(func=run_propose)
    return parser


def write_sweep_toml(path: Path, values: dict, header: list[str]):
    """Validate `values` as a SweepConfig and write it (every field, explicit) with `header` as
    comment lines; returns the SweepConfig. Raises ConfigError naming every invalid field."""
    import tomli_w

    from rlscale.config import SweepConfig

    config = SweepConfig.from_dict(values)
    text = "".join(f"# {line}\n" for line in header) + tomli_w.dumps(config.to_dict())
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)
    return config


def base_values(base: str | None, overrides: list[str], env: str) -> dict:
    """The sweep fields stage 2 starts from: the grid's TOML (or just env = the fit's env), then overrides."""
    from rlscale.config import parse_overrides, read_toml

    values = {"env": env} if base is None else read_toml(Path(base), f"--base {base!r}")
    values.update(parse_overrides(overrides))
    return values


def proposal_header(proposal, source: str, env_steps: int) -> list[str]:
    """Comment lines explaining a stage-2 TOML."""
    lines = [
        f"Stage 2 of the protocol, written by `rlscale propose` from {source}.",
        f"env {proposal.env}: B*(σ) rounded to a multiple of 16 and η*(σ) from the grid fit's laws"
        + (f"; baseline B={proposal.baseline.batch_size}, η={proposal.baseline.learning_rate:g} (fastest at σ={proposal.baseline.utd:g})" if proposal.baseline else ""),
        f"env steps {env_steps}: the most any σ needs ({proposal.env_steps_margin:g} × the upper end of D_J(σ) at "
        f"J={proposal.threshold:g}, {proposal.sizing_scope} law); one sweep has one env_steps for every config",
    ]
    lines += [
        f"  σ={config.utd:g} {config.role}: B={config.batch_size} (law {config.batch_size_continuous:.1f}), "
        f"η={config.learning_rate:.4g}, needs ~{config.env_steps_needed:.0f} env steps"
        for config in proposal.configs
    ]
    return lines + [f"note: {note}" for note in proposal.notes]


def run_propose(args: argparse.Namespace) -> int:
    """The `propose` subcommand: 0 on success, 2 on bad input (one message on stderr)."""
    from rlscale.config import ConfigError
    from rlscale.laws.propose import propose_stage2
    from rlscale.run.fitting import load_fit, write_json_atomically
    from rlscale.study import rounded_env_steps, stage2_sweep_values

    try:
        fit = load_fit(args.fit)
        proposal = propose_stage2(fit, args.utd, args.env, args.baseline_utd, args.threshold, args.env_steps_margin)
        base = base_values(args.base, args.overrides, proposal.env)
        eval_interval = int(base.get("eval_interval", 1000))
        values = stage2_sweep_values(proposal, base, tuple(args.seeds), args.env_steps, eval_interval)
        out = Path(args.out)
        header = proposal_header(proposal, args.fit, values["env_steps"])
        config = write_sweep_toml(out, values, header)
        write_json_atomically(out.with_name(out.stem + PROPOSAL_SUFFIX), proposal.to_dict())
    except (FitInputError, ConfigError) as error:
        print(f"rlscale propose: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(header))
    print(
        f"wrote {out} ({len(config.run_configs())} runs: {len(proposal.configs)} configs × {len(args.seeds)} seeds, "
        f"{config.env_steps} env steps each); needed at most {rounded_env_steps(proposal.env_steps_needed, eval_interval)}"
    )
    return 0
