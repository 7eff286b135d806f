"""Faults a user meets while a sweep runs: a full disk, a directory turned read-only, a library error
while saving, a second writer, a killed writer's lock, SIGTERM and Ctrl-C. Each ends with one message
(no traceback), a documented exit status, and a run directory that resumes to exactly the rows of
an uninterrupted run (`reference_run`).

The disk-full and read-only cases mount a small tmpfs in a private mount namespace (`unshare -m`),
which needs root or user namespaces; where neither is available they are skipped, and the
file-size-limit case (no privileges needed) still drives the same write-failure path.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import textwrap

import pytest
from reliability_helpers import (
    REPO,
    SWEEP_TIMEOUT_S,
    TINY_SWEEP,
    assert_trees_identical,
    eval_rows,
    final_states,
    run_sweep_process,
    start_stopped_sweep,
    sweep_command,
    sweep_environment,
)

EXIT_WRITE_FAILED = 3
# After the first checkpoint of group 0 is complete and named by the manifest.
AFTER_FIRST_CHECKPOINT = "manifest_replaced:1"
# Rows of group 0's second evaluation are on disk; its checkpoint is not written yet.
BETWEEN_CHECKPOINTS = "eval_rows_written:2"
FILE_SIZE_LIMIT_BYTES = 64 * 1024


def _assert_one_message(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("rlscale sweep: ")]
    assert len(lines) == 1, stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _resume_and_compare(out, reference_run, compile_cache) -> None:
    result = run_sweep_process(TINY_SWEEP, out, compile_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    assert eval_rows(out) == eval_rows(reference_run)


@pytest.mark.slow
def test_library_error_while_saving_a_checkpoint(reference_run, tmp_path, compile_cache):
    """A file-size limit makes orbax's write of the first checkpoint fail inside its I/O library."""
    out = tmp_path / "run"

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_BYTES, FILE_SIZE_LIMIT_BYTES))

    result = subprocess.run(
        sweep_command(TINY_SWEEP, out), cwd=REPO, env=sweep_environment(compile_cache),
        capture_output=True, text=True, timeout=SWEEP_TIMEOUT_S, preexec_fn=limit_file_size,
    )
    assert result.returncode == EXIT_WRITE_FAILED, result.stderr[-3000:]
    _assert_one_message(result.stderr, "could not write the checkpoint of group 0", "File too large", "resumable")
    manifest = json.loads((out / "checkpoints" / "state.json").read_text())
    assert len(eval_rows(out)) >= 2 * (len(manifest["groups"]) + 1)  # rows of the failed evaluation stay
    # The failed write was cleaned up: only checkpoints the manifest names are on disk.
    named = {entry["checkpoint"] for entry in manifest["groups"].values()}
    assert {str(path.relative_to(out / "checkpoints")) for path in (out / "checkpoints").glob("group-*/*")} == named
    _resume_and_compare(out, reference_run, compile_cache)


def _unshare_available() -> bool:
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_mount_namespace = pytest.mark.skipif(
    shutil.which("unshare") is None or not _unshare_available(),
    reason="mounting a tmpfs in a private mount namespace is not permitted here",
)


