"""AT handlers of the simulator for SMS (27.005): formats, storages, routing, send, read, list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .atparse import Command
from .interp import AtError, Handler, Reply, cms
from .pdu import SINGLE_LIMIT, Part, PduError, Submit, decode_submit, gsm7_septets, parse_udh
from .storage import STATUS_BY_NUM, STATUS_NUM, pdu_lines, text_lines

if TYPE_CHECKING:
    from .modem import SimModem


def _sms_ready(m: "SimModem") -> None:
    if m.sim_state == "missing":
        raise cms(310)
    if m.sim_state == "pin":
        raise cms(311)


def cmgf(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CMGF: (0-1)"])
    if c.kind == "read":
        return Reply([f"+CMGF: {m.settings.cmgf}"])
    n = c.int_arg(0, 0)
    if n not in (0, 1):
        raise cms(302)
    m.settings.cmgf = n
    return Reply()


def csmp(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    if c.kind == "read":
        return Reply(["+CSMP: " + ",".join(map(str, m.settings.csmp))])
    values = list(m.settings.csmp)
    for i in range(4):
        if c.arg(i) is not None:
            values[i] = c.int_arg(i)
    m.settings.csmp = values
    return Reply()


def csdh(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CSDH: (0,1)"])
    if c.kind == "read":
        return Reply([f"+CSDH: {m.settings.csdh}"])
    m.settings.csdh = c.int_arg(0, 0)
    return Reply()


def cpms(m: "SimModem", c: Command) -> Reply:
    names = list(m.storages)
    rw = [n for n in names if n != "SR"]
    if c.kind == "test":
        q = lambda ns: "(" + ",".join(f'"{n}"' for n in ns) + ")"  # noqa: E731
        return Reply([f"+CPMS: {q(names)},{q(rw)},{q(rw)}"])
    _sms_ready(m)
    if c.kind == "read":
        parts = [f'"{mem}",{m.storages[mem].used},{m.storages[mem].capacity}' for mem in m.settings.cpms]
        return Reply(["+CPMS: " + ",".join(parts)])
    chosen = list(m.settings.cpms)
    for i in range(3):
        mem = c.arg(i)
        if mem is None:
            continue
        mem = mem.upper()
        if mem not in (names if i == 0 else rw):
            raise cms(302)
        chosen[i] = mem
    m.settings.cpms = chosen
    counts = [f"{m.storages[mem].used},{m.storages[mem].capacity}" for mem in chosen]
    return Reply(["+CPMS: " + ",".join(counts)])


_CNMI_RANGES = ((0, 1, 2, 3), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1))


def cnmi(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply(["+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"])
    if c.kind == "read":
        return Reply(["+CNMI: " + ",".join(map(str, m.settings.cnmi))])
    values = list(m.settings.cnmi)
    for i in range(5):
        if c.arg(i) is not None:
            v = c.int_arg(i)
            if v not in _CNMI_RANGES[i]:
                raise cms(303)
            values[i] = v
    m.settings.cnmi = values
    m.network.scheduler.soon(m.flush_pending)
    return Reply()


def cmgs(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    if c.kind != "set":
        raise AtError()
    _sms_ready(m)
    if m.settings.cmgf == 0:
        length = c.int_arg(0)
        if length is None or not 7 <= length <= 164:
            raise cms(304)
        return Reply(prompt=lambda text: _send_pdu(m, text, length))
    recipient = c.arg(0)
    if not recipient:
        raise cms(305)
    if m.settings.cscs == "UCS2":
        recipient = _from_ucs2_hex(recipient)
    return Reply(prompt=lambda text: _send_text(m, recipient, text))


def _send_pdu(m: "SimModem", text: str, length: int) -> Reply:
    m.faults.check("+CMGS")
    try:
        submit = decode_submit(text, tpdu_length=length)
    except PduError as exc:
        raise cms(304) from exc
    return _submit(m, submit)


def _send_text(m: "SimModem", recipient: str, text: str) -> Reply:
    m.faults.check("+CMGS")
    fo, _vp, _pid, dcs = m.settings.csmp
    if m.settings.cscs == "UCS2":
        text = _from_ucs2_hex(text.strip())
    ucs2 = (dcs & 0x0C) == 0x08
    if not ucs2 and gsm7_septets(text) is None:
        text = "".join(ch if gsm7_septets(ch) is not None else "?" for ch in text)
    alphabet = "ucs2" if ucs2 else "gsm7"
    units = len(text.encode("utf-16-be")) // 2 if ucs2 else len(gsm7_septets(text) or [])
    if units > SINGLE_LIMIT[alphabet]:
        raise cms(305)
    submit = Submit(0, recipient, bool(fo & 0x20), 0x08 if ucs2 else 0x00, alphabet, None, b"", text)
    return _submit(m, submit)


def _submit(m: "SimModem", submit: Submit) -> Reply:
    _sms_ready(m)
    if m.reg_stat() not in (1, 5):
        raise cms(331)
    delay = m.network.latency.sms_submit
    if delay:
        m.stopping.wait(delay)
    mr = m.take_mr()
    part = Part(submit.text, submit.alphabet, parse_udh(submit.udh))
    m.network.submit(modem=m, recipient=submit.recipient, part=part, reference=mr, udh=submit.udh,
                     status_report=submit.status_report)
    return Reply([f"+CMGS: {mr}"])


def _from_ucs2_hex(text: str) -> str:
    try:
        return bytes.fromhex(text).decode("utf-16-be")
    except ValueError as exc:
        raise cms(305) from exc


def _read_storage(m: "SimModem"):
    return m.storages[m.settings.cpms[0]]


def cmgr(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        return Reply()
    if c.kind != "set":
        raise AtError()
    _sms_ready(m)
    index = c.int_arg(0)
    mem = _read_storage(m)
    if index is None or not 0 <= index <= mem.capacity:
        raise cms(321)
    with m.lock:
        stored = mem.slots.get(index)
        if stored is None:
            return Reply()
        lines = _render("+CMGR", stored, m, with_index=False)
        if stored.status == "REC UNREAD" and c.int_arg(1, 0) == 0:
            stored.status = "REC READ"
    return Reply(lines)


def _render(prefix: str, stored, m: "SimModem", *, with_index: bool) -> list[str]:
    if m.settings.cmgf == 1:
        return text_lines(prefix, stored, with_index=with_index, csdh=bool(m.settings.csdh),
                          charset=m.settings.cscs)
    return pdu_lines(prefix, stored, with_index=with_index)


def cmgl(m: "SimModem", c: Command) -> Reply:
    if c.kind == "test":
        if m.settings.cmgf == 1:
            return Reply(['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")'])
        return Reply(["+CMGL: (0-4)"])
    _sms_ready(m)
    raw = c.arg(0)
    if raw is None:
        status = "REC UNREAD"
    elif raw.isdigit():
        status = STATUS_BY_NUM.get(int(raw), "ALL" if raw == "4" else "")
    else:
        status = raw.upper()
    if status not in STATUS_NUM and status != "ALL":
        raise cms(302)
    keep_status = c.int_arg(1, 0) == 1
    lines: list[str] = []
    with m.lock:
        for stored in _read_storage(m).listing(status):
            lines += _render("+CMGL", stored, m, with_index=True)
            if stored.status == "REC UNREAD" and not keep_status:
                stored.status = "REC READ"
    return Reply(lines)


def cmgd(m: "SimModem", c: Command) -> Reply:
    mem = _read_storage(m)
    if c.kind == "test":
        return Reply([f"+CMGD: (1-{mem.capacity}),(0-4)"])
    if c.kind != "set":
        raise AtError()
    _sms_ready(m)
    index, flag = c.int_arg(0), c.int_arg(1, 0)
    if flag not in (0, 1, 2, 3, 4):
        raise cms(302)
    with m.lock:
        if flag:
            mem.delete_by_flag(flag)
        else:
            if index is None or not 0 <= index <= mem.capacity:
                raise cms(321)
            mem.delete(index)
    m.network.scheduler.soon(m.flush_pending)
    return Reply()


def cnma(m: "SimModem", c: Command) -> Reply:
    return Reply()


HANDLERS: dict[str, Handler] = {
    "+CMGF": cmgf, "+CSMP": csmp, "+CSDH": csdh, "+CPMS": cpms, "+CNMI": cnmi, "+CMGS": cmgs,
    "+CMGR": cmgr, "+CMGL": cmgl, "+CMGD": cmgd, "+CNMA": cnma,
}
