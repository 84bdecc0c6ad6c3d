"""The simulated network's clock: one thread runs every delayed action (deliveries, reports, rings, timeouts)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(order=True)
class Task:
    when: float
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple = field(compare=False, default=())
    cancelled: bool = field(compare=False, default=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs `fn(*args)` after a delay on one thread, in time order. A task that raises is logged and kept in
    `errors` (tests assert it stays empty); the others still run."""

    def __init__(self, *, name: str = "sim-network") -> None:
        self._heap: list[Task] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._busy = 0
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> Task:
        task = Task(time.monotonic() + max(0.0, delay), next(self._seq), fn, args)
        with self._cond:
            heapq.heappush(self._heap, task)
            self._cond.notify_all()
        return task

    def soon(self, fn: Callable[..., Any], *args: Any) -> Task:
        return self.after(0.0, fn, *args)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no task is due now or running (tasks scheduled for later do not count)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or (self._heap and self._heap[0].when <= time.monotonic()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0].when <= now:
                        break
                    wait = (self._heap[0].when - now) if self._heap else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                task = heapq.heappop(self._heap)
                if task.cancelled:
                    continue
                self._busy += 1
            try:
                task.fn(*task.args)
            except Exception as exc:
                log.exception("simulated network task %r failed", task.fn)
                self.errors.append(exc)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
