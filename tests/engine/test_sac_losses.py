"""SAC losses and targets against a small NumPy reference on a fixed, padded batch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlscale.agents.core import Transition, UpdateBatch
from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.networks import LOG_STD_MAX, LOG_STD_MIN
from rlscale.agents.spec import NetworkConfig
from rlscale_testing import jit_update, make_hparams

OBS, ACT, B_MAX, B = 3, 2, 12, 9


def _dense_stack(params: dict, x: np.ndarray) -> np.ndarray:
    """NumPy forward of rlscale's MLP (Dense_0..Dense_n, ReLU between)."""
    layers = sorted(params, key=lambda name: int(name.split("_")[1]))
    for i, name in enumerate(layers):
        x = x @ np.asarray(params[name]["kernel"], np.float64) + np.asarray(params[name]["bias"], np.float64)
        if i < len(layers) - 1:
            x = np.maximum(x, 0.0)
    return x


def _actor(params, obs):
    out = _dense_stack(params["params"]["MLP_0"], obs)
    mean, raw = out[:, :ACT], out[:, ACT:]
    log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (np.tanh(raw) + 1.0)
    return mean, log_std


def _critic(params, obs, action):
    x = np.concatenate([obs, action], axis=-1)
    return np.concatenate(
        [_dense_stack(params["params"][name], x) for name in ("q1", "q2")], axis=-1
    )


def _sample(mean, log_std, noise):
    pre_tanh = mean + np.exp(log_std) * noise
    log_prob = np.sum(
        -0.5 * noise**2 - log_std - 0.5 * np.log(2 * np.pi) - np.log(1 - np.tanh(pre_tanh) ** 2),
        axis=-1,
    )
    return np.tanh(pre_tanh), log_prob


@pytest.fixture(scope="module")
def setup():
    agent = SACAgent(OBS, ACT, NetworkConfig(hidden_width=16, hidden_depth=2))
    state = agent.init(jax.random.PRNGKey(0), make_hparams([1e-3], [B], [1.0], [0]))
    state = state.replace(log_alpha=jnp.log(jnp.float32(0.3)))
    # A distinct target network, so the target computation is really exercised.
    target = jax.tree_util.tree_map(lambda p: p * 0.9 + 0.01, state.critic_params)
    state = state.replace(target_critic_params=target)
    rng = np.random.default_rng(0)
    batch = Transition(
        obs=jnp.asarray(rng.normal(size=(B_MAX, OBS)), jnp.float32),
        action=jnp.asarray(rng.uniform(-0.9, 0.9, size=(B_MAX, ACT)), jnp.float32),
        reward=jnp.asarray(rng.normal(size=B_MAX), jnp.float32),
        next_obs=jnp.asarray(rng.normal(size=(B_MAX, OBS)), jnp.float32),
        termination=jnp.asarray([0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0], jnp.float32),
    )
    mask = (jnp.arange(B_MAX) < B).astype(jnp.float32)
    to64 = lambda tree: jax.tree_util.tree_map(lambda x: np.asarray(x, np.float64), tree)
    numpy_batch = to64(batch)
    return agent, state, batch, mask, numpy_batch, to64


def _numpy_critic_loss(state, nb, to64, rng, discount=0.99, alpha=0.3) -> float:
    """SAC's twin-critic TD loss in NumPy: 0.5 * sum over critics of the mean over the first B rows
    of (Q_i(s, a) - y)^2, y = r + discount (1 - termination) (min_i Q'_i(s', a') - alpha log pi(a'|s'))."""
    noise = np.asarray(jax.random.normal(rng, (B_MAX, ACT)), np.float64)
    mean, log_std = _actor(to64(state.actor_params), nb.next_obs)
    next_action, next_log_prob = _sample(mean, log_std, noise)
    next_q = _critic(to64(state.target_critic_params), nb.next_obs, next_action).min(axis=-1)
    target = nb.reward + discount * (1 - nb.termination) * (next_q - alpha * next_log_prob)
    q = _critic(to64(state.critic_params), nb.obs, nb.action)
    return np.sum(0.5 * ((q - target[:, None]) ** 2).sum(-1)[:B]) / B


