"""SAC's tanh-Gaussian actor (the twin critic is `rlscale.agents.networks.TwinScalarCritic`)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from rlscale.agents.core import squash_to_range
from rlscale.agents.networks import MLP, hidden_sizes
from rlscale.agents.spec import NetworkConfig

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0
"""Bounds of the actor's log std, reached through a tanh (CleanRL's SAC: -5 and 2)."""


class Actor(nn.Module):
    """Maps observations f32[..., obs] to pre-tanh Gaussian (mean, log_std), each f32[..., act]."""

    config: NetworkConfig
    action_size: int

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        out = MLP(hidden_sizes(self.config), 2 * self.action_size, self.config.layer_norm)(obs)
        mean, raw_log_std = jnp.split(out, 2, axis=-1)
        return mean, squash_to_range(raw_log_std, LOG_STD_MIN, LOG_STD_MAX)
