"""`rlscale snapshot DIR DEST`: a copy of a sweep's or study's run directory that resumes on another
machine, small enough to commit or move: everything but the checkpoints' arrays.

A long study outlives the machine it started on (a lent GPU, a scratch disk wiped between jobs). What
must travel is what the next run cannot redo cheaply: the rows, the manifests, the study's state, its
TOML files, fits and report. What need not travel are the checkpoints' arrays (replay buffers: about
80 bytes per stored transition and config, hundreds of MB for a study's stage):

- a finished group needs none of them: its manifest entry keeps its counters and names no checkpoint
  (`SweepCheckpoints`: a done entry with `"checkpoint": null`), and a resumed sweep skips it;
- an unfinished group is left out: its entry and its rows are dropped, and a resumed sweep trains it
  again from the start (bit-identically, on the same kind of machine), so the copy loses that group's
  progress and nothing else.

Every run directory under DIR (one holding `checkpoints/state.json`: the study's sweeps, a Ray sweep's
per-group directories) is copied that way; every other file is copied as it is, apart from writer
locks. DIR's writer lock is held while copying, so a live sweep or study is refused (stop it first:
SIGTERM ends it at a chunk boundary). Resume the copy by running the same command with `--out DEST`.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from rlscale.run.checkpoint import CHECKPOINT_DIR, MANIFEST_FILE, RunDirectoryError, SweepCheckpoints
from rlscale.run.files import write_json_atomically
from rlscale.run.lock import LOCK_FILE, RunDirectoryLock
from rlscale.run.store import EVALS_FILE, PARQUET_FILE, rows_prefix_bytes
from rlscale.run.rows import complete_lines


@dataclasses.dataclass
class SweepSnapshot:
    """What the copy of one run directory kept and left out."""

    directory: str
    """The run directory, relative to DIR ('.' for DIR itself)."""
    groups_done: list[int]
    groups_left_out: list[int]
    """Groups with a checkpoint but not finished: trained again from the start when the copy resumes."""
    rows_kept: int
    rows_left_out: int


@dataclasses.dataclass
class Snapshot:
    """The result of `snapshot`: the run directories copied and the bytes written and left out."""

    sweeps: list[SweepSnapshot]
    bytes_copied: int
    bytes_left_out: int

    def summary(self) -> str:
        lines = []
        for sweep in self.sweeps:
            dropped = (
                f"; unfinished group(s) {sweep.groups_left_out} left out with their {sweep.rows_left_out} rows "
                "(trained again from the start on resume)"
                if sweep.groups_left_out or sweep.rows_left_out
                else ""
            )
            lines.append(f"{sweep.directory}: {len(sweep.groups_done)} finished group(s), {sweep.rows_kept} rows{dropped}")
        lines.append(f"{_megabytes(self.bytes_copied)} copied, {_megabytes(self.bytes_left_out)} of checkpoint arrays left out")
        return "\n".join(lines)


def snapshot(source: str | Path, destination: str | Path) -> Snapshot:
    """Copy the run or study directory `source` to the new directory `destination` (module doc).

    Raises RunDirectoryError (`source` is not a run or study directory, is being written, or is
    damaged; `destination` exists and is not empty) before writing anything, and OSError when a
    copy fails.
    """
    source, destination = Path(source), Path(destination)
    if not source.is_dir():
        raise RunDirectoryError(f"{source} is not a directory")
    if destination.exists() and any(destination.iterdir()):
        raise RunDirectoryError(f"{destination} exists and is not empty; give a new directory")
    if destination.resolve().is_relative_to(source.resolve()):
        raise RunDirectoryError(f"{destination} is inside {source}; give a directory outside it")
    run_dirs = sorted(path.parent.parent for path in source.rglob(f"{CHECKPOINT_DIR}/{MANIFEST_FILE}"))
    if not run_dirs and not (source / "study_state.json").exists():
        raise RunDirectoryError(f"{source} holds no sweep (no {CHECKPOINT_DIR}/{MANIFEST_FILE}) and no study")
    with RunDirectoryLock(source):
        plans = [_plan_sweep(run_dir) for run_dir in run_dirs]
        copied = 0
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.name != LOCK_FILE and not any(_written_by_plan(path, run_dir) for run_dir in run_dirs):
                target = destination / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                copied += path.stat().st_size
        sweeps = []
        for run_dir, plan in zip(run_dirs, plans):
            copied += _write_sweep(plan, destination / run_dir.relative_to(source))
            sweeps.append(dataclasses.replace(plan.result, directory=str(run_dir.relative_to(source))))
    left_out = sum(
        path.stat().st_size for run_dir in run_dirs for path in (run_dir / CHECKPOINT_DIR).rglob("*")
        if path.is_file() and path != run_dir / CHECKPOINT_DIR / MANIFEST_FILE
    )
    return Snapshot(sweeps, copied, left_out)


def _written_by_plan(path: Path, run_dir: Path) -> bool:
    """Whether `path` is one of the files a run directory's copy rewrites (rows, Parquet copy) or
    leaves out (everything under checkpoints/)."""
    return path.parent == run_dir and path.name in (EVALS_FILE, PARQUET_FILE) or run_dir / CHECKPOINT_DIR in path.parents


@dataclasses.dataclass
class _SweepPlan:
    """What to write for one run directory: its rows prefix, its new checkpoint manifest."""

    run_dir: Path
    rows_bytes: bytes
    manifest: dict
    complete: bool
    """Every group of the sweep finished and its Parquet copy is current (copied too)."""
    result: SweepSnapshot


def _plan_sweep(run_dir: Path) -> _SweepPlan:
    """Read and check one run directory (its checkpoints verified) and decide what its copy holds."""
    checkpoints = SweepCheckpoints(run_dir)
    checkpoints.open_for_reading()
    manifest = checkpoints.manifest
    groups = manifest["groups"]
    done = sorted(int(group) for group, entry in groups.items() if entry["done"])
    unfinished = sorted(int(group) for group, entry in groups.items() if not entry["done"])
    try:
        written_bytes, _ = rows_prefix_bytes(run_dir, checkpoints.rows_written)
    except ValueError as error:
        raise RunDirectoryError(f"{error}: the run directory is damaged") from None
    lines = complete_lines((run_dir / EVALS_FILE).read_bytes()[:written_bytes]) if written_bytes else []
    row_groups = [json.loads(line)["group"] for line in lines]
    kept = sum(1 for group in row_groups if group in done)
    if any(group not in done for group in row_groups[:kept]):
        raise RunDirectoryError(
            f"{run_dir / EVALS_FILE}: the rows of the finished groups {done} are not the file's first rows, "
            "so the unfinished groups' rows cannot be cut off"
        )
    new_groups = {
        str(group): {**groups[str(group)], "checkpoint": None, "sha256": None, "counters": dataclasses.asdict(checkpoints.counters(group))}
        for group in done
    }
    last_wall_time = json.loads(lines[kept - 1])["wall_time_s"] if kept else 0.0
    complete = not unfinished and kept == len(row_groups) and (run_dir / PARQUET_FILE).exists()
    new_manifest = {
        **manifest,
        "groups": new_groups,
        "rows_written": kept,
        "wall_time_s": manifest["wall_time_s"] if complete else last_wall_time,
    }
    rows_bytes = b"".join(line + b"\n" for line in lines[:kept])
    result = SweepSnapshot(str(run_dir), done, unfinished, kept, len(row_groups) - kept)
    return _SweepPlan(run_dir, rows_bytes, new_manifest, complete, result)


def _write_sweep(plan: _SweepPlan, target: Path) -> int:
    """Write one run directory's rows, Parquet copy (when complete) and checkpoint manifest into
    `target`; returns the bytes written."""
    (target / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    (target / EVALS_FILE).write_bytes(plan.rows_bytes)
    written = len(plan.rows_bytes)
    if plan.complete:
        shutil.copy2(plan.run_dir / PARQUET_FILE, target / PARQUET_FILE)
        written += (target / PARQUET_FILE).stat().st_size
    write_json_atomically(target / CHECKPOINT_DIR / MANIFEST_FILE, plan.manifest)
    return written + (target / CHECKPOINT_DIR / MANIFEST_FILE).stat().st_size


def _megabytes(count: int) -> str:
    return f"{count / 2**20:.1f} MB"
