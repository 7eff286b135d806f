"""A PQL-style learner (Li et al., 2023, Parallel Q-Learning) as pure functions over a state.

DDPG-style: a deterministic actor explores with per-env mixed Gaussian noise (env i of a config's
`num_envs` envs always uses the i-th of linearly spaced noise scales), the twin critic learns from
n-step returns with a clipped double-Q target, and the actor is updated once every
`actor_update_interval` critic updates. UTD counts critic updates per transition: the engine calls
`update` once per critic update, and the actor's own counter lives in the state.

Differences from the original: one program instead of separate actor/critic/env processes, and the
next action of the target comes from the online actor (no target actor).
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.pql import losses
from rlscale.agents.pql.networks import DeterministicActor, exploration_scales
from rlscale.agents.sac.agent import _scalar_hparams
from rlscale.agents.sac.networks import NetworkConfig, TwinCritic, count_parameters
from rlscale.engine.replay import NStepTransition
from rlscale.engine.types import HyperParams


@flax.struct.dataclass
class PQLState:
    actor_params: dict
    critic_params: dict
    target_critic_params: dict
    actor_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    critic_step: jax.Array
    """i32: critic updates applied so far (the actor updates on every actor_update_interval-th)."""


def _adam(learning_rate: jax.Array) -> optax.GradientTransformation:
    return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)


@dataclasses.dataclass(frozen=True)
class PQLAgent:
    """Static description of a PQL agent (its fields are part of the compile key)."""

    observation_size: int
    action_size: int
    network: NetworkConfig = NetworkConfig()
    """Critic (the model-size axis)."""
    actor_network: NetworkConfig = NetworkConfig()
    n_step: int = 3
    """Steps of the n-step return; the engine samples n-step batches for agents with `n_step`."""
    actor_update_interval: int = 2
    """Critic updates per actor update."""
    noise_scale_min: float = 0.05
    noise_scale_max: float = 0.8
    """Exploration noise stds of the first and last env of a config, linearly spaced between."""

    def __post_init__(self):
        errors = self.network.validate() + self.actor_network.validate()
        if self.n_step < 1:
            errors.append(f"n_step must be >= 1, got {self.n_step}")
        if self.actor_update_interval < 1:
            errors.append(f"actor_update_interval must be >= 1, got {self.actor_update_interval}")
        if not 0 <= self.noise_scale_min <= self.noise_scale_max:
            errors.append(
                f"need 0 <= noise_scale_min <= noise_scale_max, got {self.noise_scale_min} and "
                f"{self.noise_scale_max}"
            )
        if errors:
            raise ValueError("invalid PQL options: " + "; ".join(errors))

    @property
    def actor(self) -> DeterministicActor:
        return DeterministicActor(self.actor_network, self.action_size)

    @property
    def critic(self) -> TwinCritic:
        return TwinCritic(self.network)

    def init(self, rng: jax.Array, hparams: HyperParams) -> PQLState:
        """Fresh networks, target = online critic, Adam states carrying hparams.learning_rate."""
        actor_rng, critic_rng = jax.random.split(rng)
        obs = jnp.zeros((1, self.observation_size))
        action = jnp.zeros((1, self.action_size))
        actor_params = self.actor.init(actor_rng, obs)
        critic_params = self.critic.init(critic_rng, obs, action)
        optimizer = _adam(hparams.learning_rate)
        return PQLState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            actor_opt_state=optimizer.init(actor_params),
            critic_opt_state=optimizer.init(critic_params),
            critic_step=jnp.int32(0),
        )

    def parameter_count(self) -> int:
        """Trainable parameters of actor and critic (targets excluded)."""
        state = jax.eval_shape(self.init, jax.random.PRNGKey(0), _scalar_hparams())
        return count_parameters(state.actor_params) + count_parameters(state.critic_params)

    def act(self, state: PQLState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[num_envs, act] for observations f32[num_envs, obs] (or f32[obs] -> f32[act]).

        Exploration adds Gaussian noise of std exploration_scales(num_envs)[i] to row i, then clips
        to [-1, 1].
        """
        action = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return action
        num_rows = obs.shape[0] if obs.ndim > 1 else 1
        scales = exploration_scales(num_rows, self.noise_scale_min, self.noise_scale_max)
        scales = scales.reshape(action.shape[:-1] + (1,))
        noise = jax.random.normal(rng, action.shape, action.dtype)
        return jnp.clip(action + scales * noise, -1.0, 1.0)

    def update(
        self,
        state: PQLState,
        batch: NStepTransition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
    ) -> tuple[PQLState, dict]:
        """One critic update, and an actor update when this is an actor_update_interval-th one.

        Both losses use the pre-update state; the target critic moves by Polyak rate hparams.tau.

        Args:
          batch: n-step transitions with leading axis B_max.
          mask: f32[B_max], 1 for the first hparams.batch_size rows.
          rng: unused (the update is deterministic given the batch).
        Returns:
          the new state and scalar metrics {critic_loss, actor_loss, actor_updated}.
        """
        del rng
        batch_size = hparams.batch_size.astype(jnp.float32)
        optimizer = _adam(hparams.learning_rate)
        critic_value, critic_grads = jax.value_and_grad(losses.critic_loss)(
            state.critic_params, state.target_critic_params, state.actor_params, batch, mask,
            batch_size, self.actor.apply, self.critic.apply,
        )
        critic_updates, critic_opt_state = optimizer.update(
            critic_grads, state.critic_opt_state, state.critic_params
        )
        critic_params = optax.apply_updates(state.critic_params, critic_updates)

        critic_step = state.critic_step + 1
        actor_due = critic_step % self.actor_update_interval == 0

        def actor_update():
            value, grads = jax.value_and_grad(losses.actor_loss)(
                state.actor_params, state.critic_params, batch, mask, batch_size,
                self.actor.apply, self.critic.apply,
            )
            updates, opt_state = optimizer.update(grads, state.actor_opt_state, state.actor_params)
            return optax.apply_updates(state.actor_params, updates), opt_state, value

        def no_actor_update():
            return state.actor_params, state.actor_opt_state, jnp.float32(0.0)

        actor_params, actor_opt_state, actor_value = jax.lax.cond(
            actor_due, actor_update, no_actor_update
        )
        new_state = PQLState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=optax.incremental_update(
                critic_params, state.target_critic_params, hparams.tau
            ),
            actor_opt_state=actor_opt_state,
            critic_opt_state=critic_opt_state,
            critic_step=critic_step,
        )
        metrics = {
            "critic_loss": critic_value,
            "actor_loss": actor_value,
            "actor_updated": actor_due.astype(jnp.float32),
        }
        return new_state, metrics
