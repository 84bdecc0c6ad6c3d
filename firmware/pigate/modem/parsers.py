"""Pure parsers for AT responses and URCs (27.005/27.007 and vendor forms): strings in, typed values out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ModemError


class AtParseError(ModemError):
    """A line did not have the shape its command or URC promises."""


@dataclass(frozen=True)
class Field:
    """One comma-separated field of an AT line; `quoted` tells `"1"` from `1` (the forms of +CREG differ by it)."""

    value: str
    quoted: bool = False

    def int(self) -> int | None:
        v = self.value.strip()
        if not v or self.quoted and not v.isdigit():
            return None
        try:
            return int(v)
        except ValueError:
            return None


def split_fields(text: str) -> list[Field]:
    """Split `a,"b,c",,d` into fields; quotes protect commas; an empty field stays as ''."""
    fields: list[Field] = []
    buf: list[str] = []
    quoted = in_quotes = False
    for ch in text:
        if in_quotes:
            if ch == '"':
                in_quotes = False
            else:
                buf.append(ch)
        elif ch == '"':
            if not quoted and not "".join(buf).strip():
                buf = []  # blanks before an opening quote are layout, not content
            in_quotes = quoted = True
        elif quoted and ch.isspace():
            continue
        elif ch == ",":
            fields.append(Field("".join(buf).strip() if not quoted else "".join(buf), quoted))
            buf, quoted = [], False
        else:
            buf.append(ch)
    fields.append(Field("".join(buf).strip() if not quoted else "".join(buf), quoted))
    return fields


def body_of(line: str, prefix: str) -> str:
    """What follows `+XXX:` in a line (leading blanks dropped); AtParseError if the prefix is not there."""
    if not line.startswith(prefix):
        raise AtParseError(f"expected {prefix!r} in {line!r}")
    return line[len(prefix):].strip()


def _int(f: Field, what: str, line: str) -> int:
    v = f.int()
    if v is None:
        raise AtParseError(f"{what} is not a number in {line!r}")
    return v


# ---- final result codes -------------------------------------------------------------------------

@dataclass(frozen=True)
class Final:
    """The result code that ends a command: OK, or an error of `kind` ERROR/CME/CMS (or a call result)."""

    ok: bool
    kind: str = "OK"
    code: int | None = None
    text: str = ""


_CALL_RESULTS = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")


def parse_final(line: str, *, call_results: bool = False) -> Final | None:
    """The final result in `line`, or None if it is not one. Call results only end a dial/answer command."""
    if line == "OK":
        return Final(True)
    if line == "ERROR":
        return Final(False, "ERROR")
    for kind in ("CME", "CMS"):
        prefix = f"+{kind} ERROR:"
        if line.startswith(prefix):
            rest = line[len(prefix):].strip()
            # CMEE=2 gives words instead of numbers; keep both so callers can still branch on the code.
            return Final(False, kind, int(rest) if rest.isdigit() else None, "" if rest.isdigit() else rest)
    if call_results and line in _CALL_RESULTS:
        return Final(False, line)
    return None


# ---- SMS ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredSms:
    """A message held in the modem's storage, as AT+CMGR/AT+CMGL return it in PDU mode."""

    index: int
    storage: str
    status: int
    pdu_hex: str


def parse_cmgs(line: str) -> int:
    """`+CMGS: 12` (optionally `,"<scts>"`) -> the TP message reference 12."""
    return _int(split_fields(body_of(line, "+CMGS:"))[0], "message reference", line)


def parse_storage_index(line: str, prefix: str) -> tuple[str, int]:
    """`+CMTI: "SM",3` / `+CDSI: "SR",4` -> ("SM", 3)."""
    f = split_fields(body_of(line, prefix))
    if len(f) < 2:
        raise AtParseError(f"storage and index expected in {line!r}")
    return f[0].value, _int(f[1], "index", line)


