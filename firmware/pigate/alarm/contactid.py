"""Ademco Contact ID (SIA DC-05), pure: the 16-digit block, its checksum, and the receiver's tones.

A block is ACCT (4) MT (2: 18, or 98 in some panels) Q (1: 1 new event, 3 restore, 6 still present) XYZ (the
event code) GG (partition) CCC (zone or user) S (checksum), sent as DTMF. Digits have weights: 1-9 as
themselves, 0 counts 10, and the hex digits B-F are sent as DTMF * # A B C (weights 11-15). A block is valid when
the weights add up to a multiple of 15.
"""

from __future__ import annotations

from dataclasses import dataclass

from pigate.media.dtmf import silence_pcm, tone_pcm

DTMF_DIGITS = "0123456789*#ABC"
WEIGHTS = dict(zip(DTMF_DIGITS, (10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15)))
HEX = dict(zip(DTMF_DIGITS, "0123456789BCDEF"))   # DTMF key -> the digit as the standard writes it
BLOCK_LENGTH = 16
MESSAGE_TYPES = ("18", "98")
QUALIFIERS = {"1": "new", "3": "restore", "6": "status"}

HANDSHAKE_HZ = (1400, 2300)
KISSOFF_HZ = 1400


class ContactIdError(ValueError):
    """Not a valid Contact ID block (wrong length, digit, message type or checksum)."""


@dataclass(frozen=True)
class AlarmEvent:
    """One decoded block; the fields in the standard's hex digits (B-F, not DTMF * # A B C)."""

    account: str
    message_type: str
    qualifier: str
    event_code: str
    partition: str
    zone: str
    raw: str  # the block as received (DTMF keys)

    @property
    def kind(self) -> str:
        """new (an alarm, an opening), restore (a closing, back to normal) or status (still present)."""
        return QUALIFIERS.get(self.qualifier, "unknown")


def checksum_ok(block: str) -> bool:
    return all(d in WEIGHTS for d in block) and sum(WEIGHTS[d] for d in block) % 15 == 0


def check_digit(body: str) -> str:
    """The DTMF key that completes the 15 keys of `body` into a valid block."""
    rest = sum(WEIGHTS[d] for d in body) % 15
    weight = 15 - rest if rest else 15
    return next(d for d, w in WEIGHTS.items() if w == weight)


def parse_block(block: str) -> AlarmEvent:
    if len(block) != BLOCK_LENGTH:
        raise ContactIdError(f"a block has {BLOCK_LENGTH} digits, got {len(block)}")
    if any(d not in WEIGHTS for d in block):
        raise ContactIdError(f"not a Contact ID digit in {block!r}")
    if not checksum_ok(block):
        raise ContactIdError(f"bad checksum in {block!r}")
    text = "".join(HEX[d] for d in block)
    if text[4:6] not in MESSAGE_TYPES:
        raise ContactIdError(f"message type {text[4:6]} is not Contact ID (18 or 98)")
    return AlarmEvent(account=text[0:4], message_type=text[4:6], qualifier=text[6], event_code=text[7:10],
                      partition=text[10:12], zone=text[12:15], raw=block)


def encode_block(account: str, event_code: str, *, qualifier: str = "1", partition: str = "01", zone: str = "001",
                 message_type: str = "18") -> str:
    """The DTMF keys of an event (fields in hex digits, e.g. account "12B4"), checksum included."""
    to_dtmf = {h: d for d, h in HEX.items()}
    text = f"{account:0>4}{message_type}{qualifier}{event_code:0>3}{partition:0>2}{zone:0>3}"
    if len(text) != BLOCK_LENGTH - 1 or any(c.upper() not in to_dtmf for c in text):
        raise ContactIdError(f"fields do not make a block: {text!r}")
    body = "".join(to_dtmf[c.upper()] for c in text)
    return body + check_digit(body)


def handshake_pcm() -> bytes:
    """What the receiver sends when it answers: 100 ms of 1400 Hz, 100 ms silence, 100 ms of 2300 Hz."""
    return tone_pcm((HANDSHAKE_HZ[0],), 100) + silence_pcm(100) + tone_pcm((HANDSHAKE_HZ[1],), 100)


def kissoff_pcm() -> bytes:
    """The acknowledgement of a valid block: 1400 Hz for 850 ms (the standard asks for 750-1000 ms)."""
    return tone_pcm((KISSOFF_HZ,), 850)
