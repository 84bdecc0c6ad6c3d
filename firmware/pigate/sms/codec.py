"""Pure SMS codec: numbers, GSM-7/UCS-2 choice, splitting, SUBMIT PDUs, DELIVER and STATUS-REPORT decoding.

The alphabet, septet packing and part limits are pigate.smstext's (shared with the simulated network).
From `gsmmodem.pdu` (python-gsmmodem-new) only the address field and the DELIVER/STATUS-REPORT headers are
used: its GSM-7 tables are wrong (a backtick at 0x5F, where 23.038 has the section sign; a broken entry for
"ÿ"), its encoder counts UCS-2 in code points (emoji overflow), writes the concatenation reference into TP-MR,
and its decoder misreads GSM-7 behind a 7-octet header. So SUBMIT PDUs are built here, and user data is
decoded here: UCS-2 parts are joined as UTF-16 units and decoded once.

Concatenated parts carry the 8-bit reference header by default (153 GSM-7 septets or 67 UTF-16 units per part,
what phones and most gateways send); `reference_bits=16` selects the 16-bit one (152/66).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from pigate import smstext

with warnings.catch_warnings():  # the package prints Deprecation/Syntax warnings on import
    warnings.simplefilter("ignore")
    from gsmmodem import pdu as gsmpdu
    from gsmmodem.exceptions import EncodingError

GSM7 = smstext.GSM7
UCS2 = smstext.UCS2

_NUMBER_RE = re.compile(r"^\+?\d{3,20}$")
_NUMBER_NOISE = re.compile(r"[\s\-().]")


class CodecError(ValueError):
    """A number or text that cannot be turned into an SMS, or a PDU that cannot be read."""


def normalize_number(raw: str) -> str:
    """`+1 (555) 123-0001` -> `+15551230001`; CodecError unless an optional + and 3-20 digits remain."""
    number = _NUMBER_NOISE.sub("", raw or "")
    if number.startswith("00") and len(number) > 4:
        number = "+" + number[2:]
    if not _NUMBER_RE.match(number):
        raise CodecError(f"not a phone number: {raw!r}")
    return number


def same_number(a: str | None, b: str | None) -> bool:
    """Whether two renderings of a number denote the same subscriber: equal digits, or, national prefix zeros
    dropped, one ends with the other (`+36201234567` and `06201234567`) and the shorter has 7+ digits."""
    da, db = re.sub(r"\D", "", a or "").lstrip("0"), re.sub(r"\D", "", b or "").lstrip("0")
    if not da or not db:
        return False
    if da == db:
        return True
    short, long_ = sorted((da, db), key=len)
    return len(short) >= 7 and long_.endswith(short)


def text_from_units(data: bytes) -> str:
    """UTF-16-BE bytes of joined parts -> text; a surrogate half left alone by a missing part becomes U+FFFD."""
    return data[: len(data) - len(data) % 2].decode("utf-16-be", "replace")


def encoding_for(text: str) -> str:
    """GSM-7 when every character is in the default alphabet or its extension table, else UCS-2."""
    return smstext.alphabet_for(text)


def split_text(text: str, encoding: str | None = None, *, reference_bits: int = 8) -> tuple[str, list[str]]:
    """(encoding, parts): the text cut into SMS-sized pieces that never split a GSM-7 escape or a surrogate pair."""
    if not text:
        return encoding or GSM7, [""]
    return smstext.split(text, alphabet=encoding, reference_bits=reference_bits)


def part_count(text: str, *, reference_bits: int = 8) -> int:
    return len(split_text(text, reference_bits=reference_bits)[1])


class TooLong(CodecError):
    """A text that needs more parts than allowed; the message says its length and the limit."""


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for AT+CMGS in PDU mode: hex with the (empty) SMSC field, and the TPDU length."""

    hex: str
    tpdu_length: int
    seq: int
    total: int


