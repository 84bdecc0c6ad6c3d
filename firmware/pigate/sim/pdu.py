"""SMS PDU codec of the simulated network (3GPP TS 23.040): SUBMIT decoding, DELIVER/STATUS-REPORT encoding."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from pigate import smstext
from pigate.errors import ModemError

# The alphabet, septet packing and part limits are the ones the gateway's codec uses (pigate.smstext).
SINGLE_LIMIT = smstext.SINGLE_LIMIT  # septets / UTF-16 units in one message
gsm7_septets = smstext.septets
gsm7_text = smstext.text_of
alphabet_for = smstext.alphabet_for
pack_septets = smstext.pack
unpack_septets = smstext.unpack


class PduError(ModemError):
    """A PDU the simulated network cannot parse (the modem answers +CMS ERROR: 304)."""


@dataclass(frozen=True)
class Concat:
    """The concatenation header of one part: reference, total parts, this part's number (1-based)."""

    reference: int
    total: int
    seq: int


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT."""

    reference: int
    recipient: str
    status_report: bool
    dcs: int
    alphabet: str
    concat: Concat | None
    udh: bytes
    text: str


@dataclass(frozen=True)
class Part:
    """One message part as the network carries it: text, alphabet and (for multipart) its concat header."""

    text: str
    alphabet: str
    concat: Concat | None = None


# -- alphabets ----------------------------------------------------------------------------------
def ucs2_bytes(text: str) -> bytes:
    # UTF-16 with surrogate pairs is what phones send for emoji under the "UCS-2" data coding.
    return text.encode("utf-16-be")


def ucs2_text(data: bytes) -> str:
    return data.decode("utf-16-be", errors="replace")


def split_text(text: str, *, reference: int = 0, concatenate: bool = True) -> list[Part]:
    """The parts a phone would send `text` as: GSM-7 when possible, else UCS-2; 8-bit-reference concatenation."""
    alphabet, chunks = smstext.split(text)
    if len(chunks) == 1:
        return [Part(text, alphabet)]
    if not concatenate:
        raise PduError(f"text of {len(text)} characters needs concatenation")
    total = len(chunks)
    return [Part(c, alphabet, Concat(reference & 0xFF, total, i + 1)) for i, c in enumerate(chunks)]


# -- addresses and timestamps ---------------------------------------------------------------------
def _semi_octets(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def _digits(data: bytes, count: int) -> str:
    out = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in data)
    return out[:count].replace("A", "*").replace("B", "#")


def encode_address(number: str) -> bytes:
    """TP address field: digit count, type (0x91 international / 0x81 unknown), BCD digits."""
    intl = number.startswith("+")
    digits = number.lstrip("+")
    if not digits.isdigit():
        septets = gsm7_septets(number) or []
        packed = pack_septets(septets)
        return bytes([len(packed) * 2, 0xD0]) + packed
    return bytes([len(digits), 0x91 if intl else 0x81]) + _semi_octets(digits)


def encode_smsc(number: str) -> bytes:
    if not number:
        return b"\x00"
    digits = number.lstrip("+")
    body = bytes([0x91 if number.startswith("+") else 0x81]) + _semi_octets(digits)
    return bytes([len(body)]) + body


def decode_address(data: bytes, pos: int) -> tuple[str, int]:
    """(number, next position) of the TP address field at `pos`."""
    count, toa = data[pos], data[pos + 1]
    octets = math.ceil(count / 2)
    body = data[pos + 2:pos + 2 + octets]
    if len(body) < octets:
        raise PduError("address field truncated")
    if toa & 0x70 == 0x50:  # alphanumeric
        number = gsm7_text(unpack_septets(body, count * 4 // 7))
    else:
        number = ("+" if toa & 0x70 == 0x10 else "") + _digits(body, count)
    return number, pos + 2 + octets


def encode_timestamp(when: datetime) -> bytes:
    when = when.astimezone(timezone.utc)
    text = when.strftime("%y%m%d%H%M%S") + "00"
    return _semi_octets(text)


def text_timestamp(when: datetime) -> str:
    """The +CMGR/+CMT text-mode form: yy/MM/dd,hh:mm:ss+zz (quarter hours)."""
    return when.astimezone(timezone.utc).strftime("%y/%m/%d,%H:%M:%S") + "+00"


# -- SUBMIT ---------------------------------------------------------------------------------------
_VP_OCTETS = {0: 0, 1: 7, 2: 1, 3: 7}


def decode_submit(hex_pdu: str, *, tpdu_length: int | None = None) -> Submit:
    """Decode an SMS-SUBMIT as a TE writes it after AT+CMGS=<length> (SMSC field first)."""
    try:
        data = bytes.fromhex(hex_pdu.strip())
    except ValueError as exc:
        raise PduError(f"PDU is not hex: {hex_pdu[:40]!r}") from exc
    try:
        return _decode_submit(data, tpdu_length)
    except IndexError as exc:
        raise PduError("PDU truncated") from exc


def _decode_submit(data: bytes, tpdu_length: int | None) -> Submit:
    sca_len = data[0]
    pos = 1 + sca_len
    if tpdu_length is not None and len(data) - pos != tpdu_length:
        raise PduError(f"length {tpdu_length} given, TPDU has {len(data) - pos} octets")
    fo = data[pos]
    if fo & 0x03 != 0x01:
        raise PduError(f"not an SMS-SUBMIT (first octet {fo:#04x})")
    mr = data[pos + 1]
    recipient, pos = decode_address(data, pos + 2)
    dcs = data[pos + 1]
    pos += 2 + _VP_OCTETS[(fo >> 3) & 0x03]
    udl = data[pos]
    ud = data[pos + 1:]
    alphabet = _alphabet_of(dcs)
    udh = b""
    if fo & 0x40:
        udh = ud[:1 + ud[0]]
    concat = parse_udh(udh)
    if alphabet == "gsm7":
        skip = math.ceil(len(udh) * 8 / 7)
        need = math.ceil(udl * 7 / 8)
        if len(ud) < need:
            raise PduError("user data shorter than its length")
        text = gsm7_text(unpack_septets(ud[:need], udl, skip))
    else:
        body = ud[len(udh):udl]
        text = ucs2_text(body) if alphabet == "ucs2" else body.decode("latin-1")
    return Submit(mr, recipient, bool(fo & 0x20), dcs, alphabet, concat, udh, text)


def _alphabet_of(dcs: int) -> str:
    if dcs & 0xC0 == 0x00 or dcs & 0xF0 == 0xF0:
        bits = (dcs >> 2) & 0x03 if dcs & 0xF0 != 0xF0 else (1 if dcs & 0x04 else 0)
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get(bits, "gsm7")
    if dcs & 0xF0 in (0xC0, 0xD0):
        return "gsm7"
    if dcs & 0xF0 == 0xE0:
        return "ucs2"
    return "8bit"


def parse_udh(udh: bytes) -> Concat | None:
    """The concatenation information element of a UDH (8- or 16-bit reference), if any."""
    i = 1
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        body = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3:
            return Concat(body[0], body[1], body[2])
        if iei == 0x08 and length == 4:
            return Concat((body[0] << 8) | body[1], body[2], body[3])
        i += 2 + length
    return None


def concat_udh(concat: Concat) -> bytes:
    if concat.reference > 0xFF:
        return bytes([6, 0x08, 4, concat.reference >> 8, concat.reference & 0xFF, concat.total, concat.seq])
    return bytes([5, 0x00, 3, concat.reference, concat.total, concat.seq])


def encode_submit(recipient: str, part: Part, *, reference: int = 0, status_report: bool = False) -> str:
    """An SMS-SUBMIT (with empty SMSC field) as a TE would write it; the inverse of decode_submit."""
    fo = 0x01 | (0x20 if status_report else 0) | (0x40 if part.concat else 0)
    udl, ud = _user_data(part)
    tpdu = bytes([fo, reference & 0xFF]) + encode_address(recipient) + bytes([0, _dcs(part)]) + bytes([udl]) + ud
    return (b"\x00" + tpdu).hex().upper()


# -- DELIVER and STATUS-REPORT ---------------------------------------------------------------------
def _dcs(part: Part) -> int:
    return 0x08 if part.alphabet == "ucs2" else 0x00


def _user_data(part: Part) -> tuple[int, bytes]:
    udh = concat_udh(part.concat) if part.concat else b""
    if part.alphabet == "gsm7":
        septets = gsm7_septets(part.text) or []
        skip = math.ceil(len(udh) * 8 / 7)
        fill = skip * 7 - len(udh) * 8
        packed = pack_septets(septets, fill)
        return skip + len(septets), udh + packed
    body = ucs2_bytes(part.text)
    return len(udh) + len(body), udh + body


@dataclass(frozen=True)
class Deliver:
    """An SMS-DELIVER the network hands to a modem."""

    sender: str
    part: Part
    time: datetime
    smsc: str = ""

    @property
    def dcs(self) -> int:
        return _dcs(self.part)

    @property
    def first_octet(self) -> int:
        return 0x04 | (0x40 if self.part.concat else 0)

    def tpdu(self) -> bytes:
        udl, ud = _user_data(self.part)
        return (bytes([self.first_octet]) + encode_address(self.sender) + bytes([0x00, self.dcs])
                + encode_timestamp(self.time) + bytes([udl]) + ud)

    def pdu(self) -> tuple[str, int]:
        """(hex PDU with SMSC field, TPDU length) as +CMT/+CMGR show it."""
        tpdu = self.tpdu()
        return (encode_smsc(self.smsc) + tpdu).hex().upper(), len(tpdu)


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT for the submission with reference `reference`; status 0 = delivered."""

    reference: int
    recipient: str
    status: int
    submitted: datetime
    discharged: datetime
    smsc: str = ""

    first_octet = 0x06

    def tpdu(self) -> bytes:
        return (bytes([self.first_octet, self.reference & 0xFF]) + encode_address(self.recipient)
                + encode_timestamp(self.submitted) + encode_timestamp(self.discharged) + bytes([self.status]))

    def pdu(self) -> tuple[str, int]:
        tpdu = self.tpdu()
        return (encode_smsc(self.smsc) + tpdu).hex().upper(), len(tpdu)
