"""Bring-up (every setting asserted, SIM and SMS readiness, PIN), registration and signal tracking."""

from __future__ import annotations

import logging
import time

from ..errors import ModemCommandError, ModemError, ModemTimeout
from . import events as ev
from . import parsers as p
from .at import ESC
from .link import Link
from .vendors import Vendor, by_key, detect

log = logging.getLogger(__name__)

# +CME codes meaning "not yet, ask again": SIM busy, SIM wrong-but-initialising, memory failure during boot.
_SIM_BUSY = {14, 515}
_SIM_ABSENT = {10, 13, 15}
_PIN_WRONG = {16}
# +CMS/+CME codes a modem gives for SMS commands before its SMS subsystem is ready.
_SMS_NOT_READY = {("CMS", 302), ("CMS", 310), ("CMS", 314), ("CMS", 500), ("CMS", 512), ("CME", 14),
                  ("CME", 515), ("CMS", 515)}


class SimProblem(ModemError):
    """The modem answers, but its SIM is missing or locked: recovery rungs cannot fix that."""


class BringUp:
    """The init sequence of one modem. Each run re-asserts every setting, since a reset modem forgets them."""

    def __init__(self, *, link: Link) -> None:
        self.link = link
        self.vendor: Vendor = by_key("generic")
        self._pin_rejected = False   # never retry a wrong PIN: the SIM allows three tries before PUK

    def run(self, *, busy_state: str = "initializing", failed_state: str = "down") -> None:
        """Bring the modem from any state to searching/registered; SimProblem or ModemError when it cannot.

        `busy_state` is shown while it runs (recovery keeps showing "recovering"; a SIM retry keeps its state).
        """
        link = self.link
        if link.stopping.is_set():
            raise ModemError(f"{link.name}: stopping")
        link.set_state(busy_state)
        try:
            if not link.engine.is_open:
                link.engine.open()
            deadline = time.monotonic() + link.config.ready_timeout
            self._sync(deadline)
            self._cmd("ATE0")
            self._cmd("AT+CMEE=1")
            self._identify()
            self._sim_ready(deadline)
            self._sms_ready(deadline)
            self._settings()
            self._identity_of_sim()
            refresh(link, self.vendor.registration_kinds)
        except SimProblem:
            raise
        except ModemError as exc:
            link.note_error(str(exc))
            link.set_state(failed_state)
            raise
        link.set_state(link.state_after_registration())

    # ---- steps ---------------------------------------------------------------------------------

    def _cmd(self, command: str, timeout: float | None = None, **kw: object) -> list[str]:
        return self.link.engine.command(command, timeout=timeout or self.link.config.command_timeout, **kw)

    def _optional(self, command: str) -> list[str] | None:
        """A setting some modems lack: an error answer is logged, not fatal (a timeout still is)."""
        try:
            return self._cmd(command)
        except ModemCommandError as exc:
            log.info("%s: %s not supported: %s", self.link.name, command, exc)
            return None

    def _sync(self, deadline: float) -> None:
        # ESC first: a crash in the middle of AT+CMGS leaves the modem waiting for PDU text, where "AT" is data.
        self.link.engine.write_raw(ESC + b"\r")
        time.sleep(0.05)
        last: Exception | None = None
        while True:
            try:
                self._cmd("AT", timeout=min(1.0, self.link.config.probe_timeout))
                return
            except ModemTimeout as exc:
                last = exc
            except ModemCommandError as exc:  # the ESC's late answer, or an AT typed into a half prompt
                last = exc
            if time.monotonic() >= deadline:
                raise ModemTimeout(f"{self.link.name}: no answer to AT") from last

    def _identify(self) -> None:
        link = self.link
        manufacturer = p.bare_value(self._cmd("AT+CGMI"), "+CGMI:")
        model = p.bare_value(self._cmd("AT+CGMM"), "+CGMM:")
        revision = p.bare_value(self._optional("AT+CGMR") or [], "+CGMR:").removeprefix("Revision:").strip()
        imei = p.bare_value(self._optional("AT+CGSN") or [], "+CGSN:")
        chosen = link.config.vendor
        self.vendor = detect(manufacturer, model) if chosen == "auto" else by_key(chosen)
        with link.lock:
            f = link.facts
            f.manufacturer, f.model, f.revision, f.imei, f.vendor = manufacturer, model, revision, imei, self.vendor.key

    def _sim_ready(self, deadline: float) -> None:
        link = self.link
        pin_sent = False
        while True:
            try:
                code = p.parse_cpin(self._cmd("AT+CPIN?")[0])
            except ModemCommandError as exc:
                if exc.code in _SIM_ABSENT:
                    return self._sim_problem("sim_missing", f"no SIM ({exc})", exc)
                if exc.code not in _SIM_BUSY:
                    raise
                code = "BUSY"
            except IndexError as exc:
                raise ModemError(f"{link.name}: empty answer to AT+CPIN?") from exc
            if code == "READY":
                return None
            if code == "NOT INSERTED":
                return self._sim_problem("sim_missing", "no SIM inserted")
            if code == "SIM PIN" and not pin_sent:
                self._enter_pin()
                pin_sent = True  # the SIM takes a moment to say READY; never send the PIN twice in one run
            elif code not in ("BUSY", "NOT READY", "SIM PIN"):
                return self._sim_problem("sim_locked", f"SIM wants {code}")
            if time.monotonic() >= deadline:
                state = "sim_locked" if code == "SIM PIN" else "sim_missing"
                return self._sim_problem(state, f"SIM not ready in {link.config.ready_timeout:g} s ({code})")
            time.sleep(0.2)

    def _enter_pin(self) -> None:
        pin = self.link.config.pin
        if not pin or self._pin_rejected:
            self._sim_problem("sim_locked", "SIM wants a PIN" + (" (the configured one was rejected)"
                                                                  if self._pin_rejected else " and none is configured"))
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            self._pin_rejected = True
            self._sim_problem("sim_locked", "the configured PIN is not 4-8 digits")
        try:
            self._cmd(f'AT+CPIN="{pin}"')
        except ModemCommandError as exc:
            if exc.code in _PIN_WRONG or exc.kind == "ERROR":
                self._pin_rejected = True
                self._sim_problem("sim_locked", f"the SIM rejected the configured PIN ({exc})", exc)
            raise
        self.link.publish(ev.UnsolicitedLine(self.link.name, "+CPIN: (PIN accepted)"))

    def _sim_problem(self, state: str, text: str, cause: Exception | None = None) -> None:
        self.link.note_error(text)
        self.link.set_state(state)
        raise SimProblem(f"{self.link.name}: {text}") from cause

    def _sms_ready(self, deadline: float) -> None:
        link = self.link
        while True:
            try:
                storages = p.parse_cpms_query(self._cmd("AT+CPMS?")[0])
                break
            except ModemCommandError as exc:
                if (exc.kind, exc.code) not in _SMS_NOT_READY or time.monotonic() >= deadline:
                    raise
            time.sleep(0.25)
        if storages:
            with link.lock:
                link.facts.read_storage = storages[0].name
                link.facts.receive_storage = storages[-1].name

    def _settings(self) -> None:
        link, v = self.link, self.vendor
        self._cmd("AT+CMGF=0")
        self._optional('AT+CSCS="GSM"')
        # Status reports in text mode, should anything ever use it; PDU mode sets them per message.
        self._optional("AT+CSMP=49,167,0,0")
        for cnmi in (v.cnmi, "AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,0,0"):
            if self._optional(cnmi) is not None:
                break
        else:
            raise ModemError(f"{link.name}: the modem accepts no AT+CNMI setting; incoming SMS would be missed")
        csms = self._optional("AT+CSMS?")
        if csms:
            # Service 1 (phase 2+) makes +CMT and +CDS wait for AT+CNMA; with 0 the modem acknowledges itself.
            with link.lock:
                link.facts.needs_ack = p.split_fields(p.body_of(csms[0], "+CSMS:"))[0].int() == 1
        for kind in v.registration_kinds:
            self._optional(f"AT+{kind}=2")
        self._optional("AT+CLIP=1")
        self._optional("AT+COPS=3,0")
        for command in v.dtmf_enable + v.call_state_enable:
            self._optional(command)
        for command in link.config.init_commands:
            try:
                self._cmd(command)
            except ModemCommandError as exc:
                # A configured extra that fails should not keep the line down: SMS still works without it.
                log.warning("%s: init command %r failed: %s", link.name, command, exc)
                link.note_error(f"init command {command!r} failed: {exc}")
        # The charset in effect decides how USSD strings travel; an init command may have changed it.
        cscs = self._optional("AT+CSCS?")
        charset = p.split_fields(p.body_of(cscs[0], "+CSCS:"))[0].value.upper() if cscs else "GSM"
        with link.lock:
            link.facts.charset = charset

    def _identity_of_sim(self) -> None:
        link = self.link
        imsi = p.bare_value(self._optional("AT+CIMI") or [], "+CIMI:")
        own = p.parse_cnum(self._optional("AT+CNUM") or [])
        with link.lock:
            link.facts.imsi = imsi
            if own:
                link.facts.own_number = own


