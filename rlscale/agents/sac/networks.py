"""SAC networks: a tanh-Gaussian actor and twin Q critics, as plain Flax MLPs."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Shape-changing network options: part of a group's compile key."""

    hidden_width: int = 256
    """Units per hidden layer (the paper's Gym SAC uses 256)."""
    hidden_depth: int = 2
    """Number of hidden layers."""
    layer_norm: bool = False
    """Apply layer norm after each hidden dense layer."""

    def validate(self) -> list[str]:
        errors = []
        if self.hidden_width < 1:
            errors.append(f"hidden_width must be >= 1, got {self.hidden_width}")
        if self.hidden_depth < 1:
            errors.append(f"hidden_depth must be >= 1, got {self.hidden_depth}")
        return errors


class MLP(nn.Module):
    """Dense-ReLU stack with an unactivated output layer."""

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


class Actor(nn.Module):
    """Maps observations f32[..., obs] to Gaussian (mean, log_std), each f32[..., act]."""

    config: NetworkConfig
    action_size: int

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        hidden = (self.config.hidden_width,) * self.config.hidden_depth
        out = MLP(hidden, 2 * self.action_size, self.config.layer_norm)(obs)
        mean, raw_log_std = jnp.split(out, 2, axis=-1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (jnp.tanh(raw_log_std) + 1.0)
        return mean, log_std


class TwinCritic(nn.Module):
    """Two independent Q networks: (obs f32[..., obs], action f32[..., act]) -> f32[..., 2]."""

    config: NetworkConfig

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        hidden = (self.config.hidden_width,) * self.config.hidden_depth
        x = jnp.concatenate([obs, action], axis=-1)
        q1 = MLP(hidden, 1, self.config.layer_norm, name="q1")(x)
        q2 = MLP(hidden, 1, self.config.layer_norm, name="q2")(x)
        return jnp.concatenate([q1, q2], axis=-1)


def sample_tanh_gaussian(
    mean: jax.Array, log_std: jax.Array, rng: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Reparameterised tanh-Gaussian sample and its log-probability.

    Args:
      mean, log_std: f32[..., act].
      rng: PRNG key.
    Returns:
      action f32[..., act] in (-1, 1) and log_prob f32[...].
    """
    noise = jax.random.normal(rng, mean.shape, mean.dtype)
    pre_tanh = mean + jnp.exp(log_std) * noise
    gaussian_log_prob = -0.5 * noise**2 - log_std - 0.5 * jnp.log(2.0 * jnp.pi)
    # log(1 - tanh(x)^2) written stably as 2 (log 2 - x - softplus(-2x)).
    log_det_jacobian = 2.0 * (jnp.log(2.0) - pre_tanh - jax.nn.softplus(-2.0 * pre_tanh))
    log_prob = jnp.sum(gaussian_log_prob - log_det_jacobian, axis=-1)
    return jnp.tanh(pre_tanh), log_prob


def count_parameters(params) -> int:
    """Number of scalar parameters in a pytree."""
    return int(sum(x.size for x in jax.tree_util.tree_leaves(params)))
