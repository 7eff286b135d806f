"""Distance to the limit: engine gradient updates/s vs a bare `lax.scan` of the same SAC updates, vs
this machine's matmul FLOP/s at the update's shapes, and the cost of mixing σ and B in one group.

Engine: K configs of UTD σ = bare_utd (one batch size) run through rlscale's full train_chunk (env
steps, replay insert and sample, update scheduling, divergence checks) with learning from the first
step, under each config axis (vmap: all configs per slot; map: lanes of equal σ and B, here one lane
of K). Bare: a jitted `lax.scan` of the same `SACAgent.update` over the same K configs (vmapped, or
unbatched for one config as the engine runs it: `over_configs`), on one fixed batch of random data:
no env, no replay buffer. Every program is compiled first and warmed up once; then
`throughput_repetitions` rounds each time one call of every program (map, vmap, bare) one after the
other, so a round's three figures share the machine's state of the moment (a shared CPU drifts by
tens of percent within minutes). Rates are medians over rounds; engine / bare, the fraction of the
pure update speed the engine keeps, is the median of the rounds' ratios.

The limit: XLA's FLOP count of one update (cost analysis of the compiled bare update) times
updates/s is the achieved FLOP/s, set against the FLOP/s of a chain of [B, width] x [width, width]
matmuls (the update's largest GEMMs) and of one large square matmul, timed the same way.

Mixed group: σ ∈ bare_mixed_utds × B ∈ bare_mixed_batch_sizes × seeds, one group under each axis; useful
updates/s (applied updates) and the measured wasted fraction of computed gradient rows.

    python -m benchmarks.run --only bare
"""

from __future__ import annotations

import dataclasses
import itertools
import sys

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import BenchSize, clear_compile_caches, compile_group, sweep_config
from rlscale.agents import make_agent
from rlscale.agents.core import NStepTransition, Transition, single_config_context
from rlscale.agents.spec import N_STEP_BATCH
from rlscale.config import RunConfig
from rlscale.engine import schedule
from rlscale.engine.loop import over_configs
from rlscale.engine.spec import AUTO_CONFIG_AXIS, CONFIG_AXES
from rlscale.envs.registry import get_spec
from rlscale.plan import decide_config_axis, make_plan
from rlscale.run.estimate import median_seconds

LARGE_MATMUL_SIZE = 2048
"""Side of the square matmul whose FLOP/s stands for the device's dense peak."""
MATMUL_CHAIN_LENGTH = 64
"""Matmuls per timed call of the update-shape chain."""
RANDOM_BATCH_DISCOUNT = 0.99
"""The n-step discount of a random n-step batch."""


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


def _group(size: BenchSize, configs: list[RunConfig], width: int, axis: str):
    sweep = dataclasses.replace(sweep_config(size, configs, size.env_steps), hidden_width=width, config_axis=axis)
    (group,) = make_plan(sweep).groups
    return sweep, group


@dataclasses.dataclass
class TimedProgram:
    """A compiled carry -> carry call and the updates one call applies."""

    call: object
    carry: object
    updates_per_call: int
    wasted_fraction: float = 0.0
    """Measured wasted fraction of the computed gradient rows (engine programs; 0 for bare)."""


def engine_program(size: BenchSize, configs: list[RunConfig], width: int, axis: str, iterations: int) -> TimedProgram:
    """rlscale's train_chunk for `configs` as one group under `axis`, `iterations` per call, with the
    applied updates of one call and the measured wasted fraction of its computed gradient rows (one
    untimed call measures both)."""
    sweep, group = _group(size, configs, width, axis)
    hparams = group.hparams(sweep.discount, sweep.resolved_tau)
    (init, train_chunk, _), _, _ = compile_group(group.spec, hparams)

    def call(state):
        return train_chunk(state, iterations)[0]

    state, stats = jax.block_until_ready(train_chunk(init(hparams), iterations))
    grad_steps, computed = np.asarray(stats.grad_steps), np.asarray(stats.computed_updates)
    waste = schedule.measured_wasted_fraction(
        grad_steps.tolist(), [c.batch_size for c in configs], computed.tolist(), group.computed_batch_sizes
    )
    return TimedProgram(call, state, int(grad_steps.sum()), waste)


