"""A config trained inside a group of differing configs matches the same config trained alone, under
both config axes (vmap: padded slots for all configs; map: each config its own updates at its own
batch size): both therefore train the same configs to within the same tolerance, and measure the
same TD errors on the same replay and validation buffers."""

import math

import jax
import numpy as np
import pytest

from rlscale.engine.loop import get_trainer, lanes
from rlscale.engine.spec import CONFIG_AXES, MAP
from rlscale_testing import config_of, make_hparams, relative_difference, small_spec

# Eight configs differing in learning rate, batch size, UTD (fractional to 4) and seed. Four batch
# sizes (one odd), two configs each: the map group compiles one update branch per batch size.
LEARNING_RATES = [3e-4, 1e-3, 3e-4, 3e-4, 1e-4, 2e-3, 5e-4, 3e-4]
BATCH_SIZES = [128, 64, 32, 64, 7, 32, 128, 7]
UTDS = [1.0, 2.0, 0.5, 0.25, 3.0, 1.5, 4.0, 1.0]
SEEDS = [0, 1, 2, 3, 4, 5, 6, 7]
ITERATIONS = 130  # 100 random-action steps, then 30 iterations of updates (up to 4 per iteration)
LEARNING_STARTS = small_spec().learning_starts
DIVERGING_LEARNING_RATE = 1e6
"""Makes a config's first updates non-finite."""


def group_spec(config_axis: str):
    return small_spec(
        num_configs=8, max_batch_size=max(BATCH_SIZES), update_slots=4, config_axis=config_axis,
        batch_sizes=tuple(sorted(set(BATCH_SIZES))) if config_axis == MAP else (),
    )


@pytest.fixture(scope="module", params=CONFIG_AXES)
def group_run(request):
    trainer = get_trainer(group_spec(request.param))
    state = trainer.init(make_hparams(LEARNING_RATES, BATCH_SIZES, UTDS, SEEDS))
    state, stats = trainer.train_chunk(state, ITERATIONS)
    return state, stats, (np.asarray(trainer.evaluate(state, 0)), trainer.td_errors(state, 0)), request.param


def train_alone(learning_rate: float, batch_size: int, utd: float, seed: int):
    """One config trained by itself for ITERATIONS: (state, stats, (evaluation returns, TD errors)).
    Its program depends only on (B, ceil σ): configs alone at the same pair share one compile."""
    trainer = get_trainer(small_spec(num_configs=1, max_batch_size=batch_size, update_slots=math.ceil(utd)))
    state, stats = trainer.train_chunk(trainer.init(make_hparams([learning_rate], [batch_size], [utd], [seed])), ITERATIONS)
    return state, stats, (np.asarray(trainer.evaluate(state, 0)), trainer.td_errors(state, 0))


@pytest.mark.parametrize("index", [1, pytest.param(3, marks=pytest.mark.slow), pytest.param(5, marks=pytest.mark.slow), 6])
def test_config_in_group_matches_config_alone(group_run, index):
    group_state, group_stats, (group_returns, group_td_errors), _ = group_run
    state, stats, (alone_returns, alone_td_errors) = train_alone(
        LEARNING_RATES[index], BATCH_SIZES[index], UTDS[index], SEEDS[index]
    )

    member, alone = config_of(group_state.agent, index), config_of(state.agent, 0)
    assert int(group_stats.grad_steps[index]) == int(stats.grad_steps[0]) > 0
    assert relative_difference(member, alone) <= 1e-5
    np.testing.assert_allclose(group_returns[index], alone_returns[0], rtol=1e-5)
    # The replay and validation buffers hold the same trajectories, and the TD errors on them
    # (batches of the config's own B, padded to the group's largest in the group) agree.
    assert relative_difference(group_state.replay.data.obs[index], state.replay.data.obs[0]) <= 1e-5
    member_validation = config_of(group_state.validation.replay.data, index)
    alone_validation = config_of(state.validation.replay.data, 0)
    assert relative_difference(member_validation, alone_validation) <= 1e-5
    for in_group, alone_error in zip(jax.tree_util.tree_leaves(group_td_errors), jax.tree_util.tree_leaves(alone_td_errors)):
        np.testing.assert_allclose(float(in_group[index]), float(alone_error[0]), rtol=1e-5)


def test_updates_follow_each_configs_utd(group_run):
    _, stats, _, _ = group_run
    learning_iterations = ITERATIONS - LEARNING_STARTS
    expected = [math.floor(u * learning_iterations + 1e-6) for u in UTDS]
    assert np.asarray(stats.grad_steps).tolist() == expected


def test_map_computes_only_the_updates_configs_need(group_run):
    """vmap computes every executed slot for every config; map exactly each config's updates."""
    _, stats, _, axis = group_run
    grad_steps, computed = np.asarray(stats.grad_steps), np.asarray(stats.computed_updates)
    if axis == MAP:
        assert computed.tolist() == grad_steps.tolist()
    else:
        assert set(computed.tolist()) == {computed.max()} and computed.max() > grad_steps.min()