def parse_cmt_header(line: str) -> int:
    """`+CMT: ,23` or `+CMT: "alpha",23` (PDU mode) -> the TPDU length 23."""
    f = split_fields(body_of(line, "+CMT:"))
    return _int(f[-1], "length", line)


def parse_cds_header(line: str) -> int:
    """`+CDS: 25` (PDU mode) -> the TPDU length 25."""
    return _int(split_fields(body_of(line, "+CDS:"))[-1], "length", line)


def is_hex(text: str) -> bool:
    return bool(text) and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)


def parse_cmgr(lines: list[str], *, storage: str, index: int) -> StoredSms | None:
    """AT+CMGR answer lines (`+CMGR: <stat>,[<alpha>],<length>` then the PDU) -> StoredSms; None for an empty slot."""
    head = [i for i, ln in enumerate(lines) if ln.startswith("+CMGR:")]
    if not head:
        return None
    i = head[0]
    f = split_fields(body_of(lines[i], "+CMGR:"))
    status = _int(f[0], "status", lines[i])
    if i + 1 >= len(lines) or not is_hex(lines[i + 1]):
        # Some modems answer an empty slot with `+CMGR: 0,,0` and no PDU line.
        return None
    return StoredSms(index, storage, status, lines[i + 1].upper())


def parse_cmgl(lines: list[str], *, storage: str) -> list[StoredSms]:
    """AT+CMGL answer lines (`+CMGL: <index>,<stat>,[<alpha>],<length>` + PDU, repeated) -> StoredSms list."""
    out: list[StoredSms] = []
    for i, ln in enumerate(lines):
        if not ln.startswith("+CMGL:"):
            continue
        f = split_fields(body_of(ln, "+CMGL:"))
        if i + 1 < len(lines) and is_hex(lines[i + 1]):
            out.append(StoredSms(_int(f[0], "index", ln), storage, _int(f[1], "status", ln), lines[i + 1].upper()))
    return out


@dataclass(frozen=True)
class StorageInfo:
    """One memory of AT+CPMS?: name, used, total."""

    name: str
    used: int
    total: int


def parse_cpms_query(line: str) -> list[StorageInfo]:
    """`+CPMS: "SM",3,30,"SM",3,30,"SM",3,30` -> three StorageInfo (read/delete, write/send, receive)."""
    f = split_fields(body_of(line, "+CPMS:"))
    out = []
    for i in range(0, len(f) - 2, 3):
        out.append(StorageInfo(f[i].value, _int(f[i + 1], "used", line), _int(f[i + 2], "total", line)))
    return out


# ---- network ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signal:
    """AT+CSQ: rssi 0-31 (99 unknown), ber; percent and dBm derived from rssi."""

    rssi: int
    ber: int

    @property
    def known(self) -> bool:
        return 0 <= self.rssi <= 31

    @property
    def percent(self) -> int | None:
        return round(self.rssi * 100 / 31) if self.known else None

    @property
    def dbm(self) -> int | None:
        return -113 + 2 * self.rssi if self.known else None


def parse_csq(line: str) -> Signal:
    """`+CSQ: 18,99` -> Signal(18, 99)."""
    f = split_fields(body_of(line, "+CSQ:"))
    return Signal(_int(f[0], "rssi", line), f[1].int() if len(f) > 1 and f[1].int() is not None else 99)


REGISTERED_STATS = (1, 5)  # home and roaming both count: a roaming SIM sends SMS as well as a home one


@dataclass(frozen=True)
class Registration:
    """+CREG/+CGREG/+CEREG in either form: `kind` is CREG/CGREG/CEREG; lac/ci hex strings when reported."""

    kind: str
    stat: int
    lac: str = ""
    ci: str = ""
    act: int | None = None
    n: int | None = None

    @property
    def registered(self) -> bool:
        return self.stat in REGISTERED_STATS


_REG_RE = re.compile(r"^\+(CREG|CGREG|CEREG|C5GREG):")


