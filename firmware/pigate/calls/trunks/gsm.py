"""The GSM trunk: the box's GSM lines as a Trunk (contract.py), over pigate.modem. The only part of calls/ that
knows the modem driver: its typed events in, its voice operations out.

What GSM needs that the contract hides:
- One call per line; each call gets a channel of its own (`gsm1#7`), since the service frees the line before it
  releases the call: a new call on the line must not be forgotten by the release of the one before. RING repeats while a call rings (ignored), and RINGs
  the modem queued before the gateway ended a call are stale until the modem confirms the end (`ring_quiet`).
- A modem without +CLIP still reports an incoming call through +CLCC.
- Call progress comes from +CLCC URCs; a modem that sends none is polled with AT+CLCC (`poll`).
- An outgoing call that drops before an answer may take a moment to say why (BUSY, NO ANSWER after the
  +CLCC "disconnected"): it is reported Ended(failed) only after `reason_wait` without one.
- NO CARRIER (and BUSY, NO ANSWER) names no call. When the far end ends a call the modem reports it with
  +CLCC "disconnected" and then its final word, which may come a while later: by then the line may carry the
  next call, which would take the word as its own and end. So the call whose end was reported owes its word
  until it comes (it is then that call's, never the next's), and a dial on the line waits up to
  `final_word_wait` for it to come first.
- A line that goes down, recovers or loses its SIM ends its call (line-down).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from pigate.errors import DialFailed, ModemCommandError, ModemError
from pigate.events import EventBus
from pigate.modem import CallInfo, Modem, events as ev
from pigate.workers import TaskQueue

from ..media import LegMedia
from ..model import END_BUSY, END_FAILED, END_HANGUP, END_LINE_DOWN, END_NO_ANSWER, END_REJECTED
from .contract import Answered, CallEvent, Digit, Ended, Incoming, Report, Ringing, TrunkLine
from .gsmleg import GsmLeg

if TYPE_CHECKING:
    from ..model import CallRecord

log = logging.getLogger(__name__)

# The modem's final word on a call that was not answered, as the contract's reason.
_FINAL_WORDS = {"BUSY": END_BUSY, "NO ANSWER": END_NO_ANSWER, "NO CARRIER": END_REJECTED, "NO DIALTONE": END_FAILED}
_LINE_DOWN = ("down", "recovering", "sim_missing", "sim_locked")
_READY = "registered"


def end_reason(final_word: str) -> str:
    """The contract's reason for the modem's final word on an unanswered outgoing call (pure)."""
    return _FINAL_WORDS.get(final_word.upper(), END_FAILED)


@dataclass(frozen=True)
class GsmLine:
    """A GSM line: its name, the SIM's number, and its modem driver."""

    name: str
    number: str
    modem: Modem


@dataclass(frozen=True)
class GsmSettings:
    reason_wait: float = 0.5          # how long a dropped call may take to say why (BUSY, NO ANSWER)
    ring_quiet: float = 1.5           # after the gateway ends a call, RINGs not yet confirmed ended are stale
    final_word_wait: float = 1.0      # how long a dial waits for the previous call's owed NO CARRIER


@dataclass
class _Call:
    """The trunk's view of the call on one line."""

    outbound: bool
    channel: str
    answered: bool = False
    saw_clcc: bool = False            # the modem reports call states by itself (no polling needed)
    ended: bool = False               # Ended was reported; waiting for the service's release
    final_word: bool = False          # the modem's NO CARRIER/BUSY/... for this call has come
    reason_timer: threading.Timer | None = None


