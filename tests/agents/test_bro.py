"""BRO: losses against a NumPy reference, resets on each config's own gradient clock, a config in a
group against the same config alone, and learning on pendulum."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents_reference import (
    bronet_head,
    perturb,
    scalar_hparams,
    squash_log_std,
    tanh_gaussian,
    to_numpy,
)
from rlscale_testing import make_hparams, relative_difference, small_spec
from rlscale.agents import make_agent
from rlscale.agents.bro import losses
from rlscale.agents.sac.networks import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.types import Transition

CRITIC = NetworkConfig(hidden_width=16, hidden_depth=2)
ACTOR = NetworkConfig(hidden_width=16, hidden_depth=1)
MAX_BATCH, BATCH = 64, 48


def _agent(**options):
    return make_agent("bro", 3, 2, CRITIC, actor_network=ACTOR, **options)


def _batch(seed=0):
    rngs = jax.random.split(jax.random.PRNGKey(seed), 5)
    return Transition(
        obs=jax.random.normal(rngs[0], (MAX_BATCH, 3)),
        action=jax.random.uniform(rngs[1], (MAX_BATCH, 2), minval=-0.9, maxval=0.9),
        reward=jax.random.normal(rngs[2], (MAX_BATCH,)),
        next_obs=jax.random.normal(rngs[3], (MAX_BATCH, 3)),
        termination=(jax.random.uniform(rngs[4], (MAX_BATCH,)) < 0.2).astype(jnp.float32),
    )


def _numpy_actor(params, obs):
    out = bronet_head(params["params"]["Head_0"], obs, ACTOR.hidden_depth)
    mean, raw = np.split(out, 2, axis=-1)
    return mean, squash_log_std(raw)


def _numpy_critic(params, obs, action):
    x = np.concatenate([obs, action], axis=-1)
    q = [bronet_head(params["params"][name], x, CRITIC.hidden_depth) for name in ("q1", "q2")]
    return np.concatenate(q, axis=-1)


def _lower_and_upper(q, beta):
    return q.mean(-1) + beta * 0.5 * np.abs(q[:, 0] - q[:, 1])


def test_losses_match_numpy_reference():
    agent = _agent()
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
    alpha, discount, pessimism = np.exp(-1.5), 0.99, agent.pessimism

    def masked_mean(values):
        return np.sum(values * np_mask) / BATCH

    # Critic.
    got = losses.critic_loss(
        state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha, batch,
        mask, jnp.float32(BATCH), jnp.float32(discount), pessimism, rng,
        agent.actor.apply, agent.critic.apply,
    )
    mean, log_std = _numpy_actor(np_state.actor_params, np_batch.next_obs)
    next_action, next_log_prob = tanh_gaussian(mean, log_std, noise)
    next_q = _lower_and_upper(
        _numpy_critic(np_state.target_critic_params, np_batch.next_obs, next_action), -pessimism
    )
    target = np_batch.reward + discount * (1 - np_batch.termination) * (next_q - alpha * next_log_prob)
    q = _numpy_critic(np_state.critic_params, np_batch.obs, np_batch.action)
    expected = masked_mean(0.5 * np.sum((q - target[:, None]) ** 2, -1))
    np.testing.assert_allclose(float(got), expected, rtol=1e-4)

    # Conservative actor.
    got, _ = losses.conservative_actor_loss(
        state.actor_params, state.critic_params, state.log_alpha, batch, mask, jnp.float32(BATCH),
        pessimism, rng, agent.actor.apply, agent.critic.apply,
    )
    mean, log_std = _numpy_actor(np_state.actor_params, np_batch.obs)
    action, log_prob = tanh_gaussian(mean, log_std, noise)
    q = _lower_and_upper(_numpy_critic(np_state.critic_params, np_batch.obs, action), -pessimism)
    np.testing.assert_allclose(float(got), masked_mean(alpha * log_prob - q), rtol=1e-4)

    # Optimistic actor: shifted mean, narrowed std, upper bound and KL penalty.
    optimism, kl_weight = 0.7, 0.3
    got, _ = losses.optimistic_actor_loss(
        state.optimistic_params, state.actor_params, state.critic_params, jnp.float32(optimism),
        jnp.float32(kl_weight), batch, mask, jnp.float32(BATCH), agent.std_multiplier, rng,
        agent.actor.apply, agent.optimistic_actor.apply, agent.critic.apply,
    )
    shift = bronet_head(np_state.optimistic_params["params"]["Head_0"], np_batch.obs, ACTOR.hidden_depth)
    assert np.abs(shift).max() > 0.1
    action, _ = tanh_gaussian(mean + shift, log_std + np.log(agent.std_multiplier), noise)
    q = _lower_and_upper(_numpy_critic(np_state.critic_params, np_batch.obs, action), optimism)
    kl = np.mean(0.5 * (shift / np.exp(log_std)) ** 2, axis=-1)
    np.testing.assert_allclose(float(got), masked_mean(-q + kl_weight * kl), rtol=1e-4)


def test_padding_rows_do_not_change_the_update():
    agent = _agent(reset_interval=3)
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    batch = _batch()
    garbage = batch.replace(reward=batch.reward.at[BATCH:].set(1e6))
    mask = (jnp.arange(MAX_BATCH) < BATCH).astype(jnp.float32)
    update = jax.jit(agent.update)
    clean, _ = update(state, batch, mask, hparams, jax.random.PRNGKey(1))
    padded, _ = update(state, garbage, mask, hparams, jax.random.PRNGKey(1))
    assert relative_difference(padded, clean) == 0.0


def test_resets_follow_the_configs_own_gradient_clock():
    agent = _agent(reset_interval=3)
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    update = jax.jit(agent.update)
    mask = jnp.ones((MAX_BATCH,), jnp.float32)
    for step in range(3):
        previous = state
        state, _ = update(state, _batch(step), mask, hparams, jax.random.PRNGKey(step))
    assert int(state.grad_step) == 3
    # A reset: fresh optimizers and scalars, new random networks (not the previous ones).
    assert int(state.critic_opt_state.inner_state[0].count) == 0
    assert float(state.log_alpha) == pytest.approx(np.log(agent.initial_temperature))
    assert relative_difference(state.critic_params, previous.critic_params) > 0.1
    assert relative_difference(state.critic_params, state.target_critic_params) == 0.0
    state, _ = update(state, _batch(9), mask, hparams, jax.random.PRNGKey(9))
    assert int(state.critic_opt_state.inner_state[0].count) == 1


def test_options_are_switchable_and_validated():
    plain = _agent(bronet=False, weight_decay=0.0, reset_interval=0, optimistic_exploration=False)
    assert plain.parameter_count() < _agent().parameter_count()
    state = plain.init(jax.random.PRNGKey(0), scalar_hparams())
    assert jax.tree_util.tree_leaves(state.optimistic_params) == []
    with pytest.raises(ValueError, match="reset_interval"):
        _agent(reset_interval=-1)
    with pytest.raises(ValueError, match="unknown bro options"):
        _agent(resets=True)


# Four configs differing in learning rate, batch size, UTD and seed; resets every 20 gradient
# steps, so configs with UTD 2 and 3 reset during the run, each on its own clock.
LEARNING_RATES = [3e-4, 1e-3, 5e-4, 2e-3]
BATCH_SIZES = [32, 16, 48, 24]
UTDS = [1.0, 2.0, 0.5, 3.0]
SEEDS = [0, 1, 2, 3]
ITERATIONS = 115  # 100 random-action steps, then 15 iterations with updates
OPTIONS = (("actor_network", ACTOR), ("reset_interval", 20))


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
    trainer = get_trainer(_spec(1))
    state = trainer.init(
        make_hparams([LEARNING_RATES[index]], [BATCH_SIZES[index]], [UTDS[index]], [SEEDS[index]])
    )
    state, stats = trainer.train_chunk(state, ITERATIONS)
    member = jax.tree_util.tree_map(lambda x: x[index], group_state.agent)
    alone = jax.tree_util.tree_map(lambda x: x[0], state.agent)
    assert int(group_stats.grad_steps[index]) == int(stats.grad_steps[0]) > 20
    assert int(member.grad_step) == int(alone.grad_step) == int(stats.grad_steps[0])
    assert relative_difference(member, alone) <= 1e-5
    # Same env trajectories, up to the last bits of actions from (near-)equal networks.
    np.testing.assert_allclose(
        np.asarray(group_state.replay.data.obs[index]), np.asarray(state.replay.data.obs[0]),
        rtol=1e-5, atol=1e-5,
    )


@pytest.mark.slow
def test_learns_pendulum():
    network = NetworkConfig(hidden_width=64, hidden_depth=1)
    spec = small_spec(
        algo="bro", network=network, agent_options=(("actor_network", network),),
        max_batch_size=128, learning_starts=1000, buffer_capacity=10_000, eval_episodes=5,
    )
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams([1e-3], [128], [1.0], [0]))
    state, _ = trainer.train_chunk(state, 6000)
    assert float(trainer.evaluate(state, 0)[0]) > -600.0
