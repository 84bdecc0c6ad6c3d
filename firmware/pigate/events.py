"""The event bus: drivers publish typed events, services subscribe; one dispatcher thread, publishers never block.

An event is a frozen dataclass whose class names its dotted topic (`topic`, a class constant): the driver's
events and their topics are declared together in one module (pigate.modem.events). Subscribers match on an
event class (that class and its subclasses) or on a topic constant (that topic and the ones below it).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, ClassVar

log = logging.getLogger(__name__)

Handler = Callable[["Event"], None]

ALL = "*"  # the topic key that receives every event


@dataclass(frozen=True)
class Event:
    """Something that happened. Subclasses are frozen dataclasses of typed fields and set `topic`."""

    topic: ClassVar[str] = "event"



class EventBus:
    """Typed publish/subscribe.

    `publish` only enqueues, so a driver's reader thread is never held up by a slow subscriber.
    Subscribers run one after another on the dispatcher thread; a subscriber that raises is logged
    and the others still run. A subscription to an event class receives its instances (subclasses included);
    one to a topic such as MODEM receives `modem` and `modem.*`; ALL receives everything.
    """

    def __init__(self, *, name: str = "events") -> None:
        self._subs: list[tuple[str | type[Event], Handler]] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._name = name
        self._idle = threading.Condition()
        self._pending = 0

    def subscribe(self, key: str | type[Event], handler: Handler) -> Callable[[], None]:
        """Call `handler(event)` for each event of class `key`, or under topic `key`; returns an unsubscriber."""
        entry = (key, handler)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def publish(self, event: Event) -> None:
        if not isinstance(event, Event):
            raise TypeError(f"not an Event: {event!r}")
        with self._idle:
            self._pending += 1
        self._queue.put(event)

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
    def _matches(key: str | type[Event], event: Event) -> bool:
        if isinstance(key, type):
            return isinstance(event, key)
        topic = event.topic
        return key == ALL or key == topic or topic.startswith(key + ".")

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                handlers = [h for key, h in self._subs if self._matches(key, event)]
            for handler in handlers:
                try:
                    handler(event)
                except Exception:
                    log.exception("subscriber %r failed on %s", handler, event.topic)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
