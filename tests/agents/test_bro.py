"""BRO: losses (quantile and scalar critic) against a NumPy reference, BRO's presets, bounded duals,
resets on each config's own clock (gradient steps or env steps), a config in a group against the
same config alone, and learning on pendulum."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents_reference import (
    bronet_torso,
    dense,
    perturb,
    scalar_hparams,
    squash,
    tanh_gaussian,
    to_numpy,
)
from rlscale_testing import config_of, jit_update, make_hparams, relative_difference, small_spec, trained_alone
from rlscale.agents import make_agent
from rlscale.agents.bro import losses
from rlscale.agents.bro.options import BRO_REPO_RESET_ENV_STEPS, PAPER_RESET_INTERVAL
from rlscale.agents.core import UpdateBatch
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.testing.conformance import fixed_batch

CRITIC = NetworkConfig(hidden_width=16, hidden_depth=2)
ACTOR_OPTIONS = {"actor_hidden_width": 16, "actor_hidden_depth": 1}
QUANTILES = 8
MAX_BATCH, BATCH = 64, 48


def _agent(**options):
    return make_agent("bro", 3, 2, CRITIC, **{**ACTOR_OPTIONS, "critic_quantiles": QUANTILES, **options})


@functools.cache
def _agent_and_update(**options):
    """`_agent(**options)` and its jitted update, built once per module: `jit_update` makes a new
    function (so a new compile) at each call, and tests of the same options run the same update."""
    agent = _agent(**options)
    return agent, jit_update(agent)


def _batch(seed=0):
    return fixed_batch(_agent(), 3, 2, MAX_BATCH, seed)


def _numpy_actor(params, obs, options):
    features = bronet_torso(params["params"]["Torso_0"], obs, options.actor_hidden_depth)
    log_std = squash(dense(params["params"]["log_std"], features), options.log_std_min, options.log_std_max)
    return dense(params["params"]["mean"], features), log_std


def _numpy_critic(params, obs, action):
    """f32[B, 2, Q]."""
    x = np.concatenate([obs, action], axis=-1)
    p = params["params"]
    heads = [dense(p[f"{n}_head"], bronet_torso(p[f"{n}_torso"], x, CRITIC.hidden_depth)) for n in ("q1", "q2")]
    return np.stack(heads, axis=-2)


def _bound(q, beta):
    return q.mean(-2) + beta * 0.5 * np.abs(q[:, 0] - q[:, 1])


def _quantile_huber(q, target):
    """BRO's calculate_quantile_huber_loss for each critic, summed: q [B, 2, Q], target [B, Q]."""
    taus = (np.arange(q.shape[-1]) + 0.5) / q.shape[-1]
    total = np.zeros(q.shape[0])
    for critic in range(2):
        errors = target[:, None, :] - q[:, critic, :, None]  # [B, Q_i, Q_j]
        huber = np.where(np.abs(errors) <= 1.0, 0.5 * errors**2, np.abs(errors) - 0.5)
        weight = np.abs(taus[None, :, None] - (errors < 0))
        total += (weight * huber).sum(axis=1).mean(axis=1)
    return total


