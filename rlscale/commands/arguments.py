"""Flags that several subcommands share, and the runtime options they stand for."""

from __future__ import annotations

import argparse

from rlscale.config import TRACKERS
from rlscale.laws.results import ResetSchedule
from rlscale.run.archive import ArchiveOptions


def given(**values) -> dict:
    """The options the command line set (flags left out are None and take the option's own default)."""
    return {name: value for name, value in values.items() if value is not None}


def reset_schedule(args: argparse.Namespace):
    """The `ResetSchedule` of the --reset-* flags."""
    return ResetSchedule(
        env_steps=tuple(args.reset_env_steps or ()),
        **given(
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


def add_tracker_argument(parser: argparse.ArgumentParser, replaces: str) -> None:
    """--tracker NAME [NAME ...]: TensorBoard and/or W&B runs of every config (run/trackers.py)."""
    parser.add_argument("--tracker", nargs="+", choices=tuple(TRACKERS), metavar="{" + ",".join(TRACKERS) + "}",
                        help="also log every config as a TensorBoard run (OUT/tensorboard) and/or a W&B run "
                        f"(OUT/wandb; WANDB_MODE=offline works without network); replaces {replaces}")


def add_progress_view_arguments(parser: argparse.ArgumentParser) -> None:
    """--live / --plain: how a sweep's progress is shown (`args.live`: None picks by the terminal)."""
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--live", dest="live", action="store_true", default=None,
                      help="live progress table (default when stdout is a terminal)")
    view.add_argument("--plain", dest="live", action="store_false", help="one line per evaluation")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """--executor, --address: where a sweep's groups run (`rlscale.run.executors`)."""
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where the groups run: this process (default), or one Ray task per group "
                        "(pip install 'rlscale[ray]'; OUT must be on a file system all nodes share)")
    parser.add_argument("--address", help="Ray cluster address for --executor ray (default: RAY_ADDRESS, "
                        "else a local cluster)")
