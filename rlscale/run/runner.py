"""The host side of a sweep: plan -> groups -> jitted chunks -> one row per config per evaluation.

The host only acts at evaluation boundaries: it runs a chunk of `eval_interval` env steps (one
`lax.scan`), evaluates, appends the rows to `evals.jsonl`, checkpoints the group's full state when
due (run/checkpoint.py) and updates the progress view. Counters (env steps, gradient steps) are
accumulated on the host as 64-bit integers.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import numpy as np

from rlscale.agents import build_agent_options
from rlscale.agents.spec import options_dict
from rlscale.config import ConfigError, SweepConfig
from rlscale.engine.spec import AUTO_CONFIG_AXIS
from rlscale.engine.sharding import get_group_trainer
from rlscale.envs.registry import get_spec
from rlscale.plan import AxisDecision, Group, Plan, decide_config_axis, make_plan
from rlscale.run.checkpoint import (
    GroupCounters,
    RunDirectoryError,
    SweepCheckpoints,
    comparable_config,
    fault_point,
)
from rlscale.run.chunks import GroupChunk, fresh_counters, group_chunks, measured_wasted_fraction
from rlscale.run.estimate import calibration_enabled, estimate_plan
from rlscale.run.errors import Interrupted, WriteFailed, signal_name
from rlscale.run.lock import RunDirectoryLock
from rlscale.run.progress import PlainProgress
from rlscale.run.rows import GroupRowConstants, evaluation_rows
from rlscale.run.signals import StopRequests
from rlscale.run.store import EVALS_FILE, EvalStore, rows_prefix_bytes, truncate_rows, write_parquet
from rlscale.run.trackers import open_trackers

MANIFEST_FILE = "manifest.json"
MODEL_SIZE_CRITICS = "critic parameters (targets excluded), the paper's N"
MODEL_SIZE_WHOLE_AGENT = (
    "whole-agent parameters: the agent defines no critic_parameter_count, so rows' model_size is its "
    "parameter_count"
)
"""The manifest's `model_size`: what the rows' model_size column counts."""
TEMPERATURE_PARAMETER = "log_alpha"
"""The agent-state field holding log α in agents that tune an entropy temperature (SAC, BRO)."""
ESTIMATES_FILE = "estimates.json"
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
    estimated_wall_s: float | None = None
    """The calibrated estimate of the group's wall time (run/estimate.py), made before it ran in
    this process (None: it had finished before)."""


def run_sweep(
    config: SweepConfig,
    out_dir: str | Path,
    progress=None,
    after_eval=None,
    resume: bool = False,
    groups: Sequence[int] | None = None,
    axis_decision: AxisDecision | None = None,
) -> list[GroupResult]:
    """Train every group of the sweep's plan, streaming rows to `<out_dir>/evals.jsonl` and
    checkpointing each group's full state to `<out_dir>/checkpoints/` (see run/checkpoint.py).

    A directory that already holds this sweep is continued from its latest checkpoints: done groups
    are skipped, `evals.jsonl` is cut back to the rows of the checkpointed state (repairing a torn
    last line) and the rest is regenerated, bit-identically on CPU. `resume=True` requires such a
    checkpoint. Everything is checked before anything is compiled or written: a directory holding a
    different sweep, a corrupted checkpoint, a group too large for the device, or a directory
    another live process is writing (run/lock.py) raises a ConfigError subclass naming the problem.

    While it runs, the process holds the directory's writer lock, and SIGTERM / SIGINT stop it at the
    next chunk boundary after a checkpoint (`Interrupted`, run/signals.py). A failed write (disk
    full, permission denied, a library error while saving) raises `WriteFailed` naming what and
    where; the directory stays resumable.

    Each evaluation's rows, once written, also go to the trackers `config.tracker` names
    (run/trackers.py; a failing tracker is stopped with one warning, nothing else changes).
    `after_eval(num_rows_written)` is called after each evaluation (for streaming fits). `groups`
    restricts the run to those plan groups (a distributed executor runs one group per directory).
    With several local devices each group's configs are sharded across them (engine/sharding.py).

    The config axis is the one recorded in `<out_dir>/manifest.json` for the same `config_axis`
    request (a resumed sweep), else `axis_decision` (a distributed executor's, made for its workers'
    devices), else the rule for this process's devices (`plan.decide_config_axis`); the manifest
    records it.
    """
    progress = progress or PlainProgress()
    try:
        out_dir = Path(out_dir)
        decision = stored_axis_decision(out_dir, config) or axis_decision or decide_config_axis(config)
        config = decision.applied_to(config)
        plan = make_plan(config, decision.platform, decision.num_devices)
        check_memory(plan)
        checkpoints = SweepCheckpoints(out_dir)
        # Checked read-only first, so that a refused directory is left exactly as it was; checked
        # again once this process holds the directory, in case another writer changed it meanwhile.
        checked = _checked_stored_sweep(out_dir, config, checkpoints, resume)
        with RunDirectoryLock(out_dir) as lock, StopRequests() as stops:
            if lock.taken_over is not None:
                progress.note(lock.describe_taken_over())
            stored = _stored_sweep(out_dir, config, checkpoints, resume)
            if stored != checked:
                stored = _checked_stored_sweep(out_dir, config, checkpoints, resume)
            _open_run_directory(out_dir, config, plan, decision, checkpoints, stored)
            if stored is None:
                for note in config.default_notes():
                    progress.note(note)
            store = EvalStore(out_dir)
            trackers = open_trackers(config, out_dir)
            outputs = _SweepOutputs(
                store, trackers, progress, _SweepClock(checkpoints.wall_time_s), checkpoints, stops, after_eval
            )
            results = []
            estimates = (
                estimate_plan(
                    plan, config.env_steps, config.eval_interval,
                    [index for index in range(len(plan.groups)) if (groups is None or index in groups)
                     and not (checkpoints.group_entry(index) or {}).get("done")],
                    run_here=True,
                )
                if calibration_enabled()
                else {}
            )
            try:
                for index, group in enumerate(plan.groups):
                    if groups is not None and index not in groups:
                        continue
                    entry = checkpoints.group_entry(index)
                    if entry is not None and entry["done"]:
                        results.append(_done_result(index, group, checkpoints.counters(index)))
                        continue
                    if stops.signum is not None:
                        raise Interrupted(stops.signum, _stopped_message(stops.signum, out_dir, "before group", index))
                    progress.start_group(index, len(plan.groups), plan.summary()[index])
                    result = _run_group(config, index, group, outputs)
                    if index in estimates:
                        result = dataclasses.replace(result, estimated_wall_s=estimates[index].seconds)
                        _record_estimate(out_dir, estimates[index], result)
                    results.append(result)
            finally:
                trackers.close()
                store.close()
            write_parquet(out_dir)
    finally:
        progress.close()
    return results


def _checked_stored_sweep(out_dir: Path, config: SweepConfig, checkpoints, resume: bool):
    """`_stored_sweep`, with its checkpoints' checksums and its rows verified (reads only)."""
    stored = _stored_sweep(out_dir, config, checkpoints, resume)
    if stored is not None:
        checkpoints.verify(stored)
        try:
            rows_prefix_bytes(out_dir, int(stored["rows_written"]))
        except ValueError as error:
            raise RunDirectoryError(f"{error}: the run directory is damaged; use a new --out") from None
    return stored


