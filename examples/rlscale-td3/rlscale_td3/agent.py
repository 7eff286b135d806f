"""TD3 (Fujimoto et al., 2018) on rlscale's agent core.

A deterministic tanh actor explores with Gaussian noise; twin critics learn from a clipped
double-Q target whose next action comes from the target actor with target-policy smoothing; the
actor and both target networks are updated once every `policy_delay` critic updates (decided at
group level through `due`, so no config pays for it in slots where none is due). Adam for both
networks, at the config's swept learning rate (`PerConfigRate`).
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.core import (
    HyperParams,
    PerConfigRate,
    Transition,
    UpdateContext,
    gradient_step,
    masked_mean,
    parameter_count,
    run_if_due,
    state_shapes,
    twin_td_loss,
)
from rlscale.agents.networks import TwinCritic
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


def critic_loss(critic_params, target_critic_params, target_actor_params, batch, mask, batch_size, discount,
                rng, agent: "TD3Agent"):
    """Clipped double-Q TD loss to r + gamma (1 - termination) min_i Q'_i(s', pi'(s') + clipped noise)."""
    o = agent.options
    next_action = agent.actor.apply(target_actor_params, batch.next_obs)
    noise = jnp.clip(o.target_noise * jax.random.normal(rng, next_action.shape), -o.target_noise_clip, o.target_noise_clip)
    next_action = jnp.clip(next_action + noise, -1.0, 1.0)
    next_q = jnp.min(agent.critic.apply(target_critic_params, batch.next_obs, next_action), axis=-1)
    target = batch.reward + discount * (1.0 - batch.termination) * next_q
    return twin_td_loss(critic_params, batch, target, mask, batch_size, agent.critic.apply)


def actor_loss(actor_params, critic_params, batch, mask, batch_size, agent: "TD3Agent"):
    """Deterministic policy gradient through the first critic: -Q_1(s, pi(s)), masked mean."""
    q = agent.critic.apply(critic_params, batch.obs, agent.actor.apply(actor_params, batch.obs))
    return masked_mean(-q[:, 0], mask, batch_size)


@dataclasses.dataclass(frozen=True)
class TD3Agent:
    """rlscale's Agent protocol for TD3 (fields: the compile key)."""

    observation_size: int
    action_size: int
    network: NetworkConfig = NetworkConfig()
    options: TD3Options = TD3Options()
    batch_spec: BatchSpec = BatchSpec()

    @property
    def actor(self) -> DeterministicActor:
        return DeterministicActor(NetworkConfig(self.options.actor_hidden_width, self.options.actor_hidden_depth), self.action_size)

    @property
    def critic(self) -> TwinCritic:
        return TwinCritic(self.network)

    @property
    def optimizer(self) -> PerConfigRate:
        return PerConfigRate(optax.adam)

    def init(self, rng: jax.Array, hparams: HyperParams) -> TD3State:
        actor_rng, critic_rng = jax.random.split(rng)
        obs, action = jnp.zeros((1, self.observation_size)), jnp.zeros((1, self.action_size))
        actor_params = self.actor.init(actor_rng, obs)
        critic_params = self.critic.init(critic_rng, obs, action)
        return TD3State(
            actor_params, critic_params, actor_params, critic_params,
            self.optimizer.init(actor_params, hparams.learning_rate),
            self.optimizer.init(critic_params, hparams.learning_rate),
            jnp.int32(0),
        )

    def parameter_count(self) -> int:
        state = state_shapes(self)
        return parameter_count(state.actor_params, state.critic_params)

    def critic_parameter_count(self) -> int:
        """Trainable parameters of the critics (targets excluded): the model size N of the paper's
        compute law C = 10·N·B·σ·D."""
        state = state_shapes(self)
        return parameter_count(state.critic_params)

    def act(self, state: TD3State, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        action = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return action
        noise = self.options.exploration_noise * jax.random.normal(rng, action.shape)
        return jnp.clip(action + noise, -1.0, 1.0)

    def td_error(self, state: TD3State, batch: Transition, mask: jax.Array, hparams: HyperParams,
                 rng: jax.Array) -> jax.Array:
        """The critic loss `update` minimises, with no gradient step (rlscale's TD-overfitting rows)."""
        return critic_loss(state.critic_params, state.target_critic_params, state.target_actor_params, batch, mask,
                           hparams.batch_size.astype(jnp.float32), hparams.discount, rng, self)

    def due(self, state: TD3State, hparams: HyperParams, env_step: jax.Array) -> dict:
        if self.options.policy_delay == 1:
            return {}
        return {ACTOR_DUE: (state.critic_step + 1) % self.options.policy_delay == 0}

    def update(self, state: TD3State, batch: Transition, mask: jax.Array, hparams: HyperParams,
               rng: jax.Array, context: UpdateContext) -> tuple[TD3State, dict]:
        """One critic update; where due, an actor update and the targets' Polyak step (rate tau)."""
        batch_size = hparams.batch_size.astype(jnp.float32)
        critic_value, critic_params, critic_opt_state = gradient_step(
            critic_loss, self.optimizer, state.critic_params, state.critic_opt_state, state.target_critic_params,
            state.target_actor_params, batch, mask, batch_size, hparams.discount, rng, self,
        )

        def delayed():
            value, actor_params, actor_opt_state = gradient_step(
                actor_loss, self.optimizer, state.actor_params, state.actor_opt_state,
                state.critic_params, batch, mask, batch_size, self,
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
