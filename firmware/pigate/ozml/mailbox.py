"""Named connections between live scripts: SendMsg leaves a message in a connection, WaitForMsg takes it.

A message waits in its connection until a WaitForMsg takes it (oldest first), for at most `ttl` seconds, so a
reply that arrives after its call has ended does not linger; a connection keeps at most `capacity` messages
(the oldest is dropped). Connection names are case-insensitive and shared by every script on the box.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

# How often a waiting script checks whether its call ended or its session was cancelled.
CHECK_INTERVAL = 0.1


class Mailboxes:
    def __init__(self, *, capacity: int = 100, ttl: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity, self._ttl, self._clock = capacity, ttl, clock
        self._boxes: dict[str, collections.deque[tuple[float, str]]] = {}
        self._cond = threading.Condition()

    def send(self, connection: str, text: str) -> None:
        key = connection.strip().lower()
        with self._cond:
            self._expire(key)
            box = self._boxes.setdefault(key, collections.deque())
            if len(box) >= self._capacity:
                box.popleft()
                log.warning("connection %r is full: its oldest message was dropped", connection)
            box.append((self._clock(), text))
            self._cond.notify_all()

    def wait(self, connection: str, timeout: float, *, interrupted: Callable[[], bool] = lambda: False) -> str | None:
        """The oldest message of `connection`, waiting up to `timeout` seconds; None on timeout or once
        `interrupted()` (the call ended, the session was cancelled)."""
        key = connection.strip().lower()
        deadline = self._clock() + timeout
        with self._cond:
            while True:
                self._expire(key)
                box = self._boxes.get(key)
                if box:
                    text = box.popleft()[1]
                    if not box:
                        del self._boxes[key]
                    return text
                left = deadline - self._clock()
                if left <= 0 or interrupted():
                    return None
                self._cond.wait(min(left, CHECK_INTERVAL))

    def pending(self, connection: str) -> int:
        with self._cond:
            self._expire(connection.strip().lower())
            return len(self._boxes.get(connection.strip().lower(), ()))

    def _expire(self, key: str) -> None:
        box = self._boxes.get(key)
        oldest = self._clock() - self._ttl
        while box and box[0][0] < oldest:
            box.popleft()
        if box is not None and not box:
            del self._boxes[key]