def parse_registration(line: str) -> Registration:
    """Solicited `+CREG: <n>,<stat>[,<lac>,<ci>[,<act>]]` or unsolicited `+CREG: <stat>[,<lac>,<ci>[,<act>]]`.

    The two forms are told apart by shape: the unsolicited one has one field, or a quoted second field.
    """
    m = _REG_RE.match(line)
    if not m:
        raise AtParseError(f"not a registration line: {line!r}")
    kind = m.group(1)
    f = split_fields(line[m.end():].strip())
    solicited = len(f) >= 2 and not f[1].quoted and f[1].value != ""
    if solicited:
        n, rest = _int(f[0], "n", line), f[1:]
    else:
        n, rest = None, f
    stat = _int(rest[0], "stat", line)
    lac = rest[1].value if len(rest) > 1 else ""
    ci = rest[2].value if len(rest) > 2 else ""
    act = rest[3].int() if len(rest) > 3 else None
    return Registration(kind, stat, lac, ci, act, n)


@dataclass(frozen=True)
class Operator:
    """AT+COPS?: mode, and the operator's name (in `fmt` 0 long, 1 short, 2 numeric) and access technology."""

    mode: int
    name: str = ""
    fmt: int | None = None
    act: int | None = None


def parse_cops(line: str) -> Operator:
    """`+COPS: 0,0,"T-Mobile",7` -> Operator(0, "T-Mobile", 0, 7); `+COPS: 0` when not registered."""
    f = split_fields(body_of(line, "+COPS:"))
    mode = _int(f[0], "mode", line)
    if len(f) < 3:
        return Operator(mode)
    return Operator(mode, f[2].value, f[1].int(), f[3].int() if len(f) > 3 else None)


def parse_cpin(line: str) -> str:
    """`+CPIN: READY` / `+CPIN: SIM PIN` / `+CPIN: NOT INSERTED` -> the code after the colon."""
    return body_of(line, "+CPIN:").strip().strip('"')


def parse_cnum(lines: list[str]) -> str | None:
    """`+CNUM: "Own","+15550000001",145` -> "+15550000001" (first line with a number), or None."""
    for ln in lines:
        if ln.startswith("+CNUM:"):
            f = split_fields(body_of(ln, "+CNUM:"))
            if len(f) > 1 and f[1].value:
                return f[1].value
    return None


# ---- identity (ATI and AT+CGMx answer with bare lines; some modems add a +CGMx: prefix) ---------

def bare_value(lines: list[str], prefix: str = "") -> str:
    """The first non-empty answer line, without an optional `+XXX:` prefix and quotes."""
    for ln in lines:
        if prefix and ln.startswith(prefix):
            ln = ln[len(prefix):]
        ln = ln.strip().strip('"')
        if ln:
            return ln
    return ""


# ---- USSD ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ussd:
    """+CUSD: status (0 done, 1 more input wanted, 2 ended by network, 3 other client, 4 unsupported, 5 timeout)."""

    status: int
    text: str = ""
    dcs: int | None = None


def _dcs_alphabet(dcs: int) -> str:
    """The alphabet a CBS data coding scheme (3GPP TS 23.038 section 5) names: 'gsm7', '8bit' or 'ucs2'."""
    group = dcs >> 4
    if dcs == 0x11:
        return "ucs2"
    if group in (0x4, 0x5, 0x6, 0x7, 0x9):
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 3, "gsm7")
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def decode_ussd_text(text: str, dcs: int | None, *, charset: str = "GSM") -> str:
    """The readable text of a +CUSD string: hex UCS-2 is decoded when the DCS or the TE charset says so."""
    if charset.upper() == "UCS2" or (dcs is not None and _dcs_alphabet(dcs) == "ucs2"):
        if is_hex(text) and len(text) % 4 == 0:
            try:
                decoded = bytes.fromhex(text).decode("utf-16-be")
            except UnicodeDecodeError as exc:
                raise AtParseError(f"USSD text is not valid UCS-2: {text!r}") from exc
            # DCS 0x11 puts a two-character language tag before the text.
            return decoded[2:].lstrip("\r\n") if dcs == 0x11 else decoded
    return text


