"""One simulated modem: its ptys, settings, SIM and registration state, storages, and how URCs reach the host."""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from pigate.errors import PortGone

from . import interp
from .dialects import Dialect
from .faults import ModemFaults
from .pdu import Deliver, StatusReport
from .pty import PtyPort
from .settings import Settings
from .session import AtSession, Input, LineIn, TextIn, TextNewline, frame_final, frame_info
from .storage import Storage, cds_text, cmt_text
from .table import build_table
from .voice import CallControl

if TYPE_CHECKING:
    from .network import Network

log = logging.getLogger(__name__)


class SimModem:
    """A modem of one dialect on its own AT pty and PCM audio pty, attached to a `Network`.

    Threads: one session thread reads the AT pty; the network's scheduler thread delivers SMS and calls;
    an audio thread paces PCM frames while a call streams. `lock` guards the modem's state.
    """

    def __init__(self, *, network: "Network", number: str, dialect: Dialect, pin: str | None = None,
                 imei: str, imsi: str, iccid: str, link_dir: Path | None = None,
                 capacity: dict[str, int] | None = None) -> None:
        self.network = network
        self.number = number
        self.dialect = dialect
        self.pin = pin
        self.imei, self.imsi, self.iccid = imei, imsi, iccid
        self.lock = threading.RLock()
        self.settings = Settings.for_dialect(dialect)
        cap = {"SM": 30, "ME": 100, "SR": 30, **(capacity or {})}
        self.storages = {name: Storage(name, cap[name]) for name in dialect.storages}
        self.sim_state = "pin" if pin else "ready"    # "ready" | "pin" | "missing"
        self.registered = True
        self.roaming = False
        self.cfun = 1
        self.rssi = 21
        self.operator = "SimNet"
        self.next_mr = 0
        self.pending: list[Deliver] = []            # held by the network until the modem can take them
        self.unrouted_reports: list[StatusReport] = []
        self.trace: deque[str] = deque(maxlen=500)   # recent command lines, for debugging tests
        self.faults = ModemFaults(modem=self)
        self.calls = CallControl(modem=self)
        self.table = build_table(dialect)
        link_dir = Path(link_dir) if link_dir else None
        safe = number.lstrip("+")
        self.at_link = link_dir / f"{safe}-at" if link_dir else None
        self.audio_link = link_dir / f"{safe}-audio" if link_dir else None
        self._at = PtyPort(link=self.at_link)
        self._audio = PtyPort(link=self.audio_link)
        self._session: AtSession | None = None
        self._out = threading.Lock()
        self._busy = False
        self._held: list[str] = []
        self._prompt = None
        self.stopping = threading.Event()
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def at_path(self) -> str:
        return self._at.path

    @property
    def audio_path(self) -> str:
        return self._audio.path

    @property
    def audio_port(self) -> PtyPort:
        return self._audio

    @property
    def present(self) -> bool:
        """False while the ports have vanished."""
        return self._at.is_open

    def start(self) -> None:
        """Open the ptys, start serving, and send the dialect's boot URCs."""
        if self.started:
            return
        self.started = True
        self.stopping.clear()
        self.calls.start()
        self._power_on()

    def stop(self) -> None:
        """Close everything and join the threads."""
        self.stopping.set()
        self.faults.cancel_timers()
        self._power_off()
        self.calls.stop()
        self.started = False

    def _power_on(self) -> None:
        with self.lock:
            self.settings = Settings.for_dialect(self.dialect)
            self.cfun = 1
            if self.sim_state == "ready" and self.pin:
                self.sim_state = "pin"  # a rebooted modem asks for its PIN again
        # The audio port first: whoever sees the AT port come back (the daemon's recovery, a test) finds the
        # audio port already there, as a host does once the whole USB device has enumerated.
        self._audio.open()
        self._at.open()
        self._session = AtSession(port=self._at, on_input=self._on_input, echo=lambda: self.settings.echo,
                                  deaf=self.faults.is_deaf, name=f"sim-at-{self.number}")
        self._session.start()
        boot = self.network.latency.boot
        if boot:
            self.network.scheduler.after(boot, self._booted)
        else:
            self._booted()

    def _booted(self) -> None:
        if self.present:
            self.urc(*self.boot_urcs())
            self.network.modem_ready(self)

    def _power_off(self) -> None:
        self.calls.drop_all()
        if self._session is not None:
            self._session.stop()
            self._session = None
        with self._out:
            self._busy, self._held, self._prompt = False, [], None
        self._at.close()
        self._audio.close()

    def vanish(self) -> None:
        """The USB device disappears: both ptys close and the links go away."""
        self._power_off()

    def reappear(self) -> None:
        """The device re-enumerates: new ptys (new paths), links re-pointed, boot URCs as after power-on."""
        if not self.present and not self.stopping.is_set():
            self._power_on()

    def reboot(self) -> None:
        """AT+CFUN=1,1: the module restarts; USB modules re-enumerate their ports."""
        # The module answers OK and resets a moment later; the host has read the OK by then.
        self.network.scheduler.after(0.3, self._reboot_now)

    def _reboot_now(self) -> None:
        self._power_off()
        self.network.scheduler.after(0.2, self.reappear)

    def boot_urcs(self) -> tuple[str, ...]:
        if self.sim_state == "missing":
            return ("RDY", "+CPIN: NOT INSERTED")
        if self.sim_state == "pin":
            return self.dialect.locked_boot_urcs
        return self.dialect.boot_urcs

    # -- state the handlers ask ----------------------------------------------------------------
    def reg_stat(self) -> int:
        if self.sim_state != "ready" or self.cfun != 1:
            return 0
        if not self.registered:
            return 2  # searching
        return 5 if self.roaming else 1

    @property
    def can_sms(self) -> bool:
        return self.present and self.reg_stat() in (1, 5)

    def take_mr(self) -> int:
        with self.lock:
            mr = self.next_mr
            self.next_mr = (mr + 1) % 256
            return mr

    # -- output ---------------------------------------------------------------------------------
    def urc(self, *lines: str) -> None:
        """Send unsolicited lines; held back while a command runs or text is being typed, then flushed."""
        if not lines:
            return
        with self._out:
            if self._busy:
                self._held += lines
                return
            self._write_urcs(list(lines))

    def _write_urcs(self, lines: list[str]) -> None:
        if self._session is None:
            return
        text = "".join(frame_info([ln], True) for ln in lines)
        try:
            self._session.write(text)
        except PortGone:
            log.debug("URC lost: port gone")

    def _on_input(self, item: Input) -> tuple[str, bool]:
        with self._out:
            self._busy = True
        prompt = False
        if isinstance(item, LineIn):
            self.trace.append(item.text)
            self._latency()
            out = interp.run_line(self, self.table, item.text)
            prompt = out.prompt is not None
            self._prompt = out.prompt
        elif isinstance(item, TextNewline):
            return "\r\n> ", False
        elif isinstance(item, TextIn):
            self.trace.append(f"<text {len(item.text)} chars{'' if item.sent else ', aborted'}>")
            handler, self._prompt = self._prompt, None
            if handler is None:
                out = interp.Outcome([], "ERROR")
            elif not item.sent:
                out = interp.Outcome([], "OK")
            else:
                out = interp.run_text(self, handler, item.text)
        else:
            out = interp.Outcome([], "ERROR")
        verbose = self.settings.verbose
        text = frame_info(out.lines, verbose)
        if prompt:
            text += "\r\n> "
        elif out.final is not None:
            garbage = self.faults.take_garbage_answer()
            text = garbage if garbage is not None else text + frame_final(out.final, verbose)
        with self._out:
            self._session.write(text) if self._session else None
            if not prompt:
                self._busy = False
                held, self._held = self._held + out.after, []
                self._write_urcs(held)
        return "", prompt

    def _latency(self) -> None:
        delay = self.network.latency.command
        if delay:
            self.stopping.wait(delay)

    # -- network side ---------------------------------------------------------------------------
    def deliver(self, message: Deliver) -> bool:
        """The network hands over an incoming SMS; False (kept pending by the caller) when it cannot be taken."""
        with self.lock:
            if not self.can_sms:
                return False
            mode, mt = self.settings.cnmi[0], self.settings.cnmi[1]
            if mt in (2, 3) and mode != 0:
                self.urc(*self._cmt_lines(message))
                return True
            mem3 = self.settings.cpms[2]
            index = self.storages[mem3].put(message)
            if index is None:
                return False
            if mt in (1, 2, 3) and mode != 0:
                self.urc(f'+CMTI: "{mem3}",{index}')
            return True

    def offer(self, message: Deliver) -> None:
        """Deliver now if possible, else keep it pending in arrival order (as the network retries)."""
        with self.lock:
            if self.pending or not self.deliver(message):
                self.pending.append(message)

    def _cmt_lines(self, message: Deliver) -> list[str]:
        if self.settings.cmgf == 1:
            return cmt_text(message, csdh=bool(self.settings.csdh), charset=self.settings.cscs)
        pdu, length = message.pdu()
        return [f"+CMT: ,{length}", pdu]

    def status_report(self, report: StatusReport) -> None:
        with self.lock:
            ds = self.settings.cnmi[3]
            if ds == 1 and self.present:
                if self.settings.cmgf == 1:
                    self.urc(cds_text(report))
                else:
                    pdu, length = report.pdu()
                    self.urc(f"+CDS: {length}", pdu)
                return
            if ds == 2 and self.present:
                mem = "SR" if "SR" in self.storages else self.settings.cpms[2]
                index = self.storages[mem].put(report, "REC UNREAD")
                if index is not None:
                    self.urc(f'+CDSI: "{mem}",{index}')
                    return
            self.unrouted_reports.append(report)

    def flush_pending(self) -> None:
        """Retry held incoming messages (after space was freed, registration came back, the port returned)."""
        with self.lock:
            pending, self.pending = self.pending, []
            for i, message in enumerate(pending):
                if not self.deliver(message):
                    self.pending = pending[i:] + self.pending
                    return

    # The serving cell: location (or tracking) area and cell id, as +CREG/+CGREG/+CEREG report them with n=2.
    LAC, CELL = "00A1", "0000B2C3"

    def registration_info(self, kind: str) -> str:
        """`<stat>` of AT+C(G/E)REG, with `,<lac>,<ci>,<AcT>` when its URC mode is 2 and the modem is
        registered: what both the read command (after `<n>,`) and the unsolicited line carry."""
        stat = self.reg_stat()
        if self.settings.reg_urc.get(kind) == 2 and stat in (1, 5):
            return f'{stat},"{self.LAC}","{self.CELL}",{self.dialect.access_tech}'
        return str(stat)

    def registration_urcs(self) -> list[str]:
        kinds = self.dialect.registration_kinds
        return [f"+{k}: {self.registration_info(k)}" for k in kinds if self.settings.reg_urc.get(k)]
