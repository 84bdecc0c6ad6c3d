"""The SMS service's records as the store hands them out, and how table rows become them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable, Sequence


FINAL_STATES = ("delivered", "undelivered", "failed")
PART_STATES = ("queued", "submitting", "retry", "sent", "unknown", "failed")


@dataclass(frozen=True)
class NewSms:
    """An accepted SendSms, already validated."""

    api_extension: str
    recipient: str
    text: str
    encoding: str
    sender: str = ""
    lines: tuple[str, ...] = ()  # lines it may use; empty = any
    report_url: str = ""
    client_ref: str = ""


@dataclass(frozen=True)
class Pdu:
    hex: str
    tpdu_length: int


@dataclass(frozen=True)
class OutboundSms:
    id: str
    api_extension: str
    sender: str
    recipient: str
    text: str
    encoding: str
    line: str | None
    report_url: str
    state: str
    reason: str
    parts: int
    created: float
    updated: float
    client_ref: str | None


@dataclass(frozen=True)
class OutboundPart:
    sms_id: str
    seq: int
    state: str
    attempts: int
    next_attempt: float
    line: str | None
    mr: int | None
    submitted: float | None
    sent: float | None
    report: str
    report_status: int | None
    reason: str


@dataclass(frozen=True)
class Claim:
    """A part a line worker has marked `submitting` and now hands to the modem."""

    sms_id: str
    seq: int
    parts: int
    pdu: str
    tpdu_length: int
    recipient: str
    attempts: int


@dataclass(frozen=True)
class InboundSms:
    id: str
    line: str
    api_extension: str
    sender: str
    recipient: str
    text: str
    incomplete: bool
    parts: int
    parts_received: int
    sent_time: str
    received: float
    read: bool


@dataclass(frozen=True)
class IncomingPart:
    """One received part, decoded; `data` is its text as UTF-16-BE (joined with its siblings before decoding)."""

    line: str
    sender: str
    reference: int | None
    total: int
    seq: int
    data: bytes
    pdu: str
    sent_time: str


@dataclass(frozen=True)
class Hook:
    """A queued webhook notification."""

    id: int
    kind: str
    subject: str
    url: str
    fields: dict[str, str]
    attempts: int


# What a service wants posted when a message reaches a final state or arrives: (kind, url, fields) or None.
OutboundHook = Callable[[OutboundSms], "tuple[str, str, dict[str, str]] | None"]
InboundHook = Callable[[InboundSms], "tuple[str, str, dict[str, str]] | None"]
# Joins the UTF-16-BE data of the parts present (in order) into text.
Joiner = Callable[[Sequence[bytes]], str]


def _outbound(row: sqlite3.Row) -> OutboundSms:
    return OutboundSms(row["id"], row["api_extension"], row["sender"], row["recipient"], row["text"],
                       row["encoding"], row["line"], row["report_url"], row["state"], row["reason"], row["parts"],
                       row["created"], row["updated"], row["client_ref"])


def _part(row: sqlite3.Row) -> OutboundPart:
    return OutboundPart(row["sms_id"], row["seq"], row["state"], row["attempts"], row["next_attempt"], row["line"],
                        row["mr"], row["submitted"], row["sent"], row["report"], row["report_status"], row["reason"])


def _inbound(row: sqlite3.Row) -> InboundSms:
    return InboundSms(row["id"], row["line"], row["api_extension"], row["sender"], row["recipient"], row["text"],
                      bool(row["incomplete"]), row["parts"], row["parts_received"], row["sent_time"],
                      row["received"], bool(row["read"]))
