"""The conformance kit: the checks every built-in agent and env suite passes, for yours too.

    from rlscale.testing import check_agent, check_env

    def test_my_agent_conforms():
        check_agent("td3").assert_passed()        # AssertionError listing what failed

    def test_my_env_conforms():
        check_env("myorg/reacher").assert_passed()

The same from the shell: `rlscale check-agent NAME` / `rlscale check-env NAME` (exit status 1 when a
check fails). Each check is run even when an earlier one failed; a check that raises fails with
the exception's message.

Agent checks (on a small network and a small env, default 'pendulum'):
  finite_update      init, act (both modes), due and three updates on a fixed batch: every state
                     leaf and metric finite, actions f32[num_envs, act] in [-1, 1], parameters move;
                     parameter_count() (and critic_parameter_count(), if defined) positive ints.
  masked_batch       padding rows filled with huge values never change an update, and a padded
                     update equals the update on the unpadded rows (the sum(mask * row) / B_k rule).
  no_retrace         the group's init / train_chunk / evaluate (and td_errors, for an agent with the
                     optional `td_error`) are traced once across two sets of hyperparameter values
                     (eta, B, UTD, seed) for the same compile key; the TD errors are finite.
  in_group_vs_alone  each of K = 4 configs differing in eta, B, UTD and seed, trained in one group,
                     ends within 1e-5 (relative) of the same config trained alone (a group of one
                     with the same B_max and update slots: that padding changes nothing is what
                     masked_batch checks), with equal gradient-step counts.
Env checks:
  spec               the EnvSpec is consistent (sizes >= 1, return_high > return_low) and the env builds.
  reset_step_shapes  jitted reset / step give obs f32[obs], reward f32[], done f32[] in {0, 1},
                     finite, and the same state structure after reset and after step.
  jit_vmap           vmapped reset / step give the unbatched results for each env.
  determinism        the same key gives identical random-action rollouts (of episode_length steps).
  termination_vs_truncation  over random-action rollouts of episode_length steps, `done` is a
                     true termination: not raised at the time limit in every rollout, no time-limit
                     or auto-reset wrapper left in the state's info.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from rlscale.agents import make_agent
from rlscale.agents.core import HyperParams, NStepTransition, Transition, single_config_context
from rlscale.agents.spec import N_STEP_BATCH, NetworkConfig
from rlscale.engine.loop import GroupTrainer, get_trainer
from rlscale.engine.spec import MAP, GroupSpec
from rlscale.envs.registry import get_spec, make_env
from rlscale.testing.checks import AGENT_CHECKS, CHECK_ENV, CHECK_NETWORK, ENV_CHECKS

EQUIVALENCE_TOLERANCE = 1e-5
"""Largest relative difference between a config in a group and the same config alone."""
PADDING_TOLERANCE = 1e-6
"""Largest relative change of an update when only padding rows change."""
MAX_BATCH = 32
"""Padded batch size B_max of the update-level checks and of the group."""
OWN_ROWS = 20
"""B_k: the rows of the config's own batch in the masked-batch check."""
PADDING_REWARD = 1e6
PADDING_OBSERVATION = 1e3
NUM_UPDATES = 3
NUM_ACTING_ENVS = 3
LEARNING_STARTS = 64
LEARNING_ITERATIONS = 16
GROUP_HYPERPARAMETERS = (
    # (learning_rate, batch_size, utd, seed) of the K = 4 configs, two value sets of one compile key.
    ([1e-3, 3e-4, 2e-3, 5e-4], [32, 16, 24, 8], [1.0, 2.0, 0.5, 1.5], [0, 1, 2, 3]),
    ([5e-4, 2e-3, 1e-3, 3e-4], [8, 32, 16, 24], [2.0, 1.0, 1.5, 0.5], [4, 5, 6, 7]),
)
NUM_ROLLOUT_ENVS = 4