def refresh(link: Link, kinds: tuple[str, ...]) -> None:
    """Poll registration, operator and signal (URCs normally keep them current; this catches missed ones)."""
    timeout = link.config.command_timeout
    for kind in kinds:
        try:
            lines = link.engine.command(f"AT+{kind}?", timeout=timeout)
        except ModemCommandError:
            continue
        for line in lines:
            reg = p.parse_registration(line)
            note_registration(link, reg.kind, reg.stat)
    try:
        cops = link.engine.command("AT+COPS?", timeout=timeout)
        op = p.parse_cops(cops[0]) if cops else p.Operator(0)
        with link.lock:
            link.facts.operator = op.name
    except ModemCommandError as exc:
        log.info("%s: AT+COPS? failed: %s", link.name, exc)
    lines = link.engine.command("AT+CSQ", timeout=timeout)
    if lines:
        note_signal(link, p.parse_csq(lines[0]))


def note_registration(link: Link, kind: str, stat: int) -> None:
    with link.lock:
        before = (link.facts.best_stat, bool(link.facts.registration))
        link.facts.registration[kind] = stat
        best = link.facts.best_stat
        registered = link.facts.registered
    if before != (best, True):
        # One event per change of the line's overall standing, not per technology (CREG/CGREG/CEREG).
        link.publish(ev.Registration(link.name, kind, best, registered))
    if link.state in ("searching", "registered"):
        link.set_state("registered" if registered else "searching")


def note_signal(link: Link, signal: p.Signal) -> None:
    with link.lock:
        before, link.facts.signal = link.facts.signal, signal
    if before is None or before.rssi != signal.rssi:
        link.publish(ev.SignalChanged(link.name, signal.rssi, signal.percent))
