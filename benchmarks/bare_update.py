"""Distance to the limit: engine gradient updates/s vs a bare `lax.scan` of the same SAC updates.

Engine: K configs of UTD σ = bare_utd (one batch size, so nothing is padded or masked away) run
through rlscale's full train_chunk (env steps, replay insert and sample, update-slot scheduling,
divergence checks) with learning from the first step. Bare: a jitted `lax.scan` of the same
`SACAgent.update`, vmapped over the same K configs, on one fixed batch of random data: no env, no
replay buffer. Both are compiled first, warmed up once, then timed `throughput_repetitions` times
(median). The ratio engine / bare is the fraction of the pure update speed the engine keeps.

    python -m benchmarks.run --only bare
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time

import jax
import jax.numpy as jnp

from benchmarks.common import BenchSize, clear_compile_caches, compile_group, sweep_config
from rlscale.agents import make_agent
from rlscale.agents.core import Transition, single_config_context
from rlscale.config import RunConfig
from rlscale.envs.registry import get_spec
from rlscale.plan import make_plan


def _median_seconds(fn, state, repetitions: int) -> tuple[float, object]:
    """Median wall time of `repetitions` calls of state -> state (the first call is a warm-up)."""
    state = jax.block_until_ready(fn(state))
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        state = jax.block_until_ready(fn(state))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), state


def _engine_updates_per_s(size: BenchSize, sweep, group) -> float:
    """Median gradient updates/s of rlscale's train_chunk (all K configs together)."""
    hparams = group.hparams(sweep.discount, sweep.resolved_tau)
    iterations = size.bare_updates // (size.bare_utd * size.num_envs)
    (init, train_chunk, _), _, _ = compile_group(group.spec, hparams, iterations)
    seconds, _ = _median_seconds(lambda state: train_chunk(state)[0], init(hparams), size.throughput_repetitions)
    return group.spec.num_configs * iterations * size.bare_utd * size.num_envs / seconds


def _bare_updates_per_s(size: BenchSize, sweep, group) -> float:
    """Median gradient updates/s of a jitted lax.scan of vmapped SACAgent.update on random data."""
    spec = group.spec
    env_spec = get_spec(sweep.env)
    agent = make_agent(spec.algo, env_spec.observation_size, env_spec.action_size, spec.network)
    hparams = group.hparams(sweep.discount, sweep.resolved_tau)
    num_configs, batch_size = spec.num_configs, spec.max_batch_size
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    rows = (num_configs, batch_size)
    batch = Transition(
        obs=jax.random.normal(keys[0], rows + (env_spec.observation_size,)),
        action=jax.random.uniform(keys[1], rows + (env_spec.action_size,), minval=-1.0, maxval=1.0),
        reward=jax.random.normal(keys[2], rows),
        next_obs=jax.random.normal(keys[3], rows + (env_spec.observation_size,)),
        termination=jnp.zeros(rows),
    )
    mask = jnp.ones(rows)
    agents = jax.jit(jax.vmap(agent.init))(jax.random.split(keys[4], num_configs), hparams)

    def scan_updates(carry, batch):
        def body(carry, _):
            agents, rng = carry
            rng, step_rng = jax.random.split(rng)
            update_rngs = jax.random.split(step_rng, num_configs)
            agents, _ = jax.vmap(
                lambda a, b, m, h, r: agent.update(a, b, m, h, r, single_config_context(agent, a, h))
            )(agents, batch, mask, hparams, update_rngs)
            return (agents, rng), None

        return jax.lax.scan(body, carry, None, length=size.bare_updates)[0]

    carry = (agents, jax.random.PRNGKey(1))
    compiled = jax.jit(scan_updates, donate_argnums=0).lower(carry, batch).compile()
    seconds, _ = _median_seconds(lambda carry: compiled(carry, batch), carry, size.throughput_repetitions)
    return num_configs * size.bare_updates / seconds


def run(size: BenchSize) -> dict:
    """Returns {"rows": [{num_configs, engine/bare updates/s, ratio}], "utd", "batch_size", ...}."""
    size = dataclasses.replace(size, learning_starts=0)
    batch_size = max(size.batch_sizes)
    rows = []
    for num_configs in size.bare_group_sizes:
        configs = [
            RunConfig(i, float(size.bare_utd), batch_size, size.learning_rates[i % len(size.learning_rates)], i)
            for i in range(num_configs)
        ]
        sweep = sweep_config(size, configs, size.env_steps)
        (group,) = make_plan(sweep).groups
        clear_compile_caches()
        engine = _engine_updates_per_s(size, sweep, group)
        bare = _bare_updates_per_s(size, sweep, group)
        print(
            f"bare K={num_configs:3d}: engine {engine:8.0f} bare {bare:8.0f} updates/s "
            f"ratio {engine / bare:.2f}",
            file=sys.stderr,
            flush=True,
        )
        rows.append(
            {
                "num_configs": num_configs,
                "engine_updates_per_s": engine,
                "bare_updates_per_s": bare,
                "engine_over_bare": engine / bare,
            }
        )
    return {
        "rows": rows,
        "utd": size.bare_utd,
        "batch_size": batch_size,
        "updates_per_config": size.bare_updates,
        "repetitions": size.throughput_repetitions,
    }
