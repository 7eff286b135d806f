"""The jitted core: K configs trained together in one compiled program. No I/O here.

A `GroupSpec` (engine/spec.py) holds everything that decides array shapes (the compile key). A
`GroupTrainer` turns it into jitted functions:

- `init(hparams) -> GroupState` for K configs (HyperParams fields of shape [K]);
- `train_chunk(state, num_iterations) -> (state, ChunkStats)`: a loop of env-clock iterations (the
  count is a traced i32, so every chunk length runs one compiled program: the estimate's short
  calibration chunk and the run's chunks share one compile);
- `evaluate(state, eval_index) -> f32[K]`: mean deterministic-policy return per config;
- `td_errors(state, eval_index) -> TDErrors`: per config, the critic's TD loss on batches from its
  replay and from its validation buffer (None for an agent without `td_error`);
- `mark_diverged(state, diverged bool[K]) -> state`: freezes configs whose evaluation was not finite.

The agent is anything satisfying `rlscale.agents.core.Agent`. Env steps, acting and evaluation are
vectorized over the K configs; how their gradient updates are computed is the spec's `config_axis`:

- "vmap": update slot j runs for all K configs together when any config has a j-th update this
  iteration, on batches padded to the group's largest B and masked. Before each slot the engine
  evaluates the agent's per-config `due` flags and reduces them over the configs that update in the
  slot (outside the vmap), so the agent's optional work is a real `cond` on a group-level flag.
- "map": a loop over lanes, each of `lane_width` configs of equal σ and B (`lanes`); a lane's configs
  run exactly their own updates this iteration (a while loop), together (vmapped) at their own batch
  size (a `lax.switch` over the group's batch sizes). Not under a vmap over lanes, so every branch is
  real: nothing is padded and no update is computed that a config does not need.

Both draw the same samples and noise for a config (row i of a draw depends only on the key and i),
so they agree up to float reduction order.

The call structure of one chunk (`GroupTrainer` methods):

    train_chunk_fn                    fori_loop over the chunk's env-clock iterations
      _iteration                      one env step of every config, then its updates:
        _collect (+ _validation_step) act, step the envs, insert into the replay buffers
        schedule.accrue_updates       each config's number of updates this iteration (UTD credit)
        _updates_by_slot    (vmap)    for each slot j < GroupSpec.update_slots:
          _run_slot                   slot j of all K configs, where any config has a j-th update
            _update_configs           (below)
        _updates_by_lane    (map)     for each lane (`lanes`):
          _run_lane                   the lane's updates, a while loop at its own batch size
            _update_configs           one update of the configs updated together (`UpdatedConfigs`):
                                      their `due` flags reduced over them, then a vmap of
              _update_one_config      sample a batch, `Agent.update`, the finiteness check

TD-overfitting (the follow-up paper's measurement, Fu, Rybkin et al. 2025, prestonfu/model_scaling
train_parallel.py): each config also runs `num_envs` validation envs with its exploration policy,
stepped once every `GroupSpec.validation_interval` iterations (a group-level branch: the configs
iterate in lockstep) into a validation buffer that no update ever samples. Their transitions are
not env steps of the config. At each evaluation `td_errors` computes the agent's critic loss with
no gradient step on batches of the config's own B from the replay and from the validation buffer,
with the same critic, target and noise.

Trainers are cached per spec (`get_trainer`), so every group with the same spec reuses one compile.
"""

from __future__ import annotations

import functools

import flax.struct
import jax
import jax.numpy as jnp

from rlscale.agents import make_agent
from rlscale.agents.core import (
    RESET_METRIC,
    HyperParams,
    Transition,
    UpdateContext,
    measures_td_error,
    where_tree,
)
from rlscale.agents.spec import N_STEP_BATCH
from rlscale.engine import replay, schedule
from rlscale.engine.spec import MAP, GroupSpec
from rlscale.envs.registry import make_env

