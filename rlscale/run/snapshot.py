"""`rlscale snapshot DIR DEST`: a copy of a sweep's or study's run directory that resumes on another
machine, small enough to commit or move: everything but the checkpoints' arrays.

A long study outlives the machine it started on (a lent GPU, a scratch disk wiped between jobs). What
must travel is what the next run cannot redo cheaply: the rows, the manifests, the study's state, its
TOML files, fits and report. What need not travel are the checkpoints' arrays (replay buffers: about
80 bytes per stored transition and config, hundreds of MB for a study's stage):

- a finished group needs none of them: its manifest entry keeps its counters and names no checkpoint
  (`SweepCheckpoints`: a done entry with `"checkpoint": null`, format 4), and a resumed sweep skips it;
- an unfinished group is left out: its entry and its rows are dropped, and a resumed sweep trains it
  again from the start (bit-identically, on the same kind of machine), so the copy loses that group's
  progress and nothing else.

Every run directory under DIR (one holding `checkpoints/state.json`: the study's sweeps, a Ray sweep's
per-group directories) is copied that way, apart from those under a study's `superseded_<k>/`: they
are never resumed, so they keep all their rows and lose only their checkpoints. Every other file is
copied as it is, apart from writer locks. DIR's writer lock and each run directory's are held while
copying, so a live sweep or study is refused (stop it first: SIGTERM ends it at a chunk boundary). The
copy is written beside DEST and renamed into place when complete, so a failed copy leaves no DEST.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from pathlib import Path

from rlscale.run.checkpoint import CHECKPOINT_DIR, FORMAT_VERSION, MANIFEST_FILE, RunDirectoryError, SweepCheckpoints
from rlscale.run.errors import WriteFailed
from rlscale.run.files import write_json_atomically
from rlscale.run.lock import LOCK_FILE, RunDirectoryLock
from rlscale.run.store import EVALS_FILE, PARQUET_FILE, rows_prefix_bytes
from rlscale.run.rows import complete_lines
from rlscale.run.study_files import STATE_FILE, SUPERSEDED_PREFIX

PARTIAL_SUFFIX = ".snapshot-partial"
"""The copy is written into DEST + this suffix, then renamed to DEST."""
COPY_ADVICE = "wait for it to finish or stop it (SIGTERM ends it at a chunk boundary) before copying"
"""What a refusal to copy a directory that a live process writes tells the user."""


@dataclasses.dataclass
class SweepSnapshot:
    """What the copy of one run directory kept and left out."""

    directory: str
    """The run directory, relative to DIR ('.' for DIR itself)."""
    groups_done: list[int]
    """The finished groups' plan indices (copied with their counters, no arrays)."""
    groups_left_out: list[int]
    """Groups with a checkpoint but not finished: trained again from the start when the copy resumes."""
    rows_kept: int
    rows_left_out: int
    superseded: bool = False
    """Under a study's superseded_<k>/: every row kept, no checkpoint manifest (never resumed)."""


@dataclasses.dataclass
class Snapshot:
    """The result of `snapshot`: the run directories copied and the bytes written and left out."""

    sweeps: list[SweepSnapshot]
    bytes_copied: int
    bytes_left_out: int
    """The bytes of checkpoint arrays (and their small files) not copied."""

    def summary(self) -> str:
        lines = []
        for sweep in self.sweeps:
            if sweep.superseded:
                lines.append(f"{sweep.directory}: superseded, its {sweep.rows_kept} rows kept as a record (no checkpoints)")
                continue
            dropped = (
                f"; unfinished group(s) {sweep.groups_left_out} left out with their {sweep.rows_left_out} rows "
                "(trained again from the start on resume)"
                if sweep.groups_left_out or sweep.rows_left_out
                else ""
            )
            lines.append(f"{sweep.directory}: {len(sweep.groups_done)} finished group(s), {sweep.rows_kept} rows{dropped}")
        lines.append(f"{_megabytes(self.bytes_copied)} copied, {_megabytes(self.bytes_left_out)} of checkpoints left out")
        return "\n".join(lines)


