"""The calibrated wall-time estimate (run/estimate.py): a group is calibrated with its own program.

Never a timing assertion: the checks are that the calibration really timed learning iterations of
the group's own configs (their σ·num_envs updates per iteration), that the estimate is the model's
sum of the cached measurements, and that a cached calibration is not measured again.
"""

from __future__ import annotations

import dataclasses
import json

import jax
import pytest

from rlscale.config import SweepConfig
from rlscale.engine.loop import get_trainer
from rlscale.plan import make_plan
from rlscale.run import estimate
from rlscale_testing import recorded_compile_events

NUM_ENVS = 2
UTDS = (0.5, 2.0)


def _sweep(config_axis: str, learning_starts: int = 100) -> SweepConfig:
    return SweepConfig(
        env="pendulum", utd=list(UTDS), batch_size=[16, 32], learning_rate=[1e-3], seeds=[0],
        num_envs=NUM_ENVS, env_steps=400, eval_interval=200, learning_starts=learning_starts,
        buffer_capacity=400, hidden_width=16, eval_episodes=2, config_axis=config_axis, max_wasted_fraction=1.0,
    )


SHORT_WARMUP = 4
"""Env steps of warm-up: 2 iterations, fewer than a calibration chunk (100 are 50, more)."""


@pytest.mark.parametrize(
    "config_axis, learning_starts",
    [
        ("map", SHORT_WARMUP), ("vmap", 100), pytest.param("map", 100, marks=pytest.mark.slow),
        pytest.param("vmap", SHORT_WARMUP, marks=pytest.mark.slow),
    ],
)
def test_calibration_times_the_groups_own_learning_iterations(config_axis, learning_starts, tmp_path, monkeypatch):
    monkeypatch.setenv(estimate.CACHE_ENV, str(tmp_path))
    plan = make_plan(_sweep(config_axis, learning_starts))
    (group,) = plan.groups
    assert len(group.configs) == 4
    (result,) = estimate.estimate_plan(plan, 400, 200).values()

    (record,) = json.loads((tmp_path / estimate.CACHE_FILE).read_text()).values()
    # Two configs at each σ (B 16 and 32), σ·num_envs updates per iteration each: map applies all
    # of them, vmap runs max σ·num_envs slots for all configs.
    per_iteration = 2 * sum(UTDS) * NUM_ENVS if config_axis == "map" else max(UTDS) * NUM_ENVS
    assert estimate.CALIBRATION_ITERATIONS <= record["iterations"] <= estimate.CALIBRATION_MAX_ITERATIONS
    assert record["learning_units"] == per_iteration * record["iterations"]
    assert record["warmup_units"] == 0
    parts = ("init_compile_s", "chunk_compile_s", "evaluate_compile_s", "warmup_iteration_s", "evaluation_s")
    assert all(record[key] > 0 for key in parts)
    assert record["update_unit_s"] >= 0
    # A dry run (not run in this process) counts every compile.
    assert result.compile_s == pytest.approx(
        record["init_compile_s"] + record["chunk_compile_s"] + record["evaluate_compile_s"]
    )
    assert result.seconds == pytest.approx(result.compile_s + result.env_s + result.update_s + result.eval_s)
    # The run in this process reuses every program the calibration compiled.
    (here,) = estimate.estimate_plan(plan, 400, 200, run_here=True).values()
    assert here.compile_s == 0.0


def test_a_run_after_its_calibration_compiles_nothing(tmp_path, monkeypatch):
    """The calibration's programs are the run's: its chunks of another length, init, evaluate and
    td_errors hit JAX's cache (the chunk length is traced), so "compile 0" in the run's estimate is
    true. The group is the [map-4] test's: this process has its programs already (run alone, this
    test compiles them in its own calibration)."""
    monkeypatch.setenv(estimate.CACHE_ENV, str(tmp_path))
    plan = make_plan(_sweep("map", SHORT_WARMUP))
    (group,) = plan.groups
    estimate.estimate_plan(plan, 400, 200, run_here=True)
    trainer = get_trainer(group.spec)
    hparams = group.hparams(estimate.CALIBRATION_DISCOUNT, estimate.CALIBRATION_TAU)
    run_chunk_iterations = 200 // NUM_ENVS
    assert run_chunk_iterations != estimate.CALIBRATION_ITERATIONS
    with recorded_compile_events() as compiled:
        state = trainer.init(hparams)
        state, stats = trainer.train_chunk(state, run_chunk_iterations)
        jax.block_until_ready(trainer.evaluate(state, 1))
        jax.block_until_ready(trainer.td_errors(state, 1))
    assert compiled == []
    assert int(stats.grad_steps.sum()) > 0


