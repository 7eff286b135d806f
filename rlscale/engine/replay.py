"""A fixed-capacity circular replay buffer for one config (the engine vmaps it over configs).

Inserts write `num_envs` rows at the write pointer with `dynamic_update_slice`; nothing is rolled or
concatenated, so an insert costs O(num_envs), not O(capacity).

Sampling reads either one config's buffer or, given a config index, one buffer of a group's stacked
buffers (every field with a leading K axis): the drawn rows are gathered straight from the group's
arrays, so a config's buffer is never sliced out (under vmap over the index, slicing first would
copy each config's whole buffer before the draw).
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp

from rlscale.agents.core import NStepTransition, Transition


@flax.struct.dataclass
class ReplayBuffer:
    """data: Transition with leading axis capacity; pointer and size: i32 scalars. A group's stacked
    buffers have a leading K axis on all three."""

    data: Transition
    pointer: jax.Array
    size: jax.Array

    @property
    def capacity(self) -> int:
        """Rows per buffer (the last axis of `reward`: [capacity] or, stacked, [K, capacity])."""
        return self.data.reward.shape[-1]


def init_replay(capacity: int, observation_size: int, action_size: int) -> ReplayBuffer:
    """An empty buffer of `capacity` float32 transitions."""
    data = Transition(
        obs=jnp.zeros((capacity, observation_size), jnp.float32),
        action=jnp.zeros((capacity, action_size), jnp.float32),
        reward=jnp.zeros((capacity,), jnp.float32),
        next_obs=jnp.zeros((capacity, observation_size), jnp.float32),
        termination=jnp.zeros((capacity,), jnp.float32),
    )
    return ReplayBuffer(data=data, pointer=jnp.int32(0), size=jnp.int32(0))


def insert(buffer: ReplayBuffer, rows: Transition) -> ReplayBuffer:
    """Write n rows (leading axis n; capacity must be a multiple of n) at the pointer, wrapping."""
    num_rows = rows.reward.shape[0]
    if buffer.capacity % num_rows:
        raise ValueError(
            f"replay capacity {buffer.capacity} must be a multiple of the rows per insert {num_rows}"
        )
    data = jax.tree_util.tree_map(
        lambda column, new: jax.lax.dynamic_update_slice_in_dim(
            column, new.astype(column.dtype), buffer.pointer, axis=0
        ),
        buffer.data,
        rows,
    )
    return ReplayBuffer(
        data=data,
        pointer=(buffer.pointer + num_rows) % buffer.capacity,
        size=jnp.minimum(buffer.size + num_rows, buffer.capacity),
    )


def _of_config(buffer: ReplayBuffer, config: jax.Array | None):
    """(pointer, size, rows) of one config's buffer: `buffer` itself when `config` is None,
    else buffer `config` (i32 scalar) of a group's stacked buffers; rows(indices) gathers its rows."""
    at = () if config is None else (config,)

    def rows(indices):
        return jax.tree_util.tree_map(lambda column: column[at + (indices,)], buffer.data)

    return buffer.pointer[at], buffer.size[at], rows


def sample(buffer: ReplayBuffer, rng: jax.Array, max_batch_size: int, config: jax.Array | None = None) -> Transition:
    """`max_batch_size` rows drawn uniformly with replacement from the filled part of the buffer
    (buffer `config` of a group's stacked buffers when `config`, an i32 scalar, is given).

    Row i depends only on (rng, i) (threefry is partitionable), so the first B rows of a padded draw
    equal an unpadded draw of B rows: padding a config's batch does not change its samples.
    """
    _, size, rows = _of_config(buffer, config)
    return rows(jax.random.randint(rng, (max_batch_size,), 0, jnp.maximum(size, 1)))


def sample_n_step(
    buffer: ReplayBuffer,
    rng: jax.Array,
    max_batch_size: int,
    n_step: int,
    rows_per_step: int,
    discount: jax.Array,
    config: jax.Array | None = None,
) -> NStepTransition:
    """`max_batch_size` n-step transitions whose first rows are drawn uniformly with replacement.

    Rows are inserted `rows_per_step` (= num_envs) at a time, so row i + rows_per_step holds the
    same env's next step. A start row is drawn among the rows that have n - 1 successors written
    after it (counting from the oldest row, so wrap-around and the write pointer are respected).
    The chain of a start row stops early after a termination, or where the next row's obs is not
    the previous row's next_obs (the env was reset after a time-limit truncation in between). Row
    i depends only on (rng, i), as in `sample`.

    Args:
      discount: f32 scalar gamma.
      config: as in `sample`.
    """
    pointer, size, rows = _of_config(buffer, config)
    span = (n_step - 1) * rows_per_step
    offsets = jax.random.randint(rng, (max_batch_size,), 0, jnp.maximum(size - span, 1))
    oldest = (pointer - size) % buffer.capacity
    steps = jnp.arange(n_step)
    step_offsets = offsets[:, None] + steps[None, :] * rows_per_step
    chain = rows((oldest + step_offsets) % buffer.capacity)
    continues = (
        jnp.all(chain.next_obs[:, :-1] == chain.obs[:, 1:], axis=-1)
        & (chain.termination[:, :-1] == 0)
        & (step_offsets[:, 1:] < size)
    )
    included = jnp.concatenate(
        [jnp.ones((max_batch_size, 1), jnp.float32), jnp.cumprod(continues.astype(jnp.float32), axis=1)],
        axis=1,
    )
    num_steps = jnp.sum(included, axis=1)
    last = (num_steps - 1).astype(jnp.int32)
    discounts = discount ** steps.astype(jnp.float32)
    return NStepTransition(
        obs=chain.obs[:, 0],
        action=chain.action[:, 0],
        reward=jnp.sum(included * discounts[None, :] * chain.reward, axis=1),
        next_obs=jnp.take_along_axis(chain.next_obs, last[:, None, None], axis=1)[:, 0],
        termination=jnp.take_along_axis(chain.termination, last[:, None], axis=1)[:, 0],
        discount=discount**num_steps,
    )
