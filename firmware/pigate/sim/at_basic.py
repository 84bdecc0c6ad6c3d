"""AT handlers of the simulator for everything but SMS and voice: V.250 basics, identity, SIM, network, USSD."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .atparse import Command
from .interp import AtError, Handler, Reply, cme, cms
from .settings import Settings

if TYPE_CHECKING:
    from .modem import SimModem


def ok(m: "SimModem", c: Command) -> Reply:
    return Reply()


def echo(m: "SimModem", c: Command) -> Reply:
    if c.raw not in ("", "0", "1"):
        raise AtError()
    m.settings.echo = c.raw != "0"
    return Reply()


def verbose(m: "SimModem", c: Command) -> Reply:
    if c.raw not in ("", "0", "1"):
        raise AtError()
    m.settings.verbose = c.raw != "0"
    return Reply()


def reset(m: "SimModem", c: Command) -> Reply:
    m.settings = Settings.for_dialect(m.dialect)
    return Reply()


def s_register(m: "SimModem", c: Command) -> Reply:
    return Reply(["000"]) if c.kind == "read" else Reply()


def info(m: "SimModem", c: Command) -> Reply:
    return Reply([ln.format(imei=m.imei) for ln in m.dialect.ati()])


def _identity(value: str, prefix: str = "") -> Handler:
    def handler(m: "SimModem", c: Command) -> Reply:
        if c.kind == "test":
            return Reply()
        if c.kind != "exec":
            raise AtError()
        return Reply([f"{prefix}{value_of(m, value)}"])
    return handler


def value_of(m: "SimModem", what: str) -> str:
    return {"manufacturer": m.dialect.manufacturer, "model": m.dialect.model, "imei": m.imei,
            "revision": m.dialect.revision}[what]


def revision(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    prefix = "+CGMR: " if m.dialect.key == "sim7600" else ""
    return Reply([f"{prefix}{m.dialect.revision}"])


def _needs_sim(m: "SimModem", *, sms: bool = False) -> None:
    if m.sim_state == "missing":
        raise cms(310) if sms else cme(10)
    if m.sim_state == "pin":
        raise cms(311) if sms else cme(11)


def imsi(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    _needs_sim(m)
    return Reply([m.imsi])


def _iccid(prefix: str) -> Handler:
    def handler(m: "SimModem", c: Command) -> Reply:
        if c.kind == "test":
            return Reply()
        _needs_sim(m)
        return Reply([f"{prefix}{m.iccid}"])
    return handler


def cmee(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CMEE: (0-2)"])
    if c.kind == "read":
        return Reply([f"+CMEE: {m.settings.cmee}"])
    n = c.int_arg(0, 0)
    if n not in (0, 1, 2):
        raise AtError()
    m.settings.cmee = n
    return Reply()


def cfun(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CFUN: (0,1,4),(0-1)"])
    if c.kind == "read":
        return Reply([f"+CFUN: {m.cfun}"])
    fun, rst = c.int_arg(0, 1), c.int_arg(1, 0)
    if fun not in (0, 1, 4) or rst not in (0, 1):
        raise cme(50)
    if rst == 1:
        m.reboot()
        return Reply()
    with m.lock:
        m.cfun = fun
    after = m.registration_urcs()
    if fun == 1:
        m.network.scheduler.soon(m.flush_pending)
    else:
        m.calls.network_lost()
    return Reply(after=after)


def cpin(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    if m.sim_state == "missing":
        raise cme(10)
    if c.kind == "read":
        return Reply(["+CPIN: READY" if m.sim_state == "ready" else "+CPIN: SIM PIN"])
    if c.kind != "set":
        raise AtError()
    if m.sim_state == "ready":
        raise cme(3)
    if c.arg(0) != m.pin:
        raise cme(16)
    with m.lock:
        m.sim_state = "ready"
    m.network.scheduler.soon(m.flush_pending)
    return Reply(after=["+CPIN: READY", *m.dialect.ready_urcs, *m.registration_urcs()])


def csq(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CSQ: (0-31,99),(0-7,99)"])
    rssi = m.rssi if m.reg_stat() in (1, 5) else 99
    return Reply([f"+CSQ: {rssi},99"])


def _registration(kind: str) -> Handler:
    def handler(m: "SimModem", c: Command) -> Reply:
        if c.kind == "test":
            return Reply([f"+{kind}: (0-2)"])
        if c.kind == "read":
            n = m.settings.reg_urc[kind]
            return Reply([f"+{kind}: {n},{m.registration_info(kind)}"])
        if c.kind == "set":
            n = c.int_arg(0, 0)
            if n not in (0, 1, 2):
                raise AtError()
            m.settings.reg_urc[kind] = n
            return Reply()
        raise AtError()
    return handler


def cgatt(m: "SimModem", c: Command) -> Reply:
    """Packet-domain attach: a registered module attaches by itself; AT+CGATT=0/1 detaches and attaches."""
    if c.kind == "test":
        return Reply(["+CGATT: (0,1)"])
    if c.kind == "read":
        return Reply([f"+CGATT: {int(m.settings.attached and m.reg_stat() in (1, 5))}"])
    if c.kind == "set":
        state = c.int_arg(0, -1)
        if state not in (0, 1):
            raise AtError()
        m.settings.attached = bool(state)
        return Reply()
    raise AtError()


def cops(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply([f'+COPS: (2,"{m.operator}","{m.operator[:8]}","00101",{m.dialect.access_tech}),,(0-4),(0-2)'])
    if c.kind == "read":
        if m.reg_stat() not in (1, 5):
            return Reply(["+COPS: 0"])
        fmt = m.settings.cops_format
        name = {0: m.operator, 1: m.operator[:8], 2: "00101"}[fmt]
        return Reply([f'+COPS: 0,{fmt},"{name}",{m.dialect.access_tech}'])
    mode = c.int_arg(0, 0)
    if mode not in (0, 1, 2, 3, 4):
        raise AtError()
    if c.arg(1) is not None:
        fmt = c.int_arg(1)
        if fmt not in (0, 1, 2):
            raise AtError()
        m.settings.cops_format = fmt
    return Reply()


def cnum(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    _needs_sim(m)
    return Reply([f'+CNUM: "","{m.number}",{145 if m.number.startswith("+") else 129}'])


def csca(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    if c.kind == "read":
        _needs_sim(m, sms=True)
        return Reply([f'+CSCA: "{m.network.smsc}",145'])
    return Reply()


def clac(m: "SimModem", c: Command) -> Reply:
    names = sorted(n for n in m.table if n.startswith("+"))
    return Reply([f"AT{n}" for n in names])


def gcap(m: "SimModem", c: Command) -> Reply:
    return Reply(["+GCAP: +CGSM,+DS,+ES"])


def cclk(m: "SimModem", c: Command) -> Reply:
    if c.kind == "read":
        return Reply([datetime.now(timezone.utc).strftime('+CCLK: "%y/%m/%d,%H:%M:%S+00"')])
    return Reply()


def cpas(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CPAS: (0-5)"])
    return Reply([f"+CPAS: {m.calls.activity()}"])


def cscs(m: "SimModem", c: Command) -> Reply:
    sets = ("IRA", "GSM", "UCS2", "8859-1", "HEX", "PCCP437")
    if c.kind == "test":
        return Reply(['+CSCS: ("IRA","GSM","UCS2","8859-1","HEX","PCCP437")'])
    if c.kind == "read":
        return Reply([f'+CSCS: "{m.settings.cscs}"'])
    value = (c.arg(0) or "").upper()
    if value not in sets:
        raise cme(4)
    m.settings.cscs = value
    return Reply()


def cusd(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CUSD: (0-2)"])
    if c.kind == "read":
        return Reply(["+CUSD: 1"])
    n = c.int_arg(0, 0)
    request = c.arg(1)
    if n not in (0, 1, 2):
        raise AtError()
    if request is None or n == 2:
        return Reply()
    _needs_sim(m)
    if m.reg_stat() not in (1, 5):
        raise cme(30)
    ucs2 = m.settings.cscs == "UCS2"
    if ucs2:
        try:
            request = bytes.fromhex(request).decode("utf-16-be")
        except ValueError as exc:
            raise cme(50) from exc
    answer, more = m.network.ussd(m.number, request)
    text = answer.encode("utf-16-be").hex().upper() if ucs2 else answer
    dcs = 72 if ucs2 else 15
    line = f'+CUSD: {1 if more else 0},"{text}",{dcs}'
    if m.dialect.cusd_before_ok:
        return Reply(before=[line])
    return Reply(after=[line])


def csms(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CSMS: (0-1)"])
    if c.kind == "read":
        return Reply([f"+CSMS: {m.settings.csms},1,1,1"])
    n = c.int_arg(0, 0)
    if n not in (0, 1):
        raise cms(302)
    m.settings.csms = n
    return Reply(["+CSMS: 1,1,1"])


HANDLERS: dict[str, Handler] = {
    "E": echo, "V": verbose, "Q": ok, "Z": reset, "&F": reset, "&W": ok, "&C": ok, "&D": ok, "&K": ok,
    "&V": ok, "X": ok, "L": ok, "M": ok, "I": info, "+GCAP": gcap,
    "+CGMI": _identity("manufacturer"), "+GMI": _identity("manufacturer"),
    "+CGMM": _identity("model"), "+GMM": _identity("model"),
    "+CGMR": revision, "+GMR": revision,
    "+CGSN": _identity("imei"), "+GSN": _identity("imei"),
    "+CIMI": imsi, "+CCID": _iccid(""), "+CICCID": _iccid("+ICCID: "), "+QCCID": _iccid("+QCCID: "),
    "+CMEE": cmee, "+CFUN": cfun, "+CPIN": cpin, "+CSQ": csq, "+COPS": cops, "+CNUM": cnum, "+CSCA": csca,
    "+CREG": _registration("CREG"), "+CGREG": _registration("CGREG"), "+CEREG": _registration("CEREG"),
    "+CGATT": cgatt,
    "+CLAC": clac, "+CCLK": cclk, "+CPAS": cpas, "+CSCS": cscs, "+CUSD": cusd, "+CSMS": csms,
    "+IPR": ok, "+IFC": ok, "+ICF": ok, "+CRC": ok, "+CR": ok, "+CBST": ok, "+CMOD": ok, "+CSCB": ok,
    "+CVHU": ok, "+CLIR": ok, "+CCWA": ok, "+CTZR": ok, "+CGEREP": ok, "+CMUT": ok, "+CSSN": ok,
}
HANDLERS.update({f"S{i}": s_register for i in range(0, 13)})
