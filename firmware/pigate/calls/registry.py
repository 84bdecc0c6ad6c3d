"""The registry of live calls: by id, by line and by trunk channel, and their state transitions under one lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Hashable

from pigate.callstates import IN_CALL
from pigate.errors import CallNotFound

from .model import CallRecord

if TYPE_CHECKING:
    from pigate.ozml.runner import Runner
    from pigate.workers import TaskQueue

    from .leg import ServiceLeg
    from .trunks.contract import Trunk

# A call's key among the trunks' events: (the trunk, its channel).
ChannelKey = tuple[Hashable, str]


@dataclass
class LiveCall:
    """A call that is up (or ringing) and what runs it: its trunk, the trunk's channel and the leg over it."""

    record: CallRecord
    trunk: "Trunk"
    channel: str
    leg: "ServiceLeg"
    runner: "Runner | None" = None
    progress: threading.Event = field(default_factory=threading.Event)  # answered or ended
    control: "TaskQueue | None" = None   # third-party work on this call, in order
    reported: bool = False               # its failure was already the Call command's 402: no Error notification
    url: str = ""
    response_ozml: str | None = None
    ring_time: float = 120.0
    bridged: bool = False                # joined (or about to be) to another call by a bridge session
    handoff: "LiveCall | None" = None    # transferred: the answered call its session bridges it to next
    ring_timer: "threading.Timer | None" = None  # an incoming call's answer_time
    script_over: threading.Event = field(default_factory=lambda: _set(threading.Event()))  # no script running


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


class CallRegistry:
    """Thread-safe: the event dispatcher, session threads and HTTP threads all go through here."""

    def __init__(self, *, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self.lock = threading.RLock()
        self._by_id: dict[str, LiveCall] = {}
        self._by_line: dict[str, list[LiveCall]] = {}
        self._by_channel: dict[ChannelKey, LiveCall] = {}
        self._closing: dict[str, CallRecord] = {}  # ended, history row not yet written (see closed())

    def add(self, live: LiveCall) -> None:
        with self.lock:
            self._by_id[live.record.id] = live
            self._by_line.setdefault(live.record.line, []).append(live)
            self._by_channel[(live.trunk, live.channel)] = live

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

    def on_channel(self, trunk: "Trunk", channel: str) -> LiveCall | None:
        with self.lock:
            return self._by_channel.get((trunk, channel))

    def busy(self, line: str, capacity: int = 1) -> bool:
        """The line carries `capacity` live calls already (a trunk's capacity per line: 1 on GSM)."""
        with self.lock:
            return len(self._by_line.get(line, ())) >= capacity

    def all(self) -> list[LiveCall]:
        with self.lock:
            return list(self._by_id.values())

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
            self._by_id.pop(rec.id, None)
            on_line = self._by_line.get(rec.line, [])
            if live in on_line:
                on_line.remove(live)
                if not on_line:
                    del self._by_line[rec.line]
            if self._by_channel.get((live.trunk, live.channel)) is live:
                del self._by_channel[(live.trunk, live.channel)]
            snap = rec.snapshot()
            self._closing[rec.id] = snap
            return snap

    def closing(self, call_id: str) -> CallRecord | None:
        """A call that has ended but whose history row is still being written (a reader falls back to this)."""
        with self.lock:
            return self._closing.get(call_id)

    def closed(self, call_id: str) -> None:
        """The ended call's history row is written: readers find it there from now on."""
        with self.lock:
            self._closing.pop(call_id, None)
