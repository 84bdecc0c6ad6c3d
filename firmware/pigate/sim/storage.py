"""The simulated modem's message storages (SM, ME, SR) with capacities, and how stored messages are shown."""

from __future__ import annotations

from dataclasses import dataclass, field

from .pdu import Deliver, StatusReport, text_timestamp, ucs2_bytes

STATUS_NUM = {"REC UNREAD": 0, "REC READ": 1, "STO UNSENT": 2, "STO SENT": 3}
STATUS_BY_NUM = {v: k for k, v in STATUS_NUM.items()}


@dataclass
class Stored:
    """One stored message: an SMS-DELIVER or a status report, with its 27.005 status."""

    index: int
    message: Deliver | StatusReport
    status: str = "REC UNREAD"


@dataclass
class Storage:
    name: str
    capacity: int
    slots: dict[int, Stored] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return len(self.slots)

    @property
    def full(self) -> bool:
        return self.used >= self.capacity

    def put(self, message: Deliver | StatusReport, status: str = "REC UNREAD") -> int | None:
        """Store in the lowest free index (1-based, as SIMCom and Quectel number); None when full."""
        for index in range(1, self.capacity + 1):
            if index not in self.slots:
                self.slots[index] = Stored(index, message, status)
                return index
        return None

    def delete(self, index: int) -> bool:
        return self.slots.pop(index, None) is not None

    def delete_by_flag(self, flag: int) -> None:
        """AT+CMGD=<i>,<flag> with flag 1-4: read; read+sent; read+sent+unsent; all."""
        keep = {1: ("REC UNREAD", "STO UNSENT", "STO SENT"), 2: ("REC UNREAD", "STO UNSENT"),
                3: ("REC UNREAD",), 4: ()}[flag]
        self.slots = {i: s for i, s in self.slots.items() if s.status in keep}

    def listing(self, status: str) -> list[Stored]:
        return [s for _, s in sorted(self.slots.items()) if status == "ALL" or s.status == status]


def stat_number(status: str) -> int:
    return STATUS_NUM[status]


def pdu_lines(prefix: str, stored: Stored, *, with_index: bool) -> list[str]:
    """`+CMGR: <stat>,,<length>` / `+CMGL: <index>,<stat>,,<length>` and the PDU line."""
    pdu, length = stored.message.pdu()
    head = f"{stored.index}," if with_index else ""
    return [f"{prefix}: {head}{stat_number(stored.status)},,{length}", pdu]


def text_body(message: Deliver, charset: str) -> str:
    """The body as text mode shows it: UCS-2 messages (or a UCS2 TE charset) as hex, others as text."""
    if charset == "UCS2" or message.part.alphabet == "ucs2":
        return ucs2_bytes(message.part.text).hex().upper()
    return message.part.text


def text_header(prefix: str, stored: Stored, *, with_index: bool, csdh: bool, charset: str) -> str:
    head = f"{stored.index}," if with_index else ""
    msg = stored.message
    if isinstance(msg, StatusReport):
        return (f'{prefix}: {head}"{stored.status}",{msg.first_octet},{msg.reference},"{msg.recipient}",145,'
                f'"{text_timestamp(msg.submitted)}","{text_timestamp(msg.discharged)}",{msg.status}')
    sender = _charset_text(msg.sender, charset)
    line = f'{prefix}: {head}"{stored.status}","{sender}","","{text_timestamp(msg.time)}"'
    if csdh:
        body_len = len(msg.part.text) if msg.part.alphabet == "gsm7" else len(ucs2_bytes(msg.part.text))
        line += f",{_toa(msg.sender)},{msg.first_octet},0,{msg.dcs},\"{msg.smsc}\",145,{body_len}"
    return line


def text_lines(prefix: str, stored: Stored, *, with_index: bool, csdh: bool, charset: str) -> list[str]:
    header = text_header(prefix, stored, with_index=with_index, csdh=csdh, charset=charset)
    if isinstance(stored.message, StatusReport):
        return [header]
    return [header, text_body(stored.message, charset)]


def cmt_text(message: Deliver, *, csdh: bool, charset: str) -> list[str]:
    sender = _charset_text(message.sender, charset)
    line = f'+CMT: "{sender}","","{text_timestamp(message.time)}"'
    if csdh:
        body_len = len(message.part.text) if message.part.alphabet == "gsm7" else len(ucs2_bytes(message.part.text))
        line += f',{_toa(message.sender)},{message.first_octet},0,{message.dcs},"{message.smsc}",145,{body_len}'
    return [line, text_body(message, charset)]


def cds_text(report: StatusReport) -> str:
    return (f'+CDS: {report.first_octet},{report.reference},"{report.recipient}",145,'
            f'"{text_timestamp(report.submitted)}","{text_timestamp(report.discharged)}",{report.status}')


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


def _charset_text(text: str, charset: str) -> str:
    return ucs2_bytes(text).hex().upper() if charset == "UCS2" else text
