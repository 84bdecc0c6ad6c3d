"""Pure SMS codec: numbers, GSM-7/UCS-2 choice, splitting, SUBMIT PDUs, DELIVER and STATUS-REPORT decoding.

Built on `gsmmodem.pdu` (python-gsmmodem-new), with the places where it is not enough fixed around it:
- `encodeSmsSubmitPdu` cannot encode characters outside the BMP (it packs `ord(c)` into one byte pair) and
  counts UCS-2 length in code points, so emoji raise or overflow. We hand it UTF-16 code units instead.
- It writes the concatenation reference into TP-MR as well, so a 16-bit reference (> 255) raises; it also
  splits UCS-2 text by code points, which can cut a surrogate pair in two. Multipart PDUs are therefore
  assembled here from its primitives (address field, GSM-7 packing, the Concatenation element).
- `decodeSmsPdu` returns UCS-2 text as separate UTF-16 units, and misreads GSM-7 behind a 7-octet header;
  user data is decoded here, parts joined as UTF-16 units and decoded once.
- Its GSM-7 tables have a backtick at 0x5F where 23.038 has the section sign, and a broken entry for "ÿ".
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime

with warnings.catch_warnings():  # the package prints Deprecation/Syntax warnings on import
    warnings.simplefilter("ignore")
    from gsmmodem import pdu as gsmpdu
    from gsmmodem.exceptions import EncodingError

GSM7 = "gsm7"
UCS2 = "ucs2"

SINGLE_SEPTETS = 160
SINGLE_UNITS = 70
# A 16-bit reference concatenation header is 7 octets (UDHL + IEI + IEL + 4): 8 septets, 7 octets of 140.
MULTI_SEPTETS = 152
MULTI_UNITS = 66

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


def _units(text: str) -> list[int]:
    """UTF-16 code units: what UCS-2 on the air really carries (emoji become surrogate pairs)."""
    raw = text.encode("utf-16-be", "surrogatepass")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]


def units_to_bytes(units_text: str) -> bytes:
    """A string of UTF-16 units (lone surrogates allowed, as `decodeSmsPdu` returns) as UTF-16-BE bytes."""
    return units_text.encode("utf-16-be", "surrogatepass")


def text_from_units(data: bytes) -> str:
    """UTF-16-BE bytes of joined parts -> text; a surrogate half left alone by a missing part becomes U+FFFD."""
    return data[: len(data) - len(data) % 2].decode("utf-16-be", "replace")


# Characters gsmmodem's tables get wrong: a backtick where 23.038 has the section sign (0x5F), and "ÿ" as an
# extension-table entry (meant to be form feed) that makes its encoder raise. Both go out as UCS-2. So does
# ESC itself: 0x1B is the escape to the extension table, not a character, and a receiver drops it.
_MISREAD = frozenset("`\xff\x1b")


def _gsm7_len(ch: str) -> int | None:
    if ch in _MISREAD:
        return None
    if ch in gsmpdu.GSM7_BASIC:
        return 1
    if ch in gsmpdu.GSM7_EXTENDED:
        return 2
    return None


def encoding_for(text: str) -> str:
    """GSM-7 when every character is in the default alphabet or its extension table, else UCS-2."""
    return GSM7 if all(_gsm7_len(c) is not None for c in text) else UCS2


def split_text(text: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """(encoding, parts): the text cut into SMS-sized pieces that never split a GSM-7 escape or a surrogate pair."""
    encoding = encoding or encoding_for(text)
    if not text:
        return encoding, [""]
    if encoding == GSM7:
        if sum(_gsm7_len(c) or 0 for c in text) <= SINGLE_SEPTETS:
            return encoding, [text]
        parts, current, size = [], [], 0
        for ch in text:
            need = _gsm7_len(ch) or 0
            if size + need > MULTI_SEPTETS:
                parts.append("".join(current))
                current, size = [], 0
            current.append(ch)
            size += need
        parts.append("".join(current))
        return encoding, parts
    units = _units(text)
    if len(units) <= SINGLE_UNITS:
        return encoding, [text]
    parts, start = [], 0
    while start < len(units):
        end = min(start + MULTI_UNITS, len(units))
        if end < len(units) and 0xD800 <= units[end - 1] <= 0xDBFF:
            end -= 1  # never leave a high surrogate without its low half
        chunk = b"".join(u.to_bytes(2, "big") for u in units[start:end])
        parts.append(chunk.decode("utf-16-be"))
        start = end
    return encoding, parts


def part_count(text: str) -> int:
    return len(split_text(text)[1])


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for AT+CMGS in PDU mode: hex with the (empty) SMSC field, and the TPDU length."""

    hex: str
    tpdu_length: int
    seq: int
    total: int


