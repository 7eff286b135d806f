"""Shared pieces of the `make bench` harness: sizes, the benchmark configs, and a timed rlscale run
(through the runner's own chunk loop, `rlscale.run.chunks.group_chunks`).

Every benchmark trains SAC configs that differ in learning rate η, batch size B, UTD σ and seed.
`BenchSize` fixes how big everything is; `SIZES` holds the three presets (`smoke` for the test
suite, `cpu` for a 2-core machine, `gpu` for one accelerator).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable

import jax

from rlscale.agents.core import HyperParams
from rlscale.config import RunConfig, SweepConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import GroupSpec
from rlscale.plan import decide_config_axis, make_plan
from rlscale.run.chunks import Chunk, TrainerFunctions, fresh_counters, group_chunks, measured_wasted_fraction
from rlscale.run.estimate import estimate_plan


@dataclasses.dataclass(frozen=True)
class BenchSize:
    """How large every benchmark is. All env-step counts are per config."""

    name: str
    """Preset name, recorded in the results."""
    env: str = "pendulum"
    """Registry env every benchmark trains on."""
    hidden_width: int = 64
    """Units per hidden layer of actor and critics (2 hidden layers)."""
    num_envs: int = 1
    """Parallel envs per config (UTD σ counts updates per transition, so σ·num_envs per iteration)."""
    group_sizes: tuple[int, ...] = (1, 4, 16, 64)
    """K values of the sweep-vs-sequential benchmark."""
    compile_group_sizes: tuple[int, ...] = (1, 64)
    """K values of the compile-time benchmark (the sweep also records each K's cold compile)."""
    learning_rates: tuple[float, ...] = (3e-4, 1e-3)
    """η values mixed into every group."""
    batch_sizes: tuple[int, ...] = (64, 128)
    """B values mixed into every group."""
    utds: tuple[int, ...] = (1, 2)
    """σ values mixed into every group (integers, so Brax's grad_updates_per_step can match)."""
    env_steps: int = 5_000
    """Env steps per config in the sweep and Brax runs (pendulum is swung up after about 4,000)."""
    learning_starts: int = 1_000
    """Uniform-random env steps before the first update (Brax: min_replay_size)."""
    eval_interval: int = 500
    """Env steps per timed chunk; one evaluation after each chunk."""
    eval_episodes: int = 5
    """Deterministic episodes per evaluation (Brax: num_eval_envs)."""
    buffer_capacity: int = 10_000
    """Replay capacity per config, in transitions."""
    agent_options: tuple[tuple[str, object], ...] = ()
    """(name, value) options over the SAC preset (the sweep's `agent` table)."""
    sequential_configs: int = 2
    """Configs trained one after another (rlscale K=1); longer sequences are extrapolated."""
    brax_configs: int = 2
    """Configs trained one after another with Brax SAC; longer sequences are extrapolated."""
    compile_repetitions: int = 1
    """Repetitions of each compile-time measurement (the median is reported)."""
    bare_utd: int = 8
    """σ of the engine-vs-bare-update comparison (the target is stated for σ >= 4)."""
    bare_group_sizes: tuple[int, ...] = (1, 8)
    """K values of the engine-vs-bare-update comparison."""
    bare_widths: tuple[int, ...] = (64, 256)
    """Hidden widths of the engine-vs-bare-update comparison (256: the paper's 2×256)."""
    bare_batch_size: int = 256
    """B of the engine-vs-bare-update comparison."""
    bare_updates: int = 400
    """Gradient updates per config in each timed engine / bare run."""
    bare_mixed_utds: tuple[float, ...] = (0.5, 2.0)
    """σ values of the mixed group (at the largest bare width)."""
    bare_mixed_batch_sizes: tuple[int, ...] = (256,)
    """B values of the mixed group."""
    bare_mixed_seeds: int = 3
    """Seeds per (σ, B) of the mixed group."""
    bare_mixed_iterations: int = 64
    """Env-clock iterations per timed chunk of the mixed group."""
    throughput_repetitions: int = 3
    """Repetitions of each steady-state throughput measurement (the median is reported)."""
    env_throughput_size: str = "tiny"
    """Size passed to benchmarks.env_throughput.run."""
    fit_speed_size: str = "cpu"
    """Size passed to benchmarks.fit_speed.run."""


SIZES = {
    # Smoke: one (B, σ) so that every K=1 group shares a compile key (compiles dominate its time).
    "smoke": BenchSize(
        name="smoke",
        hidden_width=16,
        group_sizes=(1, 2),
        compile_group_sizes=(1, 2),
        learning_rates=(1e-3, 3e-4),
        batch_sizes=(32,),
        utds=(1,),
        env_steps=400,
        learning_starts=200,
        eval_interval=200,
        eval_episodes=2,
        buffer_capacity=1_000,
        sequential_configs=2,
        brax_configs=1,
        compile_repetitions=1,
        bare_utd=4,
        bare_group_sizes=(2,),
        bare_widths=(16,),
        bare_batch_size=32,
        bare_updates=200,
        bare_mixed_batch_sizes=(16, 32),
        bare_mixed_seeds=1,
        bare_mixed_iterations=16,
        throughput_repetitions=1,
        env_throughput_size="tiny",
        fit_speed_size="tiny",
    ),
    "cpu": BenchSize(name="cpu"),
    "gpu": BenchSize(
        name="gpu",
        hidden_width=256,
        num_envs=8,
        compile_group_sizes=(1, 4, 16, 64),
        batch_sizes=(128, 256),
        env_steps=40_000,
        learning_starts=4_000,
        eval_interval=4_000,
        buffer_capacity=200_000,
        bare_group_sizes=(1, 64),
        bare_updates=4_000,
        bare_mixed_seeds=8,
        bare_mixed_iterations=500,
        compile_repetitions=3,
        sequential_configs=8,
        brax_configs=4,
        env_throughput_size="gpu",
    ),
}


def bench_configs(size: BenchSize, num_configs: int) -> list[RunConfig]:
    """The first `num_configs` benchmark configs.

    Configs cycle through every (η, B, σ) combination (σ fastest, η slowest) before the seed
    changes, so short prefixes already mix the compute-relevant σ and B (which keeps the linear
    extrapolation of a sequential prefix fair).
    """
    combos = list(itertools.product(size.learning_rates, size.batch_sizes, size.utds))
    return [
        RunConfig(i, float(u), int(b), float(lr), i // len(combos))
        for i, (lr, b, u) in zip(range(num_configs), itertools.cycle(combos))
    ]


def sweep_config(size: BenchSize, configs: list[RunConfig], env_steps: int) -> SweepConfig:
    """A SweepConfig training `configs` as ONE group (no planner split by slots or waste)."""
    return SweepConfig(
        env=size.env,
        configs=[
            {"utd": c.utd, "batch_size": c.batch_size, "learning_rate": c.learning_rate, "seed": c.seed}
            for c in configs
        ],
        env_steps=env_steps,
        eval_interval=size.eval_interval,
        eval_episodes=size.eval_episodes,
        num_envs=size.num_envs,
        learning_starts=size.learning_starts,
        buffer_capacity=size.buffer_capacity,
        hidden_width=size.hidden_width,
        agent=dict(size.agent_options),
        max_group_size=max(len(configs), 1),
        max_wasted_fraction=1.0,
    )


_COMPILED: dict = {}
"""GroupSpec -> (init, train_chunk, evaluate) executables, like get_trainer's cache."""


def clear_compile_caches() -> None:
    """Forget every compiled trainer, so the next run pays its compile as a fresh process would."""
    _COMPILED.clear()
    get_trainer.cache_clear()
    jax.clear_caches()


def compile_group(spec: GroupSpec, hparams: HyperParams):
    """Ahead-of-time compiled (init, train_chunk, evaluate) for `spec`, the wall seconds and the
    process CPU seconds it took (CPU time is far less sensitive to other load on the machine).
    `train_chunk(state, num_iterations)` runs chunks of any length (the length is traced).

    Equal specs reuse one compile (0 seconds), as rlscale's trainer cache does; so does a group
    that rlscale's calibration compiled in this process (JAX's cache).
    """
    if spec in _COMPILED:
        return _COMPILED[spec], 0.0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer = get_trainer(spec)
    init = trainer.init.lower(hparams).compile()
    state_shape = jax.eval_shape(trainer.init, hparams)
    train_chunk = trainer.train_chunk.lower(state_shape, 1).compile()
    evaluate = trainer.evaluate.lower(state_shape, 0).compile()
    _COMPILED[spec] = (init, train_chunk, evaluate)
    return _COMPILED[spec], time.perf_counter() - start, time.process_time() - cpu_start


def compiled_peak_bytes(executable) -> int:
    """XLA's peak device bytes for one call: arguments + outputs + temporaries - donated aliases."""
    analysis = executable.memory_analysis()
    return int(
        analysis.argument_size_in_bytes
        + analysis.output_size_in_bytes
        + analysis.temp_size_in_bytes
        - analysis.alias_size_in_bytes
    )


def tree_bytes(tree) -> int:
    return int(sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(tree)))


@dataclasses.dataclass
class GroupRun:
    """Timings and outcome of training one group from scratch."""

    num_configs: int
    env_steps: int
    """Per config."""
    wall_s: float
    """Total, what a user of `rlscale sweep` waits: calibration + compile + init + every chunk +
    every evaluation."""
    calibration_s: float
    """The calibration (run/estimate.py: both config axes when "auto" is decided on a CPU, then the
    estimate), before the group runs."""
    estimated_wall_s: float
    """rlscale's calibrated estimate of the group's run (wall_s - calibration_s), made before it ran."""
    compile_s: float
    """Compilation of init, train_chunk and evaluate after the calibration (0 when the calibration
    or an equal group compiled them before: the calibration's compile is in calibration_s)."""
    compile_cpu_s: float
    """The same in process CPU seconds."""
    steady_updates_per_s: float
    """Gradient updates per second, all configs together, over the chunks after learning_starts."""
    steady_env_steps_per_s: float
    """Env steps per second, all configs together, over the same chunks."""
    steady_chunks: int
    """Chunks (each one lax.scan of eval_interval env steps plus an evaluation) timed for the rates."""
    grad_steps: list[int]
    measured_wasted_fraction: float
    final_returns: list[float]
    returns_per_eval: list[list[float]]
    """Per evaluation (every eval_interval env steps), each config's return."""
    state_bytes: int
    """Device bytes of the group's GroupState."""
    compiled_peak_bytes: int
    """XLA's peak estimate for one train_chunk call (see compiled_peak_bytes)."""


def train_group(
    size: BenchSize, configs: list[RunConfig], env_steps: int, on_chunk: Callable[[Chunk], None] | None = None
) -> GroupRun:
    """Train `configs` as one rlscale group, timing each chunk (train + evaluate) on the host;
    `on_chunk`, if given, sees every chunk as it finishes (progress reports of long runs, or another
    trainer's work interleaved with this group's chunks: its time is not counted in `wall_s`).

    The group trains through the runner's own loop (`rlscale.run.chunks.group_chunks`, which
    `rlscale.run.runner.run_sweep` writes to files): the same config-axis choice and planner, the
    same jitted trainer functions (compiled ahead of time here, to time the compile apart) and the
    same chunks of eval_interval env steps with an evaluation after each. Not measured here: the
    TD errors the runner evaluates after each chunk (benchmarks/td_error_cost.py measures them).
    """
    start = time.perf_counter()
    sweep = sweep_config(size, configs, env_steps)
    sweep = decide_config_axis(sweep).applied_to(sweep)
    plan = make_plan(sweep)
    (group,) = plan.groups
    estimated_wall_s = estimate_plan(plan, env_steps, sweep.eval_interval, run_here=True)[0].seconds
    calibration_s = time.perf_counter() - start
    start = time.perf_counter()
    hparams = group.hparams(sweep.discount, sweep.resolved_tau)
    (init, train_chunk, evaluate), compile_s, compile_cpu_s = compile_group(group.spec, hparams)
    state = init(hparams)
    state_bytes = tree_bytes(state)
    trainer = TrainerFunctions(train_chunk, evaluate, get_trainer(group.spec).mark_diverged)
    first_steady_chunk = max(1, -(-sweep.learning_starts // sweep.eval_interval))
    returns_per_eval = []
    steady_s, steady_updates, steady_chunks = 0.0, 0, 0
    on_chunk_s = 0.0
    for evaluated in group_chunks(trainer, state, fresh_counters(len(configs)), sweep, group.configs):
        chunk = evaluated.chunk
        if on_chunk is not None:
            on_chunk_start = time.perf_counter()
            on_chunk(chunk)
            on_chunk_s += time.perf_counter() - on_chunk_start
        returns_per_eval.append(chunk.returns.tolist())
        if chunk.eval_index >= first_steady_chunk:
            steady_s += chunk.seconds
            steady_updates += int(chunk.grad_steps.sum())
            steady_chunks += 1
    wall_s = calibration_s + time.perf_counter() - start - on_chunk_s
    grad_steps = evaluated.grad_steps.tolist()
    return GroupRun(
        num_configs=len(configs),
        env_steps=env_steps,
        wall_s=wall_s,
        calibration_s=calibration_s,
        estimated_wall_s=estimated_wall_s,
        compile_s=compile_s,
        compile_cpu_s=compile_cpu_s,
        steady_updates_per_s=steady_updates / steady_s if steady_chunks else float("nan"),
        steady_env_steps_per_s=(
            len(configs) * steady_chunks * sweep.eval_interval / steady_s if steady_chunks else float("nan")
        ),
        steady_chunks=steady_chunks,
        grad_steps=grad_steps,
        measured_wasted_fraction=measured_wasted_fraction(group, grad_steps, evaluated.computed_updates.tolist()),
        final_returns=returns_per_eval[-1],
        returns_per_eval=returns_per_eval,
        state_bytes=state_bytes,
        compiled_peak_bytes=compiled_peak_bytes(train_chunk),
    )
