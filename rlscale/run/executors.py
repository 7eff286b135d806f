"""Where a sweep's compiled groups run: this process (`LocalExecutor`) or a Ray cluster (`RayExecutor`).

The local executor is the default and the reference: every group runs in this process, one after
another, into `<out>/` (with several local devices, each group's configs are sharded across them).

The Ray executor submits each group as one Ray task, costliest first (`Plan.costliest_first`), asking
for one GPU where the cluster has GPUs and `cpus_per_group` CPUs otherwise. A task trains its group
into its own run directory `<out>/groups/<index>/` with the local runner (rows, checkpoints, manifest,
exactly as a one-group local run), so a task that fails or whose worker dies (preemption, OOM kill,
node loss) is retried by Ray and resumes from the group's last checkpoint. When every task is done,
the groups' rows are merged, in group order, into `<out>/evals.jsonl` and `<out>/evals.parquet`:
one store, identical (up to wall-clock times) to the local executor's. `<out>` must be on a file
system every node of the cluster sees (NFS, Lustre, ...): tasks may run, and be retried, anywhere.

Layout under `<out>/` for the Ray executor:

    manifest.json           the sweep config and plan (as the local runner writes it)
    groups/<index>/         a one-group run directory per group (evals.jsonl, checkpoints/, ...)
    evals.jsonl, .parquet   the merged rows of all groups

`rlscale fit <out>` reads every `evals.jsonl` under `<out>`: the groups' copies of the merged rows are
identical repeats, which the fit drops.

The config axis is decided once, by the driver, for the devices the tasks run on (`plan.decide_config_axis`
with platform "gpu" when the cluster has GPUs, one per task, else "cpu"), recorded in `<out>/manifest.json`
and given to every task, so a CPU cluster trains the groups the local executor trains on a CPU, and a
resumed sweep keeps its axis.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from rlscale.config import ConfigError, SweepConfig
from rlscale.plan import AxisDecision, decide_config_axis, make_plan
from rlscale.run.checkpoint import FAULT_ENV, RunDirectoryError, SweepCheckpoints, comparable_config
from rlscale.run.files import write_atomically
from rlscale.run.lock import RunDirectoryLock
from rlscale.run.runner import MANIFEST_FILE, GroupResult, run_sweep, stored_axis_decision, write_manifest
from rlscale.run.store import EVALS_FILE, write_parquet
from rlscale.run.trackers import open_trackers

GROUPS_DIR = "groups"
# Fault injection for tests/distributed: "<group>:<point>:<n>" makes the task of group <group>
# SIGKILL its worker the n-th time it reaches the runner's fault point <point> (see
# checkpoint.fault_point), on its first attempt only: a marker file records the injection.
FAULT_ONCE_ENV = "RLSCALE_TEST_KILL_GROUP_ONCE"
EXECUTORS = ("local", "ray")


class LocalExecutor:
    """Every group in this process, one after another, into `<out>/` (the default executor)."""

    def run(self, config: SweepConfig, out_dir, after_eval=None, resume=False, progress=None):
        """`run_sweep` (see runner.py); `progress` shows each evaluation."""
        return run_sweep(config, out_dir, progress=progress, after_eval=after_eval, resume=resume)


class RayExecutor:
    """Each group a Ray task (retried on failure, resumed from its checkpoint); rows merged at the end.

    Args:
        address: the Ray cluster to connect to ("auto", "ray://head:10001", "head:6379"); None uses
            the cluster this process is already connected to, else RAY_ADDRESS, else starts a local one.
        max_retries: times a group's task is re-run after its worker died or it raised an OSError
            (a transient file-system error); each retry resumes from the group's last checkpoint.
        cpus_per_group: CPUs a group's task asks for on a cluster without GPUs.
        compilation_cache_dir: a persistent XLA compilation cache shared by the tasks, so groups with
            the same compiled program (and a retried task) load it instead of recompiling; None: off.
    """

    def __init__(
        self,
        address: str | None = None,
        max_retries: int = 3,
        cpus_per_group: float = 1,
        compilation_cache_dir: str | None = None,
    ):
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if cpus_per_group <= 0:
            raise ValueError(f"cpus_per_group must be > 0, got {cpus_per_group}")
        self.address = address
        self.max_retries = max_retries
        self.cpus_per_group = cpus_per_group
        self.compilation_cache_dir = compilation_cache_dir
        self.resumed_from_env_step: dict[int, int] = {}
        """Group index -> env step its last task attempt resumed from (groups that resumed only)."""

    def run(self, config: SweepConfig, out_dir, after_eval=None, resume=False, log=print):
        """Train every group on the cluster and merge their rows into `<out>/evals.jsonl`.

        `after_eval(num_rows)` is called as each group finishes, with the rows it added to the
        merged store; `log` gets one line per finished group (Ray forwards the tasks' own
        one-line-per-evaluation progress to this process's output unless `log_to_driver=False`).
        The trackers `config.tracker` names run here, fed each group's rows as it finishes (the
        tasks run without them). Returns the GroupResults in group order.
        """
        ray = _import_ray()
        out_dir = Path(out_dir)
        if not ray.is_initialized():
            ray.init(address=self.address)
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        decision = stored_axis_decision(out_dir, config) or cluster_axis_decision(config, has_gpus)
        config = decision.applied_to(config)
        plan = make_plan(config, decision.platform, decision.num_devices)
        _check_run_directory(out_dir, config, resume)
        with RunDirectoryLock(out_dir) as lock:
            if lock.taken_over is not None:
                log(f"note: {lock.describe_taken_over()}")
            _prepare_run_directory(out_dir, config, plan, decision, resume)
            trackers = open_trackers(config, out_dir)
            try:
                return self._run_tasks(ray, config, plan, decision, has_gpus, out_dir, after_eval, log, trackers)
            finally:
                trackers.close()

    def _run_tasks(
        self, ray, config, plan, decision: AxisDecision, has_gpus: bool, out_dir: Path, after_eval, log, trackers
    ) -> list[GroupResult]:
        resources = {"num_gpus": 1} if has_gpus else {"num_cpus": self.cpus_per_group}
        task = ray.remote(_train_group_task).options(
            max_retries=self.max_retries, retry_exceptions=[OSError], **resources
        )
        fault = os.environ.get(FAULT_ONCE_ENV)
        task_config = dataclasses.replace(config, tracker=[])
        pending = {
            task.remote(
                task_config, decision, index, str(group_directory(out_dir, index)), self.compilation_cache_dir, fault
            ): index
            for index in plan.costliest_first()
        }
        results: dict[int, GroupResult] = {}
        rows_merged = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready[0])
            results[index], resumed_from = ray.get(ready[0])
            if resumed_from is not None:
                self.resumed_from_env_step[index] = resumed_from
            rows = merge_group_rows(out_dir, sorted(results), config)
            trackers.log(_group_rows(out_dir, index))
            log(
                f"group {index + 1}/{len(plan.groups)} done ({len(results)}/{len(plan.groups)})"
                + (f", resumed from env step {resumed_from}" if resumed_from is not None else "")
            )
            if after_eval is not None:
                after_eval(rows - rows_merged)
            rows_merged = rows
        write_parquet(out_dir)
        return [results[index] for index in sorted(results)]


def cluster_axis_decision(config: SweepConfig, has_gpus: bool) -> AxisDecision:
    """The config axis of `config`'s tasks on a Ray cluster: decided for the devices a task gets
    (one GPU where the cluster has GPUs, else a CPU), so that the driver and every worker, whatever
    its own devices, plan the same groups."""
    return decide_config_axis(config, "gpu" if has_gpus else "cpu", 1)


def make_executor(name: str, address: str | None = None):
    """The executor called `name` ("local" or "ray"); `address` is the Ray cluster's."""
    if name == "local":
        if address is not None:
            raise ConfigError([f"--address {address!r} is for --executor ray, not local"])
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(address=address)
    raise ConfigError([f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}"])


def group_directory(out_dir: Path, index: int) -> Path:
    """`<out>/groups/<index>/`: the run directory of group `index` under the Ray executor."""
    return Path(out_dir) / GROUPS_DIR / str(index)


def merge_group_rows(out_dir: Path, indices: list[int], config: SweepConfig) -> int:
    """Replace `<out>/evals.jsonl` with the rows of the finished groups `indices`, in group order.

    Each group must hold exactly one row per (config, evaluation); a group directory with missing or
    repeated rows raises RunDirectoryError. Returns the number of rows written.
    """
    plan = make_plan(config)
    num_evals = config.env_steps // config.eval_interval
    lines = []
    for index in sorted(indices):
        group_dir = group_directory(out_dir, index)
        group_lines = (group_dir / EVALS_FILE).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in group_lines]
        keys = [(row["config_id"], row["env_step"]) for row in rows]
        expected = {
            (run.config_id, (e + 1) * config.eval_interval)
            for run in plan.groups[index].configs
            for e in range(num_evals)
        }
        if len(keys) != len(set(keys)) or set(keys) != expected:
            raise RunDirectoryError(
                f"{group_dir / EVALS_FILE} holds {len(keys)} rows ({len(set(keys))} distinct) but "
                f"group {index} must have exactly {len(expected)}: one per config and evaluation"
            )
        lines.extend(group_lines)
    merged = out_dir / EVALS_FILE
    write_atomically(merged, "".join(line + "\n" for line in lines))
    return len(lines)