class GsmTrunk:
    """Thread-safe: modem events arrive on the bus's dispatcher, the service's calls on session and HTTP threads."""

    capacity = 1  # a GSM line carries one call

    def __init__(self, *, lines: Sequence[GsmLine], bus: EventBus, media: LegMedia,
                 settings: GsmSettings = GsmSettings(), monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lines = {line.name: line for line in lines}
        self.lines = tuple(TrunkLine(line.name, line.number) for line in lines)
        self._bus, self._media, self._settings, self._monotonic = bus, media, settings, monotonic
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}
        self._quiet_until: dict[str, float] = {}
        self._owed: dict[str, _Call] = {}  # line -> the call whose end was reported and whose final word was not
        self._word_came = threading.Condition(self._lock)
        self._serial = itertools.count(1)
        self._report: Report | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._refusals = TaskQueue(name="gsm-refuse")  # hang-ups of refused calls, off the dispatcher

    # ---- the contract --------------------------------------------------------------------------
    def start(self, report: Report) -> None:
        self._report = report
        self._unsubscribe = [self._bus.subscribe(ev.MODEM_CALL, self._on_call_event),
                             self._bus.subscribe(ev.StateChanged, self._on_line_state)]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        with self._lock:
            timers = [c.reason_timer for c in self._calls.values() if c.reason_timer is not None]
        for timer in timers:
            timer.cancel()
        self._refusals.idle()

    def ready(self, line: str) -> bool:
        gsm = self._lines.get(line)
        return gsm is not None and gsm.modem.state == _READY

    def outgoing(self, line: str, call: "CallRecord") -> tuple[str, GsmLeg]:
        with self._lock:
            channel = self._channel(line)
            self._calls[line] = _Call(outbound=True, channel=channel)
        return channel, self._leg(line, call, inbound=False)

    def _channel(self, line: str) -> str:
        return f"{line}#{next(self._serial)}"

    def _call(self, channel: str) -> tuple[str, "_Call | None"]:
        """(line, the call on that channel if it is the line's current one); hold the lock."""
        line = channel.rpartition("#")[0]
        call = self._calls.get(line)
        return line, (call if call is not None and call.channel == channel else None)

    def dial(self, channel: str, number: str) -> None:
        line = channel.rpartition("#")[0]
        self._settle(line)
        try:
            self._lines[line].modem.dial(number)
        except ModemError as exc:
            word = exc.kind if isinstance(exc, ModemCommandError) else ""
            raise DialFailed(end_reason(word) if word in _FINAL_WORDS else END_FAILED, str(exc)) from exc

    def incoming(self, channel: str, call: "CallRecord") -> GsmLeg:
        return self._leg(channel.rpartition("#")[0], call, inbound=True)

    def _leg(self, line: str, call: "CallRecord", *, inbound: bool) -> GsmLeg:
        modem = self._lines[line].modem
        return GsmLeg(call_id=call.id, caller=call.source, callee=call.destination, api_extension=call.api_extension,
                      inbound=inbound, modem=modem, pump=modem.audio(name=f"{line}-{call.id}"), media=self._media,
                      monotonic=self._monotonic)

    def poll(self, channel: str) -> None:
        """AT+CLCC for a dialing call on a modem that has sent no +CLCC of its own."""
        with self._lock:
            line, call = self._call(channel)
            if call is None or call.saw_clcc or call.answered or call.ended or not call.outbound:
                return
        try:
            calls = self._lines[line].modem.list_calls()
        except ModemError as exc:
            log.warning("%s: AT+CLCC failed: %s", line, exc)
            return
        ours = [c for c in calls if c.direction == "out"]
        if not ours:
            self._dropped(line)
        elif ours[0].state == "active":
            self._answered(line)

    def release(self, channel: str, *, local: bool) -> None:
        with self._lock:
            line, call = self._call(channel)
            if call is not None:
                del self._calls[line]
            # An incoming call the service would not take (a reject route, shutting down) is still ringing:
            # it is hung up here, as a local end is, so the caller hears it end rather than ring on.
            refused = call is not None and not local and not call.outbound and not call.answered and not call.ended
            if local or refused:
                self._quiet_until[line] = self._monotonic() + self._settings.ring_quiet
                if self._owed.get(line) is not None and self._owed[line].channel == channel:
                    del self._owed[line]  # the gateway hung up (ATH answers OK): no final word follows
                    self._word_came.notify_all()
        if call is not None and call.reason_timer is not None:
            call.reason_timer.cancel()
        if refused:
            # Called on the bus's dispatcher (Incoming): the AT command runs on the trunk's own queue.
            self._refusals.submit(lambda: self._hang_up(line))

    def _hang_up(self, line: str) -> None:
        try:
            self._lines[line].modem.hangup()
        except ModemError as exc:
            log.warning("%s: hanging up a refused call failed: %s", line, exc)

    # ---- modem events (the bus's dispatcher thread: no AT commands, no waiting) ----------------
    def _emit(self, event: CallEvent) -> None:
        if self._report is not None:
            self._report(event)

    def _on_call_event(self, event: ev.ModemEvent) -> None:
        line = event.name
        if line not in self._lines:
            return
        if isinstance(event, ev.CallRing):
            self._ring(line, event.number)
        elif isinstance(event, ev.CallStateReport):
            self._clcc(line, event.call)
        elif isinstance(event, ev.CallDtmf):
            with self._lock:
                call = self._calls.get(line)
                channel = call.channel if call is not None and not call.ended else None
            if channel is not None:
                self._emit(Digit(channel, event.digit))
        elif isinstance(event, ev.CallEnded):
            self._final_word(line, event.reason)

    def _ring(self, line: str, number: str) -> None:
        with self._lock:
            # RING repeats while a call rings; and RINGs queued before the gateway ended a call are stale.
            if line in self._calls or self._monotonic() < self._quiet_until.get(line, 0.0):
                return
            channel = self._channel(line)
            self._calls[line] = _Call(outbound=False, channel=channel)
        self._emit(Incoming(channel, line, number, self._lines[line].number))

    def _clcc(self, line: str, info: CallInfo) -> None:
        with self._lock:
            call = self._calls.get(line)
            if call is not None:
                call.saw_clcc = True
                if info.state == "disconnected" and not call.final_word:
                    self._owed[line] = call
        if call is None:
            if info.state == "disconnected":
                self._confirmed_end(line)
            elif info.state == "incoming" and info.direction == "in":
                self._ring(line, info.number)  # a modem that sends no +CLIP
            return
        if info.state == "active":
            self._answered(line)
        elif info.state == "alerting" and call.outbound and not call.answered:
            self._emit(Ringing(call.channel))
        elif info.state == "disconnected":
            if call.outbound and not call.answered:
                self._dropped(line)  # the reason (BUSY, NO ANSWER) may still follow
            else:
                self._ended(line, END_HANGUP)

    def _final_word(self, line: str, word: str) -> None:
        with self._lock:
            owed = self._owed.pop(line, None)
            call = self._calls.get(line)
            if owed is not None:
                self._word_came.notify_all()
            if owed is not None and owed is not call:
                call = None  # the word of the call before: the line's current call (if any) has not ended
            elif call is not None:
                call.final_word = True
        if call is None:
            self._confirmed_end(line)
        elif call.outbound and not call.answered:
            self._ended(line, end_reason(word))
        else:
            self._ended(line, END_HANGUP)  # answered, or the caller gave up before an answer

    def _on_line_state(self, event: ev.StateChanged) -> None:
        if event.name in self._lines and event.state in _LINE_DOWN:
            with self._lock:
                if self._owed.pop(event.name, None) is not None:
                    self._word_came.notify_all()
            self._ended(event.name, END_LINE_DOWN)

    def _settle(self, line: str) -> None:
        """Before dialling: wait for the final word the line's previous call still owes, so that it cannot be
        taken for the new call's; a modem that never sends one costs `final_word_wait` once."""
        deadline = self._monotonic() + self._settings.final_word_wait
        with self._lock:
            while (owed := self._owed.get(line)) is not None and owed is not self._calls.get(line):
                left = deadline - self._monotonic()
                if left <= 0:
                    log.info("%s: the previous call's NO CARRIER did not come; dialling anyway", line)
                    del self._owed[line]
                    return
                self._word_came.wait(left)

    # ---- transitions ---------------------------------------------------------------------------
    def _confirmed_end(self, line: str) -> None:
        """The modem reported the end of the call on `line`: any RING after this is a new call."""
        with self._lock:
            self._quiet_until.pop(line, None)

    def _answered(self, line: str) -> None:
        with self._lock:
            call = self._calls.get(line)
            if call is None or call.ended or call.answered:
                return
            call.answered = True
            outbound, channel = call.outbound, call.channel
        if outbound:  # an incoming call is answered by its leg (ATA), which the service already knows
            self._emit(Answered(channel))

    def _dropped(self, line: str) -> None:
        """An unanswered outgoing call is gone: wait a moment for the modem to say why, else it failed."""
        with self._lock:
            call = self._calls.get(line)
            if call is None or call.ended or call.reason_timer is not None:
                return
            timer = threading.Timer(self._settings.reason_wait, self._ended, args=(line, END_FAILED, call))
            timer.name, timer.daemon = f"gsm-reason-{line}", True
            call.reason_timer = timer
        timer.start()

    def _ended(self, line: str, reason: str, only: "_Call | None" = None) -> None:
        """Report the end of the line's call (of `only`, if it is still the line's call)."""
        with self._lock:
            call = self._calls.get(line)
            if call is None or call.ended or (only is not None and call is not only):
                return
            call.ended = True
            timer = call.reason_timer
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        self._emit(Ended(call.channel, reason))