class CheckFailed(AssertionError):
    """A conformance check found a violation; the message says which and by how much."""


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, whether it passed, and what was measured or wrong."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass
class ConformanceReport:
    """Every check's result for one agent or env."""

    subject: str
    """"agent 'td3'" or "env 'pendulum'"."""
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [result for result in self.results if not result.passed]

    def format(self) -> str:
        """One line per check, 'PASS name: detail' / 'FAIL name: detail', and a summary line."""
        lines = [format_result(result) for result in self.results]
        verdict = "conforms" if self.passed else f"fails {len(self.failed)} of {len(self.results)} checks"
        return "\n".join([f"{self.subject}:", *lines, f"{self.subject} {verdict}"])

    def assert_passed(self) -> None:
        """AssertionError with the whole report when any check failed."""
        if not self.passed:
            raise AssertionError(self.format())


def format_result(result: CheckResult) -> str:
    return f"  {'PASS' if result.passed else 'FAIL'} {result.name}: {result.detail}"


def relative_difference(a, b) -> float:
    """||a - b|| / ||b|| over all leaves of two pytrees of equal structure (||a - b|| when b is 0)."""
    a_flat = np.concatenate([np.asarray(x, np.float64).ravel() for x in jax.tree_util.tree_leaves(a)] or [np.zeros(0)])
    b_flat = np.concatenate([np.asarray(x, np.float64).ravel() for x in jax.tree_util.tree_leaves(b)] or [np.zeros(0)])
    difference, scale = np.linalg.norm(a_flat - b_flat), np.linalg.norm(b_flat)
    return float(difference / scale) if scale > 0 else float(difference)


def _run_checks(subject: str, checks: Mapping[str, Callable[[], str]], only, on_result) -> ConformanceReport:
    unknown = [name for name in only or () if name not in checks]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; checks: {', '.join(checks)}")
    results = []
    for name, check in checks.items():
        if only and name not in only:
            continue
        try:
            result = CheckResult(name, True, check())
        except CheckFailed as failure:
            result = CheckResult(name, False, str(failure))
        except Exception as error:  # the code under test may fail in any way: that is a failed check
            result = CheckResult(name, False, f"raised {type(error).__name__}: {error}")
        results.append(result)
        if on_result:
            on_result(result)
    return ConformanceReport(subject, results)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise CheckFailed(message)


def _finite(tree) -> bool:
    return all(bool(np.all(np.isfinite(np.asarray(x)))) for x in jax.tree_util.tree_leaves(tree)
               if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact))


# ---- agents ---------------------------------------------------------------------------------


