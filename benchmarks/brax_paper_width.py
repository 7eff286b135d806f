"""Side by side with Brax SAC at paper width, on a paper environment, to a target return.

The set: σ ∈ utds × seeds configs of SAC 2×256, B = 256, η = 3e-4, 16 envs per config, on
`dmc/cartpole-swingup` (MuJoCo Playground, JAX impl). rlscale trains the whole set as ONE sweep
(the planner's groups; on a CPU one map group); Brax trains the same configs one call after another
with `brax.training.agents.sac.train` through the adapter of `benchmarks/brax_sac.py` (same env,
MLP sizes, B, η, γ, τ, replay capacity and warm-up, and Brax's target entropy -|A|/2 instead of
rlscale's preset -|A|, so that both optimize the same objective; σ counted per transition:
grad_updates_per_step = σ·num_envs). Reported per config: the env steps at which the evaluation
return first reaches each threshold (600 and 800) and the final return; per σ, rlscale's median
steps-to-800 over Brax's (learning parity target: ≤ 1.25); and the wall time of the whole set,
rlscale over Brax (target on CPU ≤ 0.9).

The two trainers run interleaved: Brax's calls are spread evenly between rlscale's chunks
(`brax_calls_after_chunk`), and each trainer's wall counts only its own time. A shared machine's
speed drifts over an hour (by 1.5× on the 2-core boxes this was measured on); interleaved, both
trainers see the same slow and fast periods instead of one running in each.

Not part of `make bench` (on 2 CPU cores the cpu size takes about 1.5 hours): run it on its own,

    python -m benchmarks.run --only brax_paper --size cpu

Progress goes to stderr as it happens: one line per rlscale chunk and one JSON line per finished
Brax config (Brax alternates σ within each seed, so a run cut short still covers every σ).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import statistics
import sys
import time

from brax.training.agents.sac import networks as sac_networks
from brax.training.agents.sac import train as sac

from benchmarks.brax_sac import RegistryEnv
from benchmarks.common import BenchSize, train_group
from rlscale.config import RunConfig, SweepConfig
from rlscale.run.chunks import Chunk

THRESHOLDS = (600.0, 800.0)
PAPER_LEARNING_RATE = 3e-4
BRAX_TARGET_ENTROPY_PER_ACTION = -0.5
"""Brax SAC's target entropy per action dimension (brax/training/agents/sac/losses.py)."""


@dataclasses.dataclass(frozen=True)
class PaperWidthSize:
    env: str = "dmc/cartpole-swingup"
    hidden_width: int = 256
    batch_size: int = 256
    num_envs: int = 16
    utds: tuple[float, ...] = (1.0, 2.0)
    """σ of the set. At σ ∈ {0.5, 1} (100k env steps, benchmarks/README.md) both trainers' medians
    reached return 800 at σ = 1 (80k and 96k env steps) and neither at σ = 0.5: parity at 800 needs
    σ values that get there within the budget."""
    seeds: int = 3
    env_steps: int = 120_000
    """Per config: room past the 96k at which Brax's σ = 1 median reached 800."""
    eval_interval: int = 4_000
    eval_episodes: int = 5
    learning_starts: int = 4_000
    buffer_capacity: int = 120_000
    """Every transition kept, in both trainers."""


PAPER_SIZES = {
    "smoke": PaperWidthSize(hidden_width=16, batch_size=16, num_envs=2, utds=(1.0,), seeds=1, env_steps=400,
                            eval_interval=200, eval_episodes=1, learning_starts=200, buffer_capacity=400),
    "cpu": PaperWidthSize(),
    "gpu": PaperWidthSize(seeds=8, utds=(0.5, 1.0, 2.0, 4.0)),
}


def _bench_size(size: BenchSize, paper: PaperWidthSize) -> BenchSize:
    return dataclasses.replace(
        size, env=paper.env, hidden_width=paper.hidden_width, num_envs=paper.num_envs,
        env_steps=paper.env_steps, eval_interval=paper.eval_interval, eval_episodes=paper.eval_episodes,
        learning_starts=paper.learning_starts, buffer_capacity=paper.buffer_capacity,
        agent_options=(("target_entropy_per_action", BRAX_TARGET_ENTROPY_PER_ACTION),),
    )


def steps_to(curve: list[tuple[int, float]], threshold: float) -> int | None:
    """The first env step whose evaluation return reaches `threshold` (None: never)."""
    return next((step for step, value in curve if value >= threshold), None)


def _brax_curve(size: BenchSize, paper: PaperWidthSize, config: RunConfig) -> tuple[list, float]:
    defaults = SweepConfig()
    env = RegistryEnv(paper.env)
    curve = []
    start = time.perf_counter()
    sac.train(
        environment=env, num_timesteps=paper.env_steps, episode_length=env.spec.episode_length,
        num_envs=paper.num_envs, num_eval_envs=paper.eval_episodes, learning_rate=config.learning_rate,
        discounting=defaults.discount, tau=defaults.resolved_tau, seed=config.seed, batch_size=config.batch_size,
        grad_updates_per_step=round(config.utd * paper.num_envs),
        num_evals=paper.env_steps // paper.eval_interval + 1, reward_scaling=1.0,
        min_replay_size=paper.learning_starts, max_replay_size=paper.buffer_capacity, deterministic_eval=True,
        network_factory=functools.partial(sac_networks.make_sac_networks, hidden_layer_sizes=(paper.hidden_width,) * 2),
        progress_fn=lambda step, metrics: curve.append((int(step), float(metrics["eval/episode_reward"]))),
    )
    return curve, time.perf_counter() - start


