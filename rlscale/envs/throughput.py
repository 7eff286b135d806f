"""Measuring an env's compile time and environment steps per second on the current device."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp

from rlscale.envs.registry import make_env


def device_name() -> str:
    """The default JAX device in words, e.g. 'gpu: NVIDIA H100 80GB HBM3' or 'cpu: <model>, 2 cores'."""
    device = jax.devices()[0]
    if device.platform != "cpu":
        return f"{device.platform}: {device.device_kind}"
    model = "unknown model"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {model}, {len(os.sched_getaffinity(0))} cores"


def _batched_where(done: jax.Array, on_done: Any, otherwise: Any) -> Any:
    """Per-env select over a batched state pytree; done: f32[num_envs], leaves [num_envs, ...]."""

    def select(a, b):
        mask = done.reshape(done.shape + (1,) * (a.ndim - 1)) > 0
        return jnp.where(mask, a, b)

    return jax.tree.map(select, on_done, otherwise)


def measure_throughput(
    name: str, num_envs: int, num_steps: int = 100, repetitions: int = 3, seed: int = 0, **options: Any
) -> dict[str, Any]:
    """Compiles and times `num_steps` steps of `num_envs` vmapped copies of env `name`.

    Actions are uniform in [-1, 1]; a terminated env restarts from its first state (as Brax's
    AutoResetWrapper does), so the physics never runs past a termination. `compile_s` is the time
    to lower and compile the batched reset and the scanned step loop; `steps_per_s` is
    num_envs * num_steps divided by the median wall time of `repetitions` runs after one warm-up.
    """
    if num_envs < 1 or num_steps < 1 or repetitions < 1:
        raise ValueError(
            f"num_envs, num_steps and repetitions must be >= 1; got {num_envs}, {num_steps}, {repetitions}"
        )
    spec, env = make_env(name, **options)
    batched_step = jax.vmap(env.step)

    def run(states, first_states, key):
        def body(states, step_key):
            actions = jax.random.uniform(step_key, (num_envs, spec.action_size), minval=-1.0, maxval=1.0)
            next_states = batched_step(states, actions)
            return _batched_where(next_states.done, first_states, next_states), next_states.reward

        states, rewards = jax.lax.scan(body, states, jax.random.split(key, num_steps))
        return states, rewards.sum()

    reset_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
    reset_keys = jax.random.split(reset_key, num_envs)
    start = time.perf_counter()
    reset = jax.jit(jax.vmap(env.reset)).lower(reset_keys).compile()
    first_states = reset(reset_keys)
    compiled_run = jax.jit(run).lower(first_states, first_states, run_key).compile()
    compile_s = time.perf_counter() - start

    states, total = compiled_run(first_states, first_states, run_key)
    jax.block_until_ready(total)
    durations = []
    for repetition in range(repetitions):
        start = time.perf_counter()
        states, total = compiled_run(states, first_states, jax.random.fold_in(run_key, repetition))
        jax.block_until_ready((states, total))
        durations.append(time.perf_counter() - start)
    return dict(
        env=name,
        options=dict(sorted(options.items())),
        num_envs=num_envs,
        num_steps=num_steps,
        device=device_name(),
        jax_version=jax.__version__,
        compile_s=compile_s,
        steps_per_s=num_envs * num_steps / statistics.median(durations),
        repetitions=repetitions,
    )
