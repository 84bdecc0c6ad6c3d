"""The Leg: the seam between the OzML runner and telephony (a GSM call, a SIP call or a test's fake)."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

# A leg in one of ENDED is no longer the script's to drive (the states' one table is pigate.callstates).
# Completed only ever follows InCall/Hold (the call was connected); one that never connected ends Busy,
# Cancelled or Error (docs/calls.md).
from pigate.callstates import BUSY, CANCELLED, COMPLETED, ENDED, ERROR, HOLD, IN_CALL, RINGING, TRANSFERRED

__all__ = ["BUSY", "CANCELLED", "COMPLETED", "ENDED", "ERROR", "HOLD", "IN_CALL", "RINGING", "TRANSFERRED",
           "RecordingResult", "Keypad", "Leg",
           "DrivenKeypad", "CallLeg", "KeyBuffer"]


@dataclass(frozen=True)
class RecordingResult:
    """What a Record produced; `url` is where the gateway serves the file and `path` the file itself (both
    empty when nothing was recorded)."""

    success: bool
    duration: float = 0.0
    url: str = ""
    path: str = ""


@runtime_checkable
class Keypad(Protocol):
    """The caller's key presses and the passing of time, as the script sees them.

    Keys pressed at any moment are buffered until read. Every wait ends early once the call is over,
    so a script never outlives its call by more than one operation.
    """

    @property
    def closed(self) -> bool: ...

    def get(self, timeout: float) -> str | None:
        """The next key (oldest first), or None after `timeout` seconds or once the call is over."""

    def wait(self, timeout: float) -> bool:
        """True as soon as a key is pending (without reading it); False after `timeout` or when over."""

    def sleep(self, seconds: float) -> bool:
        """Let `seconds` pass (keys keep buffering); False if the call ended meanwhile."""

    def clear(self) -> None:
        """Forget keys pressed so far (a menu starts with no type-ahead)."""


@runtime_checkable
class Leg(Protocol):
    """One side of a call that a script drives. Methods block until the action is done.

    `speak` and `play` with `interruptible=True` stop at the first key press (the key stays in the
    keypad for the menu to read) and return False; they return True when played to the end.
    """

    id: str
    caller: str
    callee: str
    api_extension: str
    keypad: Keypad

    @property
    def state(self) -> str: ...

    def answer(self) -> None: ...

    def hangup(self) -> None: ...

    def reject(self) -> None:
        """Refuse a ringing call (it is never answered: Busy); on an answered call this hangs up."""

    def fail(self) -> None:
        """End a call the gateway could not handle (no script, or a broken one): Error if never answered,
        Completed if it was; hangup() is the ordinary end."""

    def speak(self, text: str, *, language: str | None = None, voice: str | None = None,
              interruptible: bool = False) -> bool: ...

    def play(self, source: str, *, repeat: bool = False, timeout: float | None = None,
             interruptible: bool = False) -> bool:
        """Play a local file (relative to the content folder) or an http(s) URL; `repeat` loops until
        `timeout` seconds have passed (or, without one, until a key when interruptible, or the call ends)."""

    def beep(self) -> None: ...

    def play_pcm(self, pcm: bytes) -> None:
        """Play raw 8 kHz 16-bit mono audio (generated tones) to the end or until the call ends."""

    def hear(self, seconds: float) -> bytes:
        """The far end's audio (8 kHz 16-bit mono) over the next `seconds`; less when the call ends."""

    def send_dtmf(self, keys: str) -> None: ...

    def record(self, *, format: str = "mp3", duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None, path: str | None = None) -> RecordingResult: ...

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        """True once the call is handed to `target` (the leg is then Transferred); False if it failed."""

    def hold(self) -> None: ...

    def unhold(self) -> None: ...

    def forward(self, destination: str) -> None:
        """Send a still-ringing call to `destination`."""


@runtime_checkable
class DrivenKeypad(Keypad, Protocol):
    """A Keypad as telephony drives it: keys come in from the far end, and the end of the call closes it."""

    def push(self, key: str) -> None:
        """The far end pressed `key` (called on the telephony's thread)."""

    def close(self) -> None:
        """The call is over: wake every waiter; every later wait returns at once."""


@runtime_checkable
class CallLeg(Leg, Protocol):
    """A Leg as a trunk hands it to the call service: the script's Leg plus what the service drives it with.

    The service pushes the far end's keys into `keypad`, calls `connected()` once an outgoing call is answered
    (the leg starts its audio), and `close()` once the call is over, whoever ended it (audio stopped, every
    wait on the keypad woken). Call-state bookkeeping is the service's: a trunk's leg only does the telephony.
    """

    keypad: DrivenKeypad

    def connected(self) -> None:
        """The far end answered an outgoing call."""

    def close(self) -> None:
        """The call is over: release its audio and wake the keypad's waiters. Safe to call twice."""


class KeyBuffer:
    """The Keypad of a real leg: the driver pushes keys from its own thread, the script thread reads them."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._keys: collections.deque[str] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._clock = clock

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def push(self, key: str) -> None:
        """A key was pressed (called by the driver on a DTMF event)."""
        with self._cond:
            self._keys.append(key)
            self._cond.notify_all()

    def close(self) -> None:
        """The call is over: wake every waiter."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _wait_for(self, ready: Callable[[], bool], timeout: float) -> bool:
        deadline = self._clock() + max(0.0, timeout)
        while not ready():
            left = deadline - self._clock()
            if left <= 0:
                return False
            self._cond.wait(left)
        return True

    def get(self, timeout: float) -> str | None:
        with self._cond:
            if self._wait_for(lambda: bool(self._keys) or self._closed, timeout) and self._keys and not self._closed:
                return self._keys.popleft()
            return None

    def wait(self, timeout: float) -> bool:
        with self._cond:
            self._wait_for(lambda: bool(self._keys) or self._closed, timeout)
            return bool(self._keys) and not self._closed

    def sleep(self, seconds: float) -> bool:
        with self._cond:
            self._wait_for(lambda: self._closed, seconds)
            return not self._closed

    def clear(self) -> None:
        with self._cond:
            self._keys.clear()