def _summary(curve: list[tuple[int, float]]) -> dict:
    return {
        "curve": curve,
        "final_return": curve[-1][1] if curve else None,
        **{f"steps_to_{threshold:g}": steps_to(curve, threshold) for threshold in THRESHOLDS},
    }


def _median_steps(rows: list[dict], key: str) -> float | None:
    """Median steps to a threshold over configs, a config that never reached it counting as never
    (None if half or more never did)."""
    values = sorted(float("inf") if row[key] is None else row[key] for row in rows)
    median = statistics.median(values)
    return None if median == float("inf") else median


def steps_parity(rows: list[dict], utds) -> dict:
    """Per σ (str) and threshold (str): rlscale's and Brax's median env steps to the threshold over
    the seeds, and their ratio (None where half or more of either's seeds never reached it)."""
    parity = {}
    for utd in utds:
        members = [row for row in rows if row["utd"] == utd]
        parity[str(utd)] = {}
        for threshold in THRESHOLDS:
            key = f"steps_to_{threshold:g}"
            ours = _median_steps([row["rlscale"] for row in members], key)
            theirs = _median_steps([row["brax"] for row in members], key)
            parity[str(utd)][f"{threshold:g}"] = {
                "rlscale_median_steps": ours,
                "brax_median_steps": theirs,
                "ratio": ours / theirs if ours is not None and theirs is not None else None,
            }
    return parity


def brax_calls_after_chunk(chunks: int, calls: int) -> list[int]:
    """How many Brax calls run after each of rlscale's `chunks` chunks: call j (from 0) after chunk
    ⌈(j + ½)·chunks/calls⌉ (counting from 1), so the calls sit evenly among the chunks, none before
    the first. Sums to `calls`."""
    after = [0] * chunks
    for call in range(calls):
        after[min(chunks, max(1, math.ceil((call + 0.5) * chunks / calls))) - 1] += 1
    return after


def _report_chunk(chunk: Chunk) -> None:
    print(
        f"brax_paper rlscale chunk {chunk.eval_index}: {chunk.seconds:.1f} s, "
        f"{int(chunk.grad_steps.sum())} updates, returns {' '.join(f'{r:.0f}' for r in chunk.returns)}",
        file=sys.stderr, flush=True,
    )


def run(size: BenchSize) -> dict:
    paper = PAPER_SIZES[size.name]
    bench = _bench_size(size, paper)
    configs = [
        RunConfig(i, utd, paper.batch_size, PAPER_LEARNING_RATE, seed)
        for i, (utd, seed) in enumerate((u, s) for u in paper.utds for s in range(paper.seeds))
    ]
    brax_order = iter(sorted(range(len(configs)), key=lambda k: (configs[k].seed, configs[k].utd)))
    chunks = paper.env_steps // paper.eval_interval
    calls_due = brax_calls_after_chunk(chunks, len(configs))
    brax_runs = {}

    def chunk_then_brax(chunk: Chunk) -> None:
        _report_chunk(chunk)
        for _ in range(calls_due[chunk.eval_index]):
            k = next(brax_order)
            curve, seconds = _brax_curve(bench, paper, configs[k])
            brax_runs[k] = (curve, seconds)
            print(f"brax_paper brax σ={configs[k].utd:g} seed {configs[k].seed}: {seconds:.0f} s, "
                  f"final {curve[-1][1]:.0f}", file=sys.stderr, flush=True)

    group = train_group(bench, configs, paper.env_steps, on_chunk=chunk_then_brax)
    evals = [(index + 1) * paper.eval_interval for index in range(len(group.returns_per_eval))]
    print(f"brax_paper rlscale: {group.wall_s:.0f} s for {len(configs)} configs", file=sys.stderr, flush=True)
    rows = []
    for k, (theirs_curve, seconds) in brax_runs.items():
        config = configs[k]
        ours = _summary([(step, returns[k]) for step, returns in zip(evals, group.returns_per_eval)])
        row = {"utd": config.utd, "seed": config.seed, "rlscale": ours, "brax": _summary(theirs_curve),
               "brax_wall_s": seconds}
        print(f"brax_paper row {json.dumps(row)}", file=sys.stderr, flush=True)
        rows.append(row)
    brax_wall_s = sum(seconds for _, seconds in brax_runs.values())
    rows.sort(key=lambda row: (row["utd"], row["seed"]))
    parity = steps_parity(rows, paper.utds)
    return {
        "size": dataclasses.asdict(paper),
        "rows": rows,
        "parity": parity,
        "rlscale_wall_s": group.wall_s,
        "rlscale_calibration_s": group.calibration_s,
        "brax_sequential_wall_s": brax_wall_s,
        "wall_ratio_rlscale_over_brax": group.wall_s / brax_wall_s,
        "rlscale_measured_wasted_fraction": group.measured_wasted_fraction,
        "interleaved": True,
    }