def _open_run_directory(
    out_dir: Path, config: SweepConfig, plan: Plan, decision: AxisDecision, checkpoints, stored
) -> None:
    """Start a fresh run directory (manifest, empty checkpoint manifest), or continue `stored`
    (verified): delete checkpoint debris and cut evals.jsonl back to the checkpointed rows."""
    if stored is None:
        try:
            write_manifest(out_dir, config, plan, decision)
            checkpoints.start(config)
        except OSError as error:
            raise WriteFailed("the run manifests", out_dir, error) from None
        return
    checkpoints.adopt(stored)
    try:
        truncate_rows(out_dir, checkpoints.rows_written)
    except OSError as error:
        raise WriteFailed("eval rows (cutting them back to the checkpoint)", out_dir / EVALS_FILE, error) from None


def _stopped_message(signum: int, out_dir: Path, where: str, group: int, env_step: int | None = None) -> str:
    at = f"{where} {group + 1}" + (f" at env step {env_step}" if env_step is not None else "")
    return (
        f"stopped by {signal_name(signum)} {at}; every row and checkpoint is on disk: run the same "
        f"command again to resume {out_dir}"
    )


class ResourceError(ConfigError):
    """A group of the plan does not fit the device's memory; the message says what would."""

    def __init__(self, message: str):
        self.errors = [message]
        ValueError.__init__(self, message)


