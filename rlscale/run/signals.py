"""Graceful stops: SIGTERM (a scheduler's preemption notice, `kill`) and SIGINT (Ctrl-C).

While a `StopRequests` context is active, the first SIGTERM or SIGINT only records the request: the
runner finishes the chunk in flight, checkpoints the group, and stops with `Interrupted` (exit status
128 + the signal number). A second SIGINT while that happens stops at once (KeyboardInterrupt): the
rows written so far stay, and the sweep resumes from the previous checkpoint.

Signal handlers can only be installed from the main thread; elsewhere (a Ray worker thread) the
context does nothing and the process's own signal handling applies.
"""

from __future__ import annotations

import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequests:
    """Records the first stop signal received while active; `signum` is it (None: none yet)."""

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum
