"""AT handlers of the simulator for voice: dial, answer, hang up, +CLCC, +CLIP, DTMF in/out, PCM audio switches."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .atparse import Command
from .interp import AtError, Handler, Reply, cme

if TYPE_CHECKING:
    from .modem import SimModem

_DIAL = re.compile(r"^\+?[0-9*#]+$")


def dial(m: "SimModem", c: Command) -> Reply:
    target = c.raw.strip()
    voice = target.endswith(";")
    number = target.rstrip(";").strip()
    if m.sim_state == "missing":
        raise cme(10)
    if m.sim_state == "pin":
        raise cme(11)
    if not _DIAL.match(number):
        raise AtError()
    if not voice:
        return Reply(final="NO CARRIER")  # data calls are not offered
    return Reply(final=m.calls.dial(number))


def answer(m: "SimModem", c: Command) -> Reply:
    return Reply(final=m.calls.answer())


def hangup(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    return Reply(after=m.calls.hangup())


def clcc(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CLCC: (0-1)"])
    if c.kind == "read":
        return Reply([f"+CLCC: {m.settings.clcc_urc}"])
    if c.kind == "set":
        m.settings.clcc_urc = c.int_arg(0, 0)
        return Reply()
    return Reply(m.calls.clcc_lines())


def _switch(attr: str, prefix: str) -> Handler:
    def handler(m: "SimModem", c: Command) -> Reply:
        if c.kind == "test":
            return Reply([f"{prefix}: (0,1)"])
        if c.kind == "read":
            return Reply([f"{prefix}: {int(getattr(m.settings, attr))}" + (",1" if prefix == "+CLIP" else "")])
        value = c.int_arg(0, 0)
        if value not in (0, 1):
            raise AtError()
        setattr(m.settings, attr, value if isinstance(getattr(m.settings, attr), int) else bool(value))
        return Reply()
    return handler


def vts(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+VTS: (0-9,*,#,A,B,C,D)"])
    if c.kind != "set":
        raise AtError()
    # AT+VTS="5", AT+VTS=5, SIMCom's AT+VTS="1,2,3" and Quectel's AT+VTS="123",<duration> all occur.
    digits = (c.arg(0) or "").replace(",", "")
    if not digits or any(d not in "0123456789*#ABCD" for d in digits.upper()):
        raise cme(50)
    if not m.calls.send_dtmf(digits.upper()):
        raise cme(3)
    return Reply()


def pcm_switch(m: "SimModem", c: Command) -> Reply:
    """SIM7600 AT+CPCMREG=1 / EC25 AT+QPCMV=1,0: PCM over the USB audio port on (first argument 1) or off."""
    name = c.name
    if c.kind == "test":
        return Reply([f"{name}: (0,1)" + (",(0-2)" if name == "+QPCMV" else "")])
    if c.kind == "read":
        return Reply([f"{name}: {int(m.settings.pcm)}" + (",0" if name == "+QPCMV" else "")])
    value = c.int_arg(0, 0)
    if value not in (0, 1):
        raise AtError()
    if name == "+QPCMV" and value == 1 and c.int_arg(1, 0) != 0:
        raise cme(4)  # only the USB NMEA-port mode (0) is simulated
    if value == 1 and m.settings.pcm_stuck:
        raise AtError()  # plain ERROR, as the modules answer
    m.settings.pcm = bool(value)
    m.calls.update_stream()
    return Reply()


HANDLERS: dict[str, Handler] = {
    "D": dial, "A": answer, "H": hangup, "+CHUP": hangup, "+CLCC": clcc, "+VTS": vts,
    "+CLIP": _switch("clip", "+CLIP"), "+COLP": _switch("colp", "+COLP"), "+MORING": _switch("moring", "+MORING"),
}

# Per dialect: DTMF detection switch and PCM audio command.
DTMF_SWITCHES: dict[str, Handler] = {"DDET": _switch("dtmf_detect", "+DDET"),
                                     "QTONEDET": _switch("dtmf_detect", "+QTONEDET")}
PCM_COMMANDS: dict[str, Handler] = {"CPCMREG": pcm_switch, "QPCMV": pcm_switch}