def bare_program(size: BenchSize, configs: list[RunConfig], width: int) -> tuple[TimedProgram, float]:
    """A jitted lax.scan of vmapped SACAgent.update on random data (`size.bare_updates` per config
    per call), and XLA's FLOPs of one update."""
    sweep, group = _group(size, configs, width, "vmap")
    spec = group.spec
    env_spec = get_spec(sweep.env)
    agent = make_agent(spec.algo, env_spec.observation_size, env_spec.action_size, spec.network)
    hparams = group.hparams(sweep.discount, sweep.resolved_tau)
    num_configs, batch_size = spec.num_configs, spec.max_batch_size
    rows = (num_configs, batch_size)
    batch = random_batch(agent, env_spec, num_configs, batch_size, jax.random.PRNGKey(0))
    mask = jnp.ones(rows)
    agents = jax.jit(jax.vmap(agent.init))(jax.random.split(jax.random.PRNGKey(3), num_configs), hparams)

    def one_update(agents, rng):
        update_rngs = jax.random.split(rng, num_configs)
        return over_configs(
            lambda a, b, m, h, r: agent.update(a, b, m, h, r, single_config_context(agent, a, h))[0],
            (0, 0, 0, 0, 0), num_configs,
        )(agents, batch, mask, hparams, update_rngs)

    def scan_updates(carry):
        def body(carry, _):
            agents, rng = carry
            rng, step_rng = jax.random.split(rng)
            return (one_update(agents, step_rng), rng), None

        return jax.lax.scan(body, carry, None, length=size.bare_updates)[0]

    carry = (agents, jax.random.PRNGKey(1))
    compiled = jax.jit(scan_updates, donate_argnums=0).lower(carry).compile()
    flops = _flops(jax.jit(one_update).lower(agents, jax.random.PRNGKey(2)).compile()) / num_configs
    carry = jax.block_until_ready(compiled(carry))
    return TimedProgram(compiled, carry, num_configs * size.bare_updates), flops


