"""vs Brax SAC: the benchmark configs trained one after another with `brax.training.agents.sac`.

Matched to rlscale: the same registry env (through a thin `brax.envs.base.Env` adapter), actor and
critic MLPs of the same hidden sizes, batch size B, learning rate η, UTD σ (Brax's
grad_updates_per_step = σ·num_envs), env-step budget, replay warm-up (min_replay_size =
learning_starts), replay capacity, discount 0.99, tau 0.005, reward_scaling 1 and deterministic
evaluation over eval_episodes episodes. Known differences: Brax's target entropy is -|A|/2
(rlscale's SAC preset: -|A|, matched in the paper-width comparison of brax_paper_width.py), its
warm-up acts with the initial policy (rlscale: uniform random actions), and its auto-reset restarts
an env from its first initial state (rlscale draws a fresh one).

Each Brax run is timed around `train(...)`, so its wall time includes Brax's compilation. The first
`brax_configs` configs are run; the wall time of a longer sequence is EXTRAPOLATED linearly (each
Brax call compiles anew, so every config costs about the same).

    python -m benchmarks.run --only brax
"""

from __future__ import annotations

import functools
import sys
import time

import jax
from brax.envs.base import Env, State
from brax.training.agents.sac import networks as sac_networks
from brax.training.agents.sac import train as sac

from benchmarks.common import BenchSize, bench_configs
from rlscale.config import RunConfig, SweepConfig
from rlscale.envs.registry import make_env


class RegistryEnv(Env):
    """An rlscale registry env seen as a Brax `Env` (unbatched; Brax's wrappers batch it).

    The registry env's own state rides in Brax's `State.pipeline_state` (pure-JAX envs have no
    `metrics`, which Brax's training wrappers need); obs, reward and done are copied out of it.
    """

    def __init__(self, name: str):
        self.spec, self.env = make_env(name)

    def reset(self, rng: jax.Array) -> State:
        inner = self.env.reset(rng)
        return State(pipeline_state=inner, obs=inner.obs, reward=inner.reward, done=inner.done)

    def step(self, state: State, action: jax.Array) -> State:
        inner = self.env.step(state.pipeline_state, action)
        return state.replace(pipeline_state=inner, obs=inner.obs, reward=inner.reward, done=inner.done)

    @property
    def observation_size(self) -> int:
        return self.spec.observation_size

    @property
    def action_size(self) -> int:
        return self.spec.action_size

    @property
    def backend(self) -> str:
        return "jax"


def train_brax(size: BenchSize, config: RunConfig) -> dict:
    """Train one config with Brax SAC; returns its wall time and evaluation returns."""
    defaults = SweepConfig()
    env = RegistryEnv(size.env)
    returns = []
    start = time.perf_counter()
    sac.train(
        environment=env,
        num_timesteps=size.env_steps,
        episode_length=env.spec.episode_length,
        num_envs=size.num_envs,
        num_eval_envs=size.eval_episodes,
        learning_rate=config.learning_rate,
        discounting=defaults.discount,
        tau=defaults.resolved_tau,
        seed=config.seed,
        batch_size=config.batch_size,
        grad_updates_per_step=round(config.utd * size.num_envs),
        num_evals=(size.env_steps - size.learning_starts) // size.eval_interval + 1,
        reward_scaling=1.0,
        min_replay_size=size.learning_starts,
        max_replay_size=size.buffer_capacity,
        deterministic_eval=True,
        network_factory=functools.partial(
            sac_networks.make_sac_networks, hidden_layer_sizes=(size.hidden_width,) * 2
        ),
        progress_fn=lambda step, metrics: returns.append(float(metrics["eval/episode_reward"])),
    )
    return {
        "config_id": config.config_id,
        "wall_s": time.perf_counter() - start,
        "returns": returns,
        "final_return": returns[-1],
    }


def run(size: BenchSize, sweep: dict) -> dict:
    """Brax-sequential wall time vs each rlscale group of `sweep` (the sweep section's result)."""
    runs = []
    for config in bench_configs(size, size.brax_configs):
        result = train_brax(size, config)
        print(
            f"brax config {config.config_id}: wall {result['wall_s']:6.1f}s "
            f"return {result['final_return']:8.1f}",
            file=sys.stderr,
            flush=True,
        )
        runs.append(result)
    per_config_s = sum(r["wall_s"] for r in runs) / len(runs)
    largest = max(sweep["groups"], key=lambda row: row["num_configs"])
    comparisons = []
    for row in sweep["groups"]:
        num_configs = row["num_configs"]
        brax_wall = (
            sum(r["wall_s"] for r in runs[:num_configs])
            if num_configs <= len(runs)
            else per_config_s * num_configs
        )
        comparisons.append(
            {
                "num_configs": num_configs,
                "rlscale_wall_s": row["wall_s"],
                "brax_sequential_wall_s": brax_wall,
                "brax_extrapolated": num_configs > len(runs),
                "wall_ratio_rlscale_over_brax": row["wall_s"] / brax_wall,
            }
        )
    return {
        "runs": runs,
        "rlscale_final_returns": largest["final_returns"][: len(runs)],
        "rlscale_returns_from_k": largest["num_configs"],
        "comparisons": comparisons,
    }
