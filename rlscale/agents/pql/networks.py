"""PQL networks: a deterministic tanh actor and its per-env exploration noise scales.

The critic is `rlscale.agents.networks.TwinScalarCritic`.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from rlscale.agents.networks import MLP, hidden_sizes
from rlscale.agents.spec import NetworkConfig


class DeterministicActor(nn.Module):
    """Observations f32[..., obs] -> actions f32[..., act] in (-1, 1)."""

    config: NetworkConfig
    action_size: int

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        return jnp.tanh(MLP(hidden_sizes(self.config), self.action_size, self.config.layer_norm)(obs))


def exploration_scales(num_envs: int, scale_min: float, scale_max: float) -> jax.Array:
    """f32[num_envs]: PQL's mixed exploration, env i's Gaussian noise std, linearly spaced from
    scale_min (env 0) to scale_max (env num_envs - 1); scale_min when there is one env."""
    return jnp.linspace(scale_min, scale_max, num_envs, dtype=jnp.float32)