def device_memory_bytes() -> tuple[int, str]:
    """(bytes, description) of the memory the default device can hold: its allocator limit on an
    accelerator, total system RAM on CPU (where `memory_stats()` is None)."""
    device = jax.devices()[0]
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"]), f"{device.device_kind} ({device.platform})"
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "system RAM (cpu)"


def check_memory(plan: Plan, available_bytes: int | None = None) -> None:
    """Raise ResourceError when a group's dry-run memory estimate exceeds the device's memory.

    Groups run one after another, so each group must fit on its own. The estimate is linear in the
    group size K, which gives the largest group that fits.
    """
    if available_bytes is None:
        available_bytes, device = device_memory_bytes()
    else:
        device = "the device"
    for index, group in enumerate(plan.groups):
        needed = plan.memory_bytes(group)
        if needed <= available_bytes:
            continue
        configs = len(group.configs)
        largest = int(available_bytes // (needed / configs))
        remedy = (
            f"the largest group that fits has {largest} config(s): set max_group_size = {largest}"
            if largest >= 1
            else f"not even one config fits: lower buffer_capacity ({group.spec.buffer_capacity}), "
            f"hidden_width ({group.spec.network.hidden_width}) or batch_size "
            f"({group.spec.max_batch_size})"
        )
        raise ResourceError(
            f"group {index} ({configs} configs) needs an estimated {needed / 2**30:.2f} GiB but "
            f"{device} has {available_bytes / 2**30:.2f} GiB; {remedy}"
        )


def _stored_sweep(out_dir: Path, config: SweepConfig, checkpoints: SweepCheckpoints, resume: bool):
    """The checkpoint manifest to continue from, or None for a fresh start; raises
    RunDirectoryError when `out_dir` holds something else."""
    manifest = checkpoints.read_manifest()
    wanted = comparable_config(config)
    if manifest is not None:
        if manifest["config"] != wanted:
            raise RunDirectoryError(
                f"output directory {out_dir} holds a different sweep "
                f"({_config_difference(manifest['config'], wanted)}); use another --out"
            )
        return manifest
    if resume:
        raise RunDirectoryError(
            f"--resume: {out_dir} has no checkpoint manifest ({checkpoints.manifest_path}); "
            "run without --resume to start the sweep"
        )
    run_manifest = out_dir / MANIFEST_FILE
    if run_manifest.exists():
        try:
            stored_config = json.loads(run_manifest.read_text())["config"]
        except (ValueError, KeyError, TypeError):
            stored_config = None
        if stored_config is None or comparable_config(stored_config) != wanted:
            raise RunDirectoryError(
                f"output directory {out_dir} holds a different sweep ({run_manifest} "
                + (f"differs: {_config_difference(comparable_config(stored_config), wanted)}" if stored_config else "is unreadable")
                + "); use another --out"
            )
    evals = out_dir / EVALS_FILE
    if evals.exists() and evals.stat().st_size > 0:
        raise RunDirectoryError(
            f"output directory {out_dir} holds eval rows ({evals}) but no checkpoint manifest to "
            "resume from; use another --out"
        )
    return None


def _config_difference(stored: dict, wanted: dict) -> str:
    fields = sorted(key for key in set(stored) | set(wanted) if stored.get(key) != wanted.get(key))
    return "; ".join(f"{key}: stored {stored.get(key)!r}, given {wanted.get(key)!r}" for key in fields)


class _SweepClock:
    """Seconds since the sweep started, counting the time of earlier (interrupted) processes."""

    def __init__(self, earlier_seconds: float):
        self.origin = time.perf_counter() - earlier_seconds

    def __call__(self) -> float:
        return time.perf_counter() - self.origin


def _done_result(index: int, group: Group, counters: GroupCounters) -> GroupResult:
    return GroupResult(
        group=index,
        config_ids=[run.config_id for run in group.configs],
        final_returns=counters.last_returns,
        grad_steps=counters.grad_steps,
        measured_wasted_fraction=measured_wasted_fraction(group, counters.grad_steps, counters.computed_updates),
        diverged_config_ids=counters.diverged_config_ids,
        wall_time_s=counters.wall_time_s,
    )


@dataclasses.dataclass(frozen=True)
class _SweepOutputs:
    """What every group of a sweep writes to and listens to while it trains."""

    store: EvalStore
    trackers: object
    """The open trackers (run/trackers.py): `log(rows)` after each evaluation."""
    progress: object
    """The progress view: `update(dict)` after each evaluation."""
    clock: "_SweepClock"
    checkpoints: SweepCheckpoints
    stops: StopRequests
    after_eval: Callable[[int], None] | None
    """Called with the number of rows written after each evaluation (streaming fits)."""


def _run_group(config: SweepConfig, index: int, group: Group, outputs: _SweepOutputs) -> GroupResult:
    """Train group `index` from its latest checkpoint (or from scratch) to the end: every evaluation
    becomes rows (store and trackers), a checkpoint where due (and at the end, or when a stop was
    requested: then `Interrupted`) and a progress update."""
    trainer = get_group_trainer(group.spec)
    hparams = group.hparams(config.discount, config.resolved_tau)
    checkpoints = outputs.checkpoints
    if checkpoints.group_entry(index) is None:
        state, counters = trainer.init(hparams), fresh_counters(len(group.configs))
    else:
        state, counters = checkpoints.restore(index, jax.eval_shape(trainer.init, hparams))
    row_constants = _row_constants(config, index, group)
    last_checkpoint = _CheckpointClock(counters.next_eval_index * config.eval_interval)
    rows_written = checkpoints.rows_written
    for evaluated in group_chunks(trainer, state, counters, config, group.configs):
        chunk = evaluated.chunk
        rows = evaluation_rows(
            row_constants,
            env_step=evaluated.env_step,
            grad_steps=evaluated.grad_steps,
            returns=chunk.returns,
            wall_time_s=outputs.clock(),
            diverged_at_env_step=evaluated.diverged_at_env_step,
            reset_env_steps=_reset_env_steps(chunk.state),
            temperatures=_temperatures(chunk.state),
            td_errors=chunk.td_errors,
        )
        outputs.store.append(rows)
        outputs.trackers.log(rows)
        rows_written += len(rows)
        fault_point("eval_rows_written")
        elapsed = evaluated.elapsed_s()
        stopping = outputs.stops.signum is not None and not evaluated.done
        if evaluated.done or last_checkpoint.due(config, evaluated.env_step) or stopping:
            checkpoints.save(
                index, evaluated.env_step, chunk.state, evaluated.counters(elapsed), rows_written, outputs.clock(),
                evaluated.done,
            )
            last_checkpoint = _CheckpointClock(evaluated.env_step)
        outputs.progress.update(_progress_report(config, index, evaluated, elapsed))
        if outputs.after_eval is not None:
            outputs.after_eval(len(rows))
        if stopping:
            raise Interrupted(
                outputs.stops.signum,
                _stopped_message(outputs.stops.signum, outputs.store.path.parent, "in group", index, evaluated.env_step),
            )
    return _done_result(index, group, checkpoints.counters(index))


def _row_constants(config: SweepConfig, index: int, group: Group) -> GroupRowConstants:
    """What every eval row of group `index` shares."""
    env_spec = get_spec(config.env, **config.env_options)
    return GroupRowConstants(
        group=index,
        runs=tuple(group.configs),
        suite=env_spec.suite,
        env=config.env,
        algo=config.algo,
        model_size=group.critic_parameter_count,
        model_size_total=group.parameter_count,
        agent_options=json.dumps(config.agent, sort_keys=True),
        return_bounds=(env_spec.return_low, env_spec.return_high),
    )


@dataclasses.dataclass(frozen=True)
class _CheckpointClock:
    """When a group's last checkpoint was written, to decide when the next is due."""

    env_step: int
    seconds: float = dataclasses.field(default_factory=time.perf_counter)
    """`time.perf_counter()` at the checkpoint (or at the group's start in this process)."""

    def due(self, config: SweepConfig, env_step: int) -> bool:
        """Whether `checkpoint_every_env_steps` or `checkpoint_every_seconds` (each 0: off) has
        passed since this checkpoint, at `env_step`."""
        return (
            config.checkpoint_every_env_steps > 0
            and env_step - self.env_step >= config.checkpoint_every_env_steps
        ) or (
            config.checkpoint_every_seconds > 0
            and time.perf_counter() - self.seconds >= config.checkpoint_every_seconds
        )


def _progress_report(config: SweepConfig, index: int, evaluated: GroupChunk, elapsed: float) -> dict:
    """The progress view's update after an evaluation of group `index` (`elapsed`: the group's
    seconds so far)."""
    chunk = evaluated.chunk
    num_evals = config.env_steps // config.eval_interval
    return {
        "group": index,
        "env_step": evaluated.env_step,
        "env_steps": config.env_steps,
        "env_steps_per_s": len(evaluated.grad_steps) * config.eval_interval / chunk.seconds,
        "updates_per_s": float(chunk.grad_steps.sum()) / chunk.seconds,
        "eta_s": elapsed / (chunk.eval_index + 1) * (num_evals - chunk.eval_index - 1),
        "best_return": evaluated.best_return,
        "diverged": evaluated.diverged_config_ids,
    }


def _record_estimate(out_dir: Path, estimate, result: GroupResult) -> None:
    """Add the group's estimated and measured wall time to OUT/estimates.json (best effort: a
    failed write of this report loses nothing else)."""
    path = out_dir / ESTIMATES_FILE
    try:
        records = json.loads(path.read_text()) if path.exists() else {}
        records[str(result.group)] = {**estimate.summary(), "actual_s": round(result.wall_time_s, 1)}
        path.write_text(json.dumps(records, indent=1))
    except (OSError, ValueError):
        pass


def _reset_env_steps(state) -> list[list[int]]:
    """Per config of the group: the env steps at which its agent was reset so far."""
    recorded = np.asarray(state.reset_env_steps)
    return [[int(step) for step in steps if step >= 0] for steps in recorded]


def _temperatures(state) -> list[float] | None:
    """Per config of the group: its entropy temperature α = exp(log α), for agents whose state has
    one (None otherwise)."""
    log_alpha = getattr(state.agent, TEMPERATURE_PARAMETER, None)
    if log_alpha is None:
        return None
    return [float(value) for value in np.exp(np.asarray(log_alpha, np.float64)).ravel()]


def write_manifest(out_dir: Path, config: SweepConfig, plan: Plan, decision: AxisDecision) -> None:
    """manifest.json: the exact config (unset fields as trained), the defaults it took and why, the
    config-axis decision, the agent's full options (preset and `[agent]`), the plan, the model sizes,
    package versions, JAX backend/devices, git rev."""
    manifest = {
        "config": config.to_dict(),
        "defaults": config.default_notes(),
        "config_axis": decision.to_dict(),
        "agent_options": options_dict(build_agent_options(config.algo, config.agent)),
        "plan": plan.summary(),
        "parameter_count": plan.parameter_count,
        "model_size": MODEL_SIZE_WHOLE_AGENT if plan.critic_counts_are_whole_agent else MODEL_SIZE_CRITICS,
        "model_sizes": [
            {
                "hidden_width": group.spec.network.hidden_width,
                "hidden_depth": group.spec.network.hidden_depth,
                "critic_parameter_count": group.critic_parameter_count,
                "parameter_count": group.parameter_count,
                "groups": [i for i, g in enumerate(plan.groups) if g.spec.network == group.spec.network],
            }
            for group in _first_group_per_model_size(plan)
        ],
        "packages": {name: _version(name) for name in PACKAGES},
        "jax_backend": jax.default_backend(),
        "devices": [str(device) for device in jax.devices()],
        "git_revision": _git_revision(),
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))


def _first_group_per_model_size(plan: Plan) -> list[Group]:
    """The first group of each model size (network) of the plan, in plan order."""
    first: dict = {}
    for group in plan.groups:
        first.setdefault(group.spec.network, group)
    return list(first.values())


def stored_axis_decision(out_dir: Path, config: SweepConfig) -> AxisDecision | None:
    """The config-axis decision recorded in `out_dir`'s manifest for `config`'s request (None: no
    readable manifest, or it was made for another `config_axis`, which then is a different sweep).
    A manifest from before decisions were recorded gives its plan's one axis as decided for "auto"
    on its JAX backend."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST_FILE).read_text())
        if "config_axis" in manifest:
            decision = AxisDecision.from_dict(manifest["config_axis"])
        else:
            (axis,) = {group["config_axis"] for group in manifest["plan"]}
            decision = AxisDecision(
                AUTO_CONFIG_AXIS, axis, manifest["jax_backend"], len(manifest["devices"]),
                f"kept from {Path(out_dir) / MANIFEST_FILE}",
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return decision if decision.requested == config.config_axis else None


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
