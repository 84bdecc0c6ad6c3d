"""SMS text rules shared by the gateway's codec and the simulated network: the GSM 7-bit alphabet, septet packing,
and how much text fits in one message or one part of a concatenated message.

The alphabet is 3GPP TS 23.038's default alphabet (section 6.2.1) and its extension table (6.2.1.1), reached
through the escape septet 0x1B; docs/sms.md explains both and the part limits.
"""

from __future__ import annotations

import math

GSM7 = "gsm7"
UCS2 = "ucs2"

ESCAPE = 0x1B

# Index = septet value. 0x1B is the escape to the extension table, not a character.
BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# Extension-table characters and their septet after the escape (each costs two septets).
EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
             "|": 0x40, "€": 0x65}

_BASIC_INDEX = {ch: i for i, ch in enumerate(BASIC) if i != ESCAPE}
_EXTENSION_CHAR = {v: k for k, v in EXTENSION.items()}

USER_DATA_OCTETS = 140
SINGLE_LIMIT = {GSM7: 160, UCS2: 70}  # septets / UTF-16 code units in a message of one part
REFERENCE_BITS = (8, 16)              # the two concatenation headers: 8-bit (the usual one) or 16-bit reference


def header_octets(reference_bits: int) -> int:
    """The user data header of a concatenated part: UDHL, IEI, IEL and 3 (8-bit) or 4 (16-bit) octets."""
    if reference_bits not in REFERENCE_BITS:
        raise ValueError(f"a concatenation reference has 8 or 16 bits, not {reference_bits}")
    return 6 if reference_bits == 8 else 7


def part_limit(alphabet: str, reference_bits: int = 8) -> int:
    """Septets (GSM-7) or UTF-16 units (UCS-2) in one part of a concatenated message: 153/67 with the 8-bit
    reference, 152/66 with the 16-bit one (GSM-7 text starts at the septet boundary after the header)."""
    room = USER_DATA_OCTETS - header_octets(reference_bits)
    return room * 8 // 7 if alphabet == GSM7 else room // 2


def septet_cost(ch: str) -> int | None:
    """1 for a default-alphabet character, 2 for an extension-table one, None for one GSM-7 cannot carry."""
    if ch in _BASIC_INDEX:
        return 1
    if ch in EXTENSION:
        return 2
    return None


def septets(text: str) -> list[int] | None:
    """`text` as GSM-7 septets (extension characters as escape + code), or None if some character is not in it."""
    out: list[int] = []
    for ch in text:
        if ch in _BASIC_INDEX:
            out.append(_BASIC_INDEX[ch])
        elif ch in EXTENSION:
            out += [ESCAPE, EXTENSION[ch]]
        else:
            return None
    return out


def text_of(values: list[int]) -> str:
    """GSM-7 septets as text. An escape followed by a code the extension table does not define shows the
    default-alphabet character at that code (23.038's rule); a trailing lone escape is dropped."""
    out: list[str] = []
    escaped = False
    for s in values:
        s &= 0x7F
        if escaped:
            out.append(_EXTENSION_CHAR.get(s, BASIC[s] if s != ESCAPE else " "))
            escaped = False
        elif s == ESCAPE:
            escaped = True
        else:
            out.append(BASIC[s])
    return "".join(out)


def alphabet_for(text: str) -> str:
    """GSM-7 when every character is in the default alphabet or its extension table, else UCS-2."""
    return GSM7 if all(septet_cost(ch) is not None for ch in text) else UCS2


def utf16_units(text: str) -> int:
    """UTF-16 code units: what UCS-2 on the air carries (an emoji is a surrogate pair, two units)."""
    return len(text.encode("utf-16-be", "surrogatepass")) // 2


def length(text: str, alphabet: str) -> int:
    """The text's size in its alphabet's units (septets or UTF-16 units)."""
    if alphabet == GSM7:
        return sum(septet_cost(ch) or 0 for ch in text)
    return utf16_units(text)


def split(text: str, *, alphabet: str | None = None, reference_bits: int = 8) -> tuple[str, list[str]]:
    """(alphabet, parts): one part when it fits in a single message, else parts of at most part_limit() units
    each. A part never ends inside a GSM-7 escape or between the halves of a surrogate pair (both are one
    character here, and a character is never cut)."""
    alphabet = alphabet or alphabet_for(text)
    if length(text, alphabet) <= SINGLE_LIMIT[alphabet]:
        return alphabet, [text]
    limit = part_limit(alphabet, reference_bits)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        need = (septet_cost(ch) or 0) if alphabet == GSM7 else utf16_units(ch)
        if size + need > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += need
    parts.append("".join(current))
    return alphabet, parts


def max_length(alphabet: str, parts: int, reference_bits: int = 8) -> int:
    """The most units a message of at most `parts` parts can carry."""
    if parts <= 1:
        return SINGLE_LIMIT[alphabet]
    return parts * part_limit(alphabet, reference_bits)


def pack(values: list[int], fill_bits: int = 0) -> bytes:
    """Septets packed into octets, LSB first, after `fill_bits` zero bits (the padding after a header)."""
    value = 0
    for i, s in enumerate(values):
        value |= (s & 0x7F) << (7 * i + fill_bits)
    n = math.ceil((7 * len(values) + fill_bits) / 8)
    return value.to_bytes(n, "little") if n else b""


def unpack(data: bytes, count: int, skip: int = 0) -> list[int]:
    """`count` septets of `data`, the first `skip` of them (a header and its fill bits) dropped."""
    value = int.from_bytes(data, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(skip, count)]


def header_septets(udh_octets: int) -> int:
    """Septets a user data header of `udh_octets` octets takes, fill bits included."""
    return math.ceil(udh_octets * 8 / 7)
