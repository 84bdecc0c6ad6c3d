"""Every event the modem driver publishes, with its topic: the one place a `modem.*` topic is spelled out.

Subscribers match on these classes (or on the group topics MODEM, MODEM_SMS, MODEM_CALL); `name` is always the
line's name. Parsed URCs become these dataclasses once, in urcs.interpret (pure); nothing downstream reads dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..events import Event
from .parsers import CallInfo

MODEM = "modem"
MODEM_SMS = "modem.sms"
MODEM_CALL = "modem.call"


@dataclass(frozen=True)
class ModemEvent(Event):
    """Something one line's modem did or said."""

    topic: ClassVar[str] = MODEM
    name: str


# ---- the line ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StateChanged(ModemEvent):
    """The line's state machine moved (pigate.modem.STATES)."""

    topic: ClassVar[str] = "modem.state"
    state: str
    previous: str


@dataclass(frozen=True)
class RecoveryStep(ModemEvent):
    """A rung of the recovery ladder: `start` (with the reason in `error`), then each step tried."""

    topic: ClassVar[str] = "modem.recovery"
    step: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class Registration(ModemEvent):
    """The line's overall network registration changed (`kind`: CREG, CGREG, CEREG or C5GREG)."""

    topic: ClassVar[str] = "modem.registration"
    kind: str
    stat: int
    registered: bool
    lac: str = ""
    ci: str = ""
    act: int | None = None


@dataclass(frozen=True)
class SignalChanged(ModemEvent):
    topic: ClassVar[str] = "modem.signal"
    rssi: int
    percent: int | None


@dataclass(frozen=True)
class SimStatus(ModemEvent):
    """+CPIN / +SIMCARD: the SIM's state (READY, SIM PIN, NOT INSERTED, ...). Handled inside the driver."""

    topic: ClassVar[str] = "modem.sim"
    code: str


@dataclass(frozen=True)
class UnsolicitedLine(ModemEvent):
    """A URC with no meaning of its own (boot markers, vendor lines, a garbled URC): for logs and status."""

    topic: ClassVar[str] = "modem.urc"
    line: str


@dataclass(frozen=True)
class UssdAnswer(ModemEvent):
    topic: ClassVar[str] = "modem.ussd"
    text: str
    status: int
    dcs: int | None = None


# ---- SMS -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmsStored(ModemEvent):
    """+CMTI: a message waits in the modem's storage."""

    topic: ClassVar[str] = "modem.sms.stored"
    storage: str
    index: int


@dataclass(frozen=True)
class StatusReportStored(ModemEvent):
    """+CDSI: a status report waits in the modem's storage."""

    topic: ClassVar[str] = "modem.sms.status_report_stored"
    storage: str
    index: int


@dataclass(frozen=True)
class SmsDelivered(ModemEvent):
    """+CMT: a message in the URC itself; `needs_ack` when it must be acknowledged (AT+CNMA)."""

    topic: ClassVar[str] = "modem.sms.deliver"
    pdu_hex: str
    needs_ack: bool = False


@dataclass(frozen=True)
class StatusReport(ModemEvent):
    """+CDS: a status report in the URC itself."""

    topic: ClassVar[str] = "modem.sms.status_report"
    pdu_hex: str
    needs_ack: bool = False


@dataclass(frozen=True)
class LateSubmit(ModemEvent):
    """A +CMGS that came after its AT+CMGS timed out: the message reference the part got."""

    topic: ClassVar[str] = "modem.sms.late_submit"
    reference: int


# ---- calls ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallRing(ModemEvent):
    """+CLIP (with RING): someone calls the line; `number` is empty when withheld."""

    topic: ClassVar[str] = "modem.call.ring"
    number: str
    number_type: int | None = None


@dataclass(frozen=True)
class CallStateReport(ModemEvent):
    """+CLCC: one call's state as the modem reports it."""

    topic: ClassVar[str] = "modem.call.state"
    call: CallInfo


@dataclass(frozen=True)
class CallDtmf(ModemEvent):
    """A key the far end pressed (one normalised form whatever the vendor's URC)."""

    topic: ClassVar[str] = "modem.call.dtmf"
    digit: str


@dataclass(frozen=True)
class CallEnded(ModemEvent):
    """The modem's final word on a call: NO CARRIER, BUSY, NO ANSWER or NO DIALTONE."""

    topic: ClassVar[str] = "modem.call.ended"
    reason: str