@pytest.mark.parametrize("quantiles", [QUANTILES, 0])
def test_losses_match_numpy_reference(quantiles):
    agent = _agent(critic_quantiles=quantiles, pessimism=0.5)
    options = agent.options
    state = agent.init(jax.random.PRNGKey(1), scalar_hparams())
    state = state.replace(
        optimistic_params=perturb(state.optimistic_params, 2),
        target_critic_params=perturb(state.critic_params, 3, scale=0.05),
        log_alpha=jnp.float32(-1.5),
    )
    batch, mask = _batch(), (jnp.arange(MAX_BATCH) < BATCH).astype(jnp.float32)
    rng = jax.random.PRNGKey(4)
    noise = np.asarray(jax.random.normal(rng, (MAX_BATCH, 2)), np.float64)
    np_state, np_batch, np_mask = to_numpy(state), to_numpy(batch), np.asarray(mask, np.float64)
    alpha, discount, pessimism = np.exp(-1.5), 0.99, options.pessimism

    def masked_mean(values):
        return np.sum(values * np_mask) / BATCH

    # Critic: per-quantile target from the pessimistic bound of the target critic.
    padded = UpdateBatch(batch, mask, jnp.float32(BATCH), jnp.float32(discount))
    got = agent.losses.critic(
        state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha, padded, rng,
    )
    mean, log_std = _numpy_actor(np_state.actor_params, np_batch.next_obs, options)
    next_action, next_log_prob = tanh_gaussian(mean, log_std, noise)
    next_q = _bound(_numpy_critic(np_state.target_critic_params, np_batch.next_obs, next_action), -pessimism)
    target = np_batch.reward[:, None] + discount * (1 - np_batch.termination[:, None]) * (
        next_q - alpha * next_log_prob[:, None]
    )
    q = _numpy_critic(np_state.critic_params, np_batch.obs, np_batch.action)
    if quantiles:
        expected = masked_mean(_quantile_huber(q, target))
    else:
        expected = masked_mean(0.5 * np.sum((q[..., 0] - target) ** 2, -1))
    np.testing.assert_allclose(float(got), expected, rtol=1e-4)

    # Conservative actor: mean over quantiles of the pessimistic bound.
    got, _ = agent.losses.conservative_actor(state.actor_params, state.critic_params, state.log_alpha, padded, rng)
    mean, log_std = _numpy_actor(np_state.actor_params, np_batch.obs, options)
    action, log_prob = tanh_gaussian(mean, log_std, noise)
    q = _bound(_numpy_critic(np_state.critic_params, np_batch.obs, action), -pessimism).mean(-1)
    np.testing.assert_allclose(float(got), masked_mean(alpha * log_prob - q), rtol=1e-4)

    # Optimistic actor: sees (obs, conservative mean), shifts the mean, narrows the std; upper
    # bound and the KL summed over action dimensions.
    optimism, kl_weight = 0.7, 0.3
    got, _ = agent.losses.optimistic_actor(
        state.optimistic_params, state.actor_params, state.critic_params,
        (jnp.float32(optimism), jnp.float32(kl_weight)), padded, rng,
    )
    optimistic = np_state.optimistic_params["params"]
    features = bronet_torso(optimistic["Torso_0"], np.concatenate([np_batch.obs, mean], -1), options.actor_hidden_depth)
    shift = dense(optimistic["shift"], features)
    assert "bias" not in optimistic["shift"] and np.abs(shift).max() > 0.1
    action, _ = tanh_gaussian(mean + shift, log_std + np.log(options.std_multiplier), noise)
    q = _bound(_numpy_critic(np_state.critic_params, np_batch.obs, action), optimism).mean(-1)
    kl = np.sum(0.5 * (shift / np.exp(log_std)) ** 2, axis=-1)
    np.testing.assert_allclose(float(got), masked_mean(-q + kl_weight * kl), rtol=1e-4)


def test_presets_follow_bro():
    """naumix/BiggerRegularizedOptimistic: bro_learner.py (target entropy -|A|/2, init_regularizer
    0.25, init_optimism 1, temperature Adam 3e-4 b1 0.5, adj_lr 3e-5 b1 0.5, duals in [e^-10, e^7.5],
    pessimism 0, 100 quantiles, AdamW), policies.py (log std in [-10, 2], actor 256 x 1 block),
    bro_default.py (kl_target 0.05, std_multiplier 0.75); resets every 2.5M gradient steps (qscaled)."""
    agent = make_agent("bro", 3, 4, CRITIC)
    options = agent.options
    assert agent.target_entropy == -2.0
    assert (options.initial_optimism, options.initial_kl_weight, options.initial_temperature) == (1.0, 0.25, 1.0)
    assert (options.log_std_min, options.log_std_max) == (-10.0, 2.0)
    assert (options.log_dual_min, options.log_dual_max) == (-10.0, 7.5)
    assert (options.temperature_learning_rate, options.temperature_b1) == (3e-4, 0.5)
    assert (options.dual_learning_rate, options.dual_b1) == (3e-5, 0.5)
    assert (options.critic_quantiles, options.pessimism, options.weight_decay) == (100, 0.0, 1e-4)
    assert (options.target_kl, options.std_multiplier) == (0.05, 0.75)
    assert (options.actor_hidden_width, options.actor_hidden_depth) == (256, 1)
    assert (options.reset_schedule, options.reset_interval) == ("gradient_steps", PAPER_RESET_INTERVAL)
    assert PAPER_RESET_INTERVAL == 2_500_000
    assert BRO_REPO_RESET_ENV_STEPS[:3] == (15_001, 50_001, 250_001)

    state = agent.init(jax.random.PRNGKey(0), scalar_hparams())
    optimism, kl_weight = (losses.bounded_dual(raw, -10.0, 7.5) for raw in state.raw_duals)
    assert float(optimism) == pytest.approx(1.0, rel=1e-5)
    assert float(kl_weight) == pytest.approx(0.25, rel=1e-5)


