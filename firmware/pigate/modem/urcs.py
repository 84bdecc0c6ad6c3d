"""Which incoming lines answer the command in flight and which are URCs, and what each URC means (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import events as ev
from . import parsers as p

# URCs whose header line is followed by a data line (the PDU in PDU mode, the text in text mode).
TWO_LINE_URCS = ("+CMT:", "+CDS:")

# Unsolicited lines without a `+` (boot markers, call progress): never part of an answer.
BARE_URCS = frozenset({
    "RING", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "RDY", "Call Ready", "SMS Ready", "PB DONE",
    "NORMAL POWER DOWN", "POWERED DOWN", "START",
})
BARE_URC_STARTS = ("VOICE CALL:", "MISSED_CALL:", "UNDER-VOLTAGE", "OVER-VOLTAGE", "*PSUTTZ", "DST:")

# Responses made of one header line plus one data line (the stored PDU).
DATA_HEADERS = ("+CMGR:", "+CMGL:")

BOOT_MARKERS = ("RDY", "START")


@dataclass(frozen=True)
class Expect:
    """What the command in flight may answer: lines with one of `prefixes`, and bare lines if `bare`."""

    command: str
    prefixes: tuple[str, ...] = ()
    bare: bool = False
    call_results: bool = False  # NO CARRIER/BUSY/NO ANSWER end this command (ATD, ATA) instead of being URCs
    echo: tuple[str, ...] = field(default=())


def command_prefix(command: str) -> str:
    """The answer prefix of a command: `AT+CSQ` -> `+CSQ:`; `AT^SYSINFO` -> `^SYSINFO:`; '' for basic commands."""
    body = command[2:] if command[:2].upper() == "AT" else command
    if not body or body[0] not in "+^$#*":
        return ""
    end = len(body)
    for i, ch in enumerate(body[1:], start=1):
        if not (ch.isalnum() or ch == "_"):
            end = i
            break
    return body[:end].upper() + ":"


def is_bare_urc(line: str) -> bool:
    return line in BARE_URCS or line.startswith(BARE_URC_STARTS)


def classify(line: str, expect: Expect | None, *, data_line_due: bool) -> str:
    """'final', 'answer', 'urc' or 'echo' for one received line, given the command in flight (or None).

    `data_line_due` is True right after an answer header such as `+CMGR:` whose PDU follows on the next line.
    """
    if expect is None:
        return "urc"
    if p.parse_final(line, call_results=expect.call_results) is not None:
        return "final"
    if data_line_due:
        return "answer"
    if line in expect.echo or line == expect.command:
        return "echo"
    if any(line.startswith(px) for px in expect.prefixes):
        return "answer"
    if line.startswith(("+", "^")) or is_bare_urc(line):
        return "urc"
    return "answer" if expect.bare else "urc"


def interpret(line: str, body: str | None = None, *, charset: str = "GSM", name: str = "") -> ev.ModemEvent:
    """What one URC (its line, and for +CMT/+CDS its data line) means, as the typed event of line `name`.
    Unknown lines become UnsolicitedLine."""
    try:
        return _interpret(line, body, charset, name)
    except p.AtParseError:
        # A garbled URC is still worth seeing (the status page, `pigate at`), just not as a typed event.
        return ev.UnsolicitedLine(name, line if body is None else f"{line}\n{body}")


def _interpret(line: str, body: str | None, charset: str, name: str) -> ev.ModemEvent:
    if line.startswith("+CMTI:"):
        storage, index = p.parse_storage_index(line, "+CMTI:")
        return ev.SmsStored(name, storage, index)
    if line.startswith("+CDSI:"):
        storage, index = p.parse_storage_index(line, "+CDSI:")
        return ev.StatusReportStored(name, storage, index)
    if line.startswith("+CMT:") and body is not None and p.is_hex(body):
        p.parse_cmt_header(line)
        return ev.SmsDelivered(name, body.upper())
    if line.startswith("+CDS:") and body is not None and p.is_hex(body):
        p.parse_cds_header(line)
        return ev.StatusReport(name, body.upper())
    if line.startswith("+CMGS:"):
        # Only seen outside a command when an AT+CMGS timed out and its answer came late: worth recording.
        return ev.LateSubmit(name, p.parse_cmgs(line))
    if line.startswith(("+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:")):
        reg = p.parse_registration(line)
        return ev.Registration(name, reg.kind, reg.stat, reg.registered, reg.lac, reg.ci, reg.act)
    if line.startswith("+CSQ:"):
        sig = p.parse_csq(line)
        return ev.SignalChanged(name, sig.rssi, sig.percent)
    if line.startswith("+CUSD:"):
        u = p.parse_cusd(line, charset=charset)
        return ev.UssdAnswer(name, u.text, u.status, u.dcs)
    if line.startswith("+CLIP:"):
        number, ntype = p.parse_clip(line)
        return ev.CallRing(name, number, ntype)
    if line.startswith("+CLCC:"):
        return ev.CallStateReport(name, p.parse_clcc(line))
    digit = p.parse_dtmf(line)
    if digit is not None:
        return ev.CallDtmf(name, digit)
    if line in ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"):
        return ev.CallEnded(name, line)
    if line.startswith("+CPIN:"):
        return ev.SimStatus(name, p.parse_cpin(line))
    if line.startswith("+SIMCARD:") and "NOT" in line:
        return ev.SimStatus(name, "NOT INSERTED")
    return ev.UnsolicitedLine(name, line if body is None else f"{line}\n{body}")
