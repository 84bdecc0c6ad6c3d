"""Bridging two answered calls' audio (SIP <-> GSM, or any two legs with a paced PCM pump), until either ends.

Each leg's pump already sends a frame every 20 ms (silence when it has nothing); joining gives each pump a
Stream of the other leg's audio to play and hands what it hears to the other's Stream. A Stream keeps at
most `depth` frames (the oldest dropped), and no standing backlog (pigate.backlog): what a stall piled up is
dropped within a second, so the delay does not grow with every hiccup of either side. The bridge holds no
lock of its own while it waits; either call's end stops it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

from pigate.backlog import BacklogTrim
from pigate.modem.pcm import FRAME_BYTES, SILENCE

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
