"""Divergence isolation: a config forced to a huge learning rate goes non-finite, is frozen and
marked `diverged_at_env_step`, and the other configs of its group continue bit-identically to the
same group (same K, same compiled program) where that config has a sane learning rate."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from reliability_helpers import TINY_SWEEP, eval_rows, final_states

import rlscale.run.runner as runner
from rlscale.config import SweepConfig
from rlscale.run.progress import PlainProgress

# One group of 3 configs; config 1 is the one forced to diverge.
SWEEP = {**TINY_SWEEP, "learning_rate": [1e-3], "seeds": [0, 1, 2], "max_group_size": 3,
         "checkpoint_every_env_steps": 0}
DIVERGING_CONFIG = 1
HUGE_LEARNING_RATE = 1e6


def _run(out, capsys, monkeypatch, diverge: bool):
    """Run SWEEP in-process; with `diverge`, config 1's learning rate is replaced after validation
    (the config validator rightly refuses it) by patching the runner's plan."""
    make_plan = runner.make_plan

    def plan_with_huge_learning_rate(config, *devices):
        plan = make_plan(config, *devices)
        (group,) = plan.groups
        configs = tuple(
            dataclasses.replace(run, learning_rate=HUGE_LEARNING_RATE) if run.config_id == DIVERGING_CONFIG else run
            for run in group.configs
        )
        return dataclasses.replace(plan, groups=(dataclasses.replace(group, configs=configs),))

    if diverge:
        monkeypatch.setattr(runner, "make_plan", plan_with_huge_learning_rate)
    (result,) = runner.run_sweep(SweepConfig.from_dict(SWEEP), out, progress=PlainProgress())
    monkeypatch.setattr(runner, "make_plan", make_plan)
    return result, capsys.readouterr().out


def test_diverged_config_is_frozen_and_others_are_bit_identical(tmp_path, capsys, monkeypatch):
    sane, _ = _run(tmp_path / "sane", capsys, monkeypatch, diverge=False)
    diverged, progress_text = _run(tmp_path / "diverged", capsys, monkeypatch, diverge=True)

    assert sane.diverged_config_ids == []
    assert diverged.diverged_config_ids == [DIVERGING_CONFIG]
    assert f"diverged [{DIVERGING_CONFIG}]" in progress_text

    rows = eval_rows(tmp_path / "diverged")
    marks = {row["config_id"]: row["diverged_at_env_step"] for row in rows if row["env_step"] == SWEEP["env_steps"]}
    assert marks[0] is None and marks[2] is None
    diverged_at = marks[DIVERGING_CONFIG]
    assert SWEEP["learning_starts"] < diverged_at <= SWEEP["env_steps"]
    # The frozen config stops counting gradient steps at the divergence.
    frozen_steps = [row["grad_step"] for row in rows if row["config_id"] == DIVERGING_CONFIG]
    assert frozen_steps[-1] < sane.grad_steps[DIVERGING_CONFIG]

    sane_rows = [row for row in eval_rows(tmp_path / "sane") if row["config_id"] != DIVERGING_CONFIG]
    assert [row for row in rows if row["config_id"] != DIVERGING_CONFIG] == sane_rows

    (sane_state,) = final_states(tmp_path / "sane", SWEEP)
    (diverged_state,) = final_states(tmp_path / "diverged", SWEEP)
    assert np.asarray(diverged_state.diverged_iteration).tolist()[DIVERGING_CONFIG] >= 0
    others = [k for k in range(3) if k != DIVERGING_CONFIG]
    for sane_leaf, diverged_leaf in zip(_leaves(sane_state), _leaves(diverged_state)):
        assert sane_leaf[others].tobytes() == diverged_leaf[others].tobytes()
    # The frozen config's parameters are its last finite ones.
    for leaf in _leaves(diverged_state.agent):
        assert np.all(np.isfinite(leaf[DIVERGING_CONFIG]))


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(tree)]