def snapshot(source: str | Path, destination: str | Path) -> Snapshot:
    """Copy the run or study directory `source` to the new directory `destination` (module doc).

    Raises RunDirectoryError (`source` is not a run or study directory, is being written, or is
    damaged; `destination` is not a new or empty directory outside it) before writing anything, and
    WriteFailed when the copy cannot be written (nothing is left at `destination` then).
    """
    source, destination = Path(source), Path(destination)
    if not source.is_dir():
        raise RunDirectoryError(f"{source} is not a directory")
    if destination.exists() and not (destination.is_dir() and not any(destination.iterdir())):
        raise RunDirectoryError(f"{destination} exists and is not an empty directory; give a new one")
    if destination.resolve().is_relative_to(source.resolve()):
        raise RunDirectoryError(f"{destination} is inside {source}; give a directory outside it")
    run_dirs = sorted(path.parent.parent for path in source.rglob(f"{CHECKPOINT_DIR}/{MANIFEST_FILE}"))
    if not run_dirs and not (source / STATE_FILE).exists():
        raise RunDirectoryError(f"{source} holds no sweep (no {CHECKPOINT_DIR}/{MANIFEST_FILE}) and no study ({STATE_FILE})")
    partial = destination.with_name(destination.name + PARTIAL_SUFFIX)
    with contextlib.ExitStack() as locks:
        for directory in dict.fromkeys([source, *run_dirs]):
            locks.enter_context(RunDirectoryLock(directory, advice=COPY_ADVICE))
        plans = [_plan_sweep(run_dir, source) for run_dir in run_dirs]
        left_out = sum(
            path.stat().st_size for run_dir in run_dirs for path in (run_dir / CHECKPOINT_DIR).rglob("*")
            if path.is_file() and path != run_dir / CHECKPOINT_DIR / MANIFEST_FILE
        )
        try:
            shutil.rmtree(partial, ignore_errors=True)
            copied = _copy_plain_files(source, partial, run_dirs)
            copied += sum(_write_sweep(plan, partial / plan.result.directory) for plan in plans)
            if destination.exists():
                destination.rmdir()
            os.replace(partial, destination)
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise WriteFailed(f"the copy of {source}", destination, error) from None
    return Snapshot([plan.result for plan in plans], copied, left_out)


def _copy_plain_files(source: Path, target: Path, run_dirs: list[Path]) -> int:
    """Copy every file of `source` into `target` but writer locks and what the run directories'
    copies rewrite or leave out; returns the bytes copied."""
    copied = 0
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.name != LOCK_FILE and not any(_rewritten_or_left_out(path, run_dir) for run_dir in run_dirs):
            copy = target / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            copied += path.stat().st_size
    return copied


def _rewritten_or_left_out(path: Path, run_dir: Path) -> bool:
    """Whether `path` is a file the copy of `run_dir` writes itself (its rows, its Parquet copy) or
    leaves out (everything under checkpoints/)."""
    return (path.parent == run_dir and path.name in (EVALS_FILE, PARQUET_FILE)) or run_dir / CHECKPOINT_DIR in path.parents


@dataclasses.dataclass
class _SweepPlan:
    """What the copy of one run directory holds."""

    run_dir: Path
    rows_bytes: bytes
    """The rows to write to its evals.jsonl (complete lines)."""
    manifest: dict | None
    """Its new checkpoint manifest (None: a superseded run directory keeps none)."""
    complete: bool
    """Its Parquet copy holds exactly the rows copied (every group finished; a superseded sweep that
    had finished), so it is copied too."""
    result: SweepSnapshot