def parse_cusd(text: str, *, charset: str = "GSM") -> Ussd:
    """`+CUSD: 0,"Balance: 5.00",15` (the text may span lines and contain quotes) -> decoded Ussd."""
    body = body_of(text, "+CUSD:")
    head, _, rest = body.partition(",")
    status = int(head.strip()) if head.strip().isdigit() else None
    if status is None:
        raise AtParseError(f"USSD status is not a number in {text!r}")
    if not rest:
        return Ussd(status)
    first, last = rest.find('"'), rest.rfind('"')
    if first < 0 or last <= first:
        return Ussd(status, rest.strip())
    raw = rest[first + 1:last]
    tail = rest[last + 1:].lstrip(" ,")
    dcs = int(tail) if tail.isdigit() else None
    return Ussd(status, decode_ussd_text(raw, dcs, charset=charset), dcs)


def ussd_is_open(text: str) -> bool:
    """True while a +CUSD line's quoted text has not closed yet (the network's text held a newline)."""
    return text.startswith("+CUSD:") and text.count('"') % 2 == 1


# ---- calls --------------------------------------------------------------------------------------

CALL_STATES = {0: "active", 1: "held", 2: "dialing", 3: "alerting", 4: "incoming", 5: "waiting", 6: "disconnected"}


@dataclass(frozen=True)
class CallInfo:
    """One +CLCC line: index, direction ('out'/'in'), state (CALL_STATES name), mode (0 voice), multiparty, number."""

    index: int
    direction: str
    state: str
    mode: int
    multiparty: bool
    number: str = ""
    number_type: int | None = None


def parse_clcc(line: str) -> CallInfo:
    """`+CLCC: 1,1,4,0,0,"+15551230001",145` -> CallInfo(1, 'in', 'incoming', 0, False, '+15551230001', 145)."""
    f = split_fields(body_of(line, "+CLCC:"))
    if len(f) < 5:
        raise AtParseError(f"five fields expected in {line!r}")
    stat = _int(f[2], "state", line)
    return CallInfo(
        index=_int(f[0], "index", line),
        direction="in" if _int(f[1], "direction", line) == 1 else "out",
        state=CALL_STATES.get(stat, str(stat)),
        mode=_int(f[3], "mode", line),
        multiparty=_int(f[4], "mpty", line) == 1,
        number=f[5].value if len(f) > 5 else "",
        number_type=f[6].int() if len(f) > 6 else None,
    )


def parse_clip(line: str) -> tuple[str, int | None]:
    """`+CLIP: "+15551230001",145,"",0,"",0` -> ("+15551230001", 145); a withheld number gives ""."""
    f = split_fields(body_of(line, "+CLIP:"))
    return f[0].value, f[1].int() if len(f) > 1 else None


DTMF_KEYS = "0123456789*#ABCD"


def parse_dtmf(line: str) -> str | None:
    """The key of a DTMF URC of any vendor: `+DTMF: 5` (SIM800), `+RXDTMF: 5` (SIM7600), `+QTONEDET: 53` (EC25,
    an ASCII code). None when the line is not one."""
    for prefix in ("+DTMF:", "+RXDTMF:"):
        if line.startswith(prefix):
            key = body_of(line, prefix).split(",")[0].strip().strip('"').upper()
            return key if len(key) == 1 and key in DTMF_KEYS else None
    if line.startswith("+QTONEDET:"):
        code = body_of(line, "+QTONEDET:").split(",")[0].strip()
        if code.isdigit() and chr(int(code)).upper() in DTMF_KEYS:
            return chr(int(code)).upper()
    return None
