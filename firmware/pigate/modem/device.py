"""The Modem: one GSM line's public face, composing the AT engine, bring-up, recovery, SMS, voice and USSD parts."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Callable

from ..errors import ModemError
from ..events import EventBus
from . import events as ev
from . import parsers as p
from .at import AtEngine, SerialPort, open_serial
from .health import BringUp, SimProblem, note_registration, note_signal
from .link import Link, ModemConfig
from .parsers import CallInfo, StoredSms
from .pcm import PcmPump
from .recovery import Recovery, Supervisor
from .sms import SmsOps
from .urcs import BOOT_MARKERS, interpret
from .voice import UssdOps, VoiceOps

log = logging.getLogger(__name__)


class Modem:
    """One modem line. `start()` brings it up (or raises ModemError; the supervisor keeps trying after that),
    URCs become `modem.*` events on the bus, and the methods below are the operations services use."""

    def __init__(self, *, config: ModemConfig, bus: EventBus, power_cycle: Callable[[], None] = lambda: None,
                 reset_settle: float | None = None,
                 opener: Callable[[str, int], SerialPort] = open_serial) -> None:
        engine = AtEngine(path=config.port, name=config.name, baudrate=config.baudrate,
                          timeout=config.command_timeout, on_urc=self._on_urc, on_gone=self._on_gone, opener=opener)
        self._link = Link(config=config, engine=engine, bus=bus, power_cycle=power_cycle)
        self._bring_up = BringUp(link=self._link)
        self._supervisor = Supervisor(link=self._link, bring_up=self._bring_up,
                                      recovery=Recovery(link=self._link, bring_up=self._bring_up,
                                                        reset_settle=reset_settle))
        self._sms = SmsOps(link=self._link)
        self._voice = VoiceOps(link=self._link, bring_up=self._bring_up)
        self._ussd = UssdOps(link=self._link)
        self._started = False
        self._life = threading.Lock()
        self._not_starting = threading.Event()
        self._not_starting.set()

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._link.name

    @property
    def config(self) -> ModemConfig:
        return self._link.config

    def start(self) -> None:
        """Open the port and bring the modem up; returns when it is ready, or raises ModemError. Either way the
        supervisor then runs: it retries, recovers, and polls signal and registration."""
        with self._life:
            if self._started:
                return
            self._started = True
            self._link.stopping.clear()
            self._not_starting.clear()
        try:
            self._bring_up.run()
        except SimProblem:
            raise
        except ModemError:
            self._link.request_recovery("bring-up failed")
            raise
        finally:
            with self._life:
                if not self._link.stopping.is_set():
                    self._supervisor.start()
            self._not_starting.set()

    def stop(self) -> None:
        with self._life:
            self._link.stopping.set()
        # Closing the port first fails a command in flight at once, so a bring-up or recovery ends quickly.
        self._link.engine.close()
        if not self._not_starting.wait(10.0):
            log.warning("%s: bring-up still running after stop", self.name)
        self._supervisor.stop()
        self._link.engine.close()
        self._link.set_state("down")
        with self._life:
            self._started = False

    @property
    def state(self) -> str:
        return self._link.state

    @property
    def vendor(self) -> str:
        return self._bring_up.vendor.key

    @property
    def needs_ack(self) -> bool:
        """True when +CMT/+CDS must be acknowledged with ack_sms() (the modem runs SMS service phase 2+)."""
        with self._link.lock:
            return self._link.facts.needs_ack

    def status(self) -> dict[str, Any]:
        link = self._link
        state = link.state
        with link.lock:
            f = link.facts
            sig = f.signal
            return {
                "name": link.name, "port": link.config.port, "state": state, "vendor": f.vendor,
                "manufacturer": f.manufacturer, "model": f.model, "revision": f.revision, "imei": f.imei,
                "imsi": f.imsi, "operator": f.operator, "registration": f.best_stat,
                "registered": f.registered, "registration_detail": dict(f.registration),
                "signal_rssi": sig.rssi if sig else None, "signal_percent": sig.percent if sig else None,
                "signal_dbm": sig.dbm if sig else None, "own_number": f.own_number,
                "needs_ack": f.needs_ack, "last_error": f.last_error,
            }

    # ---- SMS -----------------------------------------------------------------------------------

    def send_sms_pdu(self, pdu_hex: str, tpdu_length: int) -> int:
        return self._sms.send_pdu(pdu_hex, tpdu_length)

    def cancel_prompt(self, reason: str) -> bool:
        """End a send_sms_pdu() still waiting for the modem's prompt (it raises NotSubmitted: nothing was sent);
        one whose PDU is already written finishes. For a stopping service; True if one was cancelled."""
        return self._link.engine.cancel_prompt(reason)

    def read_sms(self, storage: str, index: int) -> StoredSms:
        return self._sms.read(storage, index)

    def list_sms(self, status: int = 4, storage: str | None = None) -> list[StoredSms]:
        return self._sms.list(status, storage)

    def delete_sms(self, storage: str, index: int) -> None:
        self._sms.delete(storage, index)

    def ack_sms(self) -> None:
        self._sms.ack()

    def ussd(self, code: str, timeout: float = 30.0) -> str:
        return self._ussd.request(code, timeout)

    # ---- voice ---------------------------------------------------------------------------------

    def dial(self, number: str) -> None:
        self._voice.dial(number)

    def answer(self) -> None:
        self._voice.answer()

    def hangup(self) -> None:
        self._voice.hangup()

    def send_dtmf(self, keys: str) -> None:
        self._voice.send_dtmf(keys)

    def hold(self) -> None:
        self._voice.hold()

    def retrieve(self) -> None:
        self._voice.retrieve()

    def deflect(self, number: str) -> None:
        self._voice.deflect(number)

    def audio(self, *, name: str) -> PcmPump | None:
        """A PCM pump for one call on this line's audio port (None when the line has none: analog audio)."""
        port = self._link.config.audio_port
        return PcmPump(url=port, name=name) if port else None

    def list_calls(self) -> list[CallInfo]:
        return self._voice.list_calls()

    def start_audio(self) -> None:
        self._voice.start_audio()

    # ---- raw AT (`pigate at`) ------------------------------------------------------------------

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Any AT command; its answer lines (bare lines and its own +XXX: lines). Raises on ERROR."""
        cmd = cmd.strip()
        if not cmd.upper().startswith("AT") or any(c in cmd for c in "\r\n\x1a\x1b"):
            raise ModemError(f"not a single AT command: {cmd!r}")
        return self._link.run(lambda: self._link.engine.command(
            cmd, timeout=timeout or self._link.config.command_timeout, bare=True))

    # ---- from the reader thread: never blocks, never sends a command ---------------------------

    def _on_gone(self, exc: BaseException) -> None:
        self._link.note_error(str(exc))
        self._link.request_recovery(str(exc))

    def _on_urc(self, line: str, data: str | None) -> None:
        link = self._link
        with link.lock:
            charset = link.facts.charset
        event = interpret(line, data, charset=charset, name=link.name)
        if isinstance(event, ev.Registration):
            note_registration(link, event.kind, event.stat)
        elif isinstance(event, ev.SignalChanged):
            note_signal(link, p.Signal(event.rssi, 99))
        elif isinstance(event, ev.SimStatus):
            self._on_sim(event.code)
        elif isinstance(event, ev.UssdAnswer):
            self._ussd.on_ussd(p.Ussd(event.status, event.text, event.dcs))
            link.publish(event)
        elif isinstance(event, (ev.SmsDelivered, ev.StatusReport)):
            link.publish(dataclasses.replace(event, needs_ack=self.needs_ack))
        elif isinstance(event, ev.UnsolicitedLine):
            link.publish(event)
            if line in BOOT_MARKERS and link.state not in ("initializing", "down"):
                # The modem restarted on its own (brown-out, watchdog): every setting is back at its default.
                link.request_reinit(f"modem restarted ({line})")
        else:
            link.publish(event)

    def _on_sim(self, code: str) -> None:
        link = self._link
        state = link.state
        if code in ("NOT INSERTED", "NOT READY") and state in ("searching", "registered"):
            link.note_error(f"SIM {code.lower()}")
            link.set_state("sim_missing")
        elif code == "READY" and state in ("sim_missing", "sim_locked"):
            link.request_reinit("SIM ready")
        link.publish(ev.UnsolicitedLine(link.name, f"+CPIN: {code}"))