MAX_RECORDED_RESETS = 64
"""Agent resets recorded per config (`GroupState.reset_env_steps`); later ones are counted only."""
VALIDATION_STREAM = 1
"""`fold_in` index of a config's validation key from its root key: the root's 4-way split (agent,
env, loop and eval keys) stays as it was, so training draws the same with or without validation."""
TD_ERROR_STREAM = 1
"""`fold_in` index of the TD-error key from an evaluation's key (the episodes use the latter)."""
TD_ERROR_BATCHES = 8
"""Batches of the config's B averaged into one TD error per buffer and evaluation: the follow-up
computes its validation loss on one batch every 10 env steps and logs the mean over its logging
window; here each evaluation averages this many independent batches, paired between the two
buffers (the same target noise). Measured on pendulum (benchmarks/td_error_cost.py): one batch's
TD error varies by 13-19% (relative std), the mean of 8 by 4.5-6%, at 0.03 s per evaluation."""


@flax.struct.dataclass
class ValidationEnvs:
    """A config's validation envs and their transitions (see the module docstring); every field has
    leading axis K in a GroupState."""

    replay: replay.ReplayBuffer
    """GroupSpec.validation_capacity rows no update samples."""
    env_state: object
    """Env states with axes [K, num_envs]."""
    episode_step: jax.Array
    """i32[K, num_envs]: steps taken in the current validation episode."""
    rng: jax.Array
    """The validation envs' key, split at each of their steps (actions and resets)."""


@flax.struct.dataclass
class GroupState:
    """Full training state of a group; every field has leading axis K."""

    hparams: HyperParams
    agent: object
    replay: replay.ReplayBuffer
    env_state: object
    """Env states with axes [K, num_envs]."""
    episode_step: jax.Array
    """i32[K, num_envs]: steps taken in the current episode."""
    rng: jax.Array
    update_credit: jax.Array
    """f32[K]: UTD credit not yet spent (see schedule.py)."""
    diverged_iteration: jax.Array
    """i32[K]: iteration at which the config produced a non-finite update, -1 if never."""
    eval_rng: jax.Array
    iteration: jax.Array
    """i32[K], equal for all configs (lockstep): iterations done (env steps per config / num_envs)."""
    reset_env_steps: jax.Array
    """i32[K, MAX_RECORDED_RESETS]: env steps at which the config's agent reset itself (reported
    by the agent's RESET_METRIC), in order; -1 after the last."""
    num_resets: jax.Array
    """i32[K]: resets of the config's agent so far."""
    validation: ValidationEnvs | None
    """The validation envs and buffer; None without validation (`GroupTrainer.validates`)."""


@flax.struct.dataclass
class TDErrors:
    """The critic's TD loss per config at an evaluation (`GroupTrainer.td_errors`)."""

    train: jax.Array
    """f32[K]: on batches from the replay (transitions it trains on)."""
    validation: jax.Array
    """f32[K]: on batches from the validation buffer; NaN without one or while it is empty."""


@flax.struct.dataclass
class UpdatedConfigs:
    """The n configs of a group updated together (a vmap slot's K, a map lane's L) and what their
    update reads without changing it; every field has leading axis n (scalars in
    `GroupTrainer._update_one_config`)."""

    index: jax.Array
    """i32[n]: their positions in the group (which of the group's replay buffers is theirs)."""
    hparams: HyperParams
    env_step: jax.Array
    """i32[n]: transitions each has collected so far, this iteration's included."""


@flax.struct.dataclass
class ChunkStats:
    grad_steps: jax.Array
    """i32[K]: gradient updates each config applied during the chunk."""
    computed_updates: jax.Array
    """i32[K]: updates computed for each config during the chunk, applied or not, each of
    `GroupSpec.sampled_batch_sizes` rows for the config (for the wasted-work fraction): vmap
    computes every executed slot for every config, map every update of the config's lane (its own
    updates, and its lane-mates' after it diverged)."""