def _as_units_text(text: str) -> str:
    # Each UTF-16 unit as its own character: what gsmmodem's encodeUcs2 can pack two bytes at a time.
    return "".join(chr(u) for u in _units(text))


def encode_submit(number: str, text: str, *, reference: int, status_report: bool = True,
                  max_parts: int = 10) -> list[SubmitPdu]:
    """The SMS-SUBMIT PDUs for `text` to `number`; several parts carry a 16-bit concatenation `reference`.

    TP-MR is 0 in every PDU: the modem numbers its submissions itself and reports the number in +CMGS.
    """
    encoding, parts = split_text(text)
    if len(parts) > max_parts:
        raise CodecError(f"text needs {len(parts)} parts, at most {max_parts} allowed")
    if len(parts) == 1 and encoding == UCS2 and _MISREAD.intersection(text):
        # gsmmodem picks the alphabet itself and would get these wrong (see _MISREAD): build the PDU here.
        return [_multipart_pdu(number, text, encoding, 0, 1, 1, status_report, wide_reference=True, concat=False)]
    if len(parts) == 1:
        body = text if encoding == GSM7 else _as_units_text(text)
        try:
            pdus = gsmpdu.encodeSmsSubmitPdu(number, body, reference=0, requestStatusReport=status_report)
        except (ValueError, EncodingError) as exc:
            raise CodecError(f"cannot encode SMS to {number!r}: {exc}") from exc
        assert len(pdus) == 1, "split_text and gsmmodem disagree on the single-part limit"
        return [SubmitPdu(str(pdus[0]), pdus[0].tpduLength, 1, 1)]
    if not 0 <= reference <= 0xFFFF:
        raise CodecError(f"concatenation reference out of range: {reference}")
    return [_multipart_pdu(number, chunk, encoding, reference, i + 1, len(parts), status_report,
                           wide_reference=True)
            for i, chunk in enumerate(parts)]


def _multipart_pdu(number: str, chunk: str, encoding: str, reference: int, seq: int, total: int,
                   status_report: bool, *, wide_reference: bool, concat: bool = True) -> SubmitPdu:
    first = 0x01 | (0x40 if concat else 0) | (0x20 if status_report else 0)  # SMS-SUBMIT, UDHI, TP-SRR
    out = bytearray([0x00, first, 0x00])  # default SMSC, first octet, TP-MR
    try:
        out.extend(gsmpdu._encodeAddressField(number))
    except (ValueError, IndexError) as exc:
        raise CodecError(f"cannot encode number {number!r}: {exc}") from exc
    out.append(0x00)  # TP-PID
    out.append(0x00 if encoding == GSM7 else 0x08)
    if wide_reference:
        ie = bytes([0x08, 0x04, reference >> 8, reference & 0xFF, total, seq])
    else:
        ie = bytes([0x00, 0x03, reference & 0xFF, total, seq])
    udh = bytes([len(ie)]) + ie if concat else b""
    if encoding == GSM7:
        septets = gsmpdu.encodeGsm7(chunk)
        # packSeptets' padBits is the number of bits the header already used in its last septet.
        used = (len(udh) * 8) % 7
        payload = gsmpdu.packSeptets(septets, padBits=used)
        header_septets = -(-len(udh) * 8 // 7)
        out.append(header_septets + len(septets))
        out.extend(udh)
        out.extend(payload)
    else:
        payload = units_to_bytes(_as_units_text(chunk))
        out.append(len(udh) + len(payload))
        out.extend(udh)
        out.extend(payload)
    return SubmitPdu(out.hex().upper(), len(out) - 1, seq, total)


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


def _septets(data: bytes, count: int) -> list[int]:
    value = int.from_bytes(data, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


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

    The header (sender, time) comes from gsmmodem; the user data is read here because gsmmodem misreads
    GSM-7 text behind a 7-octet header (a 16-bit concatenation reference needs no fill bits).
    """
    try:
        info = gsmpdu.decodeSmsPdu(pdu_hex)
        if info.get("type") != "SMS-DELIVER":
            raise CodecError(f"not an SMS-DELIVER but {info.get('type')}")
        dcs, ud, udl, udhi = _deliver_user_data(bytes.fromhex(pdu_hex))
        udh = ud[:1 + ud[0]] if udhi and ud else b""
        alphabet = _alphabet(dcs)
        if alphabet == GSM7:
            skip = -(-len(udh) * 8 // 7)
            septets = _septets(ud, udl)[skip:]
            if septets and septets[-1] == 0x1B:
                septets.pop()  # a dangling escape (a sender's bug) would make gsmmodem raise
            data = gsmpdu.decodeGsm7(bytearray(septets)).replace("`", "\u00a7").encode("utf-16-be")
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