def test_estimate_is_the_models_sum_and_cached_calibrations_are_not_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv(estimate.CACHE_ENV, str(tmp_path))
    plan = make_plan(_sweep("map"))
    (group,) = plan.groups
    measured = {
        "init_compile_s": 1.0, "chunk_compile_s": 3.0, "evaluate_compile_s": 1.0, "warmup_iteration_s": 0.001,
        "update_unit_s": 0.002, "evaluation_s": 0.5, "warmup_units": 0, "learning_units": 80,
    }
    (tmp_path / estimate.CACHE_FILE).write_text(json.dumps({estimate._key(group): measured}))

    def no_measuring(group):
        raise AssertionError("a cached calibration was measured again")

    monkeypatch.setattr(estimate, "_calibrate_group", no_measuring)
    monkeypatch.setattr(estimate, "_CALIBRATED_HERE", set())  # as in a process that did not calibrate
    (result,) = estimate.estimate_plan(plan, env_steps=400, eval_interval=200).values()
    iterations = 400 // NUM_ENVS
    learning_iterations = iterations - 100 // NUM_ENVS
    units_per_iteration = 2 * sum(UTDS) * NUM_ENVS  # map: every applied update
    assert result.env_s == pytest.approx(iterations * 0.001)
    assert result.update_s == pytest.approx(learning_iterations * units_per_iteration * 0.002)
    assert result.eval_s == pytest.approx(2 * 0.5)
    assert result.compile_s == pytest.approx(5.0)
    assert result.seconds == pytest.approx(5.0 + result.env_s + result.update_s + 1.0)
    # Calibrated by an earlier process: a run here compiles init and evaluate too.
    (here,) = estimate.estimate_plan(plan, env_steps=400, eval_interval=200, run_here=True).values()
    assert here.compile_s == pytest.approx(5.0)


def test_the_cache_key_tells_apart_groups_of_other_sigmas():
    (group,) = make_plan(_sweep("map")).groups
    (more_updates,) = make_plan(dataclasses.replace(_sweep("map"), utd=[1.0, 2.0])).groups
    assert group.spec == more_updates.spec
    assert estimate._key(group) != estimate._key(more_updates)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"hidden_width": 256}, {"utd": [1.0], "batch_size": [32]}, {"utd": [1.0], "batch_size": [32], "seeds": [0, 1, 2]}],
    ids=["narrow-mixed", "wide-mixed", "one-config", "one-sigma-and-B"],
)
def test_auto_is_a_rule_of_the_devices_never_a_timing(overrides, monkeypatch):
    """"auto" is map on one CPU device and vmap on a GPU or several devices, whatever the group's
    shapes, and nothing is calibrated to decide it; "vmap" and "map" are kept as set."""
    from rlscale.plan import decide_config_axis

    def no_measuring(group):
        raise AssertionError("the axis choice calibrated a group")

    monkeypatch.setattr(estimate, "_calibrate_group", no_measuring)
    sweep = dataclasses.replace(_sweep("auto"), **overrides)
    assert decide_config_axis(sweep, "cpu", 1).config_axis == "map"
    assert decide_config_axis(sweep, "gpu", 1).config_axis == "vmap"
    assert decide_config_axis(sweep, "cpu", 2).config_axis == "vmap"
    for axis in ("vmap", "map"):
        explicit = decide_config_axis(dataclasses.replace(sweep, config_axis=axis), "cpu", 1)
        assert explicit.config_axis == axis and explicit.reason == "set in the sweep config"
    decision = decide_config_axis(sweep, "cpu", 1)
    assert {group.spec.config_axis for group in make_plan(decision.applied_to(sweep), "cpu", 1).groups} == {"map"}
