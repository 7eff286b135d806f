"""Replay buffer wrap-around and sampling bounds; truncation vs termination in stored transitions."""

import jax
import jax.numpy as jnp
import numpy as np

from rlscale.agents.core import Transition
from rlscale.engine import replay
from rlscale.engine.loop import get_trainer
from rlscale_testing import make_hparams, small_spec


def _rows(start: int, n: int) -> Transition:
    values = jnp.arange(start, start + n, dtype=jnp.float32)
    return Transition(
        obs=values[:, None], action=values[:, None], reward=values, next_obs=values[:, None],
        termination=jnp.zeros(n),
    )


def test_insert_wraps_around_and_size_saturates():
    buffer = replay.init_replay(capacity=6, observation_size=1, action_size=1)
    for start in range(0, 10, 2):
        buffer = replay.insert(buffer, _rows(start, 2))
    # 10 rows into 6 slots: rows 6..9 overwrote slots 0..3.
    assert np.asarray(buffer.data.reward).tolist() == [6, 7, 8, 9, 4, 5]
    assert int(buffer.pointer) == 4 and int(buffer.size) == 6


def test_sampling_stays_in_the_filled_part():
    buffer = replay.init_replay(capacity=100, observation_size=1, action_size=1)
    buffer = replay.insert(buffer, _rows(1, 5))
    batch = replay.sample(buffer, jax.random.PRNGKey(0), 1000)
    values = np.asarray(batch.reward)
    assert set(values.tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_a_padded_sample_starts_with_the_unpadded_sample():
    buffer = replay.insert(replay.init_replay(50, 1, 1), _rows(0, 50))
    small = replay.sample(buffer, jax.random.PRNGKey(7), 16)
    large = replay.sample(buffer, jax.random.PRNGKey(7), 256)
    np.testing.assert_array_equal(np.asarray(large.reward[:16]), np.asarray(small.reward))


def test_capacity_must_be_a_multiple_of_rows_per_insert():
    buffer = replay.init_replay(capacity=5, observation_size=1, action_size=1)
    try:
        replay.insert(buffer, _rows(0, 2))
    except ValueError as error:
        assert "multiple" in str(error)
    else:
        raise AssertionError("expected a ValueError")


def _collect(env: str, iterations: int, num_envs: int = 1):
    """Random-action transitions only (learning never starts), K=1."""
    spec = small_spec(env=env, num_envs=num_envs, learning_starts=10**6, buffer_capacity=2000)
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams([1e-3], [32], [1.0], [0]))
    state, stats = trainer.train_chunk(state, iterations)
    assert int(stats.grad_steps[0]) == 0
    data = jax.tree_util.tree_map(lambda x: np.asarray(x[0]), state.replay.data)
    return data, trainer.env_spec


def test_time_limit_truncation_bootstraps():
    # Pendulum never terminates; its 200-step time limit must be stored as a non-terminal transition
    # whose next_obs is the true next state, not the reset state.
    data, env_spec = _collect("pendulum", 450)
    assert env_spec.episode_length == 200
    assert not data.termination[:450].any()
    # Step 199 ends episode 1; step 200 starts episode 2 from a fresh state.
    last, first_of_next = 199, 200
    assert not np.allclose(data.next_obs[last], data.obs[first_of_next])
    # Within an episode, next_obs of a step is obs of the following step.
    np.testing.assert_allclose(data.next_obs[:199], data.obs[1:200])


def test_true_termination_does_not_bootstrap():
    data, env_spec = _collect("cartpole-balance", 600)
    ends = np.flatnonzero(data.termination[:600])
    assert len(ends) > 0, "random actions should drop the pole within 600 steps"
    for end in ends:
        # The step after a termination starts a new episode: its obs is not the terminal next_obs.
        if end + 1 < 600:
            assert not np.allclose(data.next_obs[end], data.obs[end + 1])
    # Continuing steps chain obs -> next_obs.
    continuing = np.setdiff1d(np.arange(599), ends)
    np.testing.assert_allclose(data.next_obs[continuing], data.obs[continuing + 1])