def _plan_sweep(run_dir: Path, source: Path) -> _SweepPlan:
    """Read and check one run directory (its finished groups' checkpoints verified) and decide what
    its copy holds. Raises RunDirectoryError naming the file when it is damaged."""
    relative = run_dir.relative_to(source)
    checkpoints = SweepCheckpoints(run_dir)
    manifest = checkpoints.read_manifest()
    groups = manifest["groups"]
    done = sorted(int(group) for group, entry in groups.items() if entry["done"])
    unfinished = sorted(int(group) for group, entry in groups.items() if not entry["done"])
    try:
        checkpoints.verify({**manifest, "groups": {str(group): groups[str(group)] for group in done}})
        written_bytes, _ = rows_prefix_bytes(run_dir, int(manifest["rows_written"]))
    except (RunDirectoryError, ValueError) as error:
        raise RunDirectoryError(f"{error}; {source} cannot be copied as it is (its own sweep or study command says how to go on)") from None
    lines = complete_lines((run_dir / EVALS_FILE).read_bytes()[:written_bytes]) if written_bytes else []
    rows = [_row(line, number, run_dir) for number, line in enumerate(lines, start=1)]
    if any(part.startswith(SUPERSEDED_PREFIX) for part in relative.parts):
        result = SweepSnapshot(str(relative), done, unfinished, len(rows), 0, superseded=True)
        return _SweepPlan(run_dir, b"".join(line + b"\n" for line in lines), None, (run_dir / PARQUET_FILE).exists(), result)
    kept = sum(1 for row in rows if row["group"] in done)
    if any(row["group"] not in done for row in rows[:kept]):
        raise RunDirectoryError(
            f"{run_dir / EVALS_FILE}: the rows of the finished groups {done} are not the file's first rows, so the "
            "unfinished groups' rows cannot be cut off; finish the sweep before copying it, or copy DIR whole"
        )
    checkpoints.manifest = manifest
    new_groups = {
        str(group): {**groups[str(group)], "checkpoint": None, "sha256": None, "counters": dataclasses.asdict(checkpoints.counters(group))}
        for group in done
    }
    complete = not unfinished and kept == len(rows) and (run_dir / PARQUET_FILE).exists()
    new_manifest = {
        **manifest,
        "format": FORMAT_VERSION,
        "groups": new_groups,
        "rows_written": kept,
        # The sweep clock resumes from here: the last kept row's time (the unfinished group's is lost).
        "wall_time_s": manifest["wall_time_s"] if complete else (rows[kept - 1]["wall_time_s"] if kept else 0.0),
    }
    result = SweepSnapshot(str(relative), done, unfinished, kept, len(rows) - kept)
    return _SweepPlan(run_dir, b"".join(line + b"\n" for line in lines[:kept]), new_manifest, complete, result)


def _row(line: bytes, number: int, run_dir: Path) -> dict:
    """One row of `run_dir`'s evals.jsonl with the fields the copy reads (group, wall_time_s)."""
    try:
        row = json.loads(line)
        return {"group": int(row["group"]), "wall_time_s": float(row["wall_time_s"])}
    except (ValueError, KeyError, TypeError) as error:
        raise RunDirectoryError(f"{run_dir / EVALS_FILE}, line {number}: not an eval row ({error}); the run directory is damaged") from None


def _write_sweep(plan: _SweepPlan, target: Path) -> int:
    """Write one run directory's rows, Parquet copy (when complete) and checkpoint manifest into
    `target`; returns the bytes written."""
    target.mkdir(parents=True, exist_ok=True)
    (target / EVALS_FILE).write_bytes(plan.rows_bytes)
    written = len(plan.rows_bytes)
    if plan.complete:
        shutil.copy2(plan.run_dir / PARQUET_FILE, target / PARQUET_FILE)
        written += (target / PARQUET_FILE).stat().st_size
    if plan.manifest is not None:
        (target / CHECKPOINT_DIR).mkdir(exist_ok=True)
        write_json_atomically(target / CHECKPOINT_DIR / MANIFEST_FILE, plan.manifest)
        written += (target / CHECKPOINT_DIR / MANIFEST_FILE).stat().st_size
    return written


def _megabytes(count: int) -> str:
    return f"{count / 2**20:.1f} MB"
