"""How long will a sweep take? A calibrated wall-time estimate per group.

A group's wall time is modelled from three rates measured on this device at the group's own shapes
(each a short jitted `lax.scan`, compiled and timed in a few seconds):

- an env-clock iteration without updates: every config acts in its `num_envs` envs and steps them
  (`iteration_s`);
- one gradient update of one config at batch size B (map: each config at its own B) or one update
  slot of all K configs at the padded B (vmap) (`update_s`);
- one evaluation step of the K configs' `eval_episodes` episodes (`eval_step_s`).

    wall ≈ compile + iterations × iteration_s + updates × update_s + evaluations × episode_length × eval_step_s

where updates is Σ_k σ_k × (learning env steps) under map and max_k σ_k × num_envs × (learning
iterations) slots under vmap. Compile time is the summed compile time of the calibration programs
(the group's program holds the same pieces) times COMPILE_OVER_CALIBRATION. Measurements are cached per device, JAX
version and shapes in `$RLSCALE_CACHE_DIR` (default ~/.cache/rlscale)/calibration.json, so a later
estimate of the same shapes costs nothing. The runner reports estimated vs actual per group.

On one CPU device a sweep's "auto" config axis is decided here (`choose_config_axis`): the axis
with the lower estimated wall time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from rlscale.agents import make_agent
from rlscale.agents.core import HyperParams, NStepTransition, Transition, single_config_context
from rlscale.agents.spec import N_STEP_BATCH
from rlscale.config import SweepConfig
from rlscale.engine.spec import AUTO_CONFIG_AXIS, CONFIG_AXES, MAP, VMAP, GroupSpec, resolve_config_axis
from rlscale.envs.registry import make_env
from rlscale.envs.throughput import device_name
from rlscale.plan import Group, Plan, make_plan

CACHE_ENV = "RLSCALE_CACHE_DIR"
CALIBRATE_ENV = "RLSCALE_CALIBRATE"
"""Set to 0 to skip calibrating in sweeps: "auto" then takes the platform default (map on one CPU
device) and runs report no estimate (the benchmarks always calibrate)."""
RUN_MANIFEST = "manifest.json"
"""The run directory's manifest (run/runner.py writes it), whose plan names the config axis."""
CACHE_FILE = "calibration.json"
CALIBRATION_STEPS = 32
"""Iterations, updates or eval steps per timed call of a calibration program."""
CALIBRATION_REPETITIONS = 3
"""Timed calls per calibration program (the median counts), after one warm-up call."""
CALIBRATION_LEARNING_RATE = 3e-4
COMPILE_OVER_CALIBRATION = 2.1
"""A group's compile time over the summed compile times of its calibration programs: the group's
program holds them plus the loop around them. Measured on the benchmark sweeps (2-core AMD EPYC,
jax 0.9.2: 1.9-2.5 for K = 1 ... 64)."""
RANDOM_BATCH_DISCOUNT = 0.99


@dataclasses.dataclass(frozen=True)
class GroupEstimate:
    """The estimated wall seconds of one group, and its parts."""

    group: int
    seconds: float
    compile_s: float
    env_s: float
    update_s: float
    eval_s: float

    def summary(self) -> dict:
        return {key: round(value, 1) if isinstance(value, float) else value for key, value in dataclasses.asdict(self).items()}


def calibration_enabled() -> bool:
    return os.environ.get(CALIBRATE_ENV, "1") != "0"


def cache_path() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rlscale") / CACHE_FILE


def estimate_plan(plan: Plan, env_steps: int, eval_interval: int, groups=None) -> dict[int, GroupEstimate]:
    """{group index: estimate} for the plan's groups (those in `groups`, default all; see the module
    docstring); calibrations not cached yet are measured now and cached."""
    cache = _Cache(cache_path())
    estimates = {
        index: _estimate_group(index, group, env_steps, eval_interval, cache)
        for index, group in enumerate(plan.groups)
        if groups is None or index in groups
    }
    cache.save()
    return estimates


def _estimate_group(index: int, group: Group, env_steps: int, eval_interval: int, cache: "_Cache") -> GroupEstimate:
    spec = group.spec
    iterations = env_steps // spec.num_envs
    learning_env_steps = max(env_steps - spec.learning_starts, 0)
    env = cache.get(_key("iteration", spec), lambda: _iteration_seconds(spec))
    evaluation = cache.get(_key("eval", spec), lambda: _eval_step_seconds(spec))
    compile_s = env["compile_s"] + evaluation["compile_s"]
    update_s = 0.0
    if spec.config_axis == MAP:
        for batch_size in spec.sampled_batch_sizes:
            measured = cache.get(_key("update", spec, batch_size, 1), lambda b=batch_size: _update_seconds(spec, b, 1))
            updates = sum(c.utd * learning_env_steps for c in group.configs if c.batch_size == batch_size)
            update_s += updates * measured["seconds"]
            compile_s += measured["compile_s"]
    else:
        measured = cache.get(
            _key("update", spec, spec.max_batch_size, spec.num_configs),
            lambda: _update_seconds(spec, spec.max_batch_size, spec.num_configs),
        )
        slots = max(c.utd for c in group.configs) * learning_env_steps
        update_s = slots * measured["seconds"]
        compile_s += measured["compile_s"]
    compile_s *= COMPILE_OVER_CALIBRATION
    env_s = iterations * env["seconds"]
    eval_s = (env_steps // eval_interval) * evaluation["episode_length"] * evaluation["seconds"]
    return GroupEstimate(index, compile_s + env_s + update_s + eval_s, compile_s, env_s, update_s, eval_s)


def _key(kind: str, spec: GroupSpec, *shape) -> str:
    """The cache key of a calibration: device, jax version, and everything that shapes it."""
    parts = (
        device_name(), jax.__version__, kind, spec.env, spec.env_options, spec.algo, spec.network,
        spec.agent_options, spec.num_configs if kind != "update" else None, spec.num_envs,
        spec.eval_episodes if kind == "eval" else None, *shape,
    )
    return repr(parts)


class _Cache:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.values = json.loads(path.read_text())
        except (OSError, ValueError):
            self.values = {}
        self.changed = False

    def get(self, key: str, measure) -> dict:
        if key not in self.values:
            self.values[key] = measure()
            self.changed = True
        return self.values[key]

    def save(self) -> None:
        """Write the cache (an unwritable cache directory only means measuring again next time)."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self.values, indent=1))
            temporary.replace(self.path)
        except OSError:
            pass


def random_batch(agent, env_spec, num_configs: int, batch_size: int, key: jax.Array):
    """A batch of random data of the kind `agent` learns from, [num_configs, batch_size] rows."""
    keys = jax.random.split(key, 4)
    rows = (num_configs, batch_size)
    fields = dict(
        obs=jax.random.normal(keys[0], rows + (env_spec.observation_size,)),
        action=jax.random.uniform(keys[1], rows + (env_spec.action_size,), minval=-1.0, maxval=1.0),
        reward=jax.random.normal(keys[2], rows),
        next_obs=jax.random.normal(keys[3], rows + (env_spec.observation_size,)),
        termination=jnp.zeros(rows),
    )
    if agent.batch_spec.kind == N_STEP_BATCH:
        return NStepTransition(**fields, discount=jnp.full(rows, RANDOM_BATCH_DISCOUNT))
    return Transition(**fields)


def median_seconds(fn, carry, repetitions: int) -> tuple[float, object]:
    """Median wall time of `repetitions` calls of carry -> carry (after one warm-up call), and the
    last carry."""
    carry = jax.block_until_ready(fn(carry))
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        carry = jax.block_until_ready(fn(carry))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), carry


def _timed(program, carry) -> dict:
    """Compile seconds of `program` (jitted carry -> carry) and the median seconds of one call."""
    start = time.perf_counter()
    compiled = program.lower(carry).compile()
    compile_s = time.perf_counter() - start
    seconds, _ = median_seconds(compiled, carry, CALIBRATION_REPETITIONS)
    return {"seconds": seconds, "compile_s": compile_s}


def _agent_and_env(spec: GroupSpec):
    env_spec, env = make_env(spec.env, **dict(spec.env_options))
    agent = make_agent(spec.algo, env_spec.observation_size, env_spec.action_size, spec.network, **dict(spec.agent_options))
    return env_spec, env, agent


def _agents(agent, num_configs: int, batch_size: int):
    """K fresh agent states (seeds 0 … K-1) and their hyperparameters at `batch_size`."""
    hparams = HyperParams.stack(
        [CALIBRATION_LEARNING_RATE] * num_configs, [batch_size] * num_configs, [1.0] * num_configs, list(range(num_configs))
    )
    return jax.jit(jax.vmap(agent.init))(jax.random.split(jax.random.PRNGKey(0), num_configs), hparams), hparams


def _reset_states(env, key: jax.Array, num_configs: int, per_config: int):
    """Env states with axes [num_configs, per_config], each reset from its own key."""
    return jax.vmap(jax.vmap(env.reset))(jax.random.split(key, (num_configs, per_config)))


def _iteration_seconds(spec: GroupSpec) -> dict:
    """Seconds of one env-clock iteration of K configs (act, step num_envs envs each), no update."""
    _, env, agent = _agent_and_env(spec)
    agents, _ = _agents(agent, spec.num_configs, spec.max_batch_size)
    states = _reset_states(env, jax.random.PRNGKey(1), spec.num_configs, spec.num_envs)

    def iterations(carry):
        def body(carry, _):
            states, rng = carry
            rng, act_rng = jax.random.split(rng)
            actions = jax.vmap(lambda a, s, r: agent.act(a, s.obs, r, deterministic=False))(
                agents, states, jax.random.split(act_rng, spec.num_configs)
            )
            return (jax.vmap(jax.vmap(env.step))(states, actions), rng), None

        return jax.lax.scan(body, carry, None, length=CALIBRATION_STEPS)[0]

    measured = _timed(jax.jit(iterations), (states, jax.random.PRNGKey(2)))
    return {**measured, "seconds": measured["seconds"] / CALIBRATION_STEPS}


def _eval_step_seconds(spec: GroupSpec) -> dict:
    """Seconds of one deterministic eval step of K configs' eval_episodes episodes, and the episode
    length an evaluation runs."""
    env_spec, env, agent = _agent_and_env(spec)
    agents, _ = _agents(agent, spec.num_configs, spec.max_batch_size)
    states = _reset_states(env, jax.random.PRNGKey(3), spec.num_configs, spec.eval_episodes)

    def steps(states):
        def body(states, _):
            actions = jax.vmap(lambda a, s: agent.act(a, s.obs, jax.random.PRNGKey(0), deterministic=True))(agents, states)
            return jax.vmap(jax.vmap(env.step))(states, actions), None

        return jax.lax.scan(body, states, None, length=CALIBRATION_STEPS)[0]

    measured = _timed(jax.jit(steps), states)
    return {**measured, "seconds": measured["seconds"] / CALIBRATION_STEPS, "episode_length": env_spec.episode_length}


def _update_seconds(spec: GroupSpec, batch_size: int, num_configs: int) -> dict:
    """Seconds of one update of `num_configs` configs (vmapped) at `batch_size` on random data."""
    env_spec, _, agent = _agent_and_env(spec)
    agents, hparams = _agents(agent, num_configs, batch_size)
    batch = random_batch(agent, env_spec, num_configs, batch_size, jax.random.PRNGKey(4))
    rows = (num_configs, batch_size)
    mask = jnp.ones(rows)

    def updates(carry):
        def body(carry, _):
            agents, rng = carry
            rng, step_rng = jax.random.split(rng)
            agents, _ = jax.vmap(
                lambda a, b, m, h, r: agent.update(a, b, m, h, r, single_config_context(agent, a, h))
            )(agents, batch, mask, hparams, jax.random.split(step_rng, num_configs))
            return (agents, rng), None

        return jax.lax.scan(body, carry, None, length=CALIBRATION_STEPS)[0]

    measured = _timed(jax.jit(updates, donate_argnums=0), (agents, jax.random.PRNGKey(5)))
    return {**measured, "seconds": measured["seconds"] / CALIBRATION_STEPS}


@dataclasses.dataclass(frozen=True)
class AxisChoice:
    """How a sweep's "auto" config axis was decided."""

    config_axis: str
    reason: str
    estimated_s: dict[str, float] = dataclasses.field(default_factory=dict)
    """Estimated wall seconds of the whole sweep under each axis that was estimated."""


def choose_config_axis(config: SweepConfig, out_dir: Path | None = None) -> tuple[SweepConfig, AxisChoice]:
    """The config to plan and run, with an "auto" config axis made concrete.

    On GPUs/TPUs or several devices auto is vmap. On one CPU device both axes are estimated (the
    calibrated estimate above) and the faster wins: map where padding and idle slots would cost
    more than vectorizing gains (mixed σ or B, wide networks), vmap where small uniform updates
    gain from being batched. A run directory that already holds a plan keeps its axis, so a resumed
    sweep plans exactly the groups it checkpointed.
    """
    if config.config_axis != AUTO_CONFIG_AXIS:
        return config, AxisChoice(config.config_axis, "set in the sweep config")
    stored = _stored_config_axis(out_dir)
    if stored is not None:
        return dataclasses.replace(config, config_axis=stored), AxisChoice(stored, f"kept from {out_dir / RUN_MANIFEST}")
    platform, num_devices = jax.default_backend(), jax.local_device_count()
    default = resolve_config_axis(AUTO_CONFIG_AXIS, platform, num_devices)
    if default == VMAP:
        return dataclasses.replace(config, config_axis=VMAP), AxisChoice(VMAP, f"{num_devices} {platform} device(s)")
    if not calibration_enabled():
        return dataclasses.replace(config, config_axis=default), AxisChoice(default, f"{CALIBRATE_ENV}=0: the CPU default")
    estimated = {}
    for axis in CONFIG_AXES:
        candidate = dataclasses.replace(config, config_axis=axis)
        estimates = estimate_plan(make_plan(candidate), config.env_steps, config.eval_interval)
        estimated[axis] = sum(estimate.seconds for estimate in estimates.values())
    best = min(CONFIG_AXES, key=lambda axis: (estimated[axis], axis != MAP))
    return dataclasses.replace(config, config_axis=best), AxisChoice(
        best, "the faster by the calibrated estimate on this CPU", estimated
    )


def _stored_config_axis(out_dir: Path | None) -> str | None:
    """The config axis of the plan in `out_dir`'s run manifest (None: no readable plan there)."""
    if out_dir is None:
        return None
    try:
        groups = json.loads((Path(out_dir) / RUN_MANIFEST).read_text())["plan"]
        axes = {group["config_axis"] for group in groups}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return axes.pop() if len(axes) == 1 and axes <= set(CONFIG_AXES) else None
