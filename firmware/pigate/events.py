"""The event bus: drivers publish, services subscribe; one dispatcher thread, publishers never block."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

Handler = Callable[["Event"], None]


@dataclass(frozen=True)
class Event:
    """Something that happened: a dotted topic (`modem.urc`, `sms.received`) and its data."""

    topic: str
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


class EventBus:
    """Topic-based publish/subscribe.

    `publish` only enqueues, so a driver's reader thread is never held up by a slow subscriber.
    Subscribers run one after another on the dispatcher thread; a subscriber that raises is logged
    and the others still run. A subscription to `"modem"` receives `"modem"` and `"modem.*"`; `"*"` receives all.
    """

    def __init__(self, *, name: str = "events") -> None:
        self._subs: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._name = name
        self._idle = threading.Condition()
        self._pending = 0

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call `handler(event)` for each event under `topic`; returns a function that unsubscribes."""
        entry = (topic, handler)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def publish(self, topic: str, **data: Any) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(Event(topic, data))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every event published so far has been dispatched (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    @staticmethod
    def _matches(sub: str, topic: str) -> bool:
        return sub == "*" or sub == topic or topic.startswith(sub + ".")

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                handlers = [h for t, h in self._subs if self._matches(t, event.topic)]
            for handler in handlers:
                try:
                    handler(event)
                except Exception:
                    log.exception("subscriber %r failed on %s", handler, event.topic)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
