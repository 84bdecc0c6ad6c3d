"""Tones for call audio: beeps, DTMF generation and a Goertzel DTMF detector (8 kHz s16le by default)."""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
KEYPAD = ("123A", "456B", "789C", "*0#D")
# digit -> (row Hz, column Hz), the standard DTMF pairs
FREQUENCIES: Mapping[str, tuple[int, int]] = MappingProxyType({
    KEYPAD[r][c]: (ROWS[r], COLS[c]) for r in range(4) for c in range(4)
})


def tone_pcm(freqs: tuple[float, ...], ms: int, *, rate: int = 8000, amplitude: float = 0.5,
             fade_ms: int = 5) -> bytes:
    """A sum of sine waves as s16le PCM, with short linear fades so it starts and stops without clicks."""
    n = rate * ms // 1000
    fade = min(n // 2, rate * fade_ms // 1000)
    peak = 32767 * amplitude / max(1, len(freqs))
    steps = [2 * math.pi * f / rate for f in freqs]
    out = array("h", bytes(2 * n))
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
        out[i] = int(peak * env * sum(math.sin(s * i) for s in steps))
    return _le(out)


def silence_pcm(ms: int, *, rate: int = 8000) -> bytes:
    return bytes(2 * (rate * ms // 1000))


def beep_pcm(ms: int = 300, hz: int = 1000, *, rate: int = 8000) -> bytes:
    """The Beep verb's tone."""
    return tone_pcm((hz,), ms, rate=rate)


def dtmf_pcm(digits: str, *, tone_ms: int = 100, gap_ms: int = 60, rate: int = 8000) -> bytes:
    """In-band DTMF for `digits` (0-9, *, #, A-D), each tone followed by a gap."""
    parts = []
    for d in digits.upper():
        if d not in FREQUENCIES:
            raise ValueError(f"not a DTMF digit: {d!r}")
        parts.append(tone_pcm(FREQUENCIES[d], tone_ms, rate=rate, amplitude=0.4, fade_ms=2))
        parts.append(silence_pcm(gap_ms, rate=rate))
    return b"".join(parts)


def _le(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _goertzel_power(block: array, coeff: float) -> float:
    s1 = s2 = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def tone_share(pcm: bytes, freq: float, *, rate: int = 8000) -> float:
    """How much of the audio's energy is a sine at `freq` (0 silence or other sound, about 1 a pure tone)."""
    samples = array("h", bytes(pcm[:len(pcm) - len(pcm) % 2]))
    if sys.byteorder == "big":
        samples.byteswap()
    energy = sum(x * x for x in samples)
    if not samples or energy < 300.0 ** 2 * len(samples):  # as quiet as DtmfDetector's silence
        return 0.0
    power = _goertzel_power(samples, 2 * math.cos(2 * math.pi * freq / rate))
    return min(1.0, power / ((len(samples) / 2) ** 2) / (energy / len(samples)) / 2)


@dataclass
class DtmfDetector:
    """Streaming DTMF detector for s16le PCM: feed() audio as it arrives, get the digits pressed.

    Blocks of 205 samples at 8 kHz (the classic Goertzel size: bins land near all eight tones). A digit is
    reported once when two consecutive blocks agree, and again only after a block without it, so a long
    press is one digit and a repeated press is two.
    """

    rate: int = 8000
    block: int = 205
    min_level: float = 300.0  # RMS below this (about -40 dBFS) is silence
    max_twist_db: float = 8.0
    _coeffs: tuple[float, ...] = field(init=False, repr=False)
    _pending: array = field(init=False, repr=False)
    _last: str | None = field(init=False, default=None, repr=False)
    _reported: bool = field(init=False, default=False, repr=False)

    def __post_init__(self) -> None:
        self._coeffs = tuple(2 * math.cos(2 * math.pi * f / self.rate) for f in ROWS + COLS)
        self._pending = array("h")

    def feed(self, pcm: bytes) -> str:
        """Digits completed by this audio (often '')."""
        chunk = array("h", bytes(pcm[:len(pcm) - len(pcm) % 2]))
        if sys.byteorder == "big":
            chunk.byteswap()
        self._pending.extend(chunk)
        found = []
        while len(self._pending) >= self.block:
            blk = self._pending[:self.block]
            del self._pending[:self.block]
            digit = self._classify(blk)
            if digit is not None and digit == self._last and not self._reported:
                found.append(digit)
                self._reported = True
            elif digit != self._last:
                self._reported = False
            self._last = digit
        return "".join(found)

    def _classify(self, blk: array) -> str | None:
        energy = sum(x * x for x in blk)
        if energy < self.min_level ** 2 * len(blk):
            return None
        powers = [_goertzel_power(blk, c) for c in self._coeffs]
        rows, cols = powers[:4], powers[4:]
        r = max(range(4), key=rows.__getitem__)
        c = max(range(4), key=cols.__getitem__)
        pr, pc = rows[r], cols[c]
        # A pure tone of amplitude A gives a bin power of about (A*N/2)^2; both tones together must carry
        # most of the block's energy, or it is speech/noise.
        scale = (len(blk) / 2) ** 2
        if (pr + pc) / scale < 0.6 * energy / len(blk):
            return None
        twist = 10 * math.log10(max(pr, 1e-9) / max(pc, 1e-9))
        if abs(twist) > self.max_twist_db:
            return None
        # The strongest bin of each group must stand well clear of the others in it.
        if any(p > pr / 6 for i, p in enumerate(rows) if i != r) or any(p > pc / 6 for i, p in enumerate(cols) if i != c):
            return None
        return KEYPAD[r][c]
