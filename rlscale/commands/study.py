"""Run every stage of STUDY.toml (see rlscale/study.py) into DIR, writing DIR/REPORT.md after each.
Re-running the same command continues an interrupted study: finished stages are skipped."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from rlscale.commands import Command
from rlscale.commands.arguments import add_executor_arguments, add_progress_view_arguments, add_tracker_argument
from rlscale.config import ConfigError, SweepConfig
from rlscale.laws.table import FitInputError
from rlscale.run.errors import RunError, failure_exit_status, failure_message
from rlscale.run.study_runner import REPORT_FILE, StudyRunner, read_study
from rlscale.study import SIGMA_N_STAGE_NAMES, STAGE_NAMES, StudyError

DEMO_STUDY = "studies/demo.toml"
"""The `rlscale demo` study, in the package's configs."""


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `rlscale study` and `rlscale demo`: where the sweeps run, trackers, the progress view."""
    add_executor_arguments(parser)
    add_tracker_argument(parser, "every sweep of the study")
    add_progress_view_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `study` flags."""
    parser.add_argument("config", help="the study config (TOML with [grid], [fit], [stage2], [holdout])")
    parser.add_argument("--out", required=True, help="the study directory")
    parser.add_argument(
        "--until", metavar="STAGE", choices=_stage_names(),
        help="stop after this stage (e.g. recommend: read holdout.toml before training it); the same command without it continues",
    )
    parser.add_argument("--dry-run", action="store_true",
                        help="print what each stage will train (runs, env steps, gradient updates), compiling nothing, and exit")
    parser.add_argument("--estimate", action="store_true",
                        help="a dry run that also calibrates the grid's groups on this machine's device and scales "
                        "the later stages by its measured update rate")
    add_study_arguments(parser)


