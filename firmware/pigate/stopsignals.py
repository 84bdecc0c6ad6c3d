"""SIGTERM and SIGINT as something a program's main thread waits for (the daemon and `pigate sim serve`)."""

from __future__ import annotations

import os
import select
import signal
from typing import Iterable


def _ignore(signum, frame) -> None:
    """The Python-level handler does nothing: the C-level one has already written the signal to the pipe."""


class StopSignals:
    """Waits for a stop signal without ever taking a lock in a signal handler.

    Python runs a signal's handler in the main thread between two bytecodes, wherever that thread is. A handler
    that sets a threading.Event deadlocks when the signal lands while the main thread is inside Event.wait()
    holding the event's own lock (the lock is not re-entrant): the daemon then ignores the signal for good.
    Here the handler does nothing; Python's C-level handler writes the signal's number to a pipe
    (signal.set_wakeup_fd) and wait() reads it. A signal that came before wait() is not lost: it waits in the
    pipe. Must be made and closed in the main thread.
    """

    def __init__(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self._signals = frozenset(int(s) for s in signals)
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._old_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._old_handlers = {s: signal.signal(s, _ignore) for s in self._signals}

    def wait(self, timeout: float | None = None) -> int | None:
        """The number of the first stop signal received since the last wait(), or None after `timeout`
        seconds without one. Other signals handled in Python also wake the pipe; they are skipped."""
        while True:
            ready, _, _ = select.select([self._read], [], [], timeout)
            if not ready:
                return None
            for number in os.read(self._read, 64):
                if number in self._signals:
                    return number

    def close(self) -> None:
        for s, old in self._old_handlers.items():
            signal.signal(s, old)
        signal.set_wakeup_fd(self._old_fd)
        os.close(self._read)
        os.close(self._write)

    def __enter__(self) -> StopSignals:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
