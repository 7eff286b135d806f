"""PQL: n-step sampling against a brute-force reference, losses (with target-policy smoothing)
against a NumPy reference, PQL's presets, the actor update interval decided at group level, mixed
exploration noise, a config in a group against the same config alone, and learning on pendulum."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from agents_reference import (
    perturb,
    plain_mlp,
    scalar_hparams,
    to_numpy,
)
from rlscale_testing import config_of, jit_update, make_hparams, relative_difference, small_spec, trained_alone
from rlscale.agents import make_agent
from rlscale.agents.core import NStepTransition, Transition, UpdateBatch
from rlscale.agents.spec import NetworkConfig
from rlscale.config import SweepConfig
from rlscale.engine import replay
from rlscale.engine.loop import get_trainer

CRITIC = NetworkConfig(hidden_width=16, hidden_depth=2)
ACTOR = NetworkConfig(hidden_width=16, hidden_depth=1)
ACTOR_OPTIONS = (("actor_hidden_depth", ACTOR.hidden_depth), ("actor_hidden_width", ACTOR.hidden_width))
MAX_BATCH, BATCH = 64, 48


def _agent(**options):
    return make_agent("pql", 3, 2, CRITIC, **dict(ACTOR_OPTIONS), **options)


def _filled_buffer(num_envs, capacity, num_inserts, seed=0):
    """A buffer after `num_inserts` inserts of num_envs rows from random episodes that terminate
    or get reset at random; returns it and the per-insert rows as NumPy arrays."""
    rng = np.random.default_rng(seed)
    buffer = replay.init_replay(capacity, 1, 1)
    obs = rng.normal(size=(num_envs, 1)).astype(np.float32)
    inserted = []
    for _ in range(num_inserts):
        next_obs = rng.normal(size=(num_envs, 1)).astype(np.float32)
        termination = (rng.random(num_envs) < 0.1).astype(np.float32)
        rows = Transition(
            obs=obs, action=rng.normal(size=(num_envs, 1)).astype(np.float32),
            reward=rng.normal(size=num_envs).astype(np.float32), next_obs=next_obs,
            termination=termination,
        )
        buffer = replay.insert(buffer, jax.tree_util.tree_map(jnp.asarray, rows))
        inserted.append(rows)
        reset = (termination > 0) | (rng.random(num_envs) < 0.1)
        obs = np.where(reset[:, None], rng.normal(size=(num_envs, 1)), next_obs).astype(np.float32)
    return buffer, inserted


def _reference_n_step(inserted, time, env, n_step, discount):
    """The n-step transition starting at insert `time`, env `env`, by walking the episode."""
    total, power = 0.0, 1.0
    for k in range(n_step):
        row = jax.tree_util.tree_map(lambda x: x[env], inserted[time + k])
        total += power * float(row.reward)
        power *= discount
        last = row.termination > 0
        cut = time + k + 1 >= len(inserted) or not np.array_equal(
            inserted[time + k + 1].obs[env], row.next_obs
        )
        if k == n_step - 1 or last or cut:
            return total, row.next_obs, float(row.termination), power


@pytest.mark.parametrize("num_inserts", [7, 40])  # buffer part full, and wrapped around
def test_n_step_samples_match_episode_walks(num_inserts):
    num_envs, capacity, n_step, discount = 4, 64, 3, 0.9
    buffer, inserted = _filled_buffer(num_envs, capacity, num_inserts)
    batch = replay.sample_n_step(buffer, jax.random.PRNGKey(0), 256, n_step, num_envs, jnp.float32(discount))
    first_kept = max(0, num_inserts - capacity // num_envs)
    lookup = {}
    for time in range(first_kept, num_inserts):
        for env in range(num_envs):
            lookup[(float(inserted[time].action[env, 0]))] = (time, env)
    times = []
    for i in range(256):
        time, env = lookup[float(batch.action[i, 0])]
        times.append(time)
        reward, next_obs, termination, power = _reference_n_step(inserted, time, env, n_step, discount)
        np.testing.assert_allclose(float(batch.reward[i]), reward, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(batch.next_obs[i]), next_obs)
        assert float(batch.termination[i]) == termination
        np.testing.assert_allclose(float(batch.discount[i]), power, rtol=1e-6)
    # Starts cover the kept rows that have n - 1 successors, and nothing newer.
    assert min(times) == first_kept and max(times) == num_inserts - n_step


def _numpy_critic(params, obs, action):
    x = np.concatenate([obs, action], axis=-1)
    q = [plain_mlp(params["params"][name], x, CRITIC.hidden_depth) for name in ("q1", "q2")]
    return np.concatenate(q, axis=-1)


def _numpy_actor(params, obs):
    return np.tanh(plain_mlp(params["params"]["MLP_0"], obs, ACTOR.hidden_depth))


def _n_step_batch(seed=0):
    rngs = jax.random.split(jax.random.PRNGKey(seed), 6)
    return NStepTransition(
        obs=jax.random.normal(rngs[0], (MAX_BATCH, 3)),
        action=jax.random.uniform(rngs[1], (MAX_BATCH, 2), minval=-1, maxval=1),
        reward=jax.random.normal(rngs[2], (MAX_BATCH,)),
        next_obs=jax.random.normal(rngs[3], (MAX_BATCH, 3)),
        termination=(jax.random.uniform(rngs[4], (MAX_BATCH,)) < 0.2).astype(jnp.float32),
        discount=0.99 ** jax.random.randint(rngs[5], (MAX_BATCH,), 1, 4).astype(jnp.float32),
    )


def test_losses_match_numpy_reference():
    agent = _agent()
    state = agent.init(jax.random.PRNGKey(1), scalar_hparams())
    target = perturb(state.critic_params, 3, scale=0.05)
    batch, mask = _n_step_batch(), (jnp.arange(MAX_BATCH) < BATCH).astype(jnp.float32)
    np_actor, np_critic, np_target = map(to_numpy, (state.actor_params, state.critic_params, target))
    b = to_numpy(batch)
    np_mask = np.asarray(mask, np.float64)

    rng = jax.random.PRNGKey(7)
    std, clip = agent.options.target_noise_std, agent.options.target_noise_clip
    padded = UpdateBatch(batch, mask, jnp.float32(BATCH), jnp.float32(0.99))
    got = agent.losses.critic(state.critic_params, target, state.actor_params, padded, rng)
    # Target-policy smoothing: clipped Gaussian noise on the next action, then clipped to [-1, 1].
    noise = np.clip(std * np.asarray(jax.random.normal(rng, (MAX_BATCH, 2)), np.float64), -clip, clip)
    assert np.abs(noise).max() == pytest.approx(clip)  # the clip is active at std 0.8
    next_action = np.clip(_numpy_actor(np_actor, b.next_obs) + noise, -1.0, 1.0)
    next_q = _numpy_critic(np_target, b.next_obs, next_action).min(-1)
    y = b.reward + b.discount * (1 - b.termination) * next_q
    q = _numpy_critic(np_critic, b.obs, b.action)
    # PQL's critic loss: mse(Q1, y) + mse(Q2, y).
    expected = np.sum(np_mask * np.sum((q - y[:, None]) ** 2, -1)) / BATCH
    np.testing.assert_allclose(float(got), expected, rtol=1e-4)

    got = agent.losses.actor(state.actor_params, state.critic_params, padded)
    q = _numpy_critic(np_critic, b.obs, _numpy_actor(np_actor, b.obs)).min(-1)
    np.testing.assert_allclose(float(got), np.sum(np_mask * -q) / BATCH, rtol=1e-4)


def test_presets_follow_pql():
    """Improbable-AI/pql: pql_algo.yaml (tau 0.05, nstep 3, critic_actor_ratio 2, noise std
    0.05-0.8, tgt_pol_std 0.8, tgt_pol_noise_bound 0.2), actor_critic.yaml (max_grad_norm 0.5),
    torch.optim.AdamW (weight decay 0.01)."""
    options = _agent().options
    assert (options.n_step, options.actor_update_interval) == (3, 2)
    assert (options.noise_scale_min, options.noise_scale_max) == (0.05, 0.8)
    assert (options.target_noise_std, options.target_noise_clip) == (0.8, 0.2)
    assert (options.weight_decay, options.max_grad_norm) == (0.01, 0.5)
    assert SweepConfig(algo="pql").resolved_tau == 0.05
    assert SweepConfig(algo="pql", tau=0.01).resolved_tau == 0.01
    assert SweepConfig(algo="sac").resolved_tau == 0.005


def test_optimizer_is_adamw_with_clipped_gradients():
    """One step from a fresh optimizer state against optax's adamw after a global-norm clip."""
    agent = _agent()
    params = {"w": jnp.asarray([1.0, -2.0, 3.0])}
    grads = {"w": jnp.asarray([30.0, -40.0, 0.0])}  # norm 50, clipped to 0.5
    optimizer = agent.network_optimizer
    updates, _ = optimizer.update(grads, optimizer.init(params, jnp.float32(1e-2)), params)
    clipped = jax.tree_util.tree_map(lambda g: g * 0.5 / 50.0, grads)
    expected, _ = optax.adamw(1e-2, weight_decay=0.01).update(
        clipped, optax.adamw(1e-2, weight_decay=0.01).init(params), params
    )
    np.testing.assert_allclose(np.asarray(updates["w"]), np.asarray(expected["w"]), rtol=1e-6)


def test_actor_updates_every_interval_critic_updates_and_noise_is_mixed():
    agent = _agent(actor_update_interval=3)
    hparams = scalar_hparams()
    state = agent.init(jax.random.PRNGKey(0), hparams)
    update = jit_update(agent)
    mask = jnp.ones((MAX_BATCH,), jnp.float32)
    actor_changed = []
    for step in range(6):
        new_state, metrics = update(state, _n_step_batch(step), mask, hparams, jax.random.PRNGKey(0))
        actor_changed.append(relative_difference(new_state.actor_params, state.actor_params) > 0)
        assert relative_difference(new_state.critic_params, state.critic_params) > 0
        state = new_state
    assert actor_changed == [False, False, True, False, False, True]

    obs = jnp.zeros((101, 3))
    noise = agent.act(state, obs, jax.random.PRNGKey(1), False) - agent.act(state, obs, None, True)
    assert float(jnp.abs(noise[0]).max()) < 4 * agent.options.noise_scale_min
    assert float(jnp.abs(noise[-1]).max()) > float(jnp.abs(noise[0]).max())


LEARNING_RATES = [3e-4, 1e-3, 5e-4, 2e-3]
BATCH_SIZES = [32, 16, 48, 24]
UTDS = [0.25, 0.5, 0.125, 0.75]  # critic updates per transition, with 8 envs per config
SEEDS = [0, 1, 2, 3]
NUM_ENVS = 8
ITERATIONS = 20  # 13 random-action iterations (104 steps), then 7 iterations with updates