def encode_submit(number: str, text: str, *, reference: int, status_report: bool = True,
                  max_parts: int = 10, reference_bits: int = 8) -> list[SubmitPdu]:
    """The SMS-SUBMIT PDUs for `text` to `number`; several parts carry the concatenation `reference` (its low
    8 bits, or all 16 with `reference_bits=16`). TooLong when it needs more than `max_parts` parts.

    TP-MR is 0 in every PDU: the modem numbers its submissions itself and reports the number in +CMGS.
    """
    encoding, parts = split_text(text, reference_bits=reference_bits)
    if len(parts) > max_parts:
        unit = "GSM-7 septets" if encoding == GSM7 else "UCS-2 characters"
        raise TooLong(f"the message is too long: {len(text)} characters ({smstext.length(text, encoding)} "
                      f"{unit}) need {len(parts)} SMS parts; at most {max_parts} parts "
                      f"({smstext.max_length(encoding, max_parts, reference_bits)} {unit}) are allowed")
    if len(parts) == 1:
        return [_submit_pdu(number, text, encoding, None, status_report)]
    if not 0 <= reference <= 0xFFFF:
        raise CodecError(f"concatenation reference out of range: {reference}")
    ref = reference if reference_bits == 16 else reference & 0xFF
    return [_submit_pdu(number, chunk, encoding, (ref, reference_bits, len(parts), i + 1), status_report)
            for i, chunk in enumerate(parts)]


def _concat_udh(reference: int, reference_bits: int, total: int, seq: int) -> bytes:
    if reference_bits == 16:
        ie = bytes([0x08, 0x04, reference >> 8, reference & 0xFF, total, seq])
    else:
        ie = bytes([0x00, 0x03, reference & 0xFF, total, seq])
    return bytes([len(ie)]) + ie


def _submit_pdu(number: str, chunk: str, encoding: str, concat: tuple[int, int, int, int] | None,
                status_report: bool) -> SubmitPdu:
    """One SMS-SUBMIT; `concat` is (reference, reference_bits, total, seq) for a part of a longer message."""
    first = 0x01 | (0x40 if concat else 0) | (0x20 if status_report else 0)  # SMS-SUBMIT, UDHI, TP-SRR
    out = bytearray([0x00, first, 0x00])  # default SMSC, first octet, TP-MR
    try:
        out.extend(gsmpdu._encodeAddressField(number))
    except (ValueError, IndexError) as exc:
        raise CodecError(f"cannot encode number {number!r}: {exc}") from exc
    out.append(0x00)  # TP-PID
    out.append(0x00 if encoding == GSM7 else 0x08)
    udh = _concat_udh(*concat) if concat else b""
    if encoding == GSM7:
        values = smstext.septets(chunk)
        if values is None:
            raise CodecError(f"not GSM-7 text: {chunk[:20]!r}")
        skip = smstext.header_septets(len(udh))
        out.append(skip + len(values))
        out.extend(udh)
        out.extend(smstext.pack(values, fill_bits=skip * 7 - len(udh) * 8))
    else:
        payload = chunk.encode("utf-16-be", "surrogatepass")
        out.append(len(udh) + len(payload))
        out.extend(udh)
        out.extend(payload)
    return SubmitPdu(out.hex().upper(), len(out) - 1, concat[3] if concat else 1, concat[2] if concat else 1)


def pdu_kind(pdu_hex: str) -> str | None:
    """'deliver', 'submit' or 'status_report' from the TP-MTI of a PDU with its SMSC field; None if unreadable."""
    try:
        data = bytes.fromhex(pdu_hex)
        first = data[1 + data[0]]
    except (ValueError, IndexError):
        return None
    return {0: "deliver", 1: "submit", 2: "status_report"}.get(first & 0x03)


# ---- decoding -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deliver:
    """A received SMS-DELIVER: sender, service-centre time, this part's text as UTF-16-BE bytes, concatenation."""

    sender: str
    timestamp: datetime | None
    data: bytes
    reference: int | None = None
    total: int = 1
    seq: int = 1

    @property
    def text(self) -> str:
        return text_from_units(self.data)

    @property
    def multipart(self) -> bool:
        return self.reference is not None and self.total > 1


def _alphabet(dcs: int) -> str:
    """The alphabet of a TP-DCS (23.038 section 4): 'gsm7', '8bit' or 'ucs2'."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding (bit 5: compressed, which nobody sends)
        return {0: GSM7, 1: "8bit", 2: UCS2}.get((dcs >> 2) & 3, GSM7)
    if group in (0xC, 0xD):
        return GSM7
    if group == 0xE:
        return UCS2
    if group == 0xF:
        return "8bit" if dcs & 0x04 else GSM7
    return GSM7


def _parse_udh(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, seq) from a concatenation element (8- or 16-bit reference), if any."""
    i = 1
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        body = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3 and len(body) == 3 and body[1]:
            return body[0], body[1], body[2]
        if iei == 0x08 and length == 4 and len(body) == 4 and body[2]:
            return (body[0] << 8) | body[1], body[2], body[3]
        i += 2 + length
    return None


