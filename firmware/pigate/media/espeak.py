"""Running espeak-ng: a prompt's 8 kHz audio as espeak-ng writes it (piped through sox), or its 22.05 kHz original.

Why a pipeline: espeak-ng synthesises a whole text in 20-100 ms here (several times that on a Pi), and
resampling it to the modem's 8 kHz in Python costs about 60 ms per second of speech. Both used to run
before a call heard anything, and the resampling held the interpreter lock while the call's PCM pump
needed it every 20 ms. `espeak-ng --stdout | sox` does both in other processes, sound comes out of sox
within a few milliseconds of espeak-ng starting to write, and the daemon only reads a pipe.

espeak-ng's --stdout WAV header carries placeholder sizes (it cannot seek back on a pipe); sox reads
to the end of the stream regardless, and `original_wav` rewrites the header with the real sizes.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Iterator

from pigate.errors import MediaError
from pigate.media import wav
from pigate.media.audio import RATE

FRAME_BYTES = 320  # 20 ms of 8 kHz s16le mono: pieces are whole frames, so queued pieces play back to back
READ_BYTES = 8000  # at most half a second per piece, so a long prompt is queued as it comes, not at the end


def espeak_command(exe: str, *, voice: str, speed: int, text: str) -> list[str]:
    """espeak-ng writing `text` as WAV to stdout (pure). Amplitude, pitch and friends at espeak-ng's defaults."""
    # The leading space stops espeak-ng from reading a text like "-5 degrees" as options; -b 1: UTF-8 text.
    return [exe, "-a", "100", "-k", "0", "-l", "0", "-p", "50", "-s", str(speed), "-v", voice, "-b", "1",
            "--stdout", " " + text]


def sox_command(exe: str) -> list[str]:
    """sox turning a WAV stream on stdin into raw 8 kHz s16le mono on stdout (pure); small buffers: early output."""
    return [exe, "-q", "--buffer", "1024", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16",
            "-e", "signed-integer", "-L", "-"]


@dataclass(kw_only=True, frozen=True)
class Espeak:
    """espeak-ng (and sox) on this machine; `timeout` is how long either may write nothing before it counts as hung."""

    espeak: str | None = field(default_factory=lambda: shutil.which("espeak-ng"))
    sox: str | None = field(default_factory=lambda: shutil.which("sox"))
    timeout: float = 30.0

    def pcm8k(self, text: str, *, voice: str, speed: int) -> Iterator[bytes]:
        """8 kHz s16le mono of `text` in whole 20 ms frames (the last piece may be shorter), each piece as soon as
        sox has written it. A MediaError comes before the first piece when espeak-ng makes nothing (an unknown
        voice), or at the end when either process failed half-way; the audio is complete only when the
        iterator ends without one. Closing the iterator early stops both processes."""
        if self.sox is None:
            raise MediaError("sox is not installed: speech for GSM calls needs it (Debian package sox)")
        speaker = self._start(espeak_command(self._espeak(), voice=voice, speed=speed, text=text), "espeak-ng",
                              stdin=subprocess.DEVNULL)
        try:
            resampler = self._start(sox_command(self.sox), "sox", stdin=speaker.stdout)
        except MediaError:
            _end(speaker)
            raise
        assert speaker.stdout is not None and resampler.stdout is not None
        speaker.stdout.close()  # sox holds it now; espeak-ng gets SIGPIPE if sox goes away
        complete = False
        try:
            fd = resampler.stdout.fileno()
            pending, total = b"", 0
            while True:
                if not select.select([fd], [], [], self.timeout)[0]:
                    raise MediaError(f"espeak-ng wrote no audio for {self.timeout:g} s")
                chunk = os.read(fd, READ_BYTES)
                if not chunk:
                    break
                pending += chunk
                total += len(chunk)
                whole = len(pending) - len(pending) % FRAME_BYTES
                if whole:
                    piece, pending = pending[:whole], pending[whole:]
                    yield piece
            self._check(speaker, "espeak-ng", f"espeak-ng produced no audio for voice {voice!r}" if not total
                        else f"espeak-ng failed part-way through a prompt in voice {voice!r}", total)
            self._check(resampler, "sox", "sox could not resample espeak-ng's audio", total)
            complete = True
            if pending:
                yield pending
        finally:
            if not complete:
                _end(resampler)
                _end(speaker)
            for proc in (resampler, speaker):
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()

    def original_wav(self, text: str, *, voice: str, speed: int) -> bytes:
        """The 22.05 kHz WAV espeak-ng makes of `text` (for SIP legs), with its header's sizes made true."""
        cmd = espeak_command(self._espeak(), voice=voice, speed=speed, text=text)
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MediaError(f"espeak-ng could not be run: {exc}") from exc
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            raise MediaError(f"espeak-ng produced no audio for voice {voice!r}: {_said(done.stderr)}")
        fmt, raw = wav.parse_header(done.stdout)
        return wav.encode(bytes(raw[:len(raw) - len(raw) % 2]), fmt.rate)

    def _espeak(self) -> str:
        if self.espeak is None:
            raise MediaError("espeak-ng is not installed (Debian package espeak-ng)")
        return self.espeak

    def _start(self, cmd: list[str], name: str, *, stdin: object) -> subprocess.Popen:
        try:
            return subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise MediaError(f"{name} could not be run: {exc}") from exc

    def _check(self, proc: subprocess.Popen, name: str, failure: str, total: int) -> None:
        try:
            code = proc.wait(self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise MediaError(f"{name} did not exit after its output ended") from exc
        if code != 0 or not total:
            assert proc.stderr is not None
            err = proc.stderr.read()
            raise MediaError(f"{failure} (exit {code}): {_said(err)}")


def _said(err: bytes) -> str:
    return err.decode(errors="replace").strip()[:300] or "no message"


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass

