"""Audio into and out of SIP calls: a frame port for foreign PCM (8 kHz, 16-bit, 20 ms), WAV players and recorders.

pjmedia's clock thread calls a frame port 50 times a second each way; a slow callback breaks audio for every
call in the conference bridge, so the callbacks only pop/push bounded deques: the next frame to send (silence
when there is none; no standing backlog, pigate.backlog) and the frames received (the oldest dropped when the
reader falls behind).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from pigate.backlog import BacklogTrim
from pigate.errors import SipError
from pigate.sip.endpoint import Endpoint, destroy_now

RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2  # 320: 160 samples of 16-bit mono
SILENCE = bytes(FRAME_BYTES)


class _Media:
    """Something with a pjsua2 AudioMedia that a call can transmit to and/or from (pjsua2 thread only)."""

    sends = receives = False

    def __init__(self, *, endpoint: Endpoint) -> None:
        self._ep = endpoint
        self.pj_media: Any = None

    def _attach(self, call_audio: Any) -> None:
        if self.pj_media is None:
            return
        if self.sends:
            self.pj_media.startTransmit(call_audio)
        if self.receives:
            call_audio.startTransmit(self.pj_media)

    def _detach(self, call_audio: Any) -> None:
        if self.pj_media is None:
            return
        try:
            if self.sends:
                self.pj_media.stopTransmit(call_audio)
            if self.receives:
                call_audio.stopTransmit(self.pj_media)
        except self._ep.pj.Error:
            pass  # the call's media is already gone

    def close(self, timeout: float = 2.0) -> None:
        """Destroy the pjsua2 object and wait until the bridge has let go of it: pjmedia removes ports
        asynchronously, on its clock, and a recorder's WAV header is written only then."""
        if self.pj_media is None or not self._ep.running:
            return
        slot = self._ep.call(self.pj_media.getPortId)
        self._ep.call(self._ep.release, self)
        deadline = time.monotonic() + timeout
        while self._ep.call(self._ep.port_exists, slot) and time.monotonic() < deadline:
            time.sleep(0.005)

    def _pj_close(self) -> None:
        pass

    def _pj_drop(self) -> None:
        media, self.pj_media = self.pj_media, None
        if media is not None:
            destroy_now(media)  # not from the garbage collector, under pjmedia's clock thread


class FramePort(_Media):
    """Two-way PCM: `write(frame)` queues 320 bytes for the call(s) it is connected to; `read()` returns
    the next 320 bytes the bridge delivered (the mix of the calls it listens to)."""

    sends = receives = True

    def __init__(self, *, endpoint: Endpoint, name: str = "frames", depth: int = 5) -> None:
        super().__init__(endpoint=endpoint)
        self.name = name
        self._out: deque[bytes] = deque(maxlen=depth)
        self._in: deque[bytes] = deque(maxlen=depth)
        self._cond = threading.Condition()
        self._trim = BacklogTrim()  # used by pjmedia's clock thread only, the one taker of _out
        self.sent = self.underruns = self.received = 0

    def _create(self) -> None:
        pj = self._ep.pj
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = RATE
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = FRAME_MS * 1000
        port = self._ep.adapters.FramePort(self)
        port.createPort(self.name, fmt)
        self.pj_media = port
        self._ep.adopt(self)

    def write(self, frame: bytes) -> None:
        if len(frame) != FRAME_BYTES:
            raise SipError(f"a frame is {FRAME_BYTES} bytes (20 ms of 8 kHz 16-bit mono), got {len(frame)}")
        self._out.append(bytes(frame))

    def read(self, timeout: float | None = None) -> bytes | None:
        """The oldest received frame, waiting up to `timeout` seconds; None when none came."""
        with self._cond:
            if not self._in and not self._cond.wait_for(lambda: bool(self._in), timeout):
                return None
            return self._in.popleft()

    def clear(self) -> None:
        with self._cond:
            self._in.clear()
        self._out.clear()

    # pjmedia's clock thread
    def _next_out(self) -> bytes:
        try:
            for _ in range(self._trim.excess(len(self._out))):
                self._out.popleft()
            frame = self._out.popleft()
            self.sent += 1
            return frame
        except IndexError:
            self.underruns += 1
            return SILENCE

    def _received(self, frame: bytes) -> None:
        if len(frame) != FRAME_BYTES:
            return
        with self._cond:
            self._in.append(frame)
            self.received += 1
            self._cond.notify()


class Player(_Media):
    """A WAV file played into the calls it is connected to; `on_done` runs (event thread) at its end."""

    sends = True

    def __init__(self, *, endpoint: Endpoint, path: str | Path, loop: bool = False,
                 on_done: Callable[["Player"], None] | None = None) -> None:
        super().__init__(endpoint=endpoint)
        self.path, self.loop, self._on_done = str(path), loop, on_done
        self.done = threading.Event()

    def _create(self) -> None:
        pj = self._ep.pj
        player = self._ep.adapters.Player(self)
        try:
            player.createPlayer(self.path, 0 if self.loop else pj.PJMEDIA_FILE_NO_LOOP)
        except pj.Error as exc:
            raise SipError(f"cannot play {self.path}: {exc.info()}") from None
        self.pj_media = player
        self._ep.adopt(self)

    def _on_eof(self) -> None:
        if not self.loop:
            self.done.set()
            if self._on_done is not None:
                self._ep.notify(self._on_done, self)


class Recorder(_Media):
    """What the connected calls receive, written to a WAV file (complete once `close()` returns)."""

    receives = True

    def __init__(self, *, endpoint: Endpoint, path: str | Path) -> None:
        super().__init__(endpoint=endpoint)
        self.path = str(path)

    def _create(self) -> None:
        pj = self._ep.pj
        rec = pj.AudioMediaRecorder()
        try:
            rec.createRecorder(self.path)
        except pj.Error as exc:
            raise SipError(f"cannot record to {self.path}: {exc.info()}") from None
        self.pj_media = rec
        self._ep.adopt(self)