def test_duals_stay_within_their_bounds():
    for raw in (-1e6, 1e6):
        value = float(losses.bounded_dual(jnp.float32(raw), -10.0, 7.5))
        assert math.exp(-10.0) * (1 - 1e-5) <= value <= math.exp(7.5) * (1 + 1e-5)
    assert losses.raw_dual(0.25, -10.0, 7.5) == pytest.approx(
        math.atanh(2 * (math.log(0.25) + 10.0) / 17.5 - 1.0)
    )


def test_temperature_and_duals_step_at_their_own_rates_whatever_eta():
    """Two configs that differ only in eta take the same first step of log alpha and of the duals:
    Adam's first step is its step size, 3e-4 (temperature) and 3e-5 (duals), not eta."""
    agent, update = _agent_and_update(reset_schedule="none")
    steps = []
    for learning_rate in (1e-4, 3e-3):
        hparams = scalar_hparams(learning_rate=learning_rate)
        state = agent.init(jax.random.PRNGKey(0), hparams)
        new_state, _ = update(state, _batch(), jnp.ones(MAX_BATCH), hparams, jax.random.PRNGKey(1))
        steps.append(
            [float(new_state.log_alpha - state.log_alpha)]
            + [float(new - old) for new, old in zip(new_state.raw_duals, state.raw_duals)]
        )
        critic_step = relative_difference(new_state.critic_params, state.critic_params)
        steps[-1].append(critic_step)
    (alpha_a, *duals_a, critic_a), (alpha_b, *duals_b, critic_b) = steps
    assert alpha_a == pytest.approx(alpha_b, rel=1e-4) and abs(alpha_a) == pytest.approx(3e-4, rel=1e-2)
    np.testing.assert_allclose(duals_a, duals_b, rtol=1e-4)
    np.testing.assert_allclose(np.abs(duals_a), 3e-5, rtol=1e-2)
    assert critic_b > 10 * critic_a  # the networks do follow eta


def test_padding_rows_do_not_change_the_update():
    agent, update = _agent_and_update(reset_schedule="none")
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    batch = _batch()
    garbage = batch.replace(reward=batch.reward.at[BATCH:].set(1e6))
    mask = (jnp.arange(MAX_BATCH) < BATCH).astype(jnp.float32)
    clean, _ = update(state, batch, mask, hparams, jax.random.PRNGKey(1))
    padded, _ = update(state, garbage, mask, hparams, jax.random.PRNGKey(1))
    assert relative_difference(padded, clean) == 0.0


def test_resets_follow_the_configs_own_gradient_clock():
    agent, update = _agent_and_update(reset_interval=3)
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    mask = jnp.ones((MAX_BATCH,), jnp.float32)
    resets = []
    for step in range(3):
        state, metrics = update(state, _batch(step), mask, hparams, jax.random.PRNGKey(step))
        resets.append(float(metrics["reset"]))
    trained = state
    assert int(state.grad_step) == 3 and resets == [0.0, 0.0, 0.0]
    # The 4th update starts from a reset: fresh optimizers and scalars, new random networks.
    state, metrics = update(state, _batch(3), mask, hparams, jax.random.PRNGKey(3))
    assert float(metrics["reset"]) == 1.0 and int(state.resets_done) == 1 and int(state.grad_step) == 4
    assert int(state.critic_opt_state.inner_state[0].count) == 1
    assert float(metrics["temperature"]) == pytest.approx(agent.options.initial_temperature)
    fresh = agent.init(jax.random.PRNGKey(0), hparams)
    assert relative_difference(state.critic_params, trained.critic_params) > 0.1
    assert relative_difference(state.critic_params, fresh.critic_params) > 0.1
    # The learning rate survives the reset (it lives in the optimizer state).
    assert float(state.critic_opt_state.hyperparams["learning_rate"]) == pytest.approx(3e-4)