def _deliver_user_data(pdu: bytes) -> tuple[int, bytes, int, bool]:
    """(dcs, user data, UDL, UDHI) located by walking the SMS-DELIVER TPDU field by field."""
    pos = 1 + pdu[0]  # SMSC field
    first = pdu[pos]
    oa_digits = pdu[pos + 1]
    pos += 3 + (oa_digits + 1) // 2  # first octet, OA length, TOA, OA semi-octets
    dcs = pdu[pos + 1]
    pos += 2 + 7  # PID, DCS, SCTS
    udl = pdu[pos]
    return dcs, pdu[pos + 1:], udl, bool(first & 0x40)


def decode_deliver(pdu_hex: str) -> Deliver:
    """An SMS-DELIVER PDU (with its SMSC field, as +CMT/+CMGR give it) -> Deliver; CodecError otherwise.

    The header (sender, time) comes from gsmmodem; the user data is read here (see the module docstring).
    """
    try:
        info = gsmpdu.decodeSmsPdu(pdu_hex)
        if info.get("type") != "SMS-DELIVER":
            raise CodecError(f"not an SMS-DELIVER but {info.get('type')}")
        dcs, ud, udl, udhi = _deliver_user_data(bytes.fromhex(pdu_hex))
        udh = ud[:1 + ud[0]] if udhi and ud else b""
        alphabet = _alphabet(dcs)
        if alphabet == GSM7:
            septets = smstext.unpack(ud, udl, skip=smstext.header_septets(len(udh)))
            data = smstext.text_of(septets).encode("utf-16-be")
    except (EncodingError, ValueError, StopIteration, IndexError, KeyError) as exc:
        raise CodecError(f"undecodable PDU {pdu_hex[:40]}...: {exc}") from exc
    if alphabet == GSM7:
        pass
    elif alphabet == UCS2:
        data = ud[len(udh):udl]
        data = data[: len(data) - len(data) % 2]
    else:  # 8-bit data shown byte for byte, as Latin-1
        data = ud[len(udh):udl].decode("latin-1").encode("utf-16-be")
    concat = _parse_udh(udh)
    sender = info.get("number") or ""
    if concat is None:
        return Deliver(sender, info.get("time"), data)
    ref, total, seq = concat
    return Deliver(sender, info.get("time"), data, ref, total, seq)


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT: the TP-MR it answers, the recipient, and TP-ST's meaning."""

    reference: int
    recipient: str
    status: int
    discharge: datetime | None

    @property
    def outcome(self) -> str:
        """'delivered', 'failed' (permanent, or the SC gave up), or 'pending' (the SC is still trying)."""
        if self.status <= 0x1F:
            return "delivered"
        if self.status <= 0x3F:
            return "pending"
        return "failed"


def decode_status_report(pdu_hex: str) -> StatusReport:
    try:
        info = gsmpdu.decodeSmsPdu(pdu_hex)
    except (EncodingError, ValueError, StopIteration, IndexError, KeyError) as exc:
        raise CodecError(f"undecodable status report {pdu_hex[:40]}...: {exc}") from exc
    if info.get("type") != "SMS-STATUS-REPORT":
        raise CodecError(f"not an SMS-STATUS-REPORT but {info.get('type')}")
    return StatusReport(int(info["reference"]), info.get("number") or "", int(info["status"]),
                        info.get("discharge"))


# ---- CMS error classification --------------------------------------------------------------------

# +CMS ERROR codes (27.005 3.2.5; 0-127 are 24.011 RP-causes, 128-255 23.040 TP-FCS) after which the same
# submission will never succeed: a bad number, barring, a PDU the network refuses.
PERMANENT_CMS = frozenset({
    1, 8, 10, 21, 29, 30, 50, 69, 81, 95, 96, 97, 98, 99, 111, 127,
    *range(128, 192), 193, 195, 196, 197, 198, 199, 208, 209, 303, 304, 305, 321,
})


def cms_is_permanent(code: int | None) -> bool:
    """Whether a +CMS ERROR code means the message must be failed rather than retried (unknown: retry)."""
    return code is not None and code in PERMANENT_CMS
