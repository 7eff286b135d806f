"""TD3 (Fujimoto et al., 2018) on rlscale's agent core.

A deterministic tanh actor explores with Gaussian noise; twin critics learn from a clipped
double-Q target whose next action comes from the target actor with target-policy smoothing; the
actor and both target networks are updated once every `policy_delay` critic updates (decided at
group level through `due`, so no config pays for it in slots where none is due). Adam for both
networks, at the config's swept learning rate (`PerConfigRate`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

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
    run_if_due,
    twin_td_loss,
)
from rlscale.agents.networks import TwinScalarCritic
from rlscale.agents.pql.losses import smoothed_target_action
from rlscale.agents.pql.networks import DeterministicActor
from rlscale.agents.spec import BatchSpec, NetworkConfig
from rlscale_td3.plugin import TD3Options

ACTOR_DUE = "actor"


@flax.struct.dataclass
class TD3State:
    actor_params: dict
    critic_params: dict
    target_actor_params: dict
    target_critic_params: dict
    actor_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    critic_step: jax.Array
    """i32: critic updates so far (the actor updates on every policy_delay-th)."""


class TD3Losses(NamedTuple):
    critic: Callable[..., jax.Array]
    """(critic_params, target_critic_params, target_actor_params, batch, rng) -> f32."""
    actor: Callable[..., jax.Array]
    """(actor_params, critic_params, batch) -> f32."""


def make_losses(actor: DeterministicActor, critic: TwinScalarCritic, options: TD3Options) -> TD3Losses:
    """TD3's losses, closing over its networks and options (as rlscale's agents build theirs)."""

    def critic_loss(critic_params, target_critic_params, target_actor_params, batch: UpdateBatch, rng):
        """Clipped double-Q TD loss to r + gamma (1 - termination) min_i Q'_i(s', pi'(s') + clipped noise)."""
        data = batch.transitions
        next_action = smoothed_target_action(
            actor.apply(target_actor_params, data.next_obs), rng, options.target_noise, options.target_noise_clip
        )
        next_q = jnp.min(critic.apply(target_critic_params, data.next_obs, next_action), axis=-1)
        target = data.reward + batch.discount * (1.0 - data.termination) * next_q
        return twin_td_loss(critic.apply(critic_params, data.obs, data.action), target, batch)

    def actor_loss(actor_params, critic_params, batch: UpdateBatch):
        """Deterministic policy gradient through the first critic: -Q_1(s, pi(s)), masked mean."""
        obs = batch.transitions.obs
        q = critic.apply(critic_params, obs, actor.apply(actor_params, obs))
        return batch.mean(-q[:, 0])

    return TD3Losses(critic_loss, actor_loss)


@dataclasses.dataclass(frozen=True)
class TD3Agent(ActorCriticAgent):
    """rlscale's Agent protocol for TD3 (fields: the compile key)."""

    options: TD3Options = TD3Options()
    batch_spec: BatchSpec = BatchSpec()

    @property
    def actor(self) -> DeterministicActor:
        return DeterministicActor(NetworkConfig(self.options.actor_hidden_width, self.options.actor_hidden_depth), self.action_size)

    @property
    def critic(self) -> TwinScalarCritic:
        return TwinScalarCritic(self.network)

    @property
    def losses(self) -> TD3Losses:
        return make_losses(self.actor, self.critic, self.options)

    @property
    def optimizer(self) -> PerConfigRate:
        return PerConfigRate(optax.adam)

    def init(self, rng: jax.Array, hparams: HyperParams) -> TD3State:
        actor_params, critic_params = self.init_actor_and_critic(rng)
        return TD3State(
            actor_params, critic_params, actor_params, critic_params,
            self.optimizer.init(actor_params, hparams.learning_rate),
            self.optimizer.init(critic_params, hparams.learning_rate),
            jnp.int32(0),
        )

    def act(self, state: TD3State, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        action = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return action
        noise = self.options.exploration_noise * jax.random.normal(rng, action.shape)
        return jnp.clip(action + noise, -1.0, 1.0)

    def td_error(self, state: TD3State, batch: Transition, mask: jax.Array, hparams: HyperParams,
                 rng: jax.Array) -> jax.Array:
        """The critic loss `update` minimises, with no gradient step (rlscale's TD-overfitting rows)."""
        return self.losses.critic(state.critic_params, state.target_critic_params, state.target_actor_params,
                                  UpdateBatch.of(batch, mask, hparams), rng)

    def due(self, state: TD3State, hparams: HyperParams, env_step: jax.Array) -> dict:
        if self.options.policy_delay == 1:
            return {}
        return {ACTOR_DUE: (state.critic_step + 1) % self.options.policy_delay == 0}

    def update(self, state: TD3State, batch: Transition, mask: jax.Array, hparams: HyperParams,
               rng: jax.Array, context: UpdateContext) -> tuple[TD3State, dict]:
        """One critic update; where due, an actor update and the targets' Polyak step (rate tau)."""
        batch = UpdateBatch.of(batch, mask, hparams)
        losses = self.losses
        critic_value, critic_params, critic_opt_state = gradient_step(
            losses.critic, self.optimizer, state.critic_params, state.critic_opt_state, state.target_critic_params,
            state.target_actor_params, batch, rng,
        )

        def delayed():
            value, actor_params, actor_opt_state = gradient_step(
                losses.actor, self.optimizer, state.actor_params, state.actor_opt_state, state.critic_params, batch,
            )
            targets = optax.incremental_update(
                (actor_params, critic_params), (state.target_actor_params, state.target_critic_params), hparams.tau
            )
            return actor_params, actor_opt_state, *targets, value

        current = (state.actor_params, state.actor_opt_state, state.target_actor_params,
                   state.target_critic_params, jnp.float32(0.0))
        if ACTOR_DUE in context.due:
            actor_params, actor_opt_state, target_actor, target_critic, actor_value = run_if_due(
                context, ACTOR_DUE, delayed, current)
        else:
            actor_params, actor_opt_state, target_actor, target_critic, actor_value = delayed()
        new_state = TD3State(actor_params, critic_params, target_actor, target_critic,
                             actor_opt_state, critic_opt_state, state.critic_step + 1)
        return new_state, {"critic_loss": critic_value, "actor_loss": actor_value}
