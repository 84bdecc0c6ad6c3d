"""Live updates for the dashboard: one thread notices what changed and fans it out as Server-Sent Events.

The cost does not grow with the number of browsers: a section (lines, calls, outbox, ...) is rebuilt once per
change, by this thread, and every stream writes the same bytes. Changes are noticed from the bus (modem
states, signal, calls, SMS indications: at once) and from cheap fingerprints of the store polled while anyone
is watching (an SMS's state changes inside the SMS service without an event). Each stream holds one HTTP
worker thread while it lasts, so streams are capped (`max_streams`) and the daemon adds that many workers; a
stream whose browser went away is noticed at its next write, the heartbeat at the latest.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import threading
import time
from typing import Any, Callable, Iterator

from pigate.calls import CallMedia
from pigate.events import ALL, Event, EventBus
from pigate.web.status import SECTIONS, StatusSource

log = logging.getLogger(__name__)

# Bus topic prefix -> sections it may change.
TOPICS = {"modem.state": ("lines", "leds"), "modem.signal": ("lines",), "modem.registration": ("lines",),
          "modem.recovery": ("lines",), "modem.call": ("calls", "history"), "modem.sms": ("outbox", "inbox"),
          "call": ("calls",), "sip.trunk": ("sip", "leds")}


class StreamsFull(Exception):
    """Every stream slot is taken."""


class LiveHub:
    def __init__(self, *, source: StatusSource, fingerprints: Callable[[], dict[str, Any]], bus: EventBus,
                 max_streams: int = 24, poll: float = 0.5, heartbeat: float = 5.0, backlog: int = 256,
                 min_rebuild: float = 1.0, batch: float = 0.25,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._source, self._fingerprints, self._bus = source, fingerprints, bus
        self._min_rebuild = min_rebuild  # a busy box rebuilds a section at most this often
        self._built: dict[str, float] = {}
        self._batch = batch  # a stream writes at most this often: a burst of events is one write
        self.max_streams, self._poll, self._heartbeat = max_streams, poll, heartbeat
        self._monotonic = monotonic
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # the streams wait on it for new events
        self._work = threading.Condition(lock)  # the thread waits on it for changes
        self._seq = 0
        self._events: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=backlog)
        self._current: dict[str, bytes] = {}      # section -> its latest payload (JSON)
        self._prints: dict[str, Any] = {}
        self._dirty: set[str] = set(SECTIONS)
        self._streams = 0
        self._running = False
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        self._unsubscribe = self._bus.subscribe(ALL, self._on_event)
        self._thread = threading.Thread(target=self._run, name="web-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._cond:
            self._running = False
            self._cond.notify_all()
            self._work.notify_all()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    @property
    def streams(self) -> int:
        with self._cond:
            return self._streams

    # -- noticing changes ---------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        """On the bus's dispatcher: only mark sections dirty (and pass a call's media on as it is)."""
        sections = next((s for prefix, s in TOPICS.items()
                         if event.topic == prefix or event.topic.startswith(prefix + ".")), ())
        extra = None
        # (The page blinks its activity LED when the outbox, inbox or calls change: no event of its own, so a
        # busy box does not write to every stream for each SMS.)
        if isinstance(event, CallMedia):
            extra = ("media", dataclasses.asdict(event))
        with self._cond:
            if not self._streams:
                self._dirty.update(sections)
                return
            self._dirty.update(sections)
            if extra is not None:
                self._append(extra[0], json.dumps(extra[1]).encode())
            if sections:
                self._work.notify()  # the streams wake only when there is something to write

    def _append(self, name: str, payload: bytes) -> None:
        """Queue one SSE event; called with the lock held."""
        self._seq += 1
        self._events.append((self._seq, b"event: %s\nid: %d\ndata: %s\n\n" % (name.encode(), self._seq, payload)))
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                if not self._streams:
                    self._work.wait(self._poll * 4)
                    continue
                self._work.wait(self._poll)
                dirty, self._dirty = self._dirty, set()
            try:
                dirty |= self._changed_prints()
                now = self._monotonic()
                for name in SECTIONS:
                    if name not in dirty:
                        continue
                    if now - self._built.get(name, -1e9) < self._min_rebuild:
                        with self._cond:
                            self._dirty.add(name)  # soon, not now
                        continue
                    self._built[name] = now
                    self._rebuild(name)
            except Exception:  # a failing read must not end live updates for good
                log.exception("live update failed")

    def _changed_prints(self) -> set[str]:
        """Sections whose fingerprint moved since the last look (one cheap reading per tick)."""
        changed = set()
        for name, value in self._fingerprints().items():
            if self._prints.get(name) != value:
                self._prints[name] = value
                changed.add(name)
        return changed

    def _rebuild(self, name: str) -> None:
        payload = json.dumps(self._source.section(name), separators=(",", ":")).encode()
        with self._cond:
            if self._current.get(name) == payload:
                return
            self._current[name] = payload
            self._append(name, payload)

    def snapshot(self) -> dict[str, Any]:
        """Every section now (the page's first paint, without waiting for the stream)."""
        return {name: self._source.section(name) for name in SECTIONS}

    # -- one stream ---------------------------------------------------------------------------------
    def open(self) -> Iterator[bytes]:
        """A stream's events; StreamsFull when every slot is taken. Close the iterator to end it."""
        with self._cond:
            if self._streams >= self.max_streams:
                raise StreamsFull()
            self._streams += 1
            self._dirty.update(s for s in SECTIONS if s not in self._current)
            self._work.notify()
        return self._stream()

    def _stream(self) -> Iterator[bytes]:
        try:
            with self._cond:
                last = self._seq
                first = [b"event: %s\ndata: %s\n\n" % (n.encode(), p) for n, p in self._current.items()]
            yield b"retry: 2000\n\n" + b"".join(first)
            quiet_since = self._monotonic()
            while True:
                with self._cond:
                    if not self._running:
                        return
                    pending = [e for seq, e in self._events if seq > last]
                    if not pending:
                        self._cond.wait(self._heartbeat)
                        pending = [e for seq, e in self._events if seq > last]
                    if pending:
                        last = self._seq
                if pending:
                    yield b"".join(pending)
                    quiet_since = self._monotonic()
                    time.sleep(self._batch)  # let a burst gather: one write per stream for many events
                elif self._monotonic() - quiet_since >= self._heartbeat:
                    yield b": keep-alive\n\n"
                    quiet_since = self._monotonic()
        finally:
            with self._cond:
                self._streams -= 1
