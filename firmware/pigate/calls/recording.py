"""Recording call audio: a capture that measures speech and silence as frames arrive, and the file it becomes.

Files are written as 8 kHz mono 16-bit WAV. When MP3 is asked for (Ozeki's default format) and sox can
write MP3 on this machine (Debian: sox with libsox-fmt-mp3), the WAV is converted; otherwise the
recording stays WAV and its URL says so (`.wav`): an app must take the extension from RecordURL.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import threading
import time
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from pigate.errors import MediaError
from pigate.media import wav
from pigate.media.audio import Decoders

log = logging.getLogger(__name__)

RATE = 8000
FRAME_BYTES = 320
FRAME_SECONDS = 0.02
VOICE_RMS = 300.0  # frames above this RMS count as sound (speech, tones), below as silence
RECORDING_NAME = r"[0-9a-f]{32}\.(?:wav|mp3)"


def frame_rms(frame: bytes) -> float:
    samples = array("h", frame[:len(frame) - len(frame) % 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class Capture:
    """Audio read from the call, fed from the pump's thread; the recording thread reads the measurements."""

    def __init__(self, *, threshold: float = VOICE_RMS) -> None:
        self.threshold = threshold
        self._pcm = bytearray()
        self._partial = b""
        self._voiced_frames = 0
        self._silent_tail = 0
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        with self._lock:
            data = self._partial + data
            whole = len(data) - len(data) % FRAME_BYTES
            self._partial = data[whole:]
            for i in range(0, whole, FRAME_BYTES):
                frame = data[i:i + FRAME_BYTES]
                self._pcm += frame
                if frame_rms(frame) > self.threshold:
                    self._voiced_frames += 1
                    self._silent_tail = 0
                else:
                    self._silent_tail += 1

    @property
    def seconds(self) -> float:
        with self._lock:
            return len(self._pcm) / (2 * RATE)

    @property
    def voiced_seconds(self) -> float:
        with self._lock:
            return self._voiced_frames * FRAME_SECONDS

    @property
    def silent_tail_seconds(self) -> float:
        """Seconds of silence since the last sound (since the start when nothing was heard yet)."""
        with self._lock:
            return self._silent_tail * FRAME_SECONDS

    def pcm(self) -> bytes:
        with self._lock:
            return bytes(self._pcm)


@dataclass(frozen=True)
class SavedRecording:
    id: str
    path: Path
    format: str
    duration: float

    @property
    def file_name(self) -> str:
        return self.path.name


def save_recording(pcm: bytes, *, directory: Path, format: str, decoders: Decoders | None = None) -> SavedRecording:
    """Write `pcm` as `<random id>.wav` (or `.mp3` when asked and possible) under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    rec_id = uuid.uuid4().hex
    wav_path = directory / f"{rec_id}.wav"
    tmp = directory / f".{rec_id}.tmp"
    tmp.write_bytes(wav.encode(pcm, RATE))
    os.replace(tmp, wav_path)
    duration = len(pcm) / (2 * RATE)
    if format.lower() == "mp3":
        mp3 = _to_mp3(wav_path, decoders or Decoders())
        if mp3 is not None:
            wav_path.unlink()
            return SavedRecording(rec_id, mp3, "mp3", duration)
    return SavedRecording(rec_id, wav_path, "wav", duration)


def _to_mp3(wav_path: Path, decoders: Decoders) -> Path | None:
    if not decoders.sox or "mp3" not in decoders.sox_formats():
        return None
    out = wav_path.with_suffix(".mp3")
    try:
        done = subprocess.run([decoders.sox, "-q", str(wav_path), "-C", "32", str(out)], capture_output=True,
                              timeout=decoders.timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("recording kept as WAV: sox could not encode MP3: %s", exc)
        return None
    if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        log.warning("recording kept as WAV: sox could not encode MP3: %s", done.stderr.decode(errors="replace")[:200])
        out.unlink(missing_ok=True)
        return None
    return out


def check_recording_name(name: str) -> str:
    """`name` if it is a recording file name this service could have written; MediaError otherwise."""
    if not re.fullmatch(RECORDING_NAME, name):
        raise MediaError(f"not a recording name: {name!r}")
    return name


class RecordingIndex(Protocol):
    """Where recordings are listed (the `recordings` table)."""

    def add_recording(self, *, id: str, call_id: str, path: str, duration: float, created: float) -> None: ...


@dataclass(kw_only=True)
class RecordingShelf:
    """The recordings folder under the data directory, its index, and the URL the gateway serves each file at."""

    directory: Path
    index: RecordingIndex
    base_url: Callable[[], str] = lambda: ""
    decoders: Decoders = field(default_factory=Decoders)
    clock: Callable[[], float] = time.time

    def keep(self, pcm: bytes, *, call_id: str, format: str) -> tuple[SavedRecording, str]:
        """Save `pcm`, list it, and return it with its URL (`<base>/HttpRecordings/<id>.<ext>`)."""
        saved = save_recording(pcm, directory=self.directory, format=format, decoders=self.decoders)
        self.index.add_recording(id=saved.id, call_id=call_id, path=saved.file_name, duration=saved.duration,
                                 created=self.clock())
        return saved, f"{self.base_url().rstrip('/')}/HttpRecordings/{saved.file_name}"

    def path_of(self, name: str) -> Path | None:
        """The file served as /HttpRecordings/<name>, or None (bad name, no such file)."""
        try:
            check_recording_name(name)
        except MediaError:
            return None
        path = self.directory / name
        return path if path.is_file() else None
