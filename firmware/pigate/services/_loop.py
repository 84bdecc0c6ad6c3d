"""A worker thread that runs one step at a time and sleeps until woken or until the step's own deadline."""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class WakeableLoop:
    """Runs `step()` on its own thread; `step` returns how many seconds it may sleep (0: run again at once).

    `wake()` ends a sleep early. A step that raises is logged and retried after a second: the work it was doing
    is in the database, so the next step picks it up.
    """

    def __init__(self, *, name: str, step: Callable[[], float]) -> None:
        self._name = name
        self._step = step
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the loop to end after its current step, without waiting for it."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.signal_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """True once stop() was called: a long step should return early."""
        return self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self._step()
            except Exception:
                log.exception("%s: step failed", self._name)
                wait = 1.0
            if wait > 0:
                self._wake.wait(wait)
