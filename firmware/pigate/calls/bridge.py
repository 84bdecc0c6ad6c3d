"""Bridged calls: two answered calls' audio and keys joined (SIP <-> GSM, or any two legs with a paced PCM pump)
until either ends, and the session of an incoming call the dial plan puts through to another line.

Each leg's pump already sends a frame every 20 ms (silence when it has nothing); joining gives each pump a
Stream of the other leg's audio to play and hands what it hears to the other's Stream. A Stream keeps at
most `depth` frames (the oldest dropped), and no standing backlog (pigate.backlog): what a stall piled up is
dropped within a second, so the delay does not grow with every hiccup of either side. The bridge holds no
lock of its own while it waits; either call's end stops it.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from pigate.backlog import BacklogTrim
from pigate.errors import CallConnectFailed, PigateError
from pigate.media.dtmf import tone_pcm
from pigate.modem.pcm import FRAME_BYTES, SILENCE, Playback
from pigate.ozml.leg import KeyBuffer

from .model import refusal_reason

if TYPE_CHECKING:
    from .registry import LiveCall
    from .targets import Target

log = logging.getLogger(__name__)


class Stream:
    """A live playback for a PCM pump: `feed()` bytes in, one frame out per tick (silence while none came)."""

    def __init__(self, *, depth: int = 10) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._max = depth * FRAME_BYTES
        self.done = threading.Event()
        self.cancelled = False
        self.frames_in = self.frames_out = self.underruns = 0
        self._trim = BacklogTrim()

    def feed(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            self.frames_in += len(data) // FRAME_BYTES
            if len(self._buf) > self._max:
                del self._buf[:len(self._buf) - self._max]

    def next_frame(self) -> bytes | None:
        if self.cancelled:
            return None
        with self._lock:
            drop = self._trim.excess(len(self._buf) // FRAME_BYTES)
            if drop:
                del self._buf[:drop * FRAME_BYTES]
            if len(self._buf) < FRAME_BYTES:
                self.underruns += 1
                return SILENCE
            frame = bytes(self._buf[:FRAME_BYTES])
            del self._buf[:FRAME_BYTES]
        self.frames_out += 1
        return frame

    @property
    def dropped(self) -> int:
        return self._trim.dropped

    def cancel(self) -> None:
        self.cancelled = True
        self.done.set()

    def finish(self) -> None:
        self.done.set()


class Ringback(Playback):
    """The ringing tone a party hears while the box rings someone for it (a transfer's target): 425 Hz, 1 s on
    and 4 s off (the CEPT cadence), until cancelled."""

    def __init__(self) -> None:
        super().__init__(tone_pcm((425,), 1000, amplitude=0.25) + SILENCE * 200)

    def next_frame(self) -> bytes | None:
        if self.cancelled:
            return None
        frame = super().next_frame()
        if frame is None:
            self._pos = 0
            frame = super().next_frame()
        return frame


@contextmanager
def ringing_for(live: "LiveCall") -> Iterator[None]:
    """While the box rings someone for `live`'s party (a transfer's target, CallSetup's Callee), the party hears
    ringback rather than silence."""
    ringback = Ringback()
    live.leg.trunk_leg.join_audio(ringback, None)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        ringback.cancel()


class Joinable(Protocol):
    """A trunk leg whose audio can be bridged (GsmLeg, SipLeg)."""

    def join_audio(self, stream: Stream | None, sink: Callable[[bytes], None] | None) -> bool: ...


def join(a: Joinable, b: Joinable, *, over: Callable[[float], bool], depth: int = 10) -> bool:
    """Join a's and b's audio until `over(timeout)` says a call ended (it waits up to timeout seconds);
    False at once when either leg has no audio path (the calls stay up, unjoined, until `over`)."""
    to_a, to_b = Stream(depth=depth), Stream(depth=depth)
    joined = a.join_audio(to_a, to_b.feed) and b.join_audio(to_b, to_a.feed)
    if not joined:
        log.warning("bridge: a leg has no audio path; the calls stay up without audio")
    try:
        while not over(0.2):
            pass
    finally:
        to_a.cancel()
        to_b.cancel()
        for leg in (a, b):
            leg.join_audio(None, None)
    log.info("bridge: ended (a<-b %d frames, %d underruns, %d dropped as backlog; b<-a %d frames, %d underruns, "
             "%d dropped as backlog)", to_a.frames_out, to_a.underruns, to_a.dropped, to_b.frames_out, to_b.underruns,
             to_b.dropped)
    return joined


# ---- bridged calls: two live calls of the call service joined until either ends ------------------------------

class Dialer(Protocol):
    """What bridges, transfers and CallSetup need of the call service (CallService implements it)."""

    def place(self, target: "Target", *, api_extension: str, source: str, caller_id: str) -> "LiveCall":
        """Register and dial a leg the box places on its own; CallConnectFailed(number, state) when it cannot."""

    def await_answer(self, live: "LiveCall", *, unless: Callable[[], bool] = lambda: False) -> bool:
        """Wait for `live` to answer (True); False when it failed, rang out or `unless()` (then it is hung up)."""

    def refuse(self, live: "LiveCall", reason: str) -> None:
        """Refuse a ringing call with the END_* `reason` (a SIP caller hears its status)."""


def hand_over(a: "LiveCall", b: "LiveCall | None" = None) -> None:
    """`a` is transferred: its script ends (the verb in progress at once: its keypad closes) and its session
    then bridges it to `b` (continue_bridged). Given `b` (an AttendedTransfer), `a` goes to `b`'s bridge instead
    of a new leg; with b None, `a.handoff` must be set."""
    if b is not None:
        a.handoff = b
        b.leg.handed_over = True
        b.leg.keypad.close()
    a.leg.handed_over = True
    a.leg.keypad.close()


def continue_bridged(a: "LiveCall", b: "LiveCall", *, settle: float = 5.0) -> None:
    """After `a`'s script ended on a transfer: wait (up to `settle` s) for `b`'s script to end too, give both a
    fresh keypad for the keys the bridge passes on, and hold them together."""
    b.script_over.wait(settle)
    for live in (a, b):
        if live.leg.keypad.closed and live.record.live:
            live.leg.trunk_leg.keypad = KeyBuffer()
    hold_together(a, b)


def hold_together(a: "LiveCall", b: "LiveCall") -> None:
    """Join two answered calls' audio and keys until either ends, then hang up both."""
    for live in (a, b):
        live.bridged = True
    try:
        join(a.leg.trunk_leg, b.leg.trunk_leg,  # type: ignore[arg-type]
             over=lambda timeout: _pass_keys(a, b) or _either_ended(a, b, timeout))
    finally:
        b.leg.hangup()
        a.leg.hangup()


def put_through(dialer: Dialer, inbound: "LiveCall", target: "Target") -> None:
    """A ringing incoming call the dial plan sends to a GSM line or a SIP trunk: dial the far end (the caller
    keeps ringing); once it answers, answer the caller and hold the two together. A far end that fails, or no
    free line, refuses the caller with the reason; a caller who gives up stops the far end ringing."""
    rec = inbound.record
    inbound.bridged = True  # no transfer takes it while it waits for its far end
    try:
        out = dialer.place(target, api_extension=rec.api_extension, source=rec.source, caller_id=rec.caller_id)
        out.bridged = True
    except CallConnectFailed as exc:
        log.info("call %s: routed to %s on %s: %s", rec.id, target.number, "/".join(target.lines) or "-", exc)
        dialer.refuse(inbound, refusal_reason(str(exc.args_[1])))
        return
    t0 = time.monotonic()
    log.info("call %s: bridging to %s on line %s (call %s)", rec.id, target.number, out.record.line, out.record.id)
    try:
        if not dialer.await_answer(out, unless=lambda: not rec.live):
            if rec.live:
                dialer.refuse(inbound, refusal_reason(out.record.result))
            return
        inbound.leg.answer()
        out.leg.connected()
        if not rec.live:
            return
        log.info("call %s: bridged to call %s after %.2f s", rec.id, out.record.id, time.monotonic() - t0)
        hold_together(inbound, out)
    finally:
        out.leg.hangup()
        inbound.leg.hangup()


def _pass_keys(a: "LiveCall", b: "LiveCall") -> bool:
    """Send the keys each side of a bridge pressed to the other side (DTMF across the bridge); False."""
    for src, dst in ((a, b), (b, a)):
        while (key := src.leg.keypad.get(0)) is not None:
            try:
                dst.leg.trunk_leg.send_dtmf(key)
            except PigateError as exc:
                log.info("call %s: key %s not passed on: %s", dst.record.id, key, exc)
    return False


def _either_ended(a: "LiveCall", b: "LiveCall", timeout: float) -> bool:
    """Wait up to `timeout` for either call to end (looked at every 20 ms)."""
    deadline = time.monotonic() + timeout
    while a.record.live and b.record.live:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, 0.02))
    return True
