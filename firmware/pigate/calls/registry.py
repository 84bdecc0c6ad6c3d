"""The registry of live calls: by id and by line, their state transitions under one lock, and stale-RING quiet times."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from pigate.errors import CallNotFound
from pigate.ozml.leg import IN_CALL
from .model import CallRecord

if TYPE_CHECKING:
    from pigate.ozml.runner import Runner
    from pigate.workers import TaskQueue
    from pigate.calls.trunks.gsmleg import GsmLeg


@dataclass
class LiveCall:
    """A call that is up (or ringing) and what runs it. `line` is the CallLine it uses."""

    record: CallRecord
    line: object
    leg: "GsmLeg"
    runner: "Runner | None" = None
    progress: threading.Event = field(default_factory=threading.Event)  # answered, dropped or ended
    control: "TaskQueue | None" = None   # third-party work on this call, in order
    saw_clcc: bool = False               # the modem reports call states by itself (no polling needed)
    disconnected: bool = False
    reported: bool = False               # its failure was already the Call command's 402: no Error notification
    url: str = ""
    response_ozml: str | None = None
    ring_time: float = 120.0


class CallRegistry:
    """Thread-safe: the event dispatcher, session threads and HTTP threads all go through here."""

    def __init__(self, *, monotonic: Callable[[], float], ring_quiet: float) -> None:
        self._monotonic = monotonic
        self._ring_quiet = ring_quiet
        self.lock = threading.RLock()
        self._by_id: dict[str, LiveCall] = {}
        self._by_line: dict[str, LiveCall] = {}
        self._quiet_until: dict[str, float] = {}

    def add(self, live: LiveCall) -> None:
        with self.lock:
            self._by_id[live.record.id] = live
            self._by_line[live.record.line] = live

    def has(self, call_id: str) -> bool:
        with self.lock:
            return call_id in self._by_id

    def find(self, call_id: str) -> LiveCall:
        """The live call with this id; 601 CallNotFound otherwise."""
        with self.lock:
            live = self._by_id.get(call_id.strip())
        if live is None:
            raise CallNotFound(call_id)
        return live

    def get(self, call_id: str) -> LiveCall | None:
        with self.lock:
            return self._by_id.get(call_id)

    def on_line(self, line: str) -> LiveCall | None:
        with self.lock:
            return self._by_line.get(line)

    def busy(self, line: str) -> bool:
        with self.lock:
            return line in self._by_line

    def all(self) -> list[LiveCall]:
        with self.lock:
            return list(self._by_id.values())

    # -- stale RINGs ------------------------------------------------------------------------------
    def quiet(self, line: str) -> bool:
        """True while RINGs on `line` may be leftovers of a call the gateway just ended."""
        with self.lock:
            return self._monotonic() < self._quiet_until.get(line, 0.0)

    def confirmed_end(self, line: str) -> None:
        """The modem reported the end of the call on `line`: any RING after this is a new call."""
        with self.lock:
            self._quiet_until.pop(line, None)

    # -- transitions ------------------------------------------------------------------------------
    def change(self, call: CallRecord, state: str) -> CallRecord | None:
        """Move a live call to a live state; a snapshot when it changed, None when nothing did."""
        with self.lock:
            if not call.live or call.state == state:
                return None
            if state == IN_CALL and call.answered is None:
                call.answered = self._monotonic()
            call.state = state
            return call.snapshot()

    def end(self, live: LiveCall, state: str, result: str, *, local: bool) -> CallRecord | None:
        """Mark the call ended and forget it; its final snapshot, or None if it had already ended."""
        with self.lock:
            rec = live.record
            if not rec.live:
                return None
            rec.state, rec.result, rec.ended = state, result, self._monotonic()
            rec.hung_up_locally = local
            if local:
                self._quiet_until[rec.line] = rec.ended + self._ring_quiet
            self._by_id.pop(rec.id, None)
            if self._by_line.get(rec.line) is live:
                del self._by_line[rec.line]
            return rec.snapshot()
