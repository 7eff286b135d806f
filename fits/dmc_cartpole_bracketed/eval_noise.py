"""How much of our evaluation noise is episode-to-episode, and how much is the policy changing?

Our grid logs each evaluation as the mean of `eval_episodes` (2) deterministic-policy episodes, and
consecutive evaluations of a seed differ by 56–138 (`measurements.EvaluationNoise`, by return
level), where the authors' running maxima never fall. Two sources add up in that noise: the episodes of one fixed policy
differ (their start states are random), and the policy itself changes between evaluations. This
script separates them at the end of the grid: it restores every group's final checkpoint, evaluates each of its policies on `--episodes` fresh episodes one at a time
(the engine's own evaluation, other start-state keys than any logged evaluation used), and
compares the per-episode spread, divided by √eval_episodes, with the evaluation-to-evaluation
noise measured on the rows at the same return level.

    python fits/dmc_cartpole_bracketed/eval_noise.py RUNS/grid fits/dmc_cartpole_bracketed/studies/cartpole_swingup.toml

writes eval_noise.md beside this file. It needs the grid's checkpoints (a run directory, not the
committed rows) and the physics env (MuJoCo Playground).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from measurements import SEED_KEYS, EvaluationNoise, level_bins, write_report
from rlscale.config import SweepConfig
from rlscale.engine.sharding import get_group_trainer
from rlscale.plan import make_plan
from rlscale.run.checkpoint import SweepCheckpoints
from rlscale.run.runner import stored_axis_decision
from rlscale.run.study_runner import read_study
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "eval_noise.md"
DEFAULT_EPISODES = 16
FIRST_EXTRA_EVAL_INDEX = 1_000_000
"""Evaluation indices from here on: start-state keys that no logged evaluation (index < env_steps /
eval_interval) used."""


def episode_returns(run_dir: Path, config: SweepConfig, episodes: int) -> pd.DataFrame:
    """One row per (config, seed, episode) of every group's final checkpoint: its return."""
    decision = stored_axis_decision(run_dir, config)
    if decision is None:
        raise SystemExit(f"{run_dir}: no run manifest of this sweep")
    config = decision.applied_to(config)
    plan = make_plan(config, decision.platform, decision.num_devices)
    checkpoints = SweepCheckpoints(run_dir)
    checkpoints.open_for_reading()
    frames = []
    for index, group in enumerate(plan.groups):
        entry = checkpoints.group_entry(index)
        if entry is None or not entry["done"]:
            raise SystemExit(f"{run_dir}: group {index} has not finished")
        trainer = get_group_trainer(group.spec)
        state, _ = checkpoints.restore(index, jax.eval_shape(trainer.init, group.hparams(config.discount, config.resolved_tau)))
        one_episode = get_group_trainer(dataclasses.replace(group.spec, eval_episodes=1))
        returns = np.stack(
            [np.asarray(one_episode.evaluate(state, FIRST_EXTRA_EVAL_INDEX + episode)) for episode in range(episodes)], axis=1
        )
        frames.append(
            pd.DataFrame(
                {
                    "utd": np.repeat([run.utd for run in group.configs], episodes),
                    "batch_size": np.repeat([run.batch_size for run in group.configs], episodes),
                    "learning_rate": np.repeat([run.learning_rate for run in group.configs], episodes),
                    "seed": np.repeat([run.seed for run in group.configs], episodes),
                    "episode": np.tile(np.arange(episodes), len(group.configs)),
                    "return": returns.reshape(-1),
                }
            )
        )
        print(f"group {index}: {len(group.configs)} policies × {episodes} episodes", flush=True)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the study's grid run directory (with its checkpoints)")
    parser.add_argument("study", type=Path, help="the study's STUDY.toml (its [grid] is the sweep)")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES, help="fresh episodes per policy")
    args = parser.parse_args()
    config = SweepConfig.from_dict(read_study(args.study).grid)
    episodes = episode_returns(args.run_dir, config, args.episodes)
    per_policy = episodes.groupby(SEED_KEYS)["return"].agg(["mean", "std"]).reset_index()
    rows = load_runs(args.run_dir)
    between_evaluations = EvaluationNoise.measure(rows).std
    horizon = int(rows["env_step"].max())
    lines = [
        "# Our evaluation noise: episodes of one policy, or the policy changing?",
        "",
        f"Written by `eval_noise.py`: every policy of the grid's final checkpoints ({horizon:,} env steps) evaluated on "
        f"{args.episodes} fresh deterministic episodes. Per return level of the policies' means: the per-episode std "
        f"(median and 90th percentile over the policies, and their root mean square, which weighs the noisy ones as a "
        f"pooled std does); 'one evaluation, from episodes alone' is that root mean square divided by "
        f"√{config.eval_episodes} (`eval_episodes`); 'between evaluations' is the noise measured on the grid's rows at "
        "the same return level (all env steps, `measurements.EvaluationNoise`).",
        "",
        "| return level | policies | per-episode std: median / 90th pct / rms | one evaluation, from episodes alone "
        "| between evaluations (rows) |",
        "|---|---|---|---|---|",
    ]
    for bin_index, (interval, policies) in enumerate(per_policy.groupby(level_bins(per_policy["mean"]), observed=False)):
        if policies.empty:
            continue
        rms = float(np.sqrt(np.mean(policies["std"] ** 2)))
        lines.append(
            f"| {max(interval.left, 0.0):g}–{interval.right:g} | {len(policies)} | {policies['std'].median():.0f} / "
            f"{policies['std'].quantile(0.9):.0f} / {rms:.0f} | {rms / np.sqrt(config.eval_episodes):.0f} | "
            f"{between_evaluations[bin_index]:.0f} |"
        )
    last = rows[rows["env_step"] == rows["env_step"].max()].groupby(SEED_KEYS)["return"].mean()
    difference = (per_policy.set_index(SEED_KEYS)["mean"] - last).abs()
    lines += [
        "",
        f"Check that the restored policies are the logged ones: their fresh-episode mean differs from their logged "
        f"evaluation at {horizon:,} env steps by a median of {difference.median():.1f} "
        f"(90th percentile {difference.quantile(0.9):.1f}).",
    ]
    write_report(OUTPUT, lines)


if __name__ == "__main__":
    main()
