"""Following tones in call audio as it arrives, 20 ms at a time: the handshake and kissoff of Contact ID."""

from __future__ import annotations

import time
from typing import Callable

from pigate.media.dtmf import tone_share

FRAME = 320          # 20 ms of 8 kHz s16le
PRESENT = 0.5        # a frame carries the tone when at least half its energy is that tone


class ToneListener:
    """`read()` returns the audio heard since the last call (maybe nothing yet); frames are judged in order."""

    def __init__(self, read: Callable[[], bytes], *, idle: float = 0.02) -> None:
        self._read, self._idle = read, idle
        self._pending = b""

    def _frames(self):
        chunk = self._read()
        if not chunk:
            time.sleep(self._idle)
            return
        self._pending += chunk
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            yield frame

    def wait_tone(self, freq: float, *, min_ms: int, timeout: float) -> bool:
        """True once `freq` was heard for `min_ms` in a row, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        run = 0
        while time.monotonic() < deadline:
            for frame in self._frames() or ():
                run = run + 20 if tone_share(frame, freq) >= PRESENT else 0
                if run >= min_ms:
                    return True
        return False

    def wait_end(self, freq: float, *, timeout: float) -> None:
        """Until a frame without `freq` (the rest of a tone must not count as the next one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in self._frames() or ():
                if tone_share(frame, freq) < PRESENT:
                    return
