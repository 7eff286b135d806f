"""One writer per run directory: an exclusive lock on `<run_dir>/writer.lock`.

The lock is an advisory `fcntl.flock` on the file, held for as long as the sweep runs. The kernel
releases it when the holding process ends in any way (exit, crash, `kill -9`), so a lock file left by
a killed process is stale by construction: the next writer takes it over (and says so). A writer that
ends on its own clears its record. The file records who holds it — pid, host, command line and start
time — so a refused writer can name the process that is writing.

Where the file system does not support `flock` (some network file systems), the lock falls back to
the recorded pid: a holder on this host that is still alive keeps the directory and a dead one is
taken over; a holder on another host cannot be checked from here and keeps it (the message says to
delete the lock file once that process is known to be gone).
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import socket
import sys
from pathlib import Path

from rlscale.run.checkpoint import RunDirectoryError
from rlscale.run.errors import WriteFailed

LOCK_FILE = "writer.lock"
WRITER_ADVICE = "wait for it to finish, stop it, or use another --out"
"""What a refused writer (a sweep or a study) is told to do; RunDirectoryLock's default `advice`."""


class RunDirectoryLock:
    """`with RunDirectoryLock(run_dir) as lock:` holds the directory for this process.

    Entering creates `run_dir` if needed. It raises RunDirectoryError naming the live holder when
    another process writes the directory, and WriteFailed when the lock file cannot be written.
    `taken_over` is the record of a stale holder whose lock was taken over (None otherwise).
    `advice` ends the refusal: what the refused command's user can do (a writer's default names
    `--out`; a reader such as `rlscale snapshot` passes its own).
    """

    def __init__(self, run_dir: str | os.PathLike, advice: str = WRITER_ADVICE):
        self.run_dir = Path(run_dir)
        self.advice = advice
        self.path = self.run_dir / LOCK_FILE
        self.taken_over: dict | None = None
        self._descriptor: int | None = None

    def __enter__(self) -> "RunDirectoryLock":
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise WriteFailed("the writer lock", self.path, error) from None
        try:
            self._acquire(descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        return self

    def __exit__(self, *exc_info) -> None:
        if self._descriptor is not None:
            # A writer that ends here (finished, stopped by a signal at a chunk boundary, or failed with a
            # message) clears its record, so the next writer reports no stale lock; only a killed
            # process leaves one. Closing the descriptor releases the flock.
            try:
                os.ftruncate(self._descriptor, 0)
            except OSError:
                pass
            os.close(self._descriptor)
            self._descriptor = None

    def _acquire(self, descriptor: int) -> None:
        previous = _read_record(descriptor)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryError(
                f"output directory {self.run_dir} is being written by another process "
                f"({_describe(previous)}); {self.advice}"
            ) from None
        except OSError as error:
            if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise WriteFailed("the writer lock", self.path, error) from None
            if previous is not None and _alive_here(previous):
                raise RunDirectoryError(
                    f"output directory {self.run_dir} is being written by another process "
                    f"({_describe(previous)}; this file system has no flock, so the lock is that "
                    f"process's pid); {self.advice} (delete "
                    f"{self.path} if that process is gone)"
                ) from None
        if previous is not None and previous.get("pid") != os.getpid():
            self.taken_over = previous
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, json.dumps(record).encode(), 0)
            os.fsync(descriptor)
        except OSError as error:
            raise WriteFailed("the writer lock", self.path, error) from None

    def describe_taken_over(self) -> str | None:
        """A one-line note about the stale lock this writer took over, or None."""
        if self.taken_over is None:
            return None
        return f"took over the stale lock {self.path} of {_describe(self.taken_over)}, which no longer runs"


def _read_record(descriptor: int) -> dict | None:
    data = os.pread(descriptor, 1 << 16, 0)
    if not data.strip():
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _describe(record: dict | None) -> str:
    if record is None:
        return "a process that left no record"
    return (
        f"pid {record.get('pid')} on host {record.get('host')}, started {record.get('started')}: "
        f"{record.get('command')}"
    )


def _alive_here(record: dict) -> bool:
    """Whether the process of `record` runs on this host (a record from another host counts as alive:
    its liveness cannot be checked from here)."""
    if record.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(record["pid"]), 0)
    except (ProcessLookupError, KeyError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True
