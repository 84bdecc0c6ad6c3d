"""The shared worker loops: a wakeable step loop (SMS line workers, the SMS hook thread) and ordered task queues
(the call service's notifications, third-party control of one call).

A WakeableLoop runs one step at a time and sleeps until woken or until the step's own deadline. A TaskQueue's
thread exists only while it has work (`idle_exit`), so a call nobody controls from outside costs no thread, and
tasks of one call still run one after another in the order they were asked for.
"""

from __future__ import annotations

import collections
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
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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

Task = Callable[[], None]


class TaskQueue:
    """Runs submitted tasks in order on one thread; a task that raises is logged and the next one runs."""

    def __init__(self, *, name: str, idle_exit: bool = True) -> None:
        self.name = name
        self._idle_exit = idle_exit
        self._tasks: collections.deque[Task] = collections.deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = False

    def submit(self, task: Task) -> bool:
        """Queue `task`; False (and not run) once the queue is closed."""
        with self._cond:
            if self._closed:
                return False
            self._tasks.append(task)
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Run what is queued (up to `timeout` seconds), then refuse new tasks and let the thread end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: still busy after %.1f s at shutdown", self.name, timeout)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued task has run (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._tasks and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._tasks:
                    if self._closed or self._idle_exit:
                        self._thread = None
                        self._cond.notify_all()
                        return
                    self._cond.wait()
                task = self._tasks.popleft()
                self._busy = True
            try:
                task()
            except Exception:
                log.exception("%s: task failed", self.name)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
