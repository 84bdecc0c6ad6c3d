"""A second Trunk, written against the contract alone: calls carried nowhere, each leg an OzML FakeLeg.

The test plays the far end: `ring` a line, `answer`, `press` a key or `hang_up` a call. Nothing here knows a
modem; that the call service runs its incoming, outgoing, history and third-party control on this trunk is the
proof that another transport (SIP) plugs in the same way.
"""

from __future__ import annotations

import itertools
import threading
from typing import Sequence

from pigate.calls import END_HANGUP, Answered, CallEvent, CallRecord, Digit, Ended, Incoming, Report, TrunkLine
from pigate.errors import DialFailed
from pigate.ozml.fakes import FakeLeg
from pigate.ozml.leg import RINGING

LINE = TrunkLine("mem1", "+15550009999")


class MemoryTrunk:
    def __init__(self, *, lines: Sequence[TrunkLine] = (LINE,)) -> None:
        self.lines = tuple(lines)
        self.up = {line.name: True for line in self.lines}
        self.legs: dict[str, FakeLeg] = {}
        self.dialed: list[tuple[str, str]] = []
        self.refuse: dict[str, str] = {}           # number -> the reason dial() fails with
        self.released: list[tuple[str, bool]] = []
        self.polls = 0
        self._report: Report | None = None
        self._ids = itertools.count(1)
        self._line_of: dict[str, str] = {}
        self._lock = threading.Lock()

    # ---- the contract --------------------------------------------------------------------------
    def start(self, report: Report) -> None:
        self._report = report

    def stop(self) -> None:
        self._report = None

    def ready(self, line: str) -> bool:
        return self.up.get(line, False)

    def outgoing(self, line: str, call: CallRecord) -> tuple[str, FakeLeg]:
        channel = self._channel(line)
        return channel, self._leg(channel, call)

    def dial(self, channel: str, number: str) -> None:
        if number in self.refuse:
            raise DialFailed(self.refuse[number])
        with self._lock:
            self.dialed.append((channel, number))

    def incoming(self, channel: str, call: CallRecord) -> FakeLeg:
        return self._leg(channel, call)

    def poll(self, channel: str) -> None:
        with self._lock:
            self.polls += 1

    def release(self, channel: str, *, local: bool) -> None:
        with self._lock:
            self.released.append((channel, local))

    def _channel(self, line: str) -> str:
        channel = f"{line}/{next(self._ids)}"
        with self._lock:
            self._line_of[channel] = line
        return channel

    def _leg(self, channel: str, call: CallRecord) -> FakeLeg:
        leg = FakeLeg(id=call.id, caller=call.source, callee=call.destination, api_extension=call.api_extension,
                      state=RINGING)
        with self._lock:
            self.legs[channel] = leg
        return leg

    # ---- the far end ---------------------------------------------------------------------------
    def _emit(self, event: CallEvent) -> None:
        assert self._report is not None, "the trunk was not started"
        self._report(event)

    def ring(self, caller: str, line: TrunkLine = LINE) -> str:
        """Someone calls `line`; the channel of the call."""
        channel = self._channel(line.name)
        self._emit(Incoming(channel, line.name, caller, line.number))
        return channel

    def answer(self, channel: str) -> None:
        self._emit(Answered(channel))

    def press(self, channel: str, digit: str) -> None:
        self._emit(Digit(channel, digit))

    def hang_up(self, channel: str, reason: str = END_HANGUP) -> None:
        self._emit(Ended(channel, reason))