def check_agent(
    algo: str,
    agent_options: Mapping[str, Any] | None = None,
    env: str = CHECK_ENV,
    env_options: Mapping[str, Any] | None = None,
    network: NetworkConfig = CHECK_NETWORK,
    only: Sequence[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> ConformanceReport:
    """Runs the agent checks (AGENT_CHECKS, or those in `only`) on agent `algo` with `agent_options`
    over its preset, on `env`; `on_result` is called with each result as it comes.

    ValueError (before any check) when the agent, its options or the env are unknown or invalid.
    """
    agent_options = dict(agent_options or {})
    env_options = dict(env_options or {})
    env_spec = get_spec(env, **env_options)
    agent = make_agent(algo, env_spec.observation_size, env_spec.action_size, network, **agent_options)
    group_spec = GroupSpec(
        env=env,
        env_options=tuple(sorted(env_options.items())),
        algo=algo,
        network=network,
        agent_options=tuple(sorted((key, _hashable(value)) for key, value in agent_options.items())),
        num_configs=len(GROUP_HYPERPARAMETERS[0][0]),
        max_batch_size=MAX_BATCH,
        update_slots=math.ceil(max(max(utds) for _, _, utds, _ in GROUP_HYPERPARAMETERS)),
        learning_starts=LEARNING_STARTS,
        buffer_capacity=16 * MAX_BATCH,
        eval_episodes=1,
    )
    group_runs: list[Any] = []  # filled by no_retrace, reused by in_group_vs_alone

    def group_run():
        if not group_runs:
            group_runs.append(_traced_group_run(group_spec))
        return group_runs[0]

    update = jit_update(agent)
    checks = {
        "finite_update": lambda: _finite_update(agent, update, env_spec),
        "masked_batch": lambda: _masked_batch(agent, update, env_spec),
        "no_retrace": lambda: group_run().retrace_detail,
        "in_group_vs_alone": lambda: _in_group_vs_alone(group_spec, group_run()),
        "map_vs_vmap": lambda: _map_vs_vmap(group_spec, group_run()),
    }
    return _run_checks(f"agent {algo!r}", {name: checks[name] for name in AGENT_CHECKS}, only, on_result)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def fixed_batch(agent, observation_size: int, action_size: int, batch_size: int = MAX_BATCH, seed: int = 0):
    """A deterministic batch of `batch_size` rows of the kind `agent.batch_spec` asks for, with
    some terminations."""
    keys = jax.random.split(jax.random.PRNGKey(seed), 5)
    fields = dict(
        obs=jax.random.normal(keys[0], (batch_size, observation_size)),
        action=jax.random.uniform(keys[1], (batch_size, action_size), minval=-0.9, maxval=0.9),
        reward=jax.random.normal(keys[2], (batch_size,)),
        next_obs=jax.random.normal(keys[3], (batch_size, observation_size)),
        termination=(jax.random.uniform(keys[4], (batch_size,)) < 0.2).astype(jnp.float32),
    )
    if agent.batch_spec.kind == N_STEP_BATCH:
        return NStepTransition(**fields, discount=jnp.full((batch_size,), 0.99**agent.batch_spec.n_step))
    return Transition(**fields)


def jit_update(agent):
    """`agent.update` of one config updated on its own (its `due` flags are the group's), jitted:
    update(state, batch, mask, hparams, rng, env_step=0) -> (state, metrics)."""

    def update(state, batch, mask, hparams, rng, env_step=0):
        context = single_config_context(agent, state, hparams, env_step)
        return agent.update(state, batch, mask, hparams, rng, context)

    return jax.jit(update)


def _finite_update(agent, update, env_spec) -> str:
    hparams = HyperParams.single(learning_rate=1e-3, batch_size=MAX_BATCH)
    state = jax.jit(agent.init)(jax.random.PRNGKey(0), hparams)
    _require(_finite(state), "init returned a state with non-finite values")
    obs = jax.random.normal(jax.random.PRNGKey(1), (NUM_ACTING_ENVS, env_spec.observation_size))
    for deterministic in (False, True):
        actions = jax.jit(agent.act, static_argnums=3)(state, obs, jax.random.PRNGKey(2), deterministic)
        expected = (NUM_ACTING_ENVS, env_spec.action_size)
        _require(
            tuple(actions.shape) == expected,
            f"act(deterministic={deterministic}) gave shape {tuple(actions.shape)}, expected {expected}",
        )
        _require(
            _finite(actions) and bool(jnp.all(jnp.abs(actions) <= 1.0)),
            f"act(deterministic={deterministic}) gave actions outside [-1, 1] or non-finite",
        )
    due = agent.due(state, hparams, jnp.int32(0))
    _require(
        isinstance(due, dict) and all(jnp.shape(flag) == () for flag in due.values()),
        f"due must return a dict of bool scalars, got {due!r}",
    )
    batch = fixed_batch(agent, env_spec.observation_size, env_spec.action_size)
    start, metrics = state, {}
    for step in range(NUM_UPDATES):
        state, metrics = update(state, batch, jnp.ones(MAX_BATCH), hparams, jax.random.PRNGKey(10 + step))
        _require(
            all(jnp.shape(value) == () for value in metrics.values()),
            f"update metrics must be scalars, got shapes { {k: jnp.shape(v) for k, v in metrics.items()} }",
        )
        _require(_finite(metrics), f"update {step + 1} gave non-finite metrics {metrics}")
        _require(_finite(state), f"update {step + 1} gave a state with non-finite values")
    moved = relative_difference(state, start)
    _require(moved > 0, f"{NUM_UPDATES} updates left the state unchanged")
    count = agent.parameter_count()
    _require(isinstance(count, int) and count > 0, f"parameter_count() must be a positive int, got {count!r}")
    if hasattr(agent, "critic_parameter_count"):
        critics = agent.critic_parameter_count()
        _require(
            isinstance(critics, int) and 0 < critics <= count,
            f"critic_parameter_count() must be a positive int at most parameter_count() ({count}), got {critics!r}",
        )
        size = f"{critics} critic parameters: the model size N"
    else:
        size = "no critic_parameter_count: the model size N is parameter_count"
    return (
        f"{NUM_UPDATES} updates finite (metrics {', '.join(sorted(metrics))}); state moved by {moved:.2e}; "
        f"{count} parameters ({size})"
    )


def _masked_batch(agent, update, env_spec) -> str:
    hparams = HyperParams.single(learning_rate=1e-3, batch_size=OWN_ROWS)
    state = jax.jit(agent.init)(jax.random.PRNGKey(0), hparams)
    batch = fixed_batch(agent, env_spec.observation_size, env_spec.action_size)
    padding = jnp.arange(MAX_BATCH) >= OWN_ROWS
    garbage = batch.replace(
        reward=jnp.where(padding, PADDING_REWARD, batch.reward),
        obs=jnp.where(padding[:, None], PADDING_OBSERVATION, batch.obs),
        next_obs=jnp.where(padding[:, None], -PADDING_OBSERVATION, batch.next_obs),
        termination=jnp.where(padding, 1.0 - batch.termination, batch.termination),
    )
    mask = (~padding).astype(jnp.float32)
    rng = jax.random.PRNGKey(3)
    clean, _ = update(state, batch, mask, hparams, rng)
    padded, _ = update(state, garbage, mask, hparams, rng)
    changed = relative_difference(padded, clean)
    _require(
        _finite(padded) and changed <= PADDING_TOLERANCE,
        f"changing only the padding rows changed the update by {changed:.2e} (relative; allowed {PADDING_TOLERANCE:g}): a loss reads rows where mask = 0",
    )
    own_rows = jax.tree_util.tree_map(lambda x: x[:OWN_ROWS], batch)
    unpadded, _ = update(state, own_rows, jnp.ones(OWN_ROWS), hparams, rng)
    rule = relative_difference(clean, unpadded)
    _require(
        rule <= EQUIVALENCE_TOLERANCE,
        f"the update on {OWN_ROWS} rows padded to {MAX_BATCH} differs by {rule:.2e} (relative; allowed {EQUIVALENCE_TOLERANCE:g}) from the update on the {OWN_ROWS} rows alone: losses must be sum(mask * row) / B_k",
    )
    return f"padding rows changed the update by {changed:.1e}; padded vs unpadded update differ by {rule:.1e}"


@dataclasses.dataclass
class _GroupRun:
    final_states: list[Any]
    grad_steps: list[np.ndarray]
    retrace_detail: str


def _traced_group_run(spec: GroupSpec) -> _GroupRun:
    """Trains the group from each value set of GROUP_HYPERPARAMETERS with the functions wrapped in
    chex.assert_max_traces(n=1); CheckFailed when any is traced again."""
    trainer = GroupTrainer(spec)
    wrapped = {"init": trainer.init_fn, "train_chunk": trainer.train_chunk_fn, "evaluate": trainer.evaluate_fn}
    if trainer.measures_td_error:
        wrapped["td_errors"] = trainer.td_errors_fn
    chex.clear_trace_counter()
    jitted = {name: jax.jit(chex.assert_max_traces(fn, n=1)) for name, fn in wrapped.items()}
    iterations = LEARNING_STARTS + LEARNING_ITERATIONS
    final_states, grad_steps = [], []
    for index, values in enumerate(GROUP_HYPERPARAMETERS):
        try:
            state = jitted["init"](HyperParams.stack(*values))
            state, stats = jitted["train_chunk"](state, iterations)
            returns = jitted["evaluate"](state, index)
            td_errors = jitted["td_errors"](state, index) if "td_errors" in jitted else None
        except AssertionError as error:
            raise CheckFailed(f"changing hyperparameter values (set {index + 1}) retraced: {error}") from None
        _require(bool(np.all(np.isfinite(np.asarray(returns)))), f"evaluation returns are not finite: {returns}")
        if td_errors is not None:
            measured = np.concatenate([np.asarray(td_errors.train), np.asarray(td_errors.validation)])
            _require(bool(np.all(np.isfinite(measured))), f"TD errors (replay, validation) are not finite: {measured}")
        final_states.append(state.agent)
        grad_steps.append(np.asarray(stats.grad_steps))
    detail = (
        f"{', '.join(wrapped)} traced once for {len(GROUP_HYPERPARAMETERS)} value sets of "
        f"K = {spec.num_configs} configs"
    )
    return _GroupRun(final_states, grad_steps, detail)


def _in_group_vs_alone(spec: GroupSpec, run: _GroupRun) -> str:
    learning_rates, batch_sizes, utds, seeds = GROUP_HYPERPARAMETERS[0]
    differences = []
    trainer = get_trainer(dataclasses.replace(spec, num_configs=1))
    for index in range(spec.num_configs):
        state = trainer.init(HyperParams.stack([learning_rates[index]], [batch_sizes[index]], [utds[index]], [seeds[index]]))
        state, stats = trainer.train_chunk(state, LEARNING_STARTS + LEARNING_ITERATIONS)
        member = jax.tree_util.tree_map(lambda x: x[index], run.final_states[0])
        alone = jax.tree_util.tree_map(lambda x: x[0], state.agent)
        steps_in_group, steps_alone = int(run.grad_steps[0][index]), int(stats.grad_steps[0])
        config = f"config {index} (eta={learning_rates[index]:g}, B={batch_sizes[index]}, UTD={utds[index]:g}, seed={seeds[index]})"
        _require(
            steps_in_group == steps_alone > 0,
            f"{config}: {steps_in_group} gradient steps in the group, {steps_alone} alone",
        )
        difference = relative_difference(member, alone)
        _require(
            difference <= EQUIVALENCE_TOLERANCE,
            f"{config}: in the group its state differs by {difference:.2e} (relative; allowed {EQUIVALENCE_TOLERANCE:g}) from training it alone",
        )
        differences.append(difference)
    return f"{spec.num_configs} configs match their runs alone (largest relative difference {max(differences):.1e})"


def _map_vs_vmap(spec: GroupSpec, run: _GroupRun) -> str:
    """The group trained config by config (config_axis "map", the CPU default: each config its own
    updates at its own batch size) ends where the vmapped group does."""
    learning_rates, batch_sizes, utds, seeds = GROUP_HYPERPARAMETERS[0]
    trainer = get_trainer(dataclasses.replace(spec, config_axis=MAP, batch_sizes=tuple(sorted(set(batch_sizes)))))
    state = trainer.init(HyperParams.stack(learning_rates, batch_sizes, utds, seeds))
    state, stats = trainer.train_chunk(state, LEARNING_STARTS + LEARNING_ITERATIONS)
    mapped_steps, vmapped_steps = np.asarray(stats.grad_steps).tolist(), run.grad_steps[0].tolist()
    _require(mapped_steps == vmapped_steps, f"gradient steps per config: {mapped_steps} under map, {vmapped_steps} under vmap")
    difference = relative_difference(state.agent, run.final_states[0])
    _require(
        difference <= EQUIVALENCE_TOLERANCE,
        f"under map the group's state differs by {difference:.2e} (relative; allowed {EQUIVALENCE_TOLERANCE:g}) from vmap",
    )
    return f"map and vmap agree for {spec.num_configs} configs (relative difference {difference:.1e})"


# ---- envs -----------------------------------------------------------------------------------


def check_env(
    name: str,
    env_options: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    rollout_steps: int | None = None,
) -> ConformanceReport:
    """Runs the env checks (ENV_CHECKS, or those in `only`) on env `name` with `env_options`;
    `rollout_steps` shortens the termination rollouts (default: the spec's episode_length).

    ValueError (before any check) when the name or options are unknown or invalid.
    """
    env_options = dict(env_options or {})
    spec = get_spec(name, **env_options)
    built: dict[str, Any] = {}
    num_steps = rollout_steps or spec.episode_length

    def env():
        if "env" not in built:
            built["env"] = make_env(name, **env_options)[1]
        return built["env"]

    def rollout():
        """One compiled rollout program, shared by determinism and termination_vs_truncation."""
        if "rollout" not in built:
            built["rollout"] = make_rollout(env(), spec.action_size, num_steps, NUM_ROLLOUT_ENVS)
        return built["rollout"]

    checks = {
        "spec": lambda: _spec_check(spec, env),
        "reset_step_shapes": lambda: _reset_step_shapes(spec, env()),
        "jit_vmap": lambda: _jit_vmap(spec, env()),
        "determinism": lambda: _determinism(spec, rollout(), num_steps),
        "termination_vs_truncation": lambda: _termination_vs_truncation(spec, env(), rollout(), num_steps),
    }
    return _run_checks(f"env {name!r}", {check: checks[check] for check in ENV_CHECKS}, only, on_result)


def _spec_check(spec, env) -> str:
    problems = [
        f"{field} must be an int >= 1, got {getattr(spec, field)!r}"
        for field in ("observation_size", "action_size", "episode_length", "action_repeat")
        if not (isinstance(getattr(spec, field), int) and getattr(spec, field) >= 1)
    ]
    if not spec.return_high > spec.return_low:
        problems.append(f"return_high ({spec.return_high}) must exceed return_low ({spec.return_low})")
    _require(not problems, "; ".join(problems))
    env()
    return (
        f"obs {spec.observation_size}, act {spec.action_size}, episode {spec.episode_length} steps "
        f"(action repeat {spec.action_repeat}), returns {spec.return_low:g}..{spec.return_high:g}"
    )


def _structure(state) -> tuple:
    leaves, treedef = jax.tree_util.tree_flatten(state)
    return treedef, tuple((jnp.shape(leaf), jnp.asarray(leaf).dtype) for leaf in leaves)


def _check_state(spec, state, where: str) -> None:
    shapes = {"obs": (spec.observation_size,), "reward": (), "done": ()}
    for field, shape in shapes.items():
        value = getattr(state, field, None)
        _require(value is not None, f"{where}: the state has no .{field}")
        _require(
            tuple(jnp.shape(value)) == shape,
            f"{where}: .{field} has shape {tuple(jnp.shape(value))}, expected {shape}",
        )
        _require(
            jnp.asarray(value).dtype == jnp.float32,
            f"{where}: .{field} is {jnp.asarray(value).dtype}, expected float32",
        )
        _require(_finite(value), f"{where}: .{field} is not finite")
    _require(float(state.done) in (0.0, 1.0), f"{where}: done is {float(state.done)}, expected 0.0 or 1.0")


def _reset_step_shapes(spec, env) -> str:
    state = jax.jit(env.reset)(jax.random.PRNGKey(0))
    _check_state(spec, state, "reset")
    for value in (-1.0, 0.0, 1.0):
        next_state = jax.jit(env.step)(state, jnp.full((spec.action_size,), value, jnp.float32))
        _check_state(spec, next_state, f"step with actions {value:g}")
    _require(
        _structure(next_state) == _structure(state),
        "step returns a state of another structure, shapes or dtypes than reset (the engine carries it through lax.scan)",
    )
    return f"obs f32[{spec.observation_size}], reward f32[], done f32[] after reset and after steps at actions -1, 0, 1"


def _random_actions(key, num_envs: int, action_size: int) -> jax.Array:
    return jax.random.uniform(key, (num_envs, action_size), minval=-1.0, maxval=1.0)


def _jit_vmap(spec, env) -> str:
    keys = jax.random.split(jax.random.PRNGKey(1), NUM_ROLLOUT_ENVS)
    actions = _random_actions(jax.random.PRNGKey(2), NUM_ROLLOUT_ENVS, spec.action_size)

    def batched_and_alone(keys, actions):
        stepped = jax.vmap(env.step)(jax.vmap(env.reset)(keys), actions)
        alone = [env.step(env.reset(keys[i]), actions[i]) for i in range(NUM_ROLLOUT_ENVS)]
        return stepped, alone

    stepped, alone = jax.jit(batched_and_alone)(keys, actions)  # one program: one compile
    for field in ("obs", "reward", "done"):
        expected = (NUM_ROLLOUT_ENVS, spec.observation_size) if field == "obs" else (NUM_ROLLOUT_ENVS,)
        _require(
            tuple(jnp.shape(getattr(stepped, field))) == expected,
            f"vmapped step: .{field} has shape {tuple(jnp.shape(getattr(stepped, field)))}, expected {expected}",
        )
    differences = []
    for index in range(NUM_ROLLOUT_ENVS):
        batched = jax.tree_util.tree_map(lambda x: x[index], stepped)
        differences.append(relative_difference((batched.obs, batched.reward), (alone[index].obs, alone[index].reward)))
    largest = max(differences)
    _require(largest <= EQUIVALENCE_TOLERANCE, f"vmapped reset+step differs from unbatched by {largest:.2e} (relative)")
    return f"vmapped over {NUM_ROLLOUT_ENVS} envs: equals unbatched within {largest:.1e}"


def make_rollout(env, action_size: int, num_steps: int, num_envs: int):
    """A jitted key -> (obs f32[steps, envs, obs], reward f32[steps, envs], done f32[steps, envs]) of
    random-action rollouts that stop at the first done (later steps repeat the terminal state)."""

    def run(key):
        reset_key, action_key = jax.random.split(key)
        states = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))
        actions = jax.random.uniform(action_key, (num_steps, num_envs, action_size), minval=-1.0, maxval=1.0)

        def step(carry, action):
            states, ended = carry
            stepped = jax.vmap(env.step)(states, action)
            kept = jax.tree_util.tree_map(
                lambda old, new: jnp.where(ended.reshape(ended.shape + (1,) * (new.ndim - 1)), old, new), states, stepped
            )
            done = jnp.where(ended, 0.0, stepped.done)
            return (kept, ended | (stepped.done > 0)), (stepped.obs, stepped.reward, done)

        _, trajectory = jax.lax.scan(step, (states, jnp.zeros(num_envs, bool)), actions)
        return trajectory

    return jax.jit(run)


