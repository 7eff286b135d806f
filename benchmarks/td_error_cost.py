"""What TD-overfitting measurement costs, and how noisy one evaluation's TD error is.

A tiny pendulum sweep (SAC, width 64, σ ∈ {1, 2} × B ∈ {64, 256}, one seed: one group as the planner
makes it on this device) is trained for `--env-steps`; then, on its state:

- per evaluation: the wall and process-CPU seconds of `evaluate` (the episodes) and of `td_errors`
  (TD_ERROR_BATCHES batches of each config's B from its replay and its validation buffer), medians
  over interleaved repetitions, and the ahead-of-time compile of `td_errors` (once per group);
- per chunk of `--eval-interval` env steps: `train_chunk` with validation envs (the default
  validation_interval) against the same group without them (validation_interval = 0), interleaved;
- noise: the relative spread (std / mean over configs' means) of one batch's TD error on the
  validation buffer, over `--noise-batches` independent batches, and of the engine's mean over
  TD_ERROR_BATCHES batches across evaluation indices.

    python -m benchmarks.td_error_cost [--env-steps 3000] [--repetitions 7]

Not part of `make bench`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from rlscale.config import SweepConfig
from rlscale.engine import replay, schedule
from rlscale.engine.loop import TD_ERROR_BATCHES, get_trainer
from rlscale.plan import make_plan

SWEEP = dict(
    env="pendulum", utd=[1.0, 2.0], batch_size=[64, 256], learning_rate=[1e-3], seeds=[0], hidden_width=64,
    eval_episodes=5, learning_starts=1000, buffer_capacity=10_000,
)


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call of fn, waiting for its results."""
    wall, cpu = time.perf_counter(), time.process_time()
    jax.block_until_ready(fn())
    return time.perf_counter() - wall, time.process_time() - cpu


def _medians(samples: dict[str, list[tuple[float, float]]]) -> dict:
    return {
        name: {"wall_s": statistics.median(s[0] for s in values), "cpu_s": statistics.median(s[1] for s in values)}
        for name, values in samples.items()
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-steps", type=int, default=3000)
    parser.add_argument("--eval-interval", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--noise-batches", type=int, default=64)
    args = parser.parse_args(argv)
    config = SweepConfig(**SWEEP, env_steps=args.env_steps, eval_interval=args.eval_interval)
    (group,) = make_plan(config).groups
    hparams = group.hparams(config.discount, config.resolved_tau)
    with_validation = get_trainer(group.spec)
    without_validation = get_trainer(dataclasses.replace(group.spec, validation_interval=0))
    iterations = args.eval_interval // config.num_envs
    state_shape = jax.eval_shape(with_validation.init, hparams)
    compile_start = time.perf_counter()
    with_validation.td_errors.lower(state_shape, 0).compile()
    td_errors_compile_s = time.perf_counter() - compile_start
    states = {}
    for name, trainer in (("with", with_validation), ("without", without_validation)):
        state = trainer.init(hparams)
        for _ in range(args.env_steps // args.eval_interval):
            state, _ = trainer.train_chunk(state, iterations)
        jax.block_until_ready(trainer.evaluate(state, 0))
        jax.block_until_ready(trainer.td_errors(state, 0))
        states[name] = state

    samples = {"evaluate": [], "td_errors": [], "chunk_with_validation": [], "chunk_without_validation": []}
    for repetition in range(args.repetitions):
        state = states["with"]
        samples["evaluate"].append(_timed(lambda: with_validation.evaluate(state, repetition)))
        samples["td_errors"].append(_timed(lambda: with_validation.td_errors(state, repetition)))
        # A chunk donates its state: time it on a copy.
        for name, trainer in (("with", with_validation), ("without", without_validation)):
            copy = jax.tree_util.tree_map(jnp.copy, states[name])
            samples[f"chunk_{name}_validation"].append(_timed(lambda: trainer.train_chunk(copy, iterations)))
    timings = _medians(samples)

    state = states["with"]
    agent, spec = with_validation.agent, with_validation.spec
    mask = jax.vmap(lambda size: schedule.batch_mask(size, spec.max_batch_size))(state.hparams.batch_size)

    @jax.jit
    def one_batch_errors(key):
        keys = jax.random.split(key, state.hparams.batch_size.shape[0] * 2).reshape(-1, 2, 2)

        def per_config(agent_state, buffer, hparams, config_mask, config_keys):
            batch = replay.sample(buffer, config_keys[0], spec.max_batch_size)
            return agent.td_error(agent_state, batch, config_mask, hparams, config_keys[1])

        return jax.vmap(per_config)(state.agent, state.validation.replay, state.hparams, mask, keys)

    single = np.stack([np.asarray(one_batch_errors(jax.random.PRNGKey(k))) for k in range(args.noise_batches)])
    engine = np.stack([np.asarray(with_validation.td_errors(state, 100 + k).validation) for k in range(16)])
    relative = lambda values: float(np.mean(values.std(axis=0) / values.mean(axis=0)))
    return {
        "device": str(jax.devices()[0]),
        "configs": [dict(utd=c.utd, batch_size=c.batch_size) for c in group.configs],
        "config_axis": group.spec.config_axis,
        "eval_interval": args.eval_interval,
        "timings": timings,
        "td_errors_added_per_eval_s": timings["td_errors"],
        "td_errors_compile_s": td_errors_compile_s,
        "validation_envs_added_per_chunk_s": {
            key: timings["chunk_with_validation"][key] - timings["chunk_without_validation"][key]
            for key in ("wall_s", "cpu_s")
        },
        "relative_std_one_batch": relative(single),
        f"relative_std_mean_of_{TD_ERROR_BATCHES}_batches": relative(engine),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