def _group_rows(out_dir: Path, index: int) -> list[dict]:
    """The rows of finished group `index` (its run directory's evals.jsonl)."""
    text = (group_directory(out_dir, index) / EVALS_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _check_run_directory(out_dir: Path, config: SweepConfig, resume: bool) -> None:
    """Raise RunDirectoryError (writing nothing) when `<out>` holds a different sweep or a local-
    executor run, or --resume finds nothing to resume."""
    manifest_path = out_dir / MANIFEST_FILE
    if SweepCheckpoints(out_dir).manifest_path.exists():
        raise RunDirectoryError(
            f"output directory {out_dir} holds a sweep run by the local executor; resume it with "
            "--executor local or use another --out"
        )
    if manifest_path.exists():
        try:
            stored = comparable_config(json.loads(manifest_path.read_text())["config"])
        except (ValueError, KeyError, TypeError):
            stored = None
        if stored != comparable_config(config):
            raise RunDirectoryError(
                f"output directory {out_dir} holds a different sweep ({manifest_path}); use another --out"
            )
    elif resume:
        raise RunDirectoryError(f"--resume: {out_dir} holds no sweep ({manifest_path} is missing)")


def _prepare_run_directory(out_dir: Path, config: SweepConfig, plan, decision: AxisDecision, resume: bool) -> None:
    """Check `<out>` again (now under its lock) and, for a fresh sweep, write its manifest."""
    _check_run_directory(out_dir, config, resume)
    if not (out_dir / MANIFEST_FILE).exists():
        write_manifest(out_dir, config, plan, decision)
    (out_dir / GROUPS_DIR).mkdir(exist_ok=True)


def _train_group_task(
    config: SweepConfig,
    decision: AxisDecision,
    index: int,
    group_dir: str,
    compilation_cache_dir: str | None,
    fault: str | None,
) -> tuple[GroupResult, int | None]:
    """The Ray task of one group: train it into `group_dir`, resuming from its last checkpoint, with
    the driver's config-axis `decision`.

    Returns the group's result and the env step this attempt resumed from (None: a fresh start).
    """
    import jax

    if compilation_cache_dir is not None:
        jax.config.update("jax_compilation_cache_dir", compilation_cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    group_path = Path(group_dir)
    checkpoints = SweepCheckpoints(group_path)
    manifest = checkpoints.read_manifest()
    entry = None if manifest is None else manifest["groups"].get(str(index))
    resumed_from = None if entry is None else int(entry["env_step"])
    _arm_fault_once(fault, index, group_path)
    try:
        [result] = run_sweep(config, group_path, groups=[index], axis_decision=decision)
    finally:
        os.environ.pop(FAULT_ENV, None)
    return result, resumed_from


def _arm_fault_once(fault: str | None, index: int, group_dir: Path) -> None:
    """Set the runner's fault point for this task when `fault` ("<group>:<point>:<n>") names its
    group and no earlier attempt was armed (marker file `<out>/groups/fault-injected-<group>`)."""
    if not fault:
        return
    group, _, point = fault.partition(":")
    marker = group_dir.parent / f"fault-injected-{index}"
    if int(group) != index or marker.exists():
        return
    marker.write_text(point)
    os.environ[FAULT_ENV] = point


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(["--executor ray needs Ray: pip install 'rlscale[ray]'"]) from None
    return ray
