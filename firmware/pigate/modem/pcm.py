"""A call's PCM audio port: one paced thread writes 320-byte frames every 20 ms and hands what it reads on.

The modem's USB audio port (SIM7600 AT+CPCMREG, EC25 AT+QPCMV) carries 8 kHz s16le mono in both
directions and expects a continuous stream from the host: when nothing is being played the pump sends
silence. Prompts are queued as Playbacks and played in order, one frame per tick, so a cancelled
playback stops at the next frame. Whatever the modem sends is read every tick and given to the capture
sink (a recording) or dropped, so the port never backs up.

A port with a file descriptor (a device or pty) is written and read with one non-blocking system call each
per frame rather than through pyserial, whose write and read add a select() apiece: every system call
lets go of the interpreter lock, and getting it back is where a busy daemon (an HTTP flood) makes the pump late.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import threading
import time
from typing import Callable, Protocol

import serial

from pigate.errors import PortGone
from pigate.priority import raise_current_thread
from pigate.stats import LatencyHistogram

log = logging.getLogger(__name__)

FRAME_BYTES = 320          # 20 ms of 8 kHz 16-bit mono
FRAME_SECONDS = 0.02
SILENCE = bytes(FRAME_BYTES)
WRITE_TIMEOUT = 0.05       # how long a write may wait for a full port


class AudioPort(Protocol):
    """The host side of the PCM port, as the pump uses it."""

    def write(self, data: bytes) -> int | None: ...

    def read(self, size: int) -> bytes: ...

    @property
    def in_waiting(self) -> int: ...

    def close(self) -> None: ...


def open_audio(url: str) -> AudioPort:
    """The PCM port by pyserial URL, like the AT port (a device, a pty, a udev by-id name or any pyserial URL);
    a short write timeout so a modem that stops reading costs a frame, not a stall."""
    try:
        return serial.serial_for_url(url, baudrate=921600, timeout=0, write_timeout=WRITE_TIMEOUT)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortGone(f"cannot open audio port {url}: {exc}") from exc


class Playback:
    """One queued piece of call audio; `done` is set when it was played out or cancelled."""

    def __init__(self, pcm: bytes) -> None:
        pad = (-len(pcm)) % FRAME_BYTES
        self._pcm = pcm + bytes(pad)
        self._pos = 0
        self.done = threading.Event()
        self.cancelled = False

    @property
    def seconds(self) -> float:
        return len(self._pcm) / (FRAME_BYTES / FRAME_SECONDS)

    def next_frame(self) -> bytes | None:
        if self.cancelled or self._pos >= len(self._pcm):
            return None
        frame = self._pcm[self._pos:self._pos + FRAME_BYTES]
        self._pos += FRAME_BYTES
        return frame

    def cancel(self) -> None:
        self.cancelled = True
        self.done.set()

    def finish(self) -> None:
        self.done.set()


Sink = Callable[[bytes], None]


class PcmPump:
    """Streams one call's audio while the call is up: start() when it connects, stop() when it ends."""

    def __init__(self, *, url: str, name: str, opener: Callable[[str], AudioPort] = open_audio,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url, self.name = url, name
        self._opener, self._clock = opener, clock
        self._queue: collections.deque[Playback] = collections.deque()
        self._lock = threading.Lock()   # the queue and the sink
        self._life = threading.Lock()   # start and stop
        self._sink: Sink | None = None
        self._muted = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: AudioPort | None = None
        self._carry = b""  # the rest of a frame the port took only part of (raw descriptors)
        self.frames_written = 0
        self.frames_dropped = 0
        self.bytes_read = 0
        self.lateness = LatencyHistogram()  # per frame: when its write returned, after its 20 ms slot began

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        """Open the port and stream; a pump runs once (one call), so start after stop does nothing."""
        with self._life:
            if self._thread is not None or self._stop.is_set():
                return
            self._port = self._opener(self.url)
            thread = threading.Thread(target=self._run, name=f"pcm-{self.name}", daemon=True)
            thread.start()
            self._thread = thread

    def stop(self) -> None:
        with self._life:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        with self._life:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (OSError, serial.SerialException) as exc:
                log.debug("%s: closing audio port: %s", self.name, exc)
        with self._lock:
            pending, self._queue = list(self._queue), collections.deque()
            self._sink = None
        for playback in pending:
            playback.cancel()

    def play(self, pcm: bytes) -> Playback:
        """Queue `pcm` (8 kHz s16le mono) behind what is already playing; a stopped pump finishes it at once."""
        return self.queue(Playback(pcm))

    def queue(self, playback: Playback) -> Playback:
        """Queue a playback, or anything with its next_frame/finish/cancel (a bridge's live stream)."""
        with self._lock:
            if not self.running:
                playback.cancel()
            else:
                self._queue.append(playback)
        return playback

    def mute(self, muted: bool) -> None:
        """Send silence instead of the queued audio (local hold); playbacks still advance, so nobody waits forever."""
        self._muted = muted

    def capture(self, sink: Sink | None) -> None:
        """Hand every chunk read from the modem to `sink` (None: drop them)."""
        with self._lock:
            self._sink = sink

    def _next_frame(self) -> bytes:
        with self._lock:
            while self._queue:
                frame = self._queue[0].next_frame()
                if frame is not None:
                    return SILENCE if self._muted else frame
                self._queue.popleft().finish()
        return SILENCE

    def _run(self) -> None:
        port = self._port
        if port is None:
            return
        priority = raise_current_thread()
        fd = _raw_fd(port)
        deadline = self._clock()
        try:
            while not self._stop.is_set():
                if fd is None:
                    self._tick(port)
                else:
                    self._tick_fd(fd)
                self.lateness.record(self._clock() - deadline)
                deadline += FRAME_SECONDS
                delay = deadline - self._clock()
                if delay > 0:
                    self._stop.wait(delay)
                elif delay < -0.2:
                    deadline = self._clock()  # the machine stalled: resync rather than burst frames
        except (OSError, serial.SerialException) as exc:
            log.warning("%s: audio port %s failed: %s", self.name, self.url, exc)
        finally:
            with self._lock:
                pending, self._queue = list(self._queue), collections.deque()
            for playback in pending:
                playback.cancel()
            log.info("%s: %d frames written, %d dropped; %s priority; lateness %s", self.name, self.frames_written,
                     self.frames_dropped, priority, self.lateness.summary_ms())

    def _tick_fd(self, fd: int) -> None:
        frame = self._next_frame()  # taken even when it cannot go out, so playbacks keep time
        # A partly written frame is finished first (the port must not lose a byte of a sample); a port that
        # takes less than a frame per tick loses whole frames instead.
        out = self._carry + frame if len(self._carry) < FRAME_BYTES else self._carry
        written = _write_some(fd, out)
        if written:
            self._carry = out[written:]
        if written:
            self.frames_written += 1
        else:
            self.frames_dropped += 1
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if data:
            self._heard(data)

    def _heard(self, data: bytes) -> None:
        self.bytes_read += len(data)
        with self._lock:
            sink = self._sink
        if sink is not None:
            sink(data)

    def _tick(self, port: AudioPort) -> None:
        frame = self._next_frame()
        try:
            written = port.write(frame)
        except serial.SerialTimeoutException:
            written = 0
        if written:
            self.frames_written += 1
        else:
            self.frames_dropped += 1
        waiting = port.in_waiting
        if waiting:
            self._heard(port.read(waiting))


def _write_some(fd: int, data: bytes) -> int:
    """Bytes of `data` the port took; when it is full, after waiting for room as long as pyserial's write
    timeout would have (a modem that stops reading costs a frame, not a stall)."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        pass
    if not select.select([], [fd], [], WRITE_TIMEOUT)[1]:
        return 0
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


def _raw_fd(port: AudioPort) -> int | None:
    """The port's file descriptor, made non-blocking, when it has one (pyserial on a device or pty); else None."""
    fileno = getattr(port, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
    except (OSError, ValueError, serial.SerialException):
        return None
    if not isinstance(fd, int) or fd < 0:
        return None
    os.set_blocking(fd, False)
    return fd
