"""How long will a sweep take? A calibrated wall-time estimate per group.

A group is calibrated with its own program: the trainer the run uses (same spec, the group's own σ
and B per config) is compiled ahead of time with a train chunk of CALIBRATION_ITERATIONS iterations,
and three things are timed on this device:

- an env-clock iteration before learning starts: every config acts in its `num_envs` envs, steps
  them and stores the transitions (`warmup_iteration_s`);
- an update unit once learning has started, from the same compiled chunk started at an iteration
  past the warm-up: what the chunk costs beyond the warm-up iterations, per applied update (map) or
  per executed update slot of all K configs (vmap), with replay sampling, padding or branches and
  the finiteness checks (`update_unit_s`);
- one whole evaluation (`evaluation_s`): the episodes and, for an agent with `td_error`, the TD
  errors on the replay and the validation buffer.

Each timed call starts from a state reset to its start iteration outside the timing; the call's own
dispatch stays in (a run pays it once per chunk of eval_interval env steps). A first, untimed-for-the-
estimate probe chunk of CALIBRATION_ITERATIONS sets how many iterations each timed chunk runs, so
that a chunk takes at least CALIBRATION_MIN_CHUNK_S and its dispatch is a small part of it.

    wall ≈ compile + iterations × warmup_iteration_s + learning iterations × units per iteration
           × update_unit_s + evaluations × evaluation_s

with units per iteration Σ_k σ_k·num_envs (map) or max_k σ_k·num_envs (vmap). Compile is the
measured ahead-of-time compile of the group's init, train chunk and evaluate (the chunk's length is
a traced argument, so the calibration's short chunk is the run's program). A run in the process that
calibrated reuses all three (JAX caches them per shape) and pays no compile; a later process pays
all three. Measurements are cached per device, JAX version, spec and the configs' (σ, B), in
`$RLSCALE_CACHE_DIR` (default ~/.cache/rlscale)/calibration.json, so a later estimate of the same
group costs nothing. The runner reports estimated vs actual per group. With several devices the
group is calibrated on one (the run shards its configs: an upper bound).

Nothing here decides what a sweep trains: the config axis is a rule of the devices
(plan.decide_config_axis), and an estimate only times the groups of a plan. `rlscale sweep --dry-run`
prints its plan without calibrating; `--estimate` calibrates, group by group, reporting each; a run
calibrates the groups it is about to train for its estimated-vs-actual report.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import MAP
from rlscale.envs.throughput import device_name
from rlscale.plan import Group, Plan
from rlscale.run.files import write_json_atomically

CACHE_ENV = "RLSCALE_CACHE_DIR"
CALIBRATE_ENV = "RLSCALE_CALIBRATE"
"""Set to 0 to skip calibrating in sweeps: runs then report no estimate (the benchmarks always
calibrate)."""
CACHE_FILE = "calibration.json"
CALIBRATION_VERSION = 4
"""Part of every cache key: a change of what a calibration measures invalidates older entries."""
CALIBRATION_ITERATIONS = 8
"""Env-clock iterations of the calibration's first train chunk (the probe) and the fewest of each
timed call."""
CALIBRATION_MIN_CHUNK_S = 0.05
"""Seconds a timed calibration chunk should at least take: a group whose probe is faster is timed
over proportionally more iterations, so that a call's dispatch (about a millisecond on a CPU) does
not inflate the per-iteration costs (at 8 iterations of a tiny group it was 35 % of the time)."""
CALIBRATION_MAX_ITERATIONS = 2048
"""The most iterations of a timed calibration chunk."""
CALIBRATION_REPETITIONS = 3
"""Timed calls of the train chunk, before and after learning starts (the median counts); the first
is after one untimed call (the learning chunk runs the same, warm, program)."""
CALIBRATION_ENOUGH_S = 2.0
"""Timed seconds of learning chunks after which fewer than CALIBRATION_REPETITIONS calls suffice
(a wide group's chunk takes seconds: its timing noise is small, and each call costs its time)."""
EVALUATION_REPETITIONS = 1
"""Timed evaluations (after one untimed call): an evaluation runs whole episodes."""
CALIBRATION_DISCOUNT = 0.99
CALIBRATION_TAU = 0.005
"""γ and τ of the calibration's hyperparameters (they do not change what an update costs)."""


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


_CALIBRATED_HERE: set[str] = set()
"""Cache keys of the groups calibrated in this process: their init and evaluate are compiled."""


def estimate_plan(
    plan: Plan, env_steps: int, eval_interval: int, groups=None, run_here: bool = False
) -> dict[int, GroupEstimate]:
    """{group index: estimate} for the plan's groups (those in `groups`, default all; see the module
    docstring); calibrations not cached yet are measured now and cached. `run_here`: the groups
    will run in this process (the runner), so those calibrated here count no compile (the run
    reuses the calibration's programs); otherwise (a dry run) every compile counts. An interrupted
    estimate (Ctrl-C) keeps the calibrations finished so far."""
    cache = _Cache(cache_path())
    try:
        return {
            index: _estimate_group(index, group, env_steps, eval_interval, cache, run_here)
            for index, group in enumerate(plan.groups)
            if groups is None or index in groups
        }
    finally:
        cache.save()


def estimated_seconds(plan: Plan, config) -> float | None:
    """Calibrate the plan's groups one after another on this machine's device, printing each as it
    starts and ends, and return the estimated wall seconds of the whole plan; Ctrl-C stops it (the
    group in flight is not estimated), prints the estimate of the groups before and returns None."""
    device = device_name()
    num_groups = len(plan.groups)
    print(f"estimating the wall time on {device} (this machine's device; on another device, e.g. a GPU, "
          f"the time differs: estimate there), group by group; calibrations cached in {cache_path()}", flush=True)
    estimates = []
    try:
        for index, group in enumerate(plan.groups):
            what = "cached calibration" if calibration_cached(group) else "compiling and timing its program"
            print(f"group {index + 1}/{num_groups} ({len(group.configs)} configs, width "
                  f"{group.spec.network.hidden_width}): {what} ...", flush=True)
            (estimate,) = estimate_plan(plan, config.env_steps, config.eval_interval, groups=[index]).values()
            estimates.append(estimate)
            print(f"group {index + 1}/{num_groups}: estimated {estimate.seconds:.0f} s (compile "
                  f"{estimate.compile_s:.0f}, env {estimate.env_s:.0f}, updates {estimate.update_s:.0f}, "
                  f"evaluation {estimate.eval_s:.0f})", flush=True)
    except KeyboardInterrupt:
        total = sum(estimate.seconds for estimate in estimates)
        print(f"estimate stopped (Ctrl-C) after {len(estimates)} of {num_groups} group(s): {total:.0f} s for "
              f"those on {device}; the finished calibrations are cached", flush=True)
        return None
    total = sum(estimate.seconds for estimate in estimates)
    print(f"estimated wall time: {total:.0f} s ({total / 3600:.2f} h) on {device}, one group after another "
          "(each group calibrated with its own program)", flush=True)
    return total


def calibration_cached(group: Group) -> bool:
    """Whether `group`'s calibration on this device is cached (its estimate then compiles nothing)."""
    return _Cache(cache_path()).has(_key(group))


def _estimate_group(
    index: int, group: Group, env_steps: int, eval_interval: int, cache: "_Cache", run_here: bool
) -> GroupEstimate:
    spec = group.spec
    key = _key(group)
    measured = cache.get(key, lambda: _calibrate_group(group))
    iterations = env_steps // spec.num_envs
    learning_iterations = iterations - min(iterations, _warmup_iterations(spec))
    env_s = iterations * measured["warmup_iteration_s"]
    update_s = learning_iterations * _units_per_iteration(group) * measured["update_unit_s"]
    eval_s = (env_steps // eval_interval) * measured["evaluation_s"]
    compiled_here = run_here and key in _CALIBRATED_HERE and jax.local_device_count() == 1
    compile_s = 0.0 if compiled_here else (
        measured["init_compile_s"] + measured["chunk_compile_s"] + measured["evaluate_compile_s"]
    )
    return GroupEstimate(index, compile_s + env_s + update_s + eval_s, compile_s, env_s, update_s, eval_s)


def _warmup_iterations(spec) -> int:
    """Iterations before the engine's first update (iteration · num_envs >= learning_starts)."""
    return -(-spec.learning_starts // spec.num_envs)


def _units_per_iteration(group: Group) -> float:
    """Update units a learning iteration computes: applied updates of all configs (map) or executed
    slots (vmap: slot j runs when any config has a j-th update, at least max_k σ_k·num_envs)."""
    per_config = [c.utd * group.spec.num_envs for c in group.configs]
    return sum(per_config) if group.spec.config_axis == MAP else max(per_config)


def _key(group: Group) -> str:
    """The cache key of a group's calibration: what it measures, the device, jax version, the spec
    (every shape and the config axis) and each config's (σ, B), which decide the updates an
    iteration computes."""
    return repr((
        CALIBRATION_VERSION, device_name(), jax.__version__, group.spec,
        tuple((float(c.utd), c.batch_size) for c in group.configs),
    ))


class _Cache:
    """The calibration file: {key: measurements}; keys measured in this process are remembered in
    _CALIBRATED_HERE."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.values = json.loads(path.read_text())
        except (OSError, ValueError):
            self.values = {}
        self.changed = False

    def has(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str, measure) -> dict:
        if key not in self.values:
            self.values[key] = measure()
            self.changed = True
            _CALIBRATED_HERE.add(key)
        return self.values[key]

    def save(self) -> None:
        """Write the cache (an unwritable cache directory only means measuring again next time)."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomically(self.path, self.values)
        except OSError:
            pass


def median_seconds(
    fn, carry, repetitions: int, warm_up: bool = True, enough_s: float = float("inf"), prepare=None
) -> tuple[float, object]:
    """Median wall time of up to `repetitions` calls of carry -> carry (after one untimed call when
    `warm_up`), stopping early once the timed calls add up to `enough_s`; and the last carry.
    `prepare` (carry -> carry), when given, runs untimed before every call."""
    prepared = (lambda carry: jax.block_until_ready(prepare(carry))) if prepare else (lambda carry: carry)
    if warm_up:
        carry = jax.block_until_ready(fn(prepared(carry)))
    samples = []
    while len(samples) < repetitions and sum(samples) < enough_s:
        carry = prepared(carry)
        start = time.perf_counter()
        carry = jax.block_until_ready(fn(carry))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), carry


def _calibrate_group(group: Group) -> dict:
    """Compile the group's own program ahead of time and time its iterations and an evaluation
    (module docstring)."""
    spec = group.spec
    trainer = get_trainer(spec)
    hparams = group.hparams(CALIBRATION_DISCOUNT, CALIBRATION_TAU)
    state_shape = jax.eval_shape(trainer.init, hparams)
    init, init_compile_s = _compiled(trainer.init, hparams)
    train_chunk, chunk_compile_s = _compiled(trainer.train_chunk, state_shape, CALIBRATION_ITERATIONS)
    evaluate, evaluate_compile_s = _compiled(trainer.evaluate, state_shape, 0)
    td_errors = None
    if trainer.td_errors is not None:
        td_errors, td_errors_compile_s = _compiled(trainer.td_errors, state_shape, 0)
        evaluate_compile_s += td_errors_compile_s
    learning_iteration = _warmup_iterations(spec)
    chunk_stats = {}

    def started_at(state, iteration: int):
        """`state` at `iteration` with no config diverged (a calibration update may diverge)."""
        return state.replace(
            iteration=jnp.full_like(state.iteration, iteration),
            diverged_iteration=jnp.full_like(state.diverged_iteration, -1),
        )

    def chunk_from(iteration: int, iterations: int):
        """A calibration chunk of `iterations` iterations, started at `iteration` by an untimed
        reset; the ChunkStats of its calls are appended to chunk_stats[(iteration, iterations)]
        (counted after the timing, which they stay out of)."""

        def reset(state):
            return started_at(state, iteration)

        def chunk(state):
            state, stats = train_chunk(state, iterations)
            chunk_stats.setdefault((iteration, iterations), []).append(stats)
            return state

        return chunk, reset

    # A probe of the learning chunk decides how many iterations each timed chunk runs: enough that
    # a call's dispatch is a small part of its time (the chunk's length is traced: no compile).
    probe_chunk, probe_reset = chunk_from(learning_iteration, CALIBRATION_ITERATIONS)
    probe_s, state = median_seconds(probe_chunk, init(hparams), 1, prepare=probe_reset)
    iterations = _calibration_iterations(probe_s)
    # The warm-up chunk ends where learning starts (it may start before iteration 0: no update
    # reads the iteration before then).
    warmup_start = min(0, learning_iteration - iterations)
    warmup_chunk, warmup_reset = chunk_from(warmup_start, iterations)
    # Every chunk below is the probe's program (the chunk length is traced), so already warm.
    warmup_s, state = median_seconds(
        warmup_chunk, state, CALIBRATION_REPETITIONS, warm_up=False, prepare=warmup_reset
    )
    learning_chunk, learning_reset = chunk_from(learning_iteration, iterations)
    learning_s, state = median_seconds(
        learning_chunk, state, CALIBRATION_REPETITIONS, warm_up=False, enough_s=CALIBRATION_ENOUGH_S,
        prepare=learning_reset,
    )

    def evaluation(state):
        jax.block_until_ready(evaluate(state, 0))
        if td_errors is not None:
            jax.block_until_ready(td_errors(state, 0))
        return state

    evaluation_s, _ = median_seconds(evaluation, state, EVALUATION_REPETITIONS)
    units = {key: [_update_units(spec, stats) for stats in calls] for key, calls in chunk_stats.items()}
    learning_units = statistics.median(units[(learning_iteration, iterations)])
    return {
        "init_compile_s": init_compile_s,
        "chunk_compile_s": chunk_compile_s,
        "evaluate_compile_s": evaluate_compile_s,
        "iterations": iterations,
        "warmup_iteration_s": warmup_s / iterations,
        "update_unit_s": max(learning_s - warmup_s, 0.0) / max(learning_units, 1),
        "evaluation_s": evaluation_s,
        "warmup_units": max(units[(warmup_start, iterations)]),
        "learning_units": learning_units,
    }


def _calibration_iterations(probe_s: float) -> int:
    """Iterations per timed calibration chunk, given `probe_s`, the seconds of one learning chunk of
    CALIBRATION_ITERATIONS: enough for CALIBRATION_MIN_CHUNK_S, within [CALIBRATION_ITERATIONS,
    CALIBRATION_MAX_ITERATIONS]."""
    wanted = math.ceil(CALIBRATION_ITERATIONS * CALIBRATION_MIN_CHUNK_S / max(probe_s, 1e-9))
    return min(max(wanted, CALIBRATION_ITERATIONS), CALIBRATION_MAX_ITERATIONS)


def _update_units(spec, stats) -> int:
    """A chunk's update units: applied updates of all configs (map) or executed slots (vmap, where
    every executed slot counts one computed update for each config)."""
    if spec.config_axis == MAP:
        return int(np.sum(np.asarray(stats.grad_steps)))
    return int(np.asarray(stats.computed_updates)[0])


def _compiled(jitted, *args):
    """(`jitted` compiled ahead of time for `args`, seconds it took)."""
    start = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - start