def test_critic_loss_and_target_match_numpy(setup):
    agent, state, batch, mask, nb, to64 = setup
    rng = jax.random.PRNGKey(3)
    loss = agent.losses.critic(
        state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha,
        UpdateBatch(batch, mask, jnp.float32(B), jnp.float32(0.99)), rng,
    )
    np.testing.assert_allclose(float(loss), _numpy_critic_loss(state, nb, to64, rng), rtol=1e-5)


def test_td_error_is_the_critic_loss_of_the_update_without_a_step(setup):
    """The TD error the rows carry (td_error_train / td_error_validation) is the loss the critic's
    update minimises, from the same state and noise, matching NumPy on the config's own rows."""
    agent, state, batch, mask, nb, to64 = setup
    hparams = jax.tree_util.tree_map(lambda x: x[0], make_hparams([1e-3], [B], [1.0], [0]))
    rng = jax.random.PRNGKey(6)
    td_error = jax.jit(agent.td_error)(state, batch, mask, hparams, rng)
    np.testing.assert_allclose(float(td_error), _numpy_critic_loss(state, nb, to64, rng), rtol=1e-5)
    # update draws its critic noise from the first half of its key: the same loss, before its step.
    _, metrics = jit_update(agent)(state, batch, mask, hparams, rng)
    critic_rng, _ = jax.random.split(rng)
    np.testing.assert_allclose(
        float(metrics["critic_loss"]), float(agent.td_error(state, batch, mask, hparams, critic_rng)), rtol=1e-6
    )


def test_padding_rows_do_not_change_the_loss(setup):
    agent, state, batch, mask, _, _ = setup
    rng = jax.random.PRNGKey(3)
    garbage = batch.replace(reward=batch.reward.at[B:].set(1e6))
    args = (state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha)
    padded = lambda transitions: UpdateBatch(transitions, mask, jnp.float32(B), jnp.float32(0.99))
    assert float(agent.losses.critic(*args, padded(batch), rng)) == float(agent.losses.critic(*args, padded(garbage), rng))


def test_actor_and_temperature_losses_match_numpy(setup):
    agent, state, batch, mask, nb, to64 = setup
    rng = jax.random.PRNGKey(4)
    padded = UpdateBatch(batch, mask, jnp.float32(B), jnp.float32(0.99))
    loss, log_prob = agent.losses.actor(state.actor_params, state.critic_params, state.log_alpha, padded, rng)
    noise = np.asarray(jax.random.normal(rng, (B_MAX, ACT)), np.float64)
    mean, log_std = _actor(to64(state.actor_params), nb.obs)
    action, expected_log_prob = _sample(mean, log_std, noise)
    q = _critic(to64(state.critic_params), nb.obs, action).min(axis=-1)
    expected = np.sum((0.3 * expected_log_prob - q)[:B]) / B
    np.testing.assert_allclose(float(loss), expected, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(log_prob), expected_log_prob, rtol=1e-4, atol=1e-4)

    temperature = agent.losses.temperature(state.log_alpha, log_prob, padded)
    expected_temperature = np.sum((0.3 * (-expected_log_prob - agent.target_entropy))[:B]) / B
    np.testing.assert_allclose(float(temperature), expected_temperature, rtol=1e-4)


def test_update_moves_target_by_polyak_average(setup):
    agent, state, batch, mask, _, _ = setup
    hparams = jax.tree_util.tree_map(lambda x: x[0], make_hparams([1e-3], [B], [1.0], [0], tau=0.1))
    new_state, metrics = jit_update(agent)(state, batch, mask, hparams, jax.random.PRNGKey(5))
    expected = jax.tree_util.tree_map(
        lambda online, target: 0.1 * online + 0.9 * target,
        new_state.critic_params, state.target_critic_params,
    )
    for a, b in zip(jax.tree_util.tree_leaves(new_state.target_critic_params), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
    assert set(metrics) == {"critic_loss", "actor_loss", "temperature_loss", "temperature"}
