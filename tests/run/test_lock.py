"""The writer lock of a run directory: a second writer is refused while the first holds it, a writer
that ends clears its record, and a record left by a process that no longer runs is taken over and
named (the killed-process path through a real sweep: tests/reliability/test_faults.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rlscale.run.checkpoint import RunDirectoryError
from rlscale.run.lock import LOCK_FILE, RunDirectoryLock


def test_a_second_writer_is_refused_while_the_first_holds_the_directory(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from rlscale.run.lock import RunDirectoryLock\n"
         f"with RunDirectoryLock({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunDirectoryError, match=f"being written by another process \\(pid {holder.pid} on host"):
            with RunDirectoryLock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with RunDirectoryLock(tmp_path) as lock:
        assert lock.taken_over["pid"] == holder.pid
        assert f"of pid {holder.pid} on host" in lock.describe_taken_over()


def test_a_writer_that_ends_clears_its_record(tmp_path):
    with RunDirectoryLock(tmp_path) as lock:
        assert json.loads((tmp_path / LOCK_FILE).read_text())["command"]
        assert lock.taken_over is None
    assert (tmp_path / LOCK_FILE).read_text() == ""
    with RunDirectoryLock(tmp_path) as lock:
        assert lock.taken_over is None and lock.describe_taken_over() is None
