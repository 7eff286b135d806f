"""BRO's networks (naumix/BiggerRegularizedOptimistic: jaxrl/networks/common.py, policies.py,
critic_net.py), with BRO's orthogonal initialisation.

BroNet: Dense -> LayerNorm -> ReLU, then `num_blocks` residual blocks
x + LN(Dense(ReLU(LN(Dense(x))))). The conservative actor maps the torso's features to a mean and
a log std (separate Dense heads); the optimistic actor sees the observation and the conservative
mean and outputs a shift of that mean (a bias-free Dense head initialised at scale 0.01, so the
optimistic policy starts at the conservative one); each of the two critics ends in a Dense head
with one output per quantile (one output for a scalar critic).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from rlscale.agents.core import squash_to_range
from rlscale.agents.spec import NetworkConfig

HIDDEN_INIT_SCALE = math.sqrt(2.0)
"""Orthogonal init scale of hidden layers and of the mean and Q heads (BRO's default_init)."""
LOG_STD_INIT_SCALE = 1.0
"""Orthogonal init scale of the conservative actor's log-std head (BRO: log_std_scale 1)."""
SHIFT_INIT_SCALE = 0.01
"""Orthogonal init scale of the optimistic actor's shift head (BRO: scale_means 0.01)."""


def _dense(
    features: int, scale: float = HIDDEN_INIT_SCALE, use_bias: bool = True, name: str | None = None
) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale), use_bias=use_bias, name=name)


class BroNet(nn.Module):
    """Residual torso f32[..., in] -> features f32[..., width] with `num_blocks` residual blocks."""

    width: int
    num_blocks: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(nn.LayerNorm()(_dense(self.width)(x)))
        for _ in range(self.num_blocks):
            residual = nn.relu(nn.LayerNorm()(_dense(self.width)(x)))
            residual = nn.LayerNorm()(_dense(self.width)(residual))
            x = x + residual
        return x


class PlainTorso(nn.Module):
    """Dense(-LayerNorm)-ReLU stack f32[..., in] -> features f32[..., width] (SAC's hidden layers)."""

    width: int
    depth: int
    layer_norm: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.depth):
            x = _dense(self.width)(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = nn.relu(x)
        return x


class Torso(nn.Module):
    """BroNet with hidden_depth residual blocks (bronet) or hidden_depth plain layers."""

    config: NetworkConfig
    bronet: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.bronet:
            return BroNet(self.config.hidden_width, self.config.hidden_depth)(x)
        return PlainTorso(self.config.hidden_width, self.config.hidden_depth, self.config.layer_norm)(x)


class ConservativeActor(nn.Module):
    """Observations f32[..., obs] -> pre-tanh Gaussian (mean, log_std), each f32[..., act], with
    log_std in [log_std_min, log_std_max]."""

    config: NetworkConfig
    action_size: int
    bronet: bool
    log_std_min: float
    log_std_max: float

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        features = Torso(self.config, self.bronet)(obs)
        mean = _dense(self.action_size, name="mean")(features)
        raw_log_std = _dense(self.action_size, LOG_STD_INIT_SCALE, name="log_std")(features)
        return mean, squash_to_range(raw_log_std, self.log_std_min, self.log_std_max)


class OptimisticActor(nn.Module):
    """(obs f32[..., obs], conservative mean f32[..., act]) -> mean shift f32[..., act].

    The optimistic policy is N(conservative_mean + shift, std_multiplier * conservative_std)
    before the tanh (BRO's DualTanhPolicy).
    """

    config: NetworkConfig
    action_size: int
    bronet: bool

    @nn.compact
    def __call__(self, obs: jax.Array, conservative_mean: jax.Array) -> jax.Array:
        features = Torso(self.config, self.bronet)(jnp.concatenate([obs, conservative_mean], axis=-1))
        return _dense(self.action_size, SHIFT_INIT_SCALE, use_bias=False, name="shift")(features)


class TwinQuantileCritic(nn.Module):
    """Two independent Q networks, Q quantiles each: (obs f32[..., obs], action f32[..., act]) ->
    f32[..., 2, Q], Q = `outputs` (1 for a scalar critic)."""

    config: NetworkConfig
    bronet: bool
    outputs: int

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs, action], axis=-1)
        heads = [
            _dense(self.outputs, name=f"{name}_head")(Torso(self.config, self.bronet, name=f"{name}_torso")(x))
            for name in ("q1", "q2")
        ]
        return jnp.stack(heads, axis=-2)