def _stage_names() -> list[str]:
    """Every stage name of either protocol, in order of first appearance."""
    return list(dict.fromkeys((*STAGE_NAMES, *SIGMA_N_STAGE_NAMES)))


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The `demo` flags."""
    parser.add_argument("--out", help="the study directory (default runs/demo)")
    add_study_arguments(parser)


def run_study_command(args: argparse.Namespace) -> int:
    """The `study` subcommand: 0 when every stage (up to --until) is done, 2 on a bad config or input."""
    if args.dry_run or args.estimate:
        return _dry_run(Path(args.config), args.estimate)
    return _run(Path(args.config), Path(args.out), args)


def run_demo_command(args: argparse.Namespace) -> int:
    """`rlscale demo`: the embedded small study on the pure-JAX pendulum (rlscale/configs/studies/demo.toml,
    whose grid is the sweep rlscale/configs/demo.toml), run into OUT (default runs/demo)."""
    with resources.as_file(resources.files("rlscale.configs").joinpath(DEMO_STUDY)) as study:
        return _run(study, Path(args.out or "runs/demo"), args)


def _dry_run(config_path: Path, estimate: bool) -> int:
    """Print, stage by stage, what the study will train, from its config alone (stage 2's and the
    held-out run's env steps are sized from the grid fit unless the config sets them); with
    `estimate`, calibrate the grid's groups and scale the other stages by the grid's update rate."""
    from rlscale.plan import make_plan

    try:
        study = read_study(config_path)
        grid = SweepConfig.from_dict(study.grid)
        plan = make_plan(grid)
    except (StudyError, ConfigError) as error:
        print(f"rlscale study: error: {error}", file=sys.stderr)
        return 2
    runs = len(grid.run_configs())
    updates = sum(group.grad_updates for group in plan.groups)
    learning_steps = max(grid.env_steps - grid.learning_starts, 0)
    lines = [
        f"stage 1, grid: {runs} runs ({runs // len(grid.seeds)} configs × {len(grid.seeds)} seeds, {len(plan.groups)} compiled "
        f"group(s)), {runs * grid.env_steps} env steps, {updates} gradient updates",
    ]
    extension = study.grid_extension
    cap = runs if extension.max_new_runs is None else extension.max_new_runs
    lines.append(
        f"stage 1, extension: at most {extension.max_rounds} round(s) and {cap} runs more (about {cap * updates // max(runs, 1)} "
        "updates at the grid's mean run), only where the optimum sits on an edge"
        if extension.max_rounds else "stage 1, extension: none (max_rounds = 0)"
    )
    stage2 = study.stage2
    holdout = study.holdout
    stage2_updates = 0
    if stage2 is None:
        lines.append("stage 2: none — the (σ, N) laws are fitted on the grid")
        lines.append(
            f"stage 3, held-out run: {len(holdout.seeds)} runs at the width whose critic count is nearest {holdout.model_size_factor:g} × "
            "the largest trained N, at the σ, B*, η* the joint laws recommend for it; env steps "
            + (f"{holdout.env_steps}" if holdout.env_steps else "sized from the grid fit's prediction")
        )
    else:
        roles = 1 + (stage2.baseline_utd is not None)
        stage2_runs = len(stage2.utd) * roles * len(stage2.seeds)
        if stage2.env_steps is not None:
            stage2_updates = int(sum(stage2.utd) * roles * len(stage2.seeds) * max(stage2.env_steps - grid.learning_starts, 0))
            lines.append(f"stage 2: {stage2_runs} runs (σ {list(stage2.utd)} × {roles} role(s) × {len(stage2.seeds)} seeds), "
                         f"{stage2.env_steps} env steps each, {stage2_updates} gradient updates")
        else:
            stage2_updates = int(sum(stage2.utd) * roles * len(stage2.seeds) * learning_steps)
            lines.append(f"stage 2: {stage2_runs} runs (σ {list(stage2.utd)} × {roles} role(s) × {len(stage2.seeds)} seeds); env steps "
                         f"sized from the grid fit's data law (at the grid's {grid.env_steps}: {stage2_updates} gradient updates)")
        where = f"σ = {holdout.utd:g}" if holdout.utd is not None else "σ*(F) of the stage-2 fit"
        lines.append(f"stage 4, held-out run: {len(holdout.seeds)} runs at {where}, env steps "
                     + (f"{holdout.env_steps}" if holdout.env_steps else "sized from the stage-2 fit's prediction"))
    print("\n".join(lines), flush=True)
    if not estimate:
        print("wall time: not estimated (--estimate calibrates the grid's groups on this machine's device)")
        return 0
    from rlscale.run.estimate import estimated_seconds

    seconds = estimated_seconds(plan, grid)
    if seconds is None:
        return 130
    rate = updates / seconds if seconds else float("nan")
    print(f"at the grid's rate of {rate:.0f} gradient updates/s: extension ≤ {cap * updates / max(runs, 1) / rate / 3600:.2f} h"
          + ("" if stage2 is None else f", stage 2 ≈ {stage2_updates / rate / 3600:.2f} h (at the grid's env steps)"), flush=True)
    return 0


def _run(config_path: Path, out: Path, args: argparse.Namespace) -> int:
    try:
        study = read_study(config_path)
        SweepConfig.from_dict(study.grid if args.tracker is None else {**study.grid, "tracker": args.tracker})
        until = getattr(args, "until", None)
        if until is not None and until not in (name for name, _ in study.stages):
            raise StudyError([f"--until {until}: this study has no such stage; its stages are {', '.join(name for name, _ in study.stages)}"])
        runner = StudyRunner(study, out, args.executor, args.address, args.live, args.tracker)
        runner.run(until)
    except FileNotFoundError as error:
        print(f"rlscale study: error: {error.filename} does not exist", file=sys.stderr)
        return 2
    except (StudyError, ConfigError, FitInputError) as error:
        print(f"rlscale study: error: {error}", file=sys.stderr)
        return 2
    except (RunError, KeyboardInterrupt) as error:
        print(f"rlscale study: {failure_message(error, out)}", file=sys.stderr)
        return failure_exit_status(error)
    print(f"study done{f' up to {until}' if until else ''}: {out / REPORT_FILE}")
    return 0


COMMANDS = (
    Command(
        "study", "run the paper's protocol: grid → fit → propose → stage 2 → fit → recommend → held-out run → validate",
        __doc__, add_arguments, run_study_command,
    ),
    Command(
        "demo", "the README demo: a small study (every stage of the protocol) on the embedded pendulum", None,
        add_demo_arguments, run_demo_command,
    ),
)
