"""Voice calls on a simulated modem: call states, RING/+CLIP, +CLCC, dialect URCs, DTMF, paced PCM audio."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pigate.errors import PortGone

from .audio import FRAME_SECONDS, MAX_CATCH_UP

if TYPE_CHECKING:
    from .handset import HandsetCall
    from .modem import SimModem
    from .sched import Task

log = logging.getLogger(__name__)

# +CLCC <stat>; 6 is the "disconnected" value SIMCom and Quectel report when a call ends.
CLCC_STAT = {"active": 0, "held": 1, "dialing": 2, "alerting": 3, "incoming": 4, "waiting": 5, "ended": 6}


@dataclass
class Call:
    """One call as the modem sees it; `far` is the handset's side of the same call."""

    id: int
    direction: str            # "mo" (the gateway dialed) or "mt" (a handset called the gateway)
    peer: str
    far: "HandsetCall"
    state: str
    connected_at: float | None = None
    ring_task: "Task | None" = field(default=None, repr=False)

    def clcc(self) -> str:
        return (f'+CLCC: {self.id},{0 if self.direction == "mo" else 1},{CLCC_STAT[self.state]},0,0,'
                f'"{self.peer}",{145 if self.peer.startswith("+") else 129}')


class CallControl:
    """The modem's call table (one call at a time, as the gateway uses it) and its audio pump thread."""

    def __init__(self, *, modem: "SimModem") -> None:
        self._m = modem
        self._lock = threading.RLock()
        self.current: Call | None = None
        self._stream = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_sent = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._pump, name=f"sim-audio-{self._m.number}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._stream.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def activity(self) -> int:
        call = self.current
        if call is None:
            return 0
        return 3 if call.state == "incoming" else 4

    def clcc_lines(self) -> list[str]:
        call = self.current
        return [call.clcc()] if call else []

    def _state_urcs(self, call: Call) -> list[str]:
        return [call.clcc()] if self._m.settings.clcc_urc else []

    def update_stream(self) -> None:
        """Stream PCM while a call is active and the host has switched PCM on (CPCMREG / QPCMV)."""
        call = self.current
        on = (call is not None and call.state == "active" and self._m.settings.pcm
              and bool(self._m.dialect.pcm_command))
        if on:
            self._stream.set()
        else:
            self._stream.clear()

    # -- the host's commands --------------------------------------------------------------------
    def dial(self, number: str) -> str:
        """ATD<number>; : the final result ("OK" or a failure) to answer now."""
        m = self._m
        with self._lock:
            if self.current is not None:
                return "ERROR"
            if m.reg_stat() not in (1, 5) or number in m.network.modems:
                return "NO CARRIER"  # calls between the simulated modems themselves are not offered
            far = m.network.handset(number).incoming_from(m.number)
            call = Call(1, "mo", number, far, "dialing")
            far.attach(call=call, control=self)
            self.current = call
        m.urc(*self._state_urcs(call))
        m.network.scheduler.after(m.network.latency.call_setup, far.alert)
        return "OK"

    def answer(self) -> str:
        with self._lock:
            call = self.current
            if call is None or call.state != "incoming":
                return "NO CARRIER"
            self._connect(call)
        return "OK"

    def hangup(self) -> list[str]:
        """ATH / AT+CHUP: end the call; returns URCs to send after OK."""
        with self._lock:
            call = self.current
            if call is None:
                return []
            urcs = self._end(call, hangup_by_host=True)
        call.far.remote_ended("hangup" if call.connected_at else ("rejected" if call.direction == "mt" else "cancelled"))
        return urcs

    def send_dtmf(self, digits: str) -> bool:
        call = self.current
        if call is None or call.state != "active":
            return False
        call.far.hear_dtmf(digits)
        return True

    # -- the far end's events (scheduler or test thread) ----------------------------------------
    def far_alerting(self, call: Call) -> None:
        with self._lock:
            if self.current is not call or call.state != "dialing":
                return
            call.state = "alerting"
        self._m.urc(*self._state_urcs(call), *self._mo_ring(0))

    def far_answered(self, call: Call) -> None:
        m = self._m
        with self._lock:
            if self.current is not call or call.state not in ("dialing", "alerting"):
                return
            self._connect(call)
            urcs = []
            if m.settings.colp:
                urcs.append(f'+COLP: "{call.peer}",145,"",0,""')
        m.urc(*urcs, *self._mo_ring(1), *self._connected_urcs(call))

    def _mo_ring(self, which: int) -> list[str]:
        urc = self._m.dialect.mo_ring_urcs[which]
        return [urc] if urc and self._m.settings.moring else []

    def _connect(self, call: Call) -> None:
        call.state = "active"
        call.connected_at = time.monotonic()
        if call.ring_task is not None:
            call.ring_task.cancel()
        call.far.remote_answered()
        if call.direction == "mt":
            # ATA's OK goes first; the connection URCs follow it.
            self._m.network.scheduler.soon(lambda: self._m.urc(*self._connected_urcs(call)))
        self.update_stream()

    def _connected_urcs(self, call: Call) -> list[str]:
        urcs = self._state_urcs(call)
        if self._m.dialect.call_begin_urc:
            urcs.append(self._m.dialect.call_begin_urc)
        return urcs

    def far_ended(self, call: Call, result: str = "NO CARRIER") -> None:
        """The handset hung up, rejected, was busy or did not answer: `result` is the modem's final word."""
        with self._lock:
            if self.current is not call:
                return
            urcs = self._end(call, hangup_by_host=False)
        delay = self._m.faults.final_word_delay
        if delay > 0:
            self._m.urc(*urcs)
            self._m.network.scheduler.after(delay, self._m.urc, result)
        else:
            self._m.urc(*urcs, result)

    def _end(self, call: Call, *, hangup_by_host: bool) -> list[str]:
        if call.ring_task is not None:
            call.ring_task.cancel()
        was_active = call.connected_at is not None
        call.state = "ended"
        self.current = None
        self.update_stream()
        urcs = self._state_urcs(call)
        end = self._m.dialect.call_end_urc
        if end and was_active:
            urcs.append(end.format(duration=int(time.monotonic() - call.connected_at)))
        return urcs

    def incoming(self, far: "HandsetCall") -> bool:
        """A handset calls the gateway; False when the modem cannot take it (busy or unreachable)."""
        m = self._m
        with self._lock:
            if not m.present or m.reg_stat() not in (1, 5):
                far.failed("unreachable")
                return False
            if self.current is not None:
                far.failed("busy")
                return False
            call = Call(1, "mt", far.caller, far, "incoming")
            far.attach(call=call, control=self)
            self.current = call
        self._ring(call)
        return True

    def _ring(self, call: Call) -> None:
        m = self._m
        with self._lock:
            if self.current is not call or call.state != "incoming":
                return
            lines = ["RING"]
            if m.settings.clip:
                lines.append(f'+CLIP: "{call.peer}",{145 if call.peer.startswith("+") else 129},"",0,"",0')
            if call.ring_task is None:
                lines += self._state_urcs(call)
            call.ring_task = m.network.scheduler.after(m.network.latency.ring_interval, self._ring, call)
        m.urc(*lines)

    def far_dtmf(self, digit: str) -> None:
        m = self._m
        call = self.current
        if call is None or call.state != "active":
            return
        if m.dialect.dtmf_enable and not m.settings.dtmf_detect:
            return
        m.urc(m.dialect.dtmf_line(digit))

    def network_lost(self) -> None:
        call = self.current
        if call is not None:
            self.far_ended(call, "NO CARRIER")
            call.far.remote_ended("network")

    def drop_all(self) -> None:
        with self._lock:
            call = self.current
            if call is None:
                return
            self._end(call, hangup_by_host=False)
        call.far.remote_ended("network")

    # -- audio ----------------------------------------------------------------------------------
    def _pump(self) -> None:
        port = self._m.audio_port
        while not self._stop.is_set():
            if not self._stream.wait(0.2):
                continue
            try:  # what the host wrote while no call was up is not heard by the next caller (a modem drops it)
                while port.read(0):
                    pass
            except PortGone:
                continue
            deadline = time.monotonic()
            while self._stream.is_set() and not self._stop.is_set():
                call = self.current
                if call is None:
                    break
                try:
                    port.write_nowait(call.far.next_frame())
                    self.frames_sent += 1
                    deadline += FRAME_SECONDS
                    # Until the next frame is due, take the host's audio as it arrives, as a modem does: the
                    # handset hears (and timestamps) each frame within a millisecond of its write.
                    while (delay := deadline - time.monotonic()) > 0 and not self._stop.is_set():
                        heard = port.read(delay)
                        if heard:
                            call.far.hear_pcm(heard)
                except PortGone:
                    break
                if delay < -MAX_CATCH_UP:
                    deadline = time.monotonic()  # fell far behind (machine stalled): resync, don't burst