def _in_private_mount_namespace(script: str, tmp_path, compile_cache) -> subprocess.CompletedProcess:
    """Run `script` (bash) in a private mount namespace, with the sweep's command line in $SWEEP and
    its run directory in $RUN (tmp_path/run); mounts made there vanish when the script ends."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    command = " ".join(f"'{part}'" for part in sweep_command(TINY_SWEEP, run_dir, config_dir=tmp_path))
    body = f"set -eu\nRUN='{run_dir}'; SWEEP=\"{command}\"\n" + textwrap.dedent(script)
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", body], cwd=REPO,
        env=sweep_environment(compile_cache), capture_output=True, text=True, timeout=SWEEP_TIMEOUT_S,
    )


def _checkpoint_kib(reference_run) -> int:
    files = [path for path in (reference_run / "checkpoints").rglob("*") if path.is_file()]
    return sum(path.stat().st_size for path in files if "group-000" in str(path)) // 1024


@needs_mount_namespace
def test_disk_full(reference_run, tmp_path, compile_cache):
    # A tmpfs with room for the rows and one checkpoint, not for the second one, which is written
    # before the first is deleted.
    size_kib = int(1.5 * _checkpoint_kib(reference_run)) + 64
    result = _in_private_mount_namespace(
        f"""
        SAVED='{tmp_path / "saved"}'
        mount -t tmpfs -o size={size_kib}k tmpfs "$RUN"
        status=0; eval "$SWEEP" 2> "$RUN.stderr" || status=$?
        echo "status $status"; cat "$RUN.stderr" >&2
        cp -a "$RUN" "$SAVED"
        """,
        tmp_path, compile_cache,
    )
    assert "status 3" in result.stdout, result.stderr[-3000:]
    _assert_one_message(result.stderr, "could not write", "No space left on device", "resumable")
    saved = tmp_path / "saved"
    assert len(eval_rows(saved)) >= 2
    _resume_and_compare(saved, reference_run, compile_cache)


@pytest.mark.slow
@needs_mount_namespace
def test_directory_made_read_only_mid_run(reference_run, tmp_path, compile_cache):
    # Once the first checkpoint is complete, the run directory is replaced by a read-only bind mount
    # of itself (the rows file, already open, stays writable: the next checkpoint is what fails).
    result = _in_private_mount_namespace(
        f"""
        (export RLSCALE_TEST_STOP_AT={AFTER_FIRST_CHECKPOINT}; eval "exec $SWEEP") 2> "$RUN.stderr" &
        pid=$!
        until [ "$(cut -d ')' -f 2 /proc/$pid/stat | cut -d ' ' -f 2)" = T ]; do sleep 0.05; done
        mount --bind "$RUN" "$RUN"
        mount -o remount,bind,ro "$RUN"
        kill -CONT $pid
        status=0; wait $pid || status=$?
        echo "status $status"; cat "$RUN.stderr" >&2
        """,
        tmp_path, compile_cache,
    )
    assert f"status {EXIT_WRITE_FAILED}" in result.stdout, result.stderr[-3000:]
    _assert_one_message(
        result.stderr, "could not write the checkpoint of group 0 at env step 500", "Read-only file system"
    )
    out = tmp_path / "run"
    assert len(eval_rows(out)) == 4  # both evaluations' rows; only the first one's checkpoint
    _resume_and_compare(out, reference_run, compile_cache)


def test_second_writer_is_refused_and_a_killed_writers_lock_is_taken_over(reference_run, tmp_path, compile_cache):
    """The first writer is stopped once its second evaluation's rows are on disk, past its first
    checkpoint; a second writer is refused while it lives; SIGKILLed, its lock is taken over by the
    same command run again, which resumes from the checkpoint to the rows and final states (every
    group's parameters, optimizer states, replay and validation buffers) of an uninterrupted run."""
    out = tmp_path / "run"
    first = start_stopped_sweep(TINY_SWEEP, out, compile_cache, BETWEEN_CHECKPOINTS)
    try:
        before = sorted(path.name for path in out.rglob("*"))
        second = run_sweep_process(TINY_SWEEP, out, compile_cache)
        assert second.returncode == 2, second.stderr[-3000:]
        _assert_one_message(second.stderr, f"is being written by another process (pid {first.pid}", "sweep")
        assert sorted(path.name for path in out.rglob("*")) == before
    finally:
        first.kill()
        first.wait()
    lock = json.loads((out / "writer.lock").read_text())
    assert lock["pid"] == first.pid
    third = run_sweep_process(TINY_SWEEP, out, compile_cache)
    assert third.returncode == 0, third.stderr[-3000:]
    assert f"took over the stale lock {out / 'writer.lock'} of pid {first.pid}" in third.stdout
    assert eval_rows(out) == eval_rows(reference_run)
    for resumed, uninterrupted in zip(final_states(out, TINY_SWEEP), final_states(reference_run, TINY_SWEEP), strict=True):
        assert_trees_identical(resumed, uninterrupted)


@pytest.mark.parametrize(
    "signum", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT", marks=pytest.mark.slow)]
)
def test_stop_signal_checkpoints_at_the_chunk_boundary_and_resumes(signum, reference_run, tmp_path, compile_cache):
    out = tmp_path / "run"
    process = start_stopped_sweep(TINY_SWEEP, out, compile_cache, BETWEEN_CHECKPOINTS)
    process.send_signal(signum)
    process.send_signal(signal.SIGCONT)
    _, stderr = process.communicate(timeout=SWEEP_TIMEOUT_S)
    assert process.returncode == 128 + signum, stderr[-3000:]
    _assert_one_message(
        stderr, f"stopped by {signal.Signals(signum).name} in group 1 at env step 500", "run the same command"
    )
    manifest = json.loads((out / "checkpoints" / "state.json").read_text())
    assert manifest["groups"]["0"]["env_step"] == 500 and manifest["rows_written"] == 4
    assert len(eval_rows(out)) == 4
    _resume_and_compare(out, reference_run, compile_cache)
