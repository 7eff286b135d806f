"""PQL (Li et al., 2023, Parallel Q-Learning) as pure functions over a state.

Follows Improbable-AI/pql (pql/algo/pql_v_learner.py, pql_p_learner.py, pql/utils/noise.py;
presets in rlscale/agents/pql/options.py): a deterministic tanh actor explores with PQL's mixed
noise (env i of a config's `num_envs` envs always uses the i-th of linearly spaced stds from 0.05
to 0.8); the twin critic learns from 3-step returns with a clipped double-Q target whose next
action gets target-policy smoothing (std 0.8, clipped to +-0.2) from the online actor (PQL runs
without a target actor); the actor is updated once every 2 critic updates; AdamW (weight decay
0.01, PyTorch's default) with global gradient-norm clipping at 0.5 for both; target critic
Polyak rate tau = 0.05 (the sweep's default tau for PQL). UTD counts critic updates per
transition: the engine calls `update` once per critic update; the actor's own counter lives in
the state, and the actor update is decided at group level (rlscale/agents/core.py), so it costs
nothing in slots where no config of the group is due.

Kept different, and why: one synchronous program instead of PQL's three asynchronous processes
(actor, V-learner, P-learner), so the update ratio is exact rather than set by process speeds;
gamma^k for an n-step chain cut after k < n steps by an episode end (PQL always discounts by
gamma^n, which over-discounts cut chains); plain ReLU MLPs of the sweep's width x depth (PQL:
ELU MLP 512-256-128) so model size is one axis; no running observation normalisation.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.core import (
    ActorCriticAgent,
    HyperParams,
    NStepTransition,
    PerConfigRate,
    UpdateBatch,
    UpdateContext,
    gradient_step,
    run_if_due,
)
from rlscale.agents.networks import TwinScalarCritic
from rlscale.agents.pql.losses import PQLLosses, make_losses
from rlscale.agents.pql.networks import DeterministicActor, exploration_scales
from rlscale.agents.pql.options import PQLOptions
from rlscale.agents.spec import N_STEP_BATCH, BatchSpec, NetworkConfig

ACTOR_DUE = "actor"
"""Name of PQL's delayed actor update in `due` / `UpdateContext`."""


@flax.struct.dataclass
class PQLState:
    actor_params: dict
    critic_params: dict
    target_critic_params: dict
    actor_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    """AdamW states, each carrying the config's learning rate."""
    critic_step: jax.Array
    """i32: critic updates applied so far (the actor updates on every actor_update_interval-th)."""


