"""Flax networks shared by several agents: a plain MLP and a twin critic of scalar Q values built from
it (BRO's critic, with a vector of quantiles per critic, is `bro.networks.TwinQuantileCritic`)."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from rlscale.agents.spec import NetworkConfig


class MLP(nn.Module):
    """Dense-ReLU stack (optional layer norm before each ReLU) with an unactivated output layer."""

    hidden_sizes: Sequence[int]
    output_size: int
    layer_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for width in self.hidden_sizes:
            x = nn.Dense(width)(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = nn.relu(x)
        return nn.Dense(self.output_size)(x)


def hidden_sizes(config: NetworkConfig) -> tuple[int, ...]:
    """The hidden layer widths of a plain MLP with `config`'s width and depth."""
    return (config.hidden_width,) * config.hidden_depth


class TwinScalarCritic(nn.Module):
    """Two independent Q networks, one scalar each: (obs f32[..., obs], action f32[..., act]) ->
    f32[..., 2]."""

    config: NetworkConfig

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs, action], axis=-1)
        q1 = MLP(hidden_sizes(self.config), 1, self.config.layer_norm, name="q1")(x)
        q2 = MLP(hidden_sizes(self.config), 1, self.config.layer_norm, name="q2")(x)
        return jnp.concatenate([q1, q2], axis=-1)
