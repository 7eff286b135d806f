"""Small engine set-ups shared by the engine tests."""

import jax.numpy as jnp

from rlscale.agents.sac.networks import NetworkConfig
from rlscale.engine.loop import GroupSpec
from rlscale.engine.types import HyperParams

SMALL_NETWORK = NetworkConfig(hidden_width=32, hidden_depth=2)


def make_hparams(learning_rate, batch_size, utd, seed, discount=0.99, tau=0.005) -> HyperParams:
    """HyperParams with leading axis K from equal-length lists."""
    k = len(learning_rate)
    return HyperParams(
        learning_rate=jnp.asarray(learning_rate, jnp.float32),
        batch_size=jnp.asarray(batch_size, jnp.int32),
        utd=jnp.asarray(utd, jnp.float32),
        seed=jnp.asarray(seed, jnp.int32),
        discount=jnp.full((k,), discount, jnp.float32),
        tau=jnp.full((k,), tau, jnp.float32),
    )


def small_spec(**overrides) -> GroupSpec:
    values = dict(
        env="pendulum",
        network=SMALL_NETWORK,
        num_configs=1,
        max_batch_size=64,
        update_slots=1,
        learning_starts=100,
        buffer_capacity=1000,
        eval_episodes=2,
    )
    values.update(overrides)
    return GroupSpec(**values)
