"""Sample-rate conversion of 16-bit mono PCM: a polyphase windowed-sinc resampler in pure Python.

Why not audioop.ratecv: it is deprecated and gone in Python 3.13, and it does no low-pass filtering, so
22.05 kHz sibilants alias into the 0-4 kHz telephone band. Why not sox: one subprocess per WAV file Play
decodes in memory. Speech is the exception: espeak-ng is a subprocess anyway, so its output goes through sox
in the same pipeline (media/espeak.py) and no prompt is resampled on the daemon's time. This filter is a
Blackman-windowed sinc with its cutoff just under the lower Nyquist frequency; integer taps (Q15) keep the
inner loop in C (sum/map).
"""

from __future__ import annotations

import math
import operator
from array import array
from dataclasses import dataclass, field
from typing import Iterator

_Q = 15  # coefficient fixed-point shift
_ZERO_CROSSINGS = 8  # each side of the centre; 8 gives > 60 dB stop-band with the Blackman window
_MAX_PHASES = 512  # beyond this many phases (odd rate pairs) the phase is quantised to 1/512 sample


def _blackman(x: float) -> float:
    """Blackman window on x in [-1, 1]."""
    return 0.42 + 0.5 * math.cos(math.pi * x) + 0.08 * math.cos(2 * math.pi * x)


def _filter_bank(rate_in: int, rate_out: int) -> tuple[int, int, int, tuple[tuple[int, ...], ...]]:
    """(up, down, half_taps, phases): one FIR per fractional output position, taps in Q15."""
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    phases = min(up, _MAX_PHASES)
    # Cutoff relative to the input rate, 0.9 of the lower Nyquist so the transition band stays below it.
    fc = 0.45 * min(rate_in, rate_out) / rate_in
    half = math.ceil(_ZERO_CROSSINGS / (2 * fc))  # input samples each side of the centre
    bank = []
    for p in range(phases):
        frac = p / phases
        taps = []
        for k in range(-half + 1, half + 1):
            x = k - frac  # distance of input sample (base + k) from the output instant (base + frac)
            w = _blackman(x / half) if abs(x) < half else 0.0
            s = 2 * fc if x == 0 else math.sin(2 * math.pi * fc * x) / (math.pi * x)
            taps.append(s * w)
        total = sum(taps) or 1.0  # unity gain at DC for every phase
        bank.append(tuple(round(t / total * (1 << _Q)) for t in taps))
    return up, down, half, tuple(bank)


@dataclass(frozen=True)
class Resampler:
    """A converter for one rate pair; building the filter bank costs a few ms, so owners keep one."""

    rate_in: int
    rate_out: int
    _bank: tuple[int, int, int, tuple[tuple[int, ...], ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate_in <= 0 or self.rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {self.rate_in} -> {self.rate_out}")
        if self.rate_in != self.rate_out:
            object.__setattr__(self, "_bank", _filter_bank(self.rate_in, self.rate_out))

    def __call__(self, samples: array) -> array:
        """Resample signed 16-bit mono samples (array('h'))."""
        if self.rate_in == self.rate_out or not samples:
            return array("h", samples)
        return next(self.pieces(samples, first=1 << 62))

    def pieces(self, samples: array, *, first: int, rest: int | None = None) -> Iterator[array]:
        """The resampled signal in consecutive pieces of `first`, then `rest`, output samples (the last one
        shorter), each computed only when asked for: a player can start on the first piece at once."""
        if self.rate_in == self.rate_out or not samples:
            yield array("h", samples)
            return
        up, down, half, bank = self._bank
        phases = len(bank)
        n_out = (len(samples) * up) // down
        # Pad so every window is a plain slice: half-1 zeros before, half zeros after.
        padded = array("h", bytes(2 * (half - 1))) + samples + array("h", bytes(2 * half))
        mul = operator.mul
        width = 2 * half
        rnd = 1 << (_Q - 1)
        start, size = 0, first
        while start < n_out:
            stop = min(n_out, start + size)
            out = array("h", bytes(2 * (stop - start)))
            for n in range(start, stop):
                base, rem = divmod(n * down, up)
                phase = rem if phases == up else (rem * phases) // up
                acc = (sum(map(mul, bank[phase], padded[base:base + width])) + rnd) >> _Q
                out[n - start] = 32767 if acc > 32767 else (-32768 if acc < -32768 else acc)
            yield out
            start, size = stop, rest or first


def resample(samples: array, rate_in: int, rate_out: int) -> array:
    """Resample signed 16-bit mono samples from `rate_in` to `rate_out` Hz (builds a one-off Resampler)."""
    return Resampler(rate_in, rate_out)(samples)
