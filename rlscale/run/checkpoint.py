"""Full-state checkpoints of a sweep's groups, and the manifest naming the latest complete ones.

Layout under `<run_dir>/checkpoints/`:

    state.json                          the checkpoint manifest, replaced atomically
    group-000/env-step-000000004000/
        state/                          orbax PyTree checkpoint of the GroupState's non-empty
                                        leaves (agent and optimizer states, replay buffers and
                                        pointers, env states, RNG keys, UTD credits, divergence
                                        marks, iteration), as a flat {leaf index: array} dict
        layout.json                     every leaf of the GroupState in flattening order: its
                                        path, shape and dtype (zero-size leaves live only here)
        host.json                       host counters (`GroupCounters`: 64-bit grad steps, ...)

Env states are whatever the suite's physics produce: MJX `Data` holds zero-size arrays (no contacts,
no tendons), integer and bool leaves; orbax refuses zero-size arrays, so they are not given to it.
The layout records their shapes and dtypes, restore rebuilds them as empty arrays and checks that
the checkpoint's layout is the one the running code expects (same rlscale, same env library).

`state.json` holds the sweep config (to recognise the same sweep), `rows_written` (rows of
`evals.jsonl` that belong to the recorded state) and, per started group, the latest complete
checkpoint with the sha256 of its files and whether the group is done.

Write order (`SweepCheckpoints.save`): the eval rows are already flushed and fsync'ed by the store;
then the checkpoint directory is written and fsync'ed, then `state.json` is replaced atomically
(temporary file, fsync, `os.replace`), then the group's previous checkpoint is deleted. A kill at
any instant leaves `state.json` naming complete checkpoints only; files it does not name are debris
of an interrupted write and are removed on resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from rlscale.config import ConfigError, SweepConfig
from rlscale.run.errors import WriteFailed
from rlscale.run.files import fsync_directory, write_atomically

CHECKPOINT_DIR = "checkpoints"
MANIFEST_FILE = "state.json"
STATE_DIR = "state"
LAYOUT_FILE = "layout.json"
# orbax logs through absl, whose records go to this Python logger.
ORBAX_LOGGER = "absl"
CLOSED_LOOP_MESSAGE = "Event loop is closed"
# asyncio reports a writer task whose exception nobody awaited (the other array writes of a failed
# save) when the task is garbage-collected, which may be long after the save returned.
ASYNCIO_LOGGER = "asyncio"
UNRETRIEVED_TASK_MESSAGE = "Task exception was never retrieved"
ORBAX_PACKAGE_PATH = os.sep + "orbax" + os.sep
COUNTERS_FILE = "host.json"
# 2: the state is stored as a flat dict of its non-empty leaves next to layout.json (1 stored the
# GroupState tree itself, which orbax cannot do for env states holding zero-size arrays). 4: a done
# group's entry may name no checkpoint and carry its counters instead (run/snapshot.py).
FORMAT_VERSION = 4
READABLE_FORMATS = (3, 4)
# Fields that may change between a run and its resumption: they do not change what is trained.
FAILED_WRITE_SETTLE_S = 0.2
"""After a failed save, the checkpoint directory must stay absent this long before it counts as
removed: orbax's writer threads may still finish files of the other arrays after one failed."""
FAILED_WRITE_CLEANUP_TRIES = 25

RESUMABLE_FIELDS = ("checkpoint_every_env_steps", "checkpoint_every_seconds", "tracker")

FAULT_ENV = "RLSCALE_TEST_KILL_AT"
PAUSE_ENV = "RLSCALE_TEST_STOP_AT"
PAUSE_SETTLE_S = 0.5
"""After a pause point is continued: time for a signal sent while the process was stopped to reach
the main thread's Python handler. The kernel hands it to whichever thread wakes first (often an XLA
thread); without the wait the main thread can pass its next stop check before the handler ran."""
_fault_hits: Counter = Counter()


def fault_point(name: str) -> None:
    """Fault injection for tests/reliability: with `RLSCALE_TEST_KILL_AT=<name>:<n>` in the
    environment, the process SIGKILLs itself the n-th time it reaches the point `name`; with
    `RLSCALE_TEST_STOP_AT=<name>:<n>` it SIGSTOPs itself there instead (a test then changes the world
    around the stopped process, e.g. makes its directory read-only or signals it, and SIGCONTs it).

    Points: "eval_rows_written" (rows fsync'ed, no checkpoint yet), "checkpoint_state_written"
    (orbax state on disk, no counters), "checkpoint_files_written" (all files, manifest not yet
    replaced), "manifest_replaced" (previous checkpoint not yet deleted).
    """
    for variable, action in ((FAULT_ENV, signal.SIGKILL), (PAUSE_ENV, signal.SIGSTOP)):
        point, _, count = os.environ.get(variable, "").partition(":")
        if point != name:
            continue
        _fault_hits[variable, name] += 1
        if _fault_hits[variable, name] == int(count or 1):
            os.kill(os.getpid(), action)
            time.sleep(PAUSE_SETTLE_S)