def _determinism(spec, rollout, num_steps: int) -> str:
    key = jax.random.PRNGKey(4)
    first, second = rollout(key), rollout(key)
    same = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, second))
    _require(same, f"two rollouts of {num_steps} steps with the same key and random actions differ")
    return f"two {num_steps}-step rollouts of {NUM_ROLLOUT_ENVS} envs with one key are identical"


TIME_LIMIT_INFO_KEYS = ("truncation", "steps", "first_obs", "first_state", "first_pipeline_state")
"""Info keys of Brax's EpisodeWrapper / AutoResetWrapper: the env must be the raw one."""


def _termination_vs_truncation(spec, env, rollout, num_steps: int) -> str:
    info = getattr(jax.eval_shape(env.reset, jax.random.PRNGKey(0)), "info", None) or {}
    wrapped = [key for key in info if key in TIME_LIMIT_INFO_KEYS]
    _require(
        not wrapped,
        f"the state's info has {', '.join(wrapped)}: the env is wrapped in a time-limit or auto-reset wrapper; register the raw env (the engine truncates and resets)",
    )
    done = np.asarray(rollout(jax.random.PRNGKey(5))[2])
    _require(bool(np.isin(done, (0.0, 1.0)).all()), "done takes values other than 0.0 and 1.0")
    terminated = done.any(axis=0)
    first_done = np.where(terminated, done.argmax(axis=0), -1)
    at_limit = num_steps >= spec.episode_length and bool(np.all(first_done == spec.episode_length - 1))
    _require(
        not at_limit,
        f"done fires at the time limit (step {spec.episode_length}) in every rollout: a truncation reported as a termination; leave the time limit to the engine",
    )
    ended = ", ".join(str(step + 1) for step in first_done if step >= 0) or "none"
    return f"{NUM_ROLLOUT_ENVS} random rollouts of {num_steps} steps: terminations at steps {ended}; none flagged at the time limit"
