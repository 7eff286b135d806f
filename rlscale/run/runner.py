"""The host side of a sweep: plan -> groups -> jitted chunks -> one row per config per evaluation.

The host only acts at evaluation boundaries: it runs a chunk of `eval_interval` env steps (one
`lax.scan`), evaluates, appends the rows to `evals.jsonl`, and updates the progress view. Counters
(env steps, gradient steps) are accumulated on the host as 64-bit integers.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import subprocess
import time
from pathlib import Path

import jax
import numpy as np

from rlscale.config import SweepConfig
from rlscale.engine import schedule
from rlscale.engine.loop import get_trainer
from rlscale.envs.registry import get_spec
from rlscale.plan import Group, Plan, make_plan
from rlscale.run.progress import PlainProgress
from rlscale.run.store import EvalStore, write_parquet

MANIFEST_FILE = "manifest.json"
PACKAGES = ("rlscale", "jax", "jaxlib", "flax", "optax", "chex", "brax", "mujoco", "mujoco-mjx", "numpy")


@dataclasses.dataclass
class GroupResult:
    group: int
    config_ids: list[int]
    final_returns: list[float]
    grad_steps: list[int]
    measured_wasted_fraction: float
    diverged_config_ids: list[int]
    wall_time_s: float


def run_sweep(
    config: SweepConfig,
    out_dir: str | Path,
    progress=None,
    after_eval=None,
) -> list[GroupResult]:
    """Train every group of the sweep's plan, streaming rows to `<out_dir>/evals.jsonl`.

    `after_eval(num_rows_written)` is called after each evaluation (for streaming fits).
    """
    plan = make_plan(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(out_dir, config, plan)
    progress = progress or PlainProgress()
    store = EvalStore(out_dir)
    start = time.perf_counter()
    results = []
    try:
        for index, group in enumerate(plan.groups):
            progress.start_group(index, len(plan.groups), plan.summary()[index])
            results.append(
                _run_group(config, plan, index, group, store, progress, start, after_eval)
            )
    finally:
        store.close()
        progress.close()
    write_parquet(out_dir)
    return results


def _run_group(config, plan: Plan, index: int, group: Group, store, progress, start, after_eval):
    env_spec = get_spec(config.env, **config.env_options)
    trainer = get_trainer(group.spec)
    state = trainer.init(group.hparams(config.discount, config.tau))
    num_configs = len(group.configs)
    grad_steps = np.zeros(num_configs, np.int64)
    executed_slots = 0
    iterations = config.eval_interval // config.num_envs
    num_evals = config.env_steps // config.eval_interval
    group_start = time.perf_counter()
    best_return = -np.inf
    for eval_index in range(num_evals):
        chunk_start = time.perf_counter()
        state, stats = trainer.train_chunk(state, iterations)
        returns = np.asarray(trainer.evaluate(state, eval_index), np.float64)
        chunk_grad_steps = np.asarray(stats.grad_steps, np.int64)
        grad_steps += chunk_grad_steps
        executed_slots += int(stats.executed_slots)
        chunk_seconds = time.perf_counter() - chunk_start
        env_step = (eval_index + 1) * config.eval_interval
        diverged_iteration = np.asarray(state.diverged_iteration)
        wall_time = time.perf_counter() - start
        rows = [
            {
                "config_id": run.config_id,
                "group": index,
                "suite": env_spec.suite,
                "env": config.env,
                "algo": config.algo,
                "utd": run.utd,
                "batch_size": run.batch_size,
                "learning_rate": run.learning_rate,
                "seed": run.seed,
                "env_step": env_step,
                "grad_step": int(grad_steps[k]),
                "return": float(returns[k]),
                "wall_time_s": round(wall_time, 3),
                "model_size": plan.parameter_count,
                "diverged_at_env_step": (
                    int(diverged_iteration[k] + 1) * config.num_envs
                    if diverged_iteration[k] >= 0
                    else None
                ),
            }
            for k, run in enumerate(group.configs)
        ]
        store.append(rows)
        best_return = max(best_return, float(np.nanmax(returns)))
        elapsed = time.perf_counter() - group_start
        progress.update(
            {
                "group": index,
                "env_step": env_step,
                "env_steps": config.env_steps,
                "env_steps_per_s": num_configs * config.eval_interval / chunk_seconds,
                "updates_per_s": float(chunk_grad_steps.sum()) / chunk_seconds,
                "eta_s": elapsed / (eval_index + 1) * (num_evals - eval_index - 1),
                "best_return": best_return,
                "diverged": [
                    run.config_id for k, run in enumerate(group.configs) if diverged_iteration[k] >= 0
                ],
            }
        )
        if after_eval is not None:
            after_eval(len(rows))
    return GroupResult(
        group=index,
        config_ids=[run.config_id for run in group.configs],
        final_returns=returns.tolist(),
        grad_steps=grad_steps.tolist(),
        measured_wasted_fraction=schedule.measured_wasted_fraction(
            grad_steps.tolist(), [run.batch_size for run in group.configs], executed_slots
        ),
        diverged_config_ids=[
            run.config_id for k, run in enumerate(group.configs) if diverged_iteration[k] >= 0
        ],
        wall_time_s=time.perf_counter() - group_start,
    )


def write_manifest(out_dir: Path, config: SweepConfig, plan: Plan) -> None:
    """manifest.json: the exact config, the plan, package versions, JAX backend/devices, git rev."""
    manifest = {
        "config": config.to_dict(),
        "plan": plan.summary(),
        "parameter_count": plan.parameter_count,
        "packages": {name: _version(name) for name in PACKAGES},
        "jax_backend": jax.default_backend(),
        "devices": [str(device) for device in jax.devices()],
        "git_revision": _git_revision(),
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_revision() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
