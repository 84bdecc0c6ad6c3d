"""WAV (RIFF) decoding and encoding, pure: any common WAV in, signed 16-bit mono samples out.

The stdlib `wave` module of Python 3.11 refuses WAVE_FORMAT_EXTENSIBLE, float and G.711 files (telephony
prompts are often 8 kHz mu-law/A-law), and trusts the header sizes that `espeak-ng --stdout` leaves as
placeholders; this parser walks the chunks itself and clamps sizes to the bytes really present.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass

from pigate.errors import MediaError

PCM, IEEE_FLOAT, ALAW, MULAW, EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE


@dataclass(frozen=True)
class WavFormat:
    tag: int
    channels: int
    rate: int
    bits: int


@dataclass(frozen=True)
class Audio:
    """Signed 16-bit mono samples at `rate` Hz."""

    samples: array
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def _g711_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(mu-law, A-law) byte -> linear 16-bit, per ITU-T G.711."""
    mu = []
    for b in range(256):
        u = ~b & 0xFF
        t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
        mu.append((0x84 - t) if u & 0x80 else (t - 0x84))
    a = []
    for b in range(256):
        v = b ^ 0x55
        t = (v & 0x0F) << 4
        seg = (v & 0x70) >> 4
        if seg == 0:
            t += 8
        elif seg == 1:
            t += 0x108
        else:
            t = (t + 0x108) << (seg - 1)
        a.append(t if v & 0x80 else -t)
    return tuple(mu), tuple(a)


MULAW_TABLE, ALAW_TABLE = _g711_tables()


def parse_header(data: bytes) -> tuple[WavFormat, memoryview]:
    """The format and the sample bytes of a RIFF/WAVE file held in memory."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MediaError("not a WAV file (no RIFF/WAVE header)")
    view = memoryview(data)
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = view[pos + 8:min(len(data), pos + 8 + size)]
        if cid == b"fmt ":
            if len(body) < 16:
                raise MediaError("WAV fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == EXTENSIBLE:
                if len(body) < 26:
                    raise MediaError("WAV extensible fmt chunk too short")
                tag = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the sub-format GUID
            fmt = WavFormat(tag, channels, rate, bits)
        elif cid == b"data":
            payload = body  # a placeholder size (0 or 0xFFFFFFFF) is clamped to what is there
            break
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise MediaError("WAV file without fmt or data chunk")
    if fmt.channels < 1 or fmt.rate < 1:
        raise MediaError(f"WAV with {fmt.channels} channels at {fmt.rate} Hz")
    return fmt, payload


def _frombytes(typecode: str, raw: memoryview) -> array:
    # array(typecode, memoryview) would take each byte as one value; frombytes reinterprets them.
    out = array(typecode)
    out.frombytes(raw)
    return out


def _to_int16(fmt: WavFormat, raw: memoryview) -> array:
    """Interleaved samples of any supported encoding as signed 16-bit."""
    key = (fmt.tag, fmt.bits)
    frame = max(1, fmt.bits // 8)
    raw = raw[:len(raw) - len(raw) % frame]
    if key == (PCM, 16):
        out = _frombytes("h", raw)
        if sys.byteorder == "big":
            out.byteswap()
        return out
    if key == (PCM, 8):
        return array("h", ((b - 128) << 8 for b in raw))
    if key == (PCM, 24):
        return array("h", (int.from_bytes(raw[i + 1:i + 3], "little", signed=True) for i in range(0, len(raw), 3)))
    if key == (PCM, 32):
        wide = _frombytes("i", raw)
        if sys.byteorder == "big":
            wide.byteswap()
        return array("h", (v >> 16 for v in wide))
    if key in ((IEEE_FLOAT, 32), (IEEE_FLOAT, 64)):
        floats = _frombytes("f" if fmt.bits == 32 else "d", raw)
        if sys.byteorder == "big":
            floats.byteswap()
        return array("h", (max(-32768, min(32767, round(v * 32767))) for v in floats))
    if key == (MULAW, 8):
        return array("h", (MULAW_TABLE[b] for b in raw))
    if key == (ALAW, 8):
        return array("h", (ALAW_TABLE[b] for b in raw))
    raise MediaError(f"unsupported WAV encoding: format tag {fmt.tag:#06x}, {fmt.bits} bits")


def downmix(samples: array, channels: int) -> array:
    """Average interleaved channels into one."""
    if channels == 1:
        return samples
    n = len(samples) // channels
    cols = [samples[c::channels][:n] for c in range(channels)]
    return array("h", (sum(vals) // channels for vals in zip(*cols)))


def decode(data: bytes) -> Audio:
    """A WAV file's audio as signed 16-bit mono at its own rate."""
    fmt, raw = parse_header(data)
    return Audio(downmix(_to_int16(fmt, raw), fmt.channels), fmt.rate)


def encode(samples: array | bytes, rate: int) -> bytes:
    """A canonical 16-bit mono PCM WAV file."""
    pcm = samples.tobytes() if isinstance(samples, array) else bytes(samples)
    if sys.byteorder == "big" and isinstance(samples, array):
        swapped = array("h", samples)
        swapped.byteswap()
        pcm = swapped.tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, PCM, 1, rate,
                         rate * 2, 2, 16, b"data", len(pcm))
    return header + pcm
