"""Pure PCM helpers of the simulator: 8 kHz s16le mono frames, WAV loading and resampling, tones, energy."""

from __future__ import annotations

import math
import struct
from array import array
import wave
from pathlib import Path

from pigate.errors import PigateError

RATE = 8000
FRAME_BYTES = 320          # 20 ms of 8 kHz 16-bit mono
FRAME_SECONDS = 0.02
# A stream that fell behind by up to this much sends the missed frames at once; further behind, it resyncs.
MAX_CATCH_UP = 0.2
SILENCE = bytes(FRAME_BYTES)
VOICED_RMS = 300.0         # a 20 ms frame above this RMS is speech or tone, not silence


class AudioError(PigateError):
    """A WAV file the simulator cannot play."""


def tone(freq: float, seconds: float, *, amplitude: int = 8000) -> bytes:
    n = int(RATE * seconds)
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * freq * i / RATE)) for i in range(n)))


def load_wav(path: str | Path) -> bytes:
    """The WAV at `path` as 8 kHz s16le mono (downmixed and linearly resampled as needed)."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes() if w.getnframes() < 2**31 - 1 else 2**31 - 1)
    except (OSError, wave.Error, EOFError) as exc:
        raise AudioError(f"cannot read WAV {path}: {exc}") from exc
    if width != 2:
        raise AudioError(f"{path}: only 16-bit PCM WAV is supported, got {8 * width}-bit")
    samples = list(struct.unpack(f"<{len(raw) // 2}h", raw[:len(raw) - len(raw) % 2]))
    if channels > 1:
        samples = [sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)]
    return pcm_bytes(resample(samples, rate, RATE))


def resample(samples: list[int], src: int, dst: int) -> list[int]:
    if src == dst or not samples:
        return samples
    n = int(len(samples) * dst / src)
    step = src / dst
    out = []
    last = len(samples) - 1
    for i in range(n):
        pos = i * step
        j = int(pos)
        frac = pos - j
        a = samples[j]
        b = samples[min(j + 1, last)]
        out.append(int(a + (b - a) * frac))
    return out


def pcm_bytes(samples: list[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def samples_of(pcm: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(pcm) // 2}h", pcm[:len(pcm) - len(pcm) % 2])


def rms(pcm: bytes) -> float:
    s = samples_of(pcm)
    return math.sqrt(sum(x * x for x in s) / len(s)) if s else 0.0


def seconds(pcm: bytes) -> float:
    return len(pcm) / (2 * RATE)


def voiced_seconds(pcm: bytes, *, threshold: float = VOICED_RMS) -> float:
    """Seconds of 20 ms frames whose RMS exceeds `threshold` (speech or tone, not silence)."""
    loud = sum(1 for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
               if rms(pcm[i:i + FRAME_BYTES]) > threshold)
    return loud * FRAME_SECONDS


def tone_power(pcm: bytes, hz: float) -> float:
    """The power of frequency `hz` in `pcm` (Goertzel), per sample squared: compare frequencies with it."""
    s = array("h", pcm[:len(pcm) // 2 * 2])
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in s:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(s)) ** 2


def frames(pcm: bytes) -> list[bytes]:
    """`pcm` cut into 320-byte frames, the last padded with silence."""
    out = [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    if out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + bytes(FRAME_BYTES - len(out[-1]))
    return out