def _all_finite(tree) -> jax.Array:
    """bool: no float leaf of `tree` holds a NaN or an infinity, tested as one reduction (the sum of
    every float element is finite; a sum that overflows, from elements near the float32 limit, also
    counts as not finite). One fused reduction instead of one per leaf: on a CPU the per-leaf checks
    cost several percent of a small update."""
    leaves = [jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    if not leaves:
        return jnp.bool_(True)
    return jnp.isfinite(jnp.sum(jnp.concatenate([leaf.astype(jnp.float32) for leaf in leaves])))


class GroupTrainer:
    """Jitted init / train_chunk / evaluate for one GroupSpec."""

    def __init__(self, spec: GroupSpec):
        self.spec = spec
        self.env_spec, self.env = make_env(spec.env, **dict(spec.env_options))
        self.agent = make_agent(
            spec.algo,
            self.env_spec.observation_size,
            self.env_spec.action_size,
            spec.network,
            **dict(spec.agent_options),
        )
        if spec.buffer_capacity % spec.num_envs:
            raise ValueError(
                f"buffer_capacity ({spec.buffer_capacity}) must be a multiple of num_envs ({spec.num_envs})"
            )
        self.measures_td_error = measures_td_error(self.agent)
        """Whether the agent has `td_error` (an optional method of the Agent protocol)."""
        self.validates = self.measures_td_error and spec.validation_interval > 0
        """Whether each config runs validation envs into a validation buffer."""
        self.init = jax.jit(self.init_fn)
        self.train_chunk = jax.jit(self.train_chunk_fn, donate_argnums=0)
        self.evaluate = jax.jit(self.evaluate_fn)
        self.td_errors = jax.jit(self.td_errors_fn) if self.measures_td_error else None
        self.mark_diverged = jax.jit(self.mark_diverged_fn, donate_argnums=0)

    # ---- initialisation -------------------------------------------------------------------
    def init_fn(self, hparams: HyperParams) -> GroupState:
        """State for K configs; hparams fields have shape [K]."""
        return jax.vmap(self._init_config)(hparams)

    def _init_config(self, hparams: HyperParams) -> GroupState:
        spec = self.spec
        root = jax.random.PRNGKey(hparams.seed)
        agent_rng, env_rng, loop_rng, eval_rng = jax.random.split(root, 4)
        env_state = jax.vmap(self.env.reset)(jax.random.split(env_rng, spec.num_envs))
        validation = None
        if self.validates:
            validation_env_rng, validation_rng = jax.random.split(jax.random.fold_in(root, VALIDATION_STREAM))
            validation = ValidationEnvs(
                replay=replay.init_replay(
                    spec.validation_capacity, self.env_spec.observation_size, self.env_spec.action_size
                ),
                env_state=jax.vmap(self.env.reset)(jax.random.split(validation_env_rng, spec.num_envs)),
                episode_step=jnp.zeros((spec.num_envs,), jnp.int32),
                rng=validation_rng,
            )
        return GroupState(
            hparams=hparams,
            agent=self.agent.init(agent_rng, hparams),
            replay=replay.init_replay(
                spec.buffer_capacity, self.env_spec.observation_size, self.env_spec.action_size
            ),
            env_state=env_state,
            episode_step=jnp.zeros((spec.num_envs,), jnp.int32),
            rng=loop_rng,
            update_credit=jnp.float32(0.0),
            diverged_iteration=jnp.int32(-1),
            eval_rng=eval_rng,
            iteration=jnp.int32(0),
            reset_env_steps=jnp.full((MAX_RECORDED_RESETS,), -1, jnp.int32),
            num_resets=jnp.int32(0),
            validation=validation,
        )

    # ---- training ---------------------------------------------------------------------------
    def train_chunk_fn(self, state: GroupState, num_iterations: jax.Array) -> tuple[GroupState, ChunkStats]:
        """Run `num_iterations` (i32 scalar, traced) env-clock iterations for all K configs."""
        num_configs = state.update_credit.shape[0]
        zeros = jnp.zeros((num_configs,), jnp.int32)
        stats = ChunkStats(grad_steps=zeros, computed_updates=zeros)
        return jax.lax.fori_loop(0, num_iterations, lambda _, carry: self._iteration(*carry), (state, stats))

    def _iteration(self, state: GroupState, stats: ChunkStats) -> tuple[GroupState, ChunkStats]:
        iteration = state.iteration[0]
        learning = iteration * self.spec.num_envs >= self.spec.learning_starts
        rngs = jax.vmap(lambda key: jax.random.split(key, 4))(state.rng)
        loop_rng, act_rng, reset_rng, update_rng = (rngs[:, i] for i in range(4))

        env_state, episode_step, replay_buffer = self._collect(
            state.agent, state.env_state, state.episode_step, state.replay, act_rng, reset_rng, learning
        )
        if self.validates:
            state = state.replace(
                validation=jax.lax.cond(
                    iteration % self.spec.validation_interval == 0,
                    lambda: self._validation_step(state.agent, state.validation, learning),
                    lambda: state.validation,
                )
            )
        credit, num_updates = jax.vmap(schedule.accrue_updates, in_axes=(0, 0, None))(
            state.update_credit, state.hparams.utd, self.spec.num_envs
        )
        credit = jnp.where(learning, credit, state.update_credit)
        num_updates = jnp.where(learning, num_updates, 0)
        state = state.replace(
            env_state=env_state,
            episode_step=episode_step,
            replay=replay_buffer,
            rng=loop_rng,
            update_credit=credit,
        )

        updates = self._updates_by_lane if self.spec.config_axis == MAP else self._updates_by_slot
        agent, diverged_iteration, (reset_env_steps, num_resets), stats = updates(
            state, num_updates, update_rng, stats
        )
        state = state.replace(
            agent=agent,
            diverged_iteration=diverged_iteration,
            reset_env_steps=reset_env_steps,
            num_resets=num_resets,
            iteration=state.iteration + 1,
        )
        return state, stats

    def _collect(self, agent, env_state, episode_step, buffers, act_rng, reset_rng, learning):
        """One step of every config's num_envs envs (env_state [K, num_envs]) acting with `agent`,
        their transitions inserted into `buffers` (one per config) and the done envs reset (a
        group-level branch: skipped when no env of the group is done). act_rng, reset_rng: [K]
        keys. Returns (env_state, episode_step, buffers)."""
        env_state, episode_step, buffers, done = jax.vmap(lambda *a: self._env_step(*a, learning))(
            agent, env_state, episode_step, buffers, act_rng
        )
        env_state, episode_step = jax.lax.cond(
            jnp.any(done),
            lambda: jax.vmap(self._reset_done)(env_state, episode_step, done, reset_rng),
            lambda: (env_state, episode_step),
        )
        return env_state, episode_step, buffers

    def _validation_step(self, agent, validation: ValidationEnvs, learning) -> ValidationEnvs:
        """One step of every config's validation envs into its validation buffer."""
        rngs = jax.vmap(lambda key: jax.random.split(key, 3))(validation.rng)
        env_state, episode_step, buffers = self._collect(
            agent, validation.env_state, validation.episode_step, validation.replay, rngs[:, 1], rngs[:, 2], learning
        )
        return ValidationEnvs(replay=buffers, env_state=env_state, episode_step=episode_step, rng=rngs[:, 0])

    def _env_step(self, agent_state, env_state, episode_step, replay_buffer, rng, learning):
        """One step of a config's num_envs envs; stores the transitions. Returns done bool[num_envs]."""
        obs = env_state.obs
        policy_action = self.agent.act(agent_state, obs, rng, deterministic=False)
        random_action = jax.random.uniform(rng, policy_action.shape, minval=-1.0, maxval=1.0)
        action = jnp.where(learning, policy_action, random_action)
        next_state = jax.vmap(self.env.step)(env_state, action)
        episode_step = episode_step + 1
        termination = next_state.done.astype(jnp.float32)
        truncation = (episode_step >= self.env_spec.episode_length) & (termination == 0)
        transition = Transition(
            obs=obs,
            action=action,
            reward=next_state.reward,
            next_obs=next_state.obs,
            termination=termination,
        )
        replay_buffer = replay.insert(replay_buffer, transition)
        done = (termination > 0) | truncation
        return next_state, episode_step, replay_buffer, done

    def _reset_done(self, env_state, episode_step, done, rng):
        """Fresh episodes (new random initial states) for the envs of one config that are done."""
        fresh = jax.vmap(self.env.reset)(jax.random.split(rng, self.spec.num_envs))
        return where_tree(done, fresh, env_state), jnp.where(done, 0, episode_step)

    def _updates_by_slot(self, state: GroupState, num_updates, update_rng, stats: ChunkStats):
        """vmap: `update_slots` slots, slot j run for all K configs when any config has a j-th
        update (num_updates: i32[K]). Returns (agent, diverged_iteration, resets, stats), resets =
        (reset_env_steps, num_resets)."""

        # The slot loop carries only what updates change; the replay buffer and hyperparameters
        # are read-only operands, so no slot copies them.
        def slot(index, carry):
            agent, diverged_iteration, resets, stats = carry
            active = (index < num_updates) & (diverged_iteration < 0)
            return jax.lax.cond(
                jnp.any(active), lambda: self._run_slot(carry, state, active, update_rng, index), lambda: carry
            )

        resets = (state.reset_env_steps, state.num_resets)
        return jax.lax.fori_loop(
            0, self.spec.update_slots, slot, (state.agent, state.diverged_iteration, resets, stats)
        )

    def _run_slot(self, carry, state: GroupState, active, update_rng, index):
        """Update slot `index` for every config, applied only where `active` (bool[K]).

        carry = (agent, diverged_iteration, resets, stats), resets = (reset_env_steps, num_resets):
        what updates change, returned new. Reads the replay buffers, hyperparameters and iteration
        from `state`.
        """
        agent, diverged_iteration, resets, stats = carry
        slot_rng = jax.vmap(jax.random.fold_in, in_axes=(0, None))(update_rng, index)
        env_step = (state.iteration + 1) * self.spec.num_envs
        configs = UpdatedConfigs(index=jnp.arange(active.shape[0]), hparams=state.hparams, env_step=env_step)
        agent, applied, finite, reset = self._update_configs(
            agent, configs, state.replay, slot_rng, active, self.spec.max_batch_size
        )
        diverged_now = active & ~finite & (diverged_iteration < 0)
        stats = ChunkStats(
            grad_steps=stats.grad_steps + applied.astype(jnp.int32),
            computed_updates=stats.computed_updates + 1,
        )
        return (
            agent,
            jnp.where(diverged_now, state.iteration, diverged_iteration),
            _record_resets(resets, applied & reset, env_step),
            stats,
        )

    def _updates_by_lane(self, state: GroupState, num_updates, update_rng, stats: ChunkStats):
        """map: lane after lane, each lane's `lane_width` configs of equal σ and B (`lanes`) running
        their num_updates (i32[K], equal within a lane) updates together at their own batch size; a
        config stops at its first non-finite update. Same returns as `_updates_by_slot`."""
        env_step = (state.iteration + 1) * self.spec.num_envs
        batch_sizes = self.spec.sampled_batch_sizes
        branch = jnp.searchsorted(jnp.asarray(batch_sizes), state.hparams.batch_size)
        branches = [functools.partial(self._run_lane, batch_size=size) for size in batch_sizes]
        # The state's own K: a sharded group's may exceed the spec's (padded configs, sharding.py).
        num_configs = num_updates.shape[0]

        def lane(members, carry):
            """The updates of the lane of configs `members` (i32[L]; None: all K configs, whose
            states are then used in place rather than gathered and scattered back), skipped when
            none of them has an update this iteration (warm-up, σ·num_envs < 1)."""
            agent, diverged_iteration, (reset_env_steps, num_resets), stats = carry
            if members is None:
                indices = jnp.arange(num_configs)
                take = lambda tree: tree
                put = lambda leaf, value: value
            else:
                indices = members
                take = functools.partial(jax.tree_util.tree_map, lambda leaf: leaf[members])
                put = lambda leaf, value: leaf.at[members].set(value)
            lane_updates = jnp.where(take(diverged_iteration) < 0, take(num_updates), 0)

            def run():
                # The replay buffers go in whole, with the members' indices: their rows are gathered
                # straight from them inside the update (sliced buffers would be copied). A lane's
                # members share one batch size; the largest of their branches is taken regardless.
                configs = UpdatedConfigs(index=indices, hparams=take(state.hparams), env_step=take(env_step))
                agent_lane, computed, applied, healthy, resets_lane = jax.lax.switch(
                    jnp.max(take(branch)), branches, take(agent), configs, state.replay, take(update_rng),
                    lane_updates, (take(reset_env_steps), take(num_resets)),
                )
                lane_stats = ChunkStats(
                    grad_steps=put(stats.grad_steps, take(stats.grad_steps) + applied),
                    computed_updates=put(stats.computed_updates, take(stats.computed_updates) + computed),
                )
                diverged_lane = jnp.where(healthy, take(diverged_iteration), take(state.iteration))
                return (
                    jax.tree_util.tree_map(put, agent, agent_lane),
                    put(diverged_iteration, diverged_lane),
                    (put(reset_env_steps, resets_lane[0]), put(num_resets, resets_lane[1])),
                    lane_stats,
                )

            return jax.lax.cond(jnp.any(lane_updates > 0), run, lambda: carry)

        carry = (state.agent, state.diverged_iteration, (state.reset_env_steps, state.num_resets), stats)
        if self.spec.lane_width == num_configs:
            return lane(None, carry)
        lane_members = lanes(state.hparams, self.spec.lane_width)
        return jax.lax.fori_loop(0, lane_members.shape[0], lambda index, carry: lane(lane_members[index], carry), carry)

    def _run_lane(self, agent, configs: "UpdatedConfigs", replay_buffers, rng, num_updates, resets, *, batch_size):
        """The `num_updates` (i32[L]) updates of the L `configs` of a lane (agent, rng and resets are
        theirs, leading axis L; replay_buffers: all K configs'), run together at `batch_size` as
        `_updates_by_slot` would run them (update j uses fold_in(rng, j)); a config stops at its first
        non-finite update, which is not applied. Returns (agent, computed: i32 scalar, the updates
        the lane ran (each of its configs computed that many), applied updates i32[L], healthy
        bool[L]: no non-finite update, resets)."""

        def running(carry):
            index, _, _, healthy, _ = carry
            return jnp.any((index < num_updates) & healthy)

        def update(carry):
            index, agent, applied_updates, healthy, resets = carry
            active = (index < num_updates) & healthy
            rngs = jax.vmap(jax.random.fold_in, in_axes=(0, None))(rng, index)
            agent, applied, finite, reset = self._update_configs(agent, configs, replay_buffers, rngs, active, batch_size)
            return (
                index + 1,
                agent,
                applied_updates + applied.astype(jnp.int32),
                healthy & (finite | ~active),
                _record_resets(resets, applied & reset, configs.env_step),
            )

        no_updates = jnp.zeros_like(num_updates)
        healthy = jnp.ones(num_updates.shape, bool)
        computed, agent, applied, healthy, resets = jax.lax.while_loop(
            running, update, (jnp.int32(0), agent, no_updates, healthy, resets)
        )
        return agent, computed, applied, healthy, resets

    def _update_configs(self, agent, configs: "UpdatedConfigs", replay_buffers, rngs, active, batch_size: int):
        """One update of each of the n `configs` at once on `batch_size` rows (a vmap over them;
        agent, rngs and active bool[n] are theirs, leading axis n; replay_buffers: the group's),
        applied only where `active` and finite.

        The agent's optional work is decided per config and then for these n configs together,
        outside the vmap, so that the agent's cond on that flag stays a real branch (agents/core.py).
        Returns (agent, applied bool[n], finite bool[n], reset bool[n]).
        """
        num_configs = configs.index.shape[0]
        due = over_configs(self.agent.due, (0, 0, 0), num_configs)(agent, configs.hparams, configs.env_step)
        group_due = {name: jnp.any(flags & active) for name, flags in due.items()}
        update = functools.partial(self._update_one_config, group_due=group_due, batch_size=batch_size)
        new_agent, finite, reset = over_configs(update, (0, 0, None, 0, 0), num_configs)(
            agent, configs, replay_buffers, rngs, due
        )
        applied = active & finite
        return _keep_applied(applied, new_agent, agent), applied, finite, reset

    def _update_one_config(self, agent_state, config: "UpdatedConfigs", replay_buffers, rng, due, *, group_due,
                           batch_size: int):
        """One config's update (`config`'s fields are scalars) on a batch of `batch_size` rows from
        its buffer among the group's `replay_buffers` (the first hparams.batch_size rows count), its
        `due` flags and the `group_due` of the configs updated with it; returns (new agent state,
        finite: bool, reset: bool)."""
        hparams = config.hparams
        sample_rng, update_rng = jax.random.split(rng)
        batch = self._sample(replay_buffers, sample_rng, batch_size, hparams.discount, config.index)
        mask = schedule.batch_mask(hparams.batch_size, batch_size)
        context = UpdateContext(env_step=config.env_step, due=due, group_due=group_due)
        new_agent, metrics = self.agent.update(agent_state, batch, mask, hparams, update_rng, context)
        finite = _all_finite(metrics) & _all_finite(new_agent)
        reset = metrics.get(RESET_METRIC, jnp.float32(0.0)) > 0
        return new_agent, finite, reset

    def _sample(self, buffers, rng, batch_size: int, discount, config=None):
        """`batch_size` rows of the agent's batch kind (one-step or n-step transitions) from one
        config's buffer, or from buffer `config` (i32) of a group's stacked buffers."""
        batch_spec = self.agent.batch_spec
        if batch_spec.kind == N_STEP_BATCH:
            return replay.sample_n_step(
                buffers, rng, batch_size, batch_spec.n_step, self.spec.num_envs, discount, config
            )
        return replay.sample(buffers, rng, batch_size, config)

    # ---- evaluation -------------------------------------------------------------------------
    def evaluate_fn(self, state: GroupState, eval_index: jax.Array) -> jax.Array:
        """f32[K]: mean undiscounted return of `eval_episodes` deterministic-policy episodes."""
        return jax.vmap(lambda a, r: self._evaluate_config(a, r, eval_index))(state.agent, state.eval_rng)

    def _evaluate_config(self, agent_state, eval_rng, eval_index):
        rng = jax.random.fold_in(eval_rng, eval_index)
        env_state = jax.vmap(self.env.reset)(jax.random.split(rng, self.spec.eval_episodes))
        episode_return = jnp.zeros((self.spec.eval_episodes,), jnp.float32)
        alive = jnp.ones((self.spec.eval_episodes,), bool)

        def step(carry, _):
            env_state, episode_return, alive = carry
            action = self.agent.act(agent_state, env_state.obs, rng, deterministic=True)
            env_state = jax.vmap(self.env.step)(env_state, action)
            # `where`, not `alive * reward`: a non-finite reward after the episode ended (a
            # terminated physics state) must not reach the return (0 * inf is NaN).
            episode_return = episode_return + jnp.where(alive, env_state.reward, 0.0)
            alive = alive & (env_state.done == 0)
            return (env_state, episode_return, alive), None

        (_, episode_return, _), _ = jax.lax.scan(
            step, (env_state, episode_return, alive), None, length=self.env_spec.episode_length
        )
        return jnp.mean(episode_return)

    def td_errors_fn(self, state: GroupState, eval_index: jax.Array) -> TDErrors:
        """Per config, the agent's critic loss (`td_error`) with no gradient step, the mean over
        TD_ERROR_BATCHES batches of its own B from its replay and as many from its validation
        buffer, drawn from a key of the evaluation (eval_index: i32)."""
        keys = jax.vmap(lambda key: jax.random.fold_in(jax.random.fold_in(key, eval_index), TD_ERROR_STREAM))(
            state.eval_rng
        )
        validation = state.validation.replay if self.validates else None
        return jax.vmap(self._td_errors_config)(state.agent, state.replay, validation, state.hparams, keys)

    def _td_errors_config(self, agent_state, replay_buffer, validation_buffer, hparams, rng) -> TDErrors:
        """TDErrors of one config (scalars); `validation_buffer` None without validation. The
        batches of both buffers go through one loop of `td_error` (one copy of the loss in the
        compiled program); batch j of either buffer uses the same target-noise key."""
        train_rng, validation_rng, loss_rng = jax.random.split(rng, 3)
        loss_keys = jax.random.split(loss_rng, TD_ERROR_BATCHES)
        mask = schedule.batch_mask(hparams.batch_size, self.spec.max_batch_size)

        def batches(buffer, sample_rng):
            """TD_ERROR_BATCHES padded batches from `buffer`, stacked on a leading axis."""
            draw = lambda key: self._sample(buffer, key, self.spec.max_batch_size, hparams.discount)
            return jax.vmap(draw)(jax.random.split(sample_rng, TD_ERROR_BATCHES))

        drawn = [batches(replay_buffer, train_rng)]
        if validation_buffer is not None:
            drawn.append(batches(validation_buffer, validation_rng))
        stacked = jax.tree_util.tree_map(lambda *parts: jnp.concatenate(parts), *drawn)

        def td_error(batch_and_key):
            batch, key = batch_and_key
            return self.agent.td_error(agent_state, batch, mask, hparams, key)

        keys = jnp.concatenate([loss_keys] * len(drawn))
        errors = jax.lax.map(td_error, (stacked, keys)).reshape(len(drawn), TD_ERROR_BATCHES).mean(axis=1)
        if validation_buffer is None:
            return TDErrors(train=errors[0], validation=jnp.float32(jnp.nan))
        return TDErrors(train=errors[0], validation=jnp.where(validation_buffer.size > 0, errors[1], jnp.nan))

    def mark_diverged_fn(self, state: GroupState, diverged: jax.Array) -> GroupState:
        """Freeze the configs where `diverged` (bool[K]) and they are not already: they are marked
        diverged at the current env step (e.g. a non-finite evaluation return) and take no further
        updates."""
        newly = diverged & (state.diverged_iteration < 0)
        return state.replace(
            diverged_iteration=jnp.where(newly, state.iteration - 1, state.diverged_iteration)
        )


def over_configs(fn, in_axes: tuple, num_configs: int):
    """`jax.vmap(fn, in_axes)` over `num_configs` configs; for one config, `fn` on its unbatched
    arguments, its outputs given the leading axis of 1 (on a CPU a vmap over one config compiles to
    slower code: 0.86 against 0.98 of the bare update at width 64, benchmarks/README.md)."""
    if num_configs != 1:
        return jax.vmap(fn, in_axes=in_axes)

    def one_config(*args):
        args = [arg if axis is None else jax.tree_util.tree_map(lambda leaf: leaf[0], arg) for arg, axis in zip(args, in_axes)]
        return jax.tree_util.tree_map(lambda leaf: jnp.expand_dims(leaf, 0), fn(*args))

    return one_config


def _keep_applied(applied: jax.Array, new_agent, agent):
    """new_agent where `applied` (bool[n]: configs updated together), else agent. A group-level branch: when every
    config applied its update (the common case) the select over the whole agent state is skipped,
    which at width 64 is about a tenth of an update's time on a CPU."""
    return jax.lax.cond(jnp.all(applied), lambda: new_agent, lambda: where_tree(applied, new_agent, agent))


def lanes(hparams: HyperParams, lane_width: int) -> jax.Array:
    """i32[K / lane_width, lane_width]: the configs of each lane of a map group. Configs ordered by
    (σ, B, index) and cut into rows of `lane_width`; the planner's lane width divides the number of
    configs of every (σ, B) in the group, so a lane never mixes σ or B."""
    num_configs = hparams.utd.shape[0]
    if lane_width < 1 or num_configs % lane_width:
        raise ValueError(f"lane_width ({lane_width}) must be >= 1 and divide the group's {num_configs} configs")
    order = jnp.lexsort((jnp.arange(num_configs), hparams.batch_size, hparams.utd))
    return order.reshape(num_configs // lane_width, lane_width)


def _record_resets(resets, reset: jax.Array, env_step: jax.Array):
    """(reset_env_steps i32[n, R], num_resets i32[n]) with env_step (i32[n]) appended where
    `reset` (bool[n]), for n configs updated together."""
    reset_env_steps, num_resets = resets
    slots = jnp.arange(reset_env_steps.shape[-1])
    write = reset[..., None] & (slots == num_resets[..., None])
    reset_env_steps = jnp.where(write, env_step[..., None], reset_env_steps)
    return reset_env_steps, num_resets + reset.astype(jnp.int32)


@functools.lru_cache(maxsize=32)
def get_trainer(spec: GroupSpec) -> GroupTrainer:
    """The trainer for `spec`, built once per process so equal specs share compiled functions."""
    return GroupTrainer(spec)