def interleaved_rates(programs: dict[str, TimedProgram], rounds: int) -> dict[str, list[float]]:
    """Updates/s of every program in each of `rounds` rounds; a round times one call of each, in
    order (every program was warmed up by its constructor)."""
    rates = {name: [] for name in programs}
    for _ in range(rounds):
        for name, program in programs.items():
            seconds, program.carry = median_seconds(program.call, program.carry, 1, warm_up=False)
            rates[name].append(program.updates_per_call / seconds)
    return rates


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median over rounds of numerator / denominator measured in the same round."""
    return float(np.median(np.asarray(numerators) / np.asarray(denominators)))


def _flops(compiled) -> float:
    analysis = compiled.cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return float(analysis.get("flops", float("nan")))


def matmul_flops_per_s(rows: int, inner: int, columns: int, chain: int, repetitions: int) -> float:
    """FLOP/s of a chain of `chain` dependent [rows, inner] x [inner, columns] matmuls (inner ==
    columns), median of `repetitions` timed calls."""
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    x = jax.random.normal(keys[0], (rows, inner))
    weight = jax.random.normal(keys[1], (inner, columns)) / np.sqrt(inner)

    @jax.jit
    def run(x):
        return jax.lax.fori_loop(0, chain, lambda _, x: x @ weight, x)

    seconds, _ = median_seconds(run, x, repetitions)
    return 2.0 * rows * inner * columns * chain / seconds


def _uniform_configs(size: BenchSize, num_configs: int, batch_size: int) -> list[RunConfig]:
    return [
        RunConfig(i, float(size.bare_utd), batch_size, size.learning_rates[i % len(size.learning_rates)], i)
        for i in range(num_configs)
    ]


def _mixed_configs(size: BenchSize) -> list[RunConfig]:
    combos = itertools.product(size.bare_mixed_utds, size.bare_mixed_batch_sizes, range(size.bare_mixed_seeds))
    return [
        RunConfig(i, float(utd), batch, size.learning_rates[i % len(size.learning_rates)], seed)
        for i, (utd, batch, seed) in enumerate(combos)
    ]


def run(size: BenchSize) -> dict:
    """{"rows": per (width, K): engine per axis / bare / FLOP figures, "limit": matmul FLOP/s,
    "mixed": per axis useful updates/s and measured waste, and the sizes used}."""
    size = dataclasses.replace(size, learning_starts=0)
    batch_size = size.bare_batch_size
    iterations = size.bare_updates // (size.bare_utd * size.num_envs)
    rows, limits = [], {}
    for width in size.bare_widths:
        gemm = matmul_flops_per_s(batch_size, width, width, MATMUL_CHAIN_LENGTH, size.throughput_repetitions)
        limits[width] = gemm
        for num_configs in size.bare_group_sizes:
            configs = _uniform_configs(size, num_configs, batch_size)
            clear_compile_caches()
            row = {"hidden_width": width, "num_configs": num_configs, "update_gemm_flops_per_s": gemm}
            programs = {axis: engine_program(size, configs, width, axis, iterations) for axis in CONFIG_AXES}
            programs["bare"], flops = bare_program(size, configs, width)
            rates = interleaved_rates(programs, size.throughput_repetitions)
            sweep, _ = _group(size, configs, width, AUTO_CONFIG_AXIS)
            row["auto_config_axis"] = decide_config_axis(sweep).config_axis
            row.update(bare_updates_per_s=float(np.median(rates["bare"])), flops_per_update=flops)
            for axis in CONFIG_AXES:
                row[f"{axis}_updates_per_s"] = float(np.median(rates[axis]))
                row[f"{axis}_over_bare"] = _median_ratio(rates[axis], rates["bare"])
                row[f"{axis}_flops_per_s"] = row[f"{axis}_updates_per_s"] * row["flops_per_update"]
                row[f"{axis}_fraction_of_gemm"] = row[f"{axis}_flops_per_s"] / gemm
            row["bare_fraction_of_gemm"] = row["bare_updates_per_s"] * row["flops_per_update"] / gemm
            print(
                f"bare width {width} K={num_configs}: "
                + ", ".join(f"{axis} {row[f'{axis}_updates_per_s']:.0f}" for axis in CONFIG_AXES)
                + f", bare {row['bare_updates_per_s']:.0f} updates/s; "
                + ", ".join(f"{axis}/bare {row[f'{axis}_over_bare']:.2f}" for axis in CONFIG_AXES),
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
    peak = matmul_flops_per_s(
        LARGE_MATMUL_SIZE, LARGE_MATMUL_SIZE, LARGE_MATMUL_SIZE, 1, size.throughput_repetitions
    )
    mixed_configs = _mixed_configs(size)
    clear_compile_caches()
    mixed_programs = {
        axis: engine_program(size, mixed_configs, max(size.bare_widths), axis, size.bare_mixed_iterations)
        for axis in CONFIG_AXES
    }
    mixed_rates = interleaved_rates(mixed_programs, size.throughput_repetitions)
    mixed = {
        axis: {"updates_per_s": float(np.median(mixed_rates[axis])), "measured_wasted_fraction": program.wasted_fraction}
        for axis, program in mixed_programs.items()
    }
    print(f"bare mixed group: {mixed}", file=sys.stderr, flush=True)
    return {
        "rows": rows,
        "mixed_auto_config_axis": decide_config_axis(_group(size, mixed_configs, max(size.bare_widths), AUTO_CONFIG_AXIS)[0]).config_axis,
        "large_matmul_flops_per_s": peak,
        "large_matmul_size": LARGE_MATMUL_SIZE,
        "mixed": mixed,
        "mixed_configs": len(mixed_configs),
        "mixed_utds": list(size.bare_mixed_utds),
        "mixed_batch_sizes": list(size.bare_mixed_batch_sizes),
        "mixed_planned_wasted_fraction": schedule.planned_wasted_fraction(
            [c.utd for c in mixed_configs], [c.batch_size for c in mixed_configs], size.num_envs
        ),
        "utd": size.bare_utd,
        "batch_size": batch_size,
        "updates_per_config": size.bare_updates,
        "repetitions": size.throughput_repetitions,
    }
