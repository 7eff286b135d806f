"""Failures of a running sweep that the command reports with one message and an exit status.

Bad input (an invalid config, a run directory that holds something else or is busy) is a
`rlscale.config.ConfigError` and exits 2 before anything is compiled or written. The failures here
happen while a sweep runs; each leaves the run directory resumable (see README, "Nothing lost").
"""

from __future__ import annotations

import signal

EXIT_BAD_INPUT = 2
EXIT_WRITE_FAILED = 3
# A sweep stopped by a signal exits 128 + the signal number, as a shell reports a process killed by it.
EXIT_SIGNAL_BASE = 128


class RunError(Exception):
    """A running sweep stopped; `exit_status` is what the command exits with."""

    exit_status = 1


class WriteFailed(RunError):
    """Writing rows, a checkpoint or a manifest failed (disk full, permission denied, a read-only file
    system, a library error while saving). The message names what was written and where."""

    exit_status = EXIT_WRITE_FAILED

    def __init__(self, what: str, path, error: BaseException):
        self.what, self.path, self.error = what, path, error
        reason = f"{type(error).__name__}: {error}" if not isinstance(error, OSError) else _os_reason(error)
        super().__init__(f"could not write {what} to {path}: {reason}")


class Interrupted(RunError):
    """A stop was requested by a signal (SIGTERM from a scheduler, SIGINT from Ctrl-C); the group was
    checkpointed at the next chunk boundary first."""

    def __init__(self, signum: int, message: str):
        self.signum = signum
        self.exit_status = EXIT_SIGNAL_BASE + signum
        super().__init__(message)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error) if error.errno is None else f"[Errno {error.errno}] {error.strerror}"


def failure_message(error: BaseException, out) -> str:
    """The one line a command prints when a run into `out` stopped with `error` (a RunError, or the
    KeyboardInterrupt of a second Ctrl-C)."""
    if isinstance(error, WriteFailed):
        return (
            f"{error}; {out} is left resumable with every row written so far: fix the cause and run "
            "the same command again"
        )
    if isinstance(error, KeyboardInterrupt):
        return (
            f"aborted by a second Ctrl-C; the rows written so far are in {out}: run the same command "
            "again to resume from the last checkpoint"
        )
    return str(error)


def failure_exit_status(error: BaseException) -> int:
    """The exit status for `failure_message`'s error."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_SIGNAL_BASE + signal.SIGINT
    return error.exit_status
