"""In-memory Leg, Keypad and services on a virtual clock: scripts run instantly and record what happened.

Shipped (not test-only) so that app writers and other tools can run OzML without a call.
Time is virtual: speaking takes `seconds_per_char` per character, playing a file `play_seconds`, and
a menu's 10-second timeout passes at once when no key is scripted before it. Key presses are scripted
at absolute times, or "during" a prompt (pressed `delay` seconds after a prompt containing some text
starts), which makes barge-in tests exact.
"""

from __future__ import annotations

import collections
import uuid
from dataclasses import dataclass, field
from typing import Callable

from pigate.errors import CallNotFound
from pigate.ozml.leg import (BUSY, CANCELLED, COMPLETED, ENDED, ERROR, HOLD, IN_CALL, RINGING, TRANSFERRED, Leg,
                             RecordingResult)
from pigate.ozml.services import CallFate

FOREVER_REPEATS = 10  # a repeated Play without Timeout stands for this many plays


class VirtualClock:
    """Seconds since the leg was created; only moves when the fake is asked to let time pass."""

    def __init__(self) -> None:
        self.now = 0.0


@dataclass(frozen=True)
class Press:
    """A scripted key press: at `at` seconds, or `delay` seconds after a prompt containing `during` starts."""

    key: str
    at: float | None = None
    during: str | None = None
    delay: float = 0.5


class FakeKeypad:
    """Keypad on a virtual clock: waits jump to the next scripted press, the timeout, or the hang-up."""

    def __init__(self, *, clock: VirtualClock, presses: list[Press], hangup_at: float | None,
                 on_hangup: Callable[[], None]) -> None:
        self.clock = clock
        self._scheduled: list[tuple[float, str]] = sorted((p.at, p.key) for p in presses if p.at is not None)
        self._on_prompt = [p for p in presses if p.at is None]
        self._pending: collections.deque[str] = collections.deque()
        self._hangup_at = hangup_at
        self._on_hangup = on_hangup
        self._closed = False
        self.read: list[str] = []

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True

    def push(self, key: str) -> None:
        """A key from the far end, now (a trunk's digit event): pending until the script reads it."""
        if not self._closed:
            self._pending.append(key)

    def prompt_started(self, text: str) -> None:
        """Schedule the presses waiting for a prompt containing `text` (each fires once)."""
        for press in [p for p in self._on_prompt if p.during and p.during in text]:
            self._on_prompt.remove(press)
            self._scheduled.append((self.clock.now + press.delay, press.key))
        self._scheduled.sort()

    def _advance(self, until: float, *, stop_on_key: bool) -> bool:
        """Move time towards `until`; returns True if it stopped early at a key press."""
        while not self._closed:
            next_key = self._scheduled[0][0] if self._scheduled else None
            if self._hangup_at is not None and self._hangup_at <= until and (
                    next_key is None or self._hangup_at < next_key):
                self.clock.now = max(self.clock.now, self._hangup_at)
                self._closed = True
                self._on_hangup()
                return False
            if next_key is None or next_key > until:
                self.clock.now = max(self.clock.now, until)
                return False
            at, key = self._scheduled.pop(0)
            self.clock.now = max(self.clock.now, at)
            self._pending.append(key)
            if stop_on_key:
                return True
        return False

    def get(self, timeout: float) -> str | None:
        if not self._pending:
            self._advance(self.clock.now + timeout, stop_on_key=True)
        if self._pending and not self._closed:
            key = self._pending.popleft()
            self.read.append(key)
            return key
        return None

    def wait(self, timeout: float) -> bool:
        if not self._pending:
            self._advance(self.clock.now + timeout, stop_on_key=True)
        return bool(self._pending) and not self._closed

    def sleep(self, seconds: float) -> bool:
        self._advance(self.clock.now + seconds, stop_on_key=False)
        return not self._closed

    def clear(self) -> None:
        self._pending.clear()