def test_env_step_schedule_resets_once_per_listed_env_step():
    agent, update = _agent_and_update(reset_schedule="env_steps", reset_at_env_steps=(10, 20))
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    mask = jnp.ones((MAX_BATCH,), jnp.float32)
    resets = []
    for env_step in (5, 9, 10, 10, 15, 25, 26, 40):
        state, metrics = update(state, _batch(env_step), mask, hparams, jax.random.PRNGKey(env_step), env_step)
        resets.append(int(metrics["reset"]))
    assert resets == [0, 0, 1, 0, 0, 1, 0, 0]


def test_options_are_switchable_and_validated():
    plain = _agent(bronet=False, weight_decay=0.0, reset_schedule="none", optimistic_exploration=False)
    assert plain.parameter_count() < _agent().parameter_count()
    state = plain.init(jax.random.PRNGKey(0), scalar_hparams())
    assert jax.tree_util.tree_leaves(state.optimistic_params) == [] and state.raw_duals == ()
    assert plain.due(state, scalar_hparams(), jnp.int32(0)) == {}
    with pytest.raises(ValueError, match="reset_interval"):
        _agent(reset_interval=0)
    with pytest.raises(ValueError, match="unknown option 'resets'"):
        _agent(resets=True)
    with pytest.raises(ValueError, match="initial_kl_weight"):
        _agent(initial_kl_weight=1e5)


# Four configs differing in learning rate, batch size, UTD and seed; resets every 20 gradient
# steps, so configs with UTD 2 and 3 reset during the run, each on its own clock.
LEARNING_RATES = [3e-4, 1e-3, 5e-4, 2e-3]
BATCH_SIZES = [32, 16, 48, 24]
UTDS = [1.0, 2.0, 0.5, 3.0]
SEEDS = [0, 1, 2, 3]
ITERATIONS = 115  # 100 random-action steps, then 15 iterations with updates
OPTIONS = tuple(sorted({**ACTOR_OPTIONS, "critic_quantiles": QUANTILES, "reset_interval": 20}.items()))


def _spec(num_configs):
    return small_spec(
        algo="bro", network=CRITIC, agent_options=OPTIONS, num_configs=num_configs,
        max_batch_size=max(BATCH_SIZES), update_slots=3,
    )


@pytest.fixture(scope="module")
def group_run():
    trainer = get_trainer(_spec(len(SEEDS)))
    state = trainer.init(make_hparams(LEARNING_RATES, BATCH_SIZES, UTDS, SEEDS))
    return trainer.train_chunk(state, ITERATIONS)


@pytest.mark.slow  # two BRO group compiles (resets and the optimistic actor) take minutes on CPU
@pytest.mark.parametrize("index", [1, 3])
def test_config_in_group_matches_config_alone(group_run, index):
    group_state, group_stats = group_run
    state, stats = trained_alone(_spec(1), index, (LEARNING_RATES, BATCH_SIZES, UTDS, SEEDS), ITERATIONS)
    member, alone = config_of(group_state.agent, index), config_of(state.agent, 0)
    assert int(group_stats.grad_steps[index]) == int(stats.grad_steps[0]) > 20
    assert int(member.grad_step) == int(alone.grad_step) == int(stats.grad_steps[0])
    assert int(member.resets_done) == int(alone.resets_done) >= 1
    assert relative_difference(member, alone) <= 1e-5
    # The engine recorded the same reset env steps, one per reset.
    recorded = np.asarray(group_state.reset_env_steps[index])
    assert recorded.tolist() == np.asarray(state.reset_env_steps[0]).tolist()
    assert int((recorded >= 0).sum()) == int(member.resets_done) == int(group_state.num_resets[index])
    # Same env trajectories, up to the last bits of actions from (near-)equal networks.
    np.testing.assert_allclose(
        np.asarray(group_state.replay.data.obs[index]), np.asarray(state.replay.data.obs[0]),
        rtol=1e-5, atol=1e-5,
    )


@pytest.mark.slow
@pytest.mark.parametrize("options", [{}, {"critic_quantiles": 0, "pessimism": 1.0}], ids=["quantile", "scalar"])
def test_learns_pendulum(options):
    network = NetworkConfig(hidden_width=64, hidden_depth=1)
    agent_options = {"actor_hidden_width": 64, **options}
    spec = small_spec(
        algo="bro", network=network, agent_options=tuple(sorted(agent_options.items())),
        max_batch_size=128, learning_starts=1000, buffer_capacity=10_000, eval_episodes=5,
    )
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams([1e-3], [128], [1.0], [0]))
    state, _ = trainer.train_chunk(state, 6000)
    assert float(trainer.evaluate(state, 0)[0]) > -600.0
