"""The webhook delivery log: every notification post (where, what, answer code, time, error), kept in memory.

`LoggingPoster` sits between the services and pigate.notify's Notifier: it records each post and reports
its latency and outcome to a listener (the metrics), then returns the answer unchanged. The SMS service's
own retries (attempts, next try, last error) are in its durable webhook queue; this log adds the calls'
notifications and the answer codes.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping

from pigate.errors import NotifyError


@dataclass(frozen=True)
class Delivery:
    at: float
    kind: str
    url: str
    status: int | None  # the app's HTTP answer; None when none came (refused, unreachable, timeout)
    ok: bool
    seconds: float
    error: str
    subject: str

    def as_json(self) -> dict:
        return asdict(self)


Listener = Callable[[Delivery], None]


class DeliveryLog:
    """The last `size` deliveries, newest last; `version` changes with each one."""

    def __init__(self, *, size: int = 200) -> None:
        self._items: collections.deque[Delivery] = collections.deque(maxlen=size)
        self._lock = threading.Lock()
        self.version = 0

    def add(self, delivery: Delivery) -> None:
        with self._lock:
            self._items.append(delivery)
            self.version += 1

    def recent(self, n: int) -> list[Delivery]:
        with self._lock:
            return list(self._items)[-n:][::-1]


class LoggingPoster:
    """A Poster (post(url, fields) -> answer text) that records what its inner Notifier did."""

    def __init__(self, *, inner: Any, log: DeliveryLog, listeners: tuple[Listener, ...] = (),
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._inner, self._log, self._listeners = inner, log, listeners
        self._clock, self._monotonic = clock, monotonic

    def __getattr__(self, name: str) -> Any:  # http, post_response, config: the Notifier's own
        return getattr(self._inner, name)

    def post(self, url: str, fields: Mapping[str, str]) -> str:
        kind = str(fields.get("NotificationName") or fields.get("Notification") or "?")
        subject = str(fields.get("CallId") or fields.get("Id") or fields.get("SmsId") or fields.get("MessageId") or "")
        started, at = self._monotonic(), self._clock()
        status: int | None = None
        try:
            if hasattr(self._inner, "post_response"):
                response = self._inner.post_response(url, fields)
                status = response.status
                answer = response.text()
            else:
                answer = self._inner.post(url, fields)
                status = 200
        except NotifyError as exc:
            status = getattr(exc, "status", None)
            self._record(Delivery(at, kind, url, status, False, self._monotonic() - started, str(exc), subject))
            raise
        self._record(Delivery(at, kind, url, status, True, self._monotonic() - started, "", subject))
        return answer

    def _record(self, delivery: Delivery) -> None:
        self._log.add(delivery)
        for listener in self._listeners:
            listener(delivery)