class FakeLeg:
    """A CallLeg that records every action as (virtual time, action, argument) in `log`.

    `transfers` maps a target to whether a blind transfer there succeeds (default: it does);
    `hangup_at` makes the caller hang up at that virtual time; `recording` is what Record returns.
    """

    def __init__(self, *, id: str | None = None, caller: str = "+3620111", callee: str = "9999",
                 api_extension: str = "9999", state: str = IN_CALL, presses: list[Press] | None = None,
                 hangup_at: float | None = None, transfers: dict[str, bool] | None = None,
                 seconds_per_char: float = 0.06, play_seconds: dict[str, float] | None = None,
                 default_play_seconds: float = 2.0, recording: RecordingResult | None = None) -> None:
        self.id = id or f"fake-{uuid.uuid4().hex[:8]}"
        self.caller, self.callee, self.api_extension = caller, callee, api_extension
        self._state = state
        self.clock = VirtualClock()
        self.keypad = FakeKeypad(clock=self.clock, presses=list(presses or []), hangup_at=hangup_at,
                                 on_hangup=self._remote_hangup)
        self.transfers = dict(transfers or {})
        self.seconds_per_char = seconds_per_char
        self.play_seconds = dict(play_seconds or {})
        self.default_play_seconds = default_play_seconds
        self.recording = recording
        self.log: list[tuple[float, str, str]] = []

    # -- what happened ----------------------------------------------------------------------------
    def _note(self, action: str, argument: str = "") -> None:
        self.log.append((round(self.clock.now, 3), action, argument))

    def actions(self) -> list[tuple[str, str]]:
        """(action, argument) in order, without times: what a test usually asserts on."""
        return [(action, argument) for _, action, argument in self.log]

    def of(self, action: str) -> list[str]:
        return [argument for _, a, argument in self.log if a == action]

    @property
    def spoken(self) -> list[str]:
        return self.of("speak")

    @property
    def played(self) -> list[str]:
        return self.of("play")

    @property
    def digits_read(self) -> str:
        return "".join(self.keypad.read)

    @property
    def state(self) -> str:
        return self._state

    def _remote_hangup(self) -> None:
        if self._state not in ENDED:
            self._state = COMPLETED
            self._note("remote-hangup")

    def _end(self, state: str) -> None:
        self._state = state
        self.keypad.close()

    # -- the CallLeg interface (what the call service drives) -------------------------------------
    def connected(self) -> None:
        self._note("connected")
        self._state = IN_CALL

    def close(self) -> None:
        if not self.keypad.closed:
            self._note("closed")
        self.keypad.close()

    # -- the Leg interface ------------------------------------------------------------------------
    def answer(self) -> None:
        self._note("answer")
        self._state = IN_CALL

    def hangup(self) -> None:
        self._note("hangup")
        self._end(CANCELLED if self._state == RINGING else COMPLETED)

    def reject(self) -> None:
        self._note("reject")
        self._end(BUSY if self._state == RINGING else COMPLETED)

    def fail(self) -> None:
        self._note("fail")
        self._end(ERROR if self._state == RINGING else COMPLETED)

    def _media(self, seconds: float, interruptible: bool) -> bool:
        if interruptible:
            return not self.keypad.wait(seconds) and not self.keypad.closed
        return self.keypad.sleep(seconds)

    def speak(self, text: str, *, language: str | None = None, voice: str | None = None,
              interruptible: bool = False) -> bool:
        self._note("speak", text)
        if language or voice:
            self._note("voice", f"{language or ''}/{voice or ''}")
        self.keypad.prompt_started(text)
        done = self._media(len(text) * self.seconds_per_char, interruptible)
        if not done and not self.keypad.closed:
            self._note("cut", text)
        return done

    def play(self, source: str, *, repeat: bool = False, timeout: float | None = None,
             interruptible: bool = False) -> bool:
        self._note("play", source)
        self.keypad.prompt_started(source)
        once = self.play_seconds.get(source, self.default_play_seconds)
        seconds = once * (FOREVER_REPEATS if repeat else 1)
        if timeout is not None:
            seconds = min(seconds, timeout) if repeat else min(once, timeout)
        done = self._media(seconds, interruptible)
        if not done and not self.keypad.closed:
            self._note("cut", source)
        return done

    def beep(self) -> None:
        self._note("beep")
        self.keypad.sleep(0.3)

    def play_pcm(self, pcm: bytes) -> None:
        seconds = len(pcm) / 16000
        self._note("tone", f"{seconds:.2f}")
        self.keypad.sleep(seconds)

    def hear(self, seconds: float) -> bytes:
        """Silence (the fake has no far end that makes sounds), after `seconds` of virtual time."""
        self.keypad.sleep(seconds)
        return bytes(2 * int(8000 * seconds))

    def send_dtmf(self, keys: str) -> None:
        self._note("send-dtmf", keys)
        self.keypad.sleep(0.1 * len(keys))

    def record(self, *, format: str = "mp3", duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None, path: str | None = None) -> RecordingResult:
        self._note("record", format)
        result = self.recording or RecordingResult(True, duration or 5.0, f"/HttpRecordings/{self.id}.{format}")
        self.keypad.sleep(result.duration)
        return result

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        ok = self.transfers.get(target, True)
        self._note("transfer", f"{target}:{'ok' if ok else 'failed'}")
        if ok:
            self._end(TRANSFERRED)
        return ok

    def hold(self) -> None:
        self._note("hold")
        self._state = HOLD

    def unhold(self) -> None:
        self._note("unhold")
        self._state = IN_CALL

    def forward(self, destination: str) -> None:
        self._note("forward", destination)
        self._end(TRANSFERRED)


