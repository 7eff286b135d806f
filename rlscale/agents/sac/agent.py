"""Soft Actor-Critic as pure functions over a `flax.struct.dataclass` state.

One `SACAgent` holds only static, hashable structure (sizes and options). Its functions act on the
state of ONE config; the engine vmaps them over the config axis (see rlscale/agents/core.py).

Follows Brax's SAC (google/brax, brax/training/agents/sac/train.py and losses.py): all three
losses from the pre-update state, Adam for actor and critic at the swept eta, Adam 3e-4 for the
temperature (a fixed option here, not eta), Polyak target. Differs: target entropy -|A| (the SAC
paper's; Brax uses -|A|/2, set `target_entropy_per_action = -0.5`), actor log std squashed into
[-5, 2] (CleanRL's) where Brax uses softplus + 0.001.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.core import (
    ActorCriticAgent,
    HyperParams,
    PerConfigRate,
    Transition,
    UpdateBatch,
    UpdateContext,
    gradient_step,
    sample_tanh_gaussian,
)
from rlscale.agents.networks import TwinScalarCritic
from rlscale.agents.sac.losses import SACLosses, make_losses
from rlscale.agents.sac.networks import Actor
from rlscale.agents.sac.options import SACOptions
from rlscale.agents.spec import BatchSpec


@flax.struct.dataclass
class SACState:
    actor_params: dict
    critic_params: dict
    target_critic_params: dict
    log_alpha: jax.Array
    actor_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    """Adam states of actor and critic, each carrying the config's learning rate."""
    alpha_opt_state: optax.OptState


@dataclasses.dataclass(frozen=True)
class SACAgent(ActorCriticAgent):
    """Static description of a SAC agent (its fields are part of the compile key); `network` sizes
    the actor and the critic."""

    options: SACOptions = SACOptions()

    batch_spec: ClassVar[BatchSpec] = BatchSpec()

    @property
    def actor(self) -> Actor:
        return Actor(self.network, self.action_size)

    @property
    def critic(self) -> TwinScalarCritic:
        return TwinScalarCritic(self.network)

    @property
    def target_entropy(self) -> float:
        return self.options.target_entropy_per_action * self.action_size

    @property
    def losses(self) -> SACLosses:
        return make_losses(self.actor, self.critic, self.target_entropy)

    @property
    def network_optimizer(self) -> PerConfigRate:
        return PerConfigRate(optax.adam)

    @property
    def alpha_optimizer(self) -> optax.GradientTransformation:
        return optax.adam(self.options.temperature_learning_rate)

    def init(self, rng: jax.Array, hparams: HyperParams) -> SACState:
        """Fresh networks, target = online critic, Adam states carrying hparams.learning_rate."""
        actor_params, critic_params = self.init_actor_and_critic(rng)
        log_alpha = jnp.log(jnp.asarray(self.options.initial_temperature, jnp.float32))
        return SACState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            log_alpha=log_alpha,
            actor_opt_state=self.network_optimizer.init(actor_params, hparams.learning_rate),
            critic_opt_state=self.network_optimizer.init(critic_params, hparams.learning_rate),
            alpha_opt_state=self.alpha_optimizer.init(log_alpha),
        )

    def act(self, state: SACState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[..., act] in (-1, 1) for observations f32[..., obs]."""
        mean, log_std = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return jnp.tanh(mean)
        action, _ = sample_tanh_gaussian(mean, log_std, rng)
        return action

    def td_error(
        self, state: SACState, batch: Transition, mask: jax.Array, hparams: HyperParams, rng: jax.Array
    ) -> jax.Array:
        """f32: the twin-critic TD loss `update` minimises (`losses.critic`: 0.5 * sum over both
        critics of the masked mean squared TD error), at the current critics, target, actor and
        temperature, with no gradient step; rng draws the next actions."""
        return self.losses.critic(
            state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha,
            UpdateBatch.of(batch, mask, hparams), rng,
        )

    def due(self, state: SACState, hparams: HyperParams, env_step: jax.Array) -> dict:
        """SAC has no optional work: every update does the same."""
        return {}

    def update(
        self,
        state: SACState,
        batch: Transition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
        context: UpdateContext,
    ) -> tuple[SACState, dict]:
        """One gradient step of critic, actor and temperature on a padded batch.

        All three losses are computed from the pre-update state (as in Brax's SAC); then the target
        critic moves by Polyak averaging with rate hparams.tau.

        Args:
          batch: Transition with leading axis B_max.
          mask: f32[B_max], 1 for the first hparams.batch_size rows.
        Returns:
          the new state and scalar metrics {critic_loss, actor_loss, temperature_loss, temperature}.
        """
        del context
        critic_rng, actor_rng = jax.random.split(rng)
        stepped, metrics = soft_actor_critic_step(
            self, state, UpdateBatch.of(batch, mask, hparams), (critic_rng, actor_rng), self.losses.actor,
            actor_sees_updated_critic=False,
        )
        target = optax.incremental_update(stepped.critic_params, state.target_critic_params, hparams.tau)
        return stepped.replace(target_critic_params=target), metrics


def soft_actor_critic_step(agent, state, batch: UpdateBatch, rngs: tuple, actor_loss, *, actor_sees_updated_critic: bool):
    """One gradient step of the critic, the actor and the temperature, as SAC takes them (BRO's
    conservative step too): `state` (any state with SACState's fields) with them updated, the target
    critic untouched, and the metrics {critic_loss, actor_loss, temperature_loss, temperature (before
    its step)}.

    `agent` gives `losses.critic`, `losses.temperature`, `network_optimizer` and `alpha_optimizer`;
    `actor_loss` is (actor_params, critic_params, log_alpha, batch, rng) -> (loss, log pi f32[B_max]);
    rngs = (critic key, actor key). The actor's loss reads the critic before its step (SAC's and
    Brax's order: all losses from the pre-update state), or after it where `actor_sees_updated_critic`
    (BRO's order).
    """
    critic_rng, actor_rng = rngs
    losses = agent.losses
    critic_value, critic_params, critic_opt_state = gradient_step(
        losses.critic, agent.network_optimizer, state.critic_params, state.critic_opt_state,
        state.target_critic_params, state.actor_params, state.log_alpha, batch, critic_rng,
    )
    actor_critic_params = critic_params if actor_sees_updated_critic else state.critic_params
    (actor_value, log_prob), actor_params, actor_opt_state = gradient_step(
        actor_loss, agent.network_optimizer, state.actor_params, state.actor_opt_state,
        actor_critic_params, state.log_alpha, batch, actor_rng, has_aux=True,
    )
    alpha_value, log_alpha, alpha_opt_state = gradient_step(
        losses.temperature, agent.alpha_optimizer, state.log_alpha, state.alpha_opt_state, log_prob, batch,
    )
    metrics = {
        "critic_loss": critic_value,
        "actor_loss": actor_value,
        "temperature_loss": alpha_value,
        "temperature": jnp.exp(state.log_alpha),
    }
    stepped = state.replace(
        critic_params=critic_params, critic_opt_state=critic_opt_state,
        actor_params=actor_params, actor_opt_state=actor_opt_state,
        log_alpha=log_alpha, alpha_opt_state=alpha_opt_state,
    )
    return stepped, metrics
