"""Audio files to call audio: any WAV (in Python) or MP3/OGG/FLAC (through sox or ffmpeg) -> 8 kHz mono s16le.

WAV is decoded here because prompts are mostly WAV and a subprocess per Play is waste. Compressed
formats go to an external decoder: sox with libsox-fmt-mp3 (Debian) for MP3, or ffmpeg; without one,
a MediaError says what to install.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from pigate.errors import MediaError
from pigate.media import wav
from pigate.media.resample import Resampler

RATE = 8000  # the modem PCM port's rate; SIP legs resample in pjsua2's bridge


def sniff(data: bytes, name: str = "") -> str:
    """'wav', 'mp3', 'ogg', 'flac' or the file name's extension."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    return Path(name).suffix.lower().lstrip(".") or "unknown"


def to_le_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


@dataclass(kw_only=True)
class Decoders:
    """External decoders found on this machine (looked up once per instance)."""

    sox: str | None = field(default_factory=lambda: shutil.which("sox"))
    ffmpeg: str | None = field(default_factory=lambda: shutil.which("ffmpeg"))
    timeout: float = 30.0
    _sox_formats: frozenset[str] | None = field(init=False, default=None, repr=False)

    def sox_formats(self) -> frozenset[str]:
        if self._sox_formats is None:
            formats: frozenset[str] = frozenset()
            if self.sox:
                out = subprocess.run([self.sox, "-h"], capture_output=True, text=True, timeout=self.timeout).stdout
                for line in out.splitlines():
                    if line.startswith("AUDIO FILE FORMATS:"):
                        formats = frozenset(line.split(":", 1)[1].split())
            self._sox_formats = formats
        return self._sox_formats

    def decode(self, data: bytes, kind: str) -> bytes:
        """8 kHz mono s16le PCM of a compressed file held in memory."""
        if self.sox and kind in self.sox_formats():
            cmd = [self.sox, "-q", "-t", kind, "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16",
                   "-e", "signed-integer", "-L", "-"]
        elif self.ffmpeg:
            cmd = [self.ffmpeg, "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1",
                   "-ar", str(RATE), "pipe:1"]
        else:
            raise MediaError(f"no decoder for {kind} audio: install sox with {kind} support "
                             f"(Debian: libsox-fmt-mp3 for MP3) or ffmpeg")
        try:
            done = subprocess.run(cmd, input=data, capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MediaError(f"{Path(cmd[0]).name} could not decode {kind} audio: {exc}") from exc
        if done.returncode != 0 or not done.stdout:
            err = done.stderr.decode(errors="replace").strip()[:300]
            raise MediaError(f"{Path(cmd[0]).name} could not decode {kind} audio (exit {done.returncode}): {err}")
        return done.stdout[:len(done.stdout) - len(done.stdout) % 2]


def is_native_pcm8k(data: bytes) -> bool:
    """True for a WAV that already holds 8 kHz mono s16le samples."""
    if sniff(data) != "wav" or sys.byteorder != "little":
        return False
    try:
        fmt, _ = wav.parse_header(data)
    except MediaError:
        return False
    return (fmt.tag, fmt.channels, fmt.rate, fmt.bits) == (wav.PCM, 1, RATE, 16)


def wav_to_pcm8k(data: bytes) -> bytes:
    """8 kHz mono s16le PCM from WAV bytes of any supported encoding, rate and channel count."""
    fmt, raw = wav.parse_header(data)
    if (fmt.tag, fmt.channels, fmt.rate, fmt.bits) == (wav.PCM, 1, RATE, 16) and sys.byteorder == "little":
        return bytes(raw[:len(raw) - len(raw) % 2])  # already what the modem wants
    audio = wav.decode(data)
    return to_le_bytes(Resampler(audio.rate, RATE)(audio.samples))


def decode_pcm8k(data: bytes, *, name: str = "", decoders: Decoders | None = None) -> bytes:
    """8 kHz mono s16le PCM from the bytes of an audio file (`name` helps guess its type)."""
    kind = sniff(data, name)
    if kind == "wav":
        return wav_to_pcm8k(data)
    if not data:
        raise MediaError(f"empty audio file {name!r}")
    return (decoders or Decoders()).decode(data, kind)


def load_pcm8k(path: Path | str, *, decoders: Decoders | None = None) -> bytes:
    """8 kHz mono s16le PCM of an audio file: what a GSM leg writes to the modem's PCM port."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read audio file {path}: {exc.strerror or exc}") from exc
    return decode_pcm8k(data, name=str(path), decoders=decoders)