def ringing_leg(**kw: object) -> FakeLeg:
    """A FakeLeg of an incoming call that has not been answered yet."""
    return FakeLeg(state=RINGING, **kw)  # type: ignore[arg-type]


@dataclass
class FakeServices:
    """ScriptServices that remember every request; `fail` maps a method name to the ApiError it raises."""

    sms: list[dict[str, object]] = field(default_factory=list)
    calls: list[dict[str, object]] = field(default_factory=list)
    setups: list[dict[str, object]] = field(default_factory=list)
    attended: list[tuple[str, str]] = field(default_factory=list)
    legs: dict[str, Leg] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    fates: list[CallFate] = field(default_factory=list)  # what successive call_fate polls report; the last repeats

    def _maybe_fail(self, method: str) -> None:
        if method in self.fail:
            raise self.fail[method]

    def send_sms(self, recipient: str, text: str, *, sender: str | None, api_extension: str,
                 delivery_report_url: str | None) -> str:
        self._maybe_fail("send_sms")
        sms_id = f"sms-{len(self.sms) + 1}"
        self.sms.append(dict(id=sms_id, recipient=recipient, text=text, sender=sender,
                             api_extension=api_extension, delivery_report_url=delivery_report_url))
        return sms_id

    def call(self, dialed: str, **kw: object) -> str:
        self._maybe_fail("call")
        self.calls.append(dict(dialed=dialed, **kw))
        return f"call-{len(self.calls)}"

    def call_fate(self, call_id: str) -> CallFate | None:
        """The next of `fates` (the last one repeats); without any, an answered call that is over."""
        if not self.fates:
            return CallFate("Completed", "CalleeHungUp", True, True)
        return self.fates.pop(0) if len(self.fates) > 1 else self.fates[0]

    def call_setup(self, caller: str, callee: str, *, error_url: str | None, api_extension: str = "") -> str:
        self._maybe_fail("call_setup")
        self.setups.append(dict(caller=caller, callee=callee, error_url=error_url))
        return f"setup-{len(self.setups)}"

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None:
        self._maybe_fail("attended_transfer")
        self.attended.append((transferred_call_id, target_call_id))

    def find_leg(self, call_id: str, *, party: str | None) -> Leg:
        try:
            return self.legs[call_id]
        except KeyError as exc:
            raise CallNotFound(call_id) from exc