# Map groups in lanes: three (σ, B) pairs of two configs each, in an order that interleaves them
# (lanes of 2), and one (σ, B) pair of three configs (one lane: the configs' states used in place).
# The pairs are those of the configs trained alone above (indices 1 and 6: (2, 64), (4, 128)) and
# (1.5, 32), shared by both layouts, so the configs of the lanes alone reuse those programs.
LANE_LAYOUTS = {
    "three lanes": dict(
        utds=[2.0, 4.0, 1.5, 4.0, 2.0, 1.5], batch_sizes=[64, 128, 32, 128, 64, 32],
        learning_rates=[3e-4, 1e-3, 5e-4, 3e-4, 2e-3, 1e-4], seeds=[10, 11, 12, 13, 14, 15], lane_width=2,
    ),
    "one lane": dict(
        utds=[1.5] * 3, batch_sizes=[32] * 3, learning_rates=[3e-4, 1e-3, 2e-3], seeds=[20, 21, 22], lane_width=3,
    ),
}


def _lane_hparams(layout: dict):
    return make_hparams(layout["learning_rates"], layout["batch_sizes"], layout["utds"], layout["seeds"])


def _lanes_spec(layout: dict):
    return small_spec(
        num_configs=len(layout["utds"]), max_batch_size=max(layout["batch_sizes"]),
        update_slots=math.ceil(max(layout["utds"])), config_axis=MAP,
        batch_sizes=tuple(sorted(set(layout["batch_sizes"]))), lane_width=layout["lane_width"],
    )


@pytest.fixture(scope="module", params=list(LANE_LAYOUTS))
def lanes_run(request):
    layout = LANE_LAYOUTS[request.param]
    trainer = get_trainer(_lanes_spec(layout))
    state, stats = trainer.train_chunk(trainer.init(_lane_hparams(layout)), ITERATIONS)
    return layout, state, stats


def test_lanes_hold_configs_of_one_utd_and_batch_size():
    layout = LANE_LAYOUTS["three lanes"]
    members = np.asarray(lanes(_lane_hparams(layout), layout["lane_width"]))
    assert members.shape == (3, 2)
    assert sorted(members.ravel().tolist()) == list(range(len(layout["utds"])))
    for lane in members:
        assert len({(layout["utds"][k], layout["batch_sizes"][k]) for k in lane}) == 1


@pytest.mark.parametrize("index", [0, 1, 2])
def test_config_in_a_lane_matches_config_alone(lanes_run, index):
    """Configs updated together in a lane of a map group train as they would alone, and compute
    exactly their own updates."""
    layout, group_state, group_stats = lanes_run
    state, stats, _ = train_alone(
        layout["learning_rates"][index], layout["batch_sizes"][index], layout["utds"][index], layout["seeds"][index]
    )
    member, alone = config_of(group_state.agent, index), config_of(state.agent, 0)
    assert int(group_stats.grad_steps[index]) == int(stats.grad_steps[0]) > 0
    assert np.asarray(group_stats.computed_updates).tolist() == np.asarray(group_stats.grad_steps).tolist()
    assert relative_difference(member, alone) <= 1e-5


def test_a_diverging_config_in_a_lane_leaves_its_lane_mate_and_other_lanes_unchanged():
    """The three lanes of two (the program compiled for them above); config 0's huge learning rate
    makes its update non-finite: it is frozen at its last finite parameters and marked diverged, and
    every other config, its lane mate included, ends bit-identical to the same group where config 0
    is sane."""
    layout = LANE_LAYOUTS["three lanes"]
    (lane_of_config_0,) = [lane for lane in np.asarray(lanes(_lane_hparams(layout), layout["lane_width"])) if 0 in lane]
    assert len(lane_of_config_0) == 2  # config 0 has a lane mate
    trainer = get_trainer(_lanes_spec(layout))
    states = {}
    for name, first_rate in (("sane", layout["learning_rates"][0]), ("diverging", DIVERGING_LEARNING_RATE)):
        learning_rates = [first_rate, *layout["learning_rates"][1:]]
        state = trainer.init(make_hparams(learning_rates, layout["batch_sizes"], layout["utds"], layout["seeds"]))
        states[name] = trainer.train_chunk(state, ITERATIONS)
    (sane, _), (diverging, stats) = states["sane"], states["diverging"]
    others_alive = [-1] * (len(layout["utds"]) - 1)
    assert np.asarray(diverging.diverged_iteration).tolist()[0] >= LEARNING_STARTS
    assert np.asarray(diverging.diverged_iteration).tolist()[1:] == others_alive
    assert int(stats.grad_steps[0]) < int(stats.computed_updates[0])
    for leaf in jax.tree_util.tree_leaves(diverging.agent):
        assert np.all(np.isfinite(np.asarray(leaf)[0]))
    for sane_leaf, diverging_leaf in zip(jax.tree_util.tree_leaves(sane.agent), jax.tree_util.tree_leaves(diverging.agent)):
        assert np.asarray(sane_leaf)[1:].tobytes() == np.asarray(diverging_leaf)[1:].tobytes()