def _spec(num_configs):
    return small_spec(
        algo="pql", network=CRITIC, agent_options=ACTOR_OPTIONS,
        num_configs=num_configs, num_envs=NUM_ENVS, max_batch_size=max(BATCH_SIZES),
        update_slots=6,
    )


@pytest.fixture(scope="module")
def group_run():
    trainer = get_trainer(_spec(len(SEEDS)))
    state = trainer.init(make_hparams(LEARNING_RATES, BATCH_SIZES, UTDS, SEEDS))
    return trainer.train_chunk(state, ITERATIONS)


@pytest.mark.parametrize("index", [1, 3])
def test_config_in_group_matches_config_alone(group_run, index):
    group_state, group_stats = group_run
    state, stats = trained_alone(_spec(1), index, (LEARNING_RATES, BATCH_SIZES, UTDS, SEEDS), ITERATIONS)
    member, alone = config_of(group_state.agent, index), config_of(state.agent, 0)
    assert int(group_stats.grad_steps[index]) == int(stats.grad_steps[0]) >= 20
    assert relative_difference(member, alone) <= 1e-5
    # Same env trajectories, up to the last bits of actions from (near-)equal networks.
    np.testing.assert_allclose(
        np.asarray(group_state.replay.data.obs[index]), np.asarray(state.replay.data.obs[0]),
        rtol=1e-5, atol=1e-5,
    )


@pytest.mark.slow
def test_learns_pendulum():
    network = NetworkConfig(hidden_width=64, hidden_depth=2)
    spec = small_spec(
        algo="pql", network=network,
        agent_options=(("actor_hidden_depth", network.hidden_depth), ("actor_hidden_width", network.hidden_width)),
        num_envs=16,
        max_batch_size=128, update_slots=8, learning_starts=1600, buffer_capacity=40_000,
        eval_episodes=5,
    )
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams([1e-3], [128], [0.5], [0], tau=0.05))
    state, _ = trainer.train_chunk(state, 1000)
    assert float(trainer.evaluate(state, 0)[0]) > -600.0