class RunDirectoryError(ConfigError):
    """The output directory cannot be used as asked (a different sweep, nothing to resume, a
    corrupted checkpoint, another process writing it); the message names the directory and what
    to do."""

    def __init__(self, message: str):
        self.errors = [message]
        ValueError.__init__(self, message)


@dataclasses.dataclass
class GroupCounters:
    """Host-side counters of a group at a checkpoint (all ints are exact, JSON has no int limit)."""

    next_eval_index: int
    """Evaluations done; training resumes at env step next_eval_index * eval_interval."""
    grad_steps: list[int]
    """Gradient updates applied per config (64-bit on the host)."""
    computed_updates: list[int]
    """Updates computed per config, applied or not (for the measured wasted-work fraction)."""
    best_return: float
    last_returns: list[float]
    """Returns of the latest evaluation, per config."""
    diverged_config_ids: list[int]
    wall_time_s: float
    """Seconds the group has trained, over all processes that ran it."""


def comparable_config(config: SweepConfig | dict) -> dict:
    """The config as stored in the manifest, without the fields a resumption may change."""
    values = config.to_dict() if isinstance(config, SweepConfig) else config
    values = json.loads(json.dumps(values))
    return {key: value for key, value in values.items() if key not in RESUMABLE_FIELDS}


class SweepCheckpoints:
    """The checkpoints of one run directory and their manifest."""

    def __init__(self, run_dir: str | Path):
        # orbax writes only to absolute paths.
        self.run_dir = Path(run_dir).resolve()
        self.root = self.run_dir / CHECKPOINT_DIR
        self.manifest_path = self.root / MANIFEST_FILE
        self.manifest: dict | None = None

    # ---- manifest -------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        """The stored manifest, or None when the directory has none."""
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text())
            if manifest["format"] not in READABLE_FORMATS:
                raise ValueError(
                    f"checkpoint format {manifest['format']}, written by another version of rlscale; "
                    f"this version reads formats {', '.join(map(str, READABLE_FORMATS))}"
                )
            int(manifest["rows_written"])
            dict(manifest["groups"])
            dict(manifest["config"])
            for group, entry in manifest["groups"].items():
                if entry["checkpoint"] is None:
                    if not entry["done"]:
                        raise ValueError(f"group {group} names no checkpoint but has not finished")
                    GroupCounters(**entry["counters"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise RunDirectoryError(
                f"checkpoint manifest {self.manifest_path} is unreadable ({error}); "
                "the run directory is damaged: use a new --out"
            ) from None
        return manifest

    def start(self, config: SweepConfig) -> None:
        """Create an empty manifest for a fresh sweep."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.manifest = {
            "format": FORMAT_VERSION,
            "config": comparable_config(config),
            "rows_written": 0,
            "wall_time_s": 0.0,
            "groups": {},
        }
        self._replace_manifest()

    def verify(self, manifest: dict) -> None:
        """Raise RunDirectoryError unless every checkpoint `manifest` names is on disk with its
        recorded sha256 (reads only)."""
        for group, entry in sorted(manifest["groups"].items(), key=lambda item: int(item[0])):
            if entry["checkpoint"] is None:
                continue
            path = self.root / entry["checkpoint"]
            found = directory_sha256(path) if path.is_dir() else "missing"
            if found != entry["sha256"]:
                raise RunDirectoryError(
                    f"checkpoint {path} of group {group} is corrupted: sha256 {found} does not match "
                    f"{entry['sha256']} in {self.manifest_path}; delete {self.run_dir} or use a new --out"
                )

    def open_for_reading(self) -> None:
        """Load the stored manifest, its checkpoints verified, to `restore` from without writing or
        deleting anything (a reader beside the directory's writer, or after it). RunDirectoryError
        when there is none or it is damaged."""
        manifest = self.read_manifest()
        if manifest is None:
            raise RunDirectoryError(f"{self.run_dir} has no checkpoint manifest ({self.manifest_path})")
        self.verify(manifest)
        self.manifest = manifest

    def adopt(self, manifest: dict) -> None:
        """Continue from a stored manifest (already `verify`-ed): delete the files it does not name
        (debris of interrupted writes)."""
        self.manifest = manifest
        named = {self.root / entry["checkpoint"] for entry in manifest["groups"].values() if entry["checkpoint"] is not None}
        for group_dir in self.root.glob("group-*"):
            for step_dir in group_dir.iterdir():
                if step_dir not in named:
                    shutil.rmtree(step_dir, ignore_errors=True)

    @property
    def rows_written(self) -> int:
        return int(self.manifest["rows_written"])

    @property
    def wall_time_s(self) -> float:
        return float(self.manifest.get("wall_time_s", 0.0))

    def group_entry(self, group: int) -> dict | None:
        """{"checkpoint", "sha256", "env_step", "done"} of the group's latest checkpoint, or None. A
        finished group copied by `rlscale snapshot` names no checkpoint (`"checkpoint": None`) and
        holds its `"counters"` instead."""
        return self.manifest["groups"].get(str(group))

    # ---- save / restore -----------------------------------------------------------------------
    def save(
        self,
        group: int,
        env_step: int,
        state,
        counters: GroupCounters,
        rows_written: int,
        wall_time_s: float,
        done: bool,
    ) -> None:
        """Write the group's full state and counters, then name them in the manifest.

        `state` is a GroupState (device or host arrays); `rows_written` counts the rows of
        `evals.jsonl` (already fsync'ed) that this state has produced, over all groups.
        """
        relative = f"group-{group:03d}/env-step-{env_step:012d}"
        path = self.root / relative
        try:
            checksum = self._write_checkpoint(path, state, counters)
        except Exception as error:  # an OSError, or whatever orbax or tensorstore raise while saving
            # Free what the failed write used; the manifest still names the previous checkpoint.
            _remove_failed_write(path)
            raise WriteFailed(f"the checkpoint of group {group} at env step {env_step}", path, error) from None
        fault_point("checkpoint_files_written")
        previous = self.group_entry(group)
        manifest = json.loads(json.dumps(self.manifest))
        manifest["groups"][str(group)] = {
            "checkpoint": relative,
            "sha256": checksum,
            "env_step": env_step,
            "done": done,
        }
        manifest["rows_written"] = rows_written
        manifest["wall_time_s"] = wall_time_s
        try:
            write_atomically(self.manifest_path, json.dumps(manifest, indent=1))
        except OSError as error:
            shutil.rmtree(path, ignore_errors=True)
            raise WriteFailed("the checkpoint manifest", self.manifest_path, error) from None
        self.manifest = manifest
        fault_point("manifest_replaced")
        if previous is not None and previous["checkpoint"] != relative:
            shutil.rmtree(self.root / previous["checkpoint"], ignore_errors=True)

    def _write_checkpoint(self, path: Path, state, counters: GroupCounters) -> str:
        """Write the checkpoint directory `path` (state, layout and counters, every file fsync'ed);
        returns its sha256."""
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        save_state(path, state)
        fault_point("checkpoint_state_written")
        write_atomically(path / COUNTERS_FILE, json.dumps(dataclasses.asdict(counters)))
        checksum = directory_sha256(path, sync=True)
        fsync_directory(path.parent)
        return checksum

    def restore(self, group: int, abstract_state) -> tuple[object, GroupCounters]:
        """The group's latest checkpointed GroupState (numpy leaves, structured like
        `abstract_state`, e.g. `jax.eval_shape(trainer.init, hparams)`) and its counters."""
        entry = self.group_entry(group)
        if entry["checkpoint"] is None:
            raise RunDirectoryError(
                f"group {group} of {self.run_dir} was copied by `rlscale snapshot` without its checkpoint: its state is not on disk"
            )
        return restore_state(self.root / entry["checkpoint"], abstract_state), self.counters(group)

    def counters(self, group: int) -> GroupCounters:
        entry = self.group_entry(group)
        if entry["checkpoint"] is None:
            return GroupCounters(**entry["counters"])
        path = self.root / entry["checkpoint"] / COUNTERS_FILE
        return GroupCounters(**json.loads(path.read_text()))

    def _replace_manifest(self) -> None:
        write_atomically(self.manifest_path, json.dumps(self.manifest, indent=1))


def state_layout(tree) -> list[dict]:
    """[{"path", "shape", "dtype"}] of every leaf of `tree` (arrays or `jax.ShapeDtypeStruct`s) in
    flattening order: what a checkpoint of a tree with this structure holds."""
    return [
        {"path": jax.tree_util.keystr(path), "shape": list(leaf.shape), "dtype": np.dtype(leaf.dtype).name}
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree)
    ]


@contextlib.contextmanager
def _library_logs_silenced():
    """Keep orbax's own error reports off the terminal while it saves: a failure is raised to the
    caller, which reports it in one message. orbax logs the failure (with its writer threads'
    tracebacks) through absl, and tensorstore's callbacks of the failed write, arriving after orbax
    closed its event loop, raise "Event loop is closed" as unraisable exceptions; both are dropped."""
    logger = logging.getLogger(ORBAX_LOGGER)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    if not getattr(sys.unraisablehook, "drops_closed_loop_noise", False):
        sys.unraisablehook = _without_closed_loop_noise(sys.unraisablehook)
    asyncio_logger = logging.getLogger(ASYNCIO_LOGGER)
    if _drop_unretrieved_orbax_writes not in asyncio_logger.filters:
        asyncio_logger.addFilter(_drop_unretrieved_orbax_writes)
    try:
        yield
    finally:
        logger.setLevel(level)


def _drop_unretrieved_orbax_writes(record: logging.LogRecord) -> bool:
    """False for asyncio's report of an orbax writer task that failed with nobody awaiting it: the
    save that started it has already raised (and been reported in one message)."""
    if not record.getMessage().startswith(UNRETRIEVED_TASK_MESSAGE) or not record.exc_info:
        return True
    frames = traceback.extract_tb(record.exc_info[2])
    return not any(ORBAX_PACKAGE_PATH in frame.filename for frame in frames)


def _without_closed_loop_noise(hook):
    def filtered(unraisable):
        error = unraisable.exc_value
        if not (isinstance(error, RuntimeError) and str(error) == CLOSED_LOOP_MESSAGE):
            hook(unraisable)

    filtered.drops_closed_loop_noise = True
    return filtered


def _leaf_key(index: int) -> str:
    return f"leaf-{index:05d}"


def _remove_failed_write(path: Path) -> None:
    """Remove the directory of a failed checkpoint write, again while writer threads still in flight
    recreate parts of it (at most FAILED_WRITE_CLEANUP_TRIES settle intervals)."""
    for _ in range(FAILED_WRITE_CLEANUP_TRIES):
        shutil.rmtree(path, ignore_errors=True)
        time.sleep(FAILED_WRITE_SETTLE_S)
        if not path.exists():
            return


def save_state(directory: Path, state) -> None:
    """Write the pytree `state` (device or host arrays) to `directory`: its non-empty leaves as one
    orbax checkpoint of a flat {leaf key: array} dict in `directory/state`, and every leaf's path,
    shape and dtype to `directory/layout.json` (zero-size leaves, which orbax refuses, are fully
    described by their shape and dtype)."""
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(jax.device_get(state))]
    arrays = {_leaf_key(index): leaf for index, leaf in enumerate(leaves) if leaf.size}
    with _library_logs_silenced():
        ocp.PyTreeCheckpointer().save(directory / STATE_DIR, arrays)
    write_atomically(directory / LAYOUT_FILE, json.dumps(state_layout(leaves)))


def restore_state(directory: Path, abstract_state):
    """The pytree written by `save_state`, with numpy leaves, structured like `abstract_state` (e.g.
    `jax.eval_shape(trainer.init, hparams)`). Raises RunDirectoryError when the stored layout is not
    the one `abstract_state` has (a checkpoint of other code or another env library version)."""
    abstract_leaves, treedef = jax.tree_util.tree_flatten(abstract_state)
    expected = state_layout(abstract_state)
    stored = json.loads((directory / LAYOUT_FILE).read_text())
    stored_shapes = [(leaf["shape"], leaf["dtype"]) for leaf in stored]
    expected_shapes = [(leaf["shape"], leaf["dtype"]) for leaf in expected]
    if stored_shapes != expected_shapes:
        raise RunDirectoryError(
            f"checkpoint {directory} holds a state of another layout than this rlscale builds "
            f"({_layout_difference(stored, expected)}): it was written by other code or other env "
            "library versions; resume it with those, or use a new --out"
        )
    wanted = {
        _leaf_key(index): jax.ShapeDtypeStruct(leaf.shape, leaf.dtype)
        for index, leaf in enumerate(abstract_leaves)
        if math.prod(leaf.shape)
    }
    restored = ocp.PyTreeCheckpointer().restore(directory / STATE_DIR, item=wanted) if wanted else {}
    leaves = [
        np.asarray(restored[_leaf_key(index)], leaf.dtype).reshape(leaf.shape)
        if _leaf_key(index) in wanted
        else np.zeros(leaf.shape, leaf.dtype)
        for index, leaf in enumerate(abstract_leaves)
    ]
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _layout_difference(stored: list[dict], expected: list[dict]) -> str:
    if len(stored) != len(expected):
        return f"{len(stored)} leaves stored, {len(expected)} expected"
    for have, want in zip(stored, expected):
        if (have["shape"], have["dtype"]) != (want["shape"], want["dtype"]):
            return (
                f"leaf {want['path']}: stored {have['dtype']}{have['shape']}, expected "
                f"{want['dtype']}{want['shape']}"
            )
    return "no difference"


def directory_sha256(path: Path, sync: bool = False) -> str:
    """sha256 over the relative paths and contents of every file under `path` (sorted); with
    `sync`, each file is also fsync'ed."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            if sync:
                os.fsync(handle.fileno())
    return digest.hexdigest()
