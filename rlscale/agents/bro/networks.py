"""BRO networks: BroNet (residual MLP with layer norm), a conservative tanh-Gaussian actor, an
optimistic actor that shifts the conservative actor's mean, and twin scalar Q critics.

BroNet (Nauman et al., 2024): Dense -> LayerNorm -> ReLU, then `num_blocks` residual blocks
x + LN(Dense(ReLU(LN(Dense(x))))); each network ends in an unactivated Dense output layer.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from rlscale.agents.sac.networks import LOG_STD_MAX, LOG_STD_MIN, NetworkConfig


class BroNet(nn.Module):
    """Residual torso f32[..., in] -> features f32[..., width] with `num_blocks` residual blocks."""

    width: int
    num_blocks: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(nn.LayerNorm()(nn.Dense(self.width)(x)))
        for _ in range(self.num_blocks):
            residual = nn.relu(nn.LayerNorm()(nn.Dense(self.width)(x)))
            residual = nn.LayerNorm()(nn.Dense(self.width)(residual))
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
            x = nn.Dense(self.width)(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = nn.relu(x)
        return x


class Head(nn.Module):
    """A torso and an unactivated Dense output layer: f32[..., in] -> f32[..., output_size].

    With `bronet`, the torso is BroNet with hidden_depth residual blocks; otherwise hidden_depth
    plain layers. `zero_output` initialises the output layer to zero (the output starts at 0).
    """

    config: NetworkConfig
    output_size: int
    bronet: bool
    zero_output: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.bronet:
            x = BroNet(self.config.hidden_width, self.config.hidden_depth)(x)
        else:
            x = PlainTorso(self.config.hidden_width, self.config.hidden_depth, self.config.layer_norm)(x)
        if self.zero_output:
            return nn.Dense(self.output_size, kernel_init=nn.initializers.zeros)(x)
        return nn.Dense(self.output_size)(x)


def squash_log_std(raw_log_std: jax.Array) -> jax.Array:
    """Maps an unbounded output to a log standard deviation in [LOG_STD_MIN, LOG_STD_MAX]."""
    return LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (jnp.tanh(raw_log_std) + 1.0)


class ConservativeActor(nn.Module):
    """Observations f32[..., obs] -> pre-tanh Gaussian (mean, log_std), each f32[..., act]."""

    config: NetworkConfig
    action_size: int
    bronet: bool = True

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        out = Head(self.config, 2 * self.action_size, self.bronet)(obs)
        mean, raw_log_std = jnp.split(out, 2, axis=-1)
        return mean, squash_log_std(raw_log_std)


class OptimisticActor(nn.Module):
    """Observations f32[..., obs] -> mean shift f32[..., act] added to the conservative mean.

    The optimistic policy is N(conservative_mean + shift, std_multiplier * conservative_std)
    before the tanh. The output layer starts at zero, so the shift starts at 0.
    """

    config: NetworkConfig
    action_size: int
    bronet: bool = True

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        return Head(self.config, self.action_size, self.bronet, zero_output=True)(obs)


class TwinCritic(nn.Module):
    """Two independent Q networks: (obs f32[..., obs], action f32[..., act]) -> f32[..., 2]."""

    config: NetworkConfig
    bronet: bool = True

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs, action], axis=-1)
        q1 = Head(self.config, 1, self.bronet, name="q1")(x)
        q2 = Head(self.config, 1, self.bronet, name="q2")(x)
        return jnp.concatenate([q1, q2], axis=-1)