@dataclasses.dataclass(frozen=True)
class PQLAgent(ActorCriticAgent):
    """Static description of a PQL agent (its fields are part of the compile key)."""

    options: PQLOptions = PQLOptions()

    @property
    def batch_spec(self) -> BatchSpec:
        return BatchSpec(N_STEP_BATCH, self.options.n_step)

    @property
    def actor(self) -> DeterministicActor:
        network = NetworkConfig(self.options.actor_hidden_width, self.options.actor_hidden_depth)
        return DeterministicActor(network, self.action_size)

    @property
    def critic(self) -> TwinScalarCritic:
        return TwinScalarCritic(self.network)

    @property
    def losses(self) -> PQLLosses:
        return make_losses(self.actor, self.critic, self.options.target_noise_std, self.options.target_noise_clip)

    @property
    def network_optimizer(self) -> PerConfigRate:
        weight_decay, max_norm = self.options.weight_decay, self.options.max_grad_norm

        def make(learning_rate):
            adamw = optax.adamw(learning_rate, weight_decay=weight_decay)
            return optax.chain(optax.clip_by_global_norm(max_norm), adamw) if max_norm > 0 else adamw

        return PerConfigRate(make)

    def init(self, rng: jax.Array, hparams: HyperParams) -> PQLState:
        """Fresh networks, target = online critic, AdamW states carrying hparams.learning_rate."""
        actor_params, critic_params = self.init_actor_and_critic(rng)
        optimizer = self.network_optimizer
        return PQLState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            actor_opt_state=optimizer.init(actor_params, hparams.learning_rate),
            critic_opt_state=optimizer.init(critic_params, hparams.learning_rate),
            critic_step=jnp.int32(0),
        )

    def act(self, state: PQLState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[num_envs, act] for observations f32[num_envs, obs] (or f32[obs] -> f32[act]).

        Exploration adds Gaussian noise of std exploration_scales(num_envs)[i] to row i, then clips
        to [-1, 1].
        """
        action = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return action
        num_rows = obs.shape[0] if obs.ndim > 1 else 1
        scales = exploration_scales(num_rows, self.options.noise_scale_min, self.options.noise_scale_max)
        scales = scales.reshape(action.shape[:-1] + (1,))
        noise = jax.random.normal(rng, action.shape, action.dtype)
        return jnp.clip(action + scales * noise, -1.0, 1.0)

    def td_error(
        self, state: PQLState, batch: NStepTransition, mask: jax.Array, hparams: HyperParams, rng: jax.Array
    ) -> jax.Array:
        """f32: the n-step clipped double-Q loss `update` minimises (`losses.critic`), at the
        current critic, target and actor, with no gradient step; rng draws the target-policy
        smoothing noise."""
        return self.losses.critic(
            state.critic_params, state.target_critic_params, state.actor_params, UpdateBatch.of(batch, mask, hparams), rng
        )

    def due(self, state: PQLState, hparams: HyperParams, env_step: jax.Array) -> dict:
        """{"actor": whether the next critic update is an actor_update_interval-th one}; {} when
        the actor updates with every critic update."""
        if self.options.actor_update_interval == 1:
            return {}
        return {ACTOR_DUE: (state.critic_step + 1) % self.options.actor_update_interval == 0}

    def update(
        self,
        state: PQLState,
        batch: NStepTransition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
        context: UpdateContext,
    ) -> tuple[PQLState, dict]:
        """One critic update, and an actor update where it is due.

        Both losses use the pre-update state; the target critic moves by Polyak rate hparams.tau.

        Args:
          batch: n-step transitions with leading axis B_max.
          mask: f32[B_max], 1 for the first hparams.batch_size rows.
          rng: key of the target-policy smoothing noise.
        Returns:
          the new state and scalar metrics {critic_loss, actor_loss (0 without an actor update),
          actor_updated}.
        """
        batch = UpdateBatch.of(batch, mask, hparams)
        optimizer, losses = self.network_optimizer, self.losses
        critic_value, critic_params, critic_opt_state = gradient_step(
            losses.critic, optimizer, state.critic_params, state.critic_opt_state,
            state.target_critic_params, state.actor_params, batch, rng,
        )

        def actor_update():
            value, params, opt_state = gradient_step(
                losses.actor, optimizer, state.actor_params, state.actor_opt_state, state.critic_params, batch,
            )
            return params, opt_state, value

        no_update = (state.actor_params, state.actor_opt_state, jnp.float32(0.0))
        if ACTOR_DUE in context.due:
            actor_params, actor_opt_state, actor_value = run_if_due(context, ACTOR_DUE, actor_update, no_update)
            actor_updated = context.due[ACTOR_DUE]
        else:
            (actor_params, actor_opt_state, actor_value), actor_updated = actor_update(), jnp.bool_(True)
        new_state = PQLState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=optax.incremental_update(
                critic_params, state.target_critic_params, hparams.tau
            ),
            actor_opt_state=actor_opt_state,
            critic_opt_state=critic_opt_state,
            critic_step=state.critic_step + 1,
        )
        metrics = {
            "critic_loss": critic_value,
            "actor_loss": actor_value,
            "actor_updated": actor_updated.astype(jnp.float32),
        }
        return new_state, metrics
