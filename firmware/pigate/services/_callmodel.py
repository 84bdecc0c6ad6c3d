"""What a call is to the call service: its record (ids, parties, state, times) and the pure rules around it."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Callable, Protocol

from pigate.modem.parsers import CallInfo
from pigate.ozml.leg import BUSY, CANCELLED, ENDED, ERROR, HOLD, IN_CALL, RINGING

FINAL_STATES = ENDED
LIVE_STATES = (RINGING, IN_CALL, HOLD)

INBOUND, OUTBOUND = "Inbound", "Outbound"
DIRECTIONS = ("Internal", "External", INBOUND, OUTBOUND)

# How a call ended, as ListCallHistory's State says it (Ozeki's names where it has them).
CALLER_HANG_UP, CALLEE_HUNG_UP, TRANSFER_COMPLETED = "CallerHangUp", "CalleeHungUp", "TransferCompleted"
REJECTED, NO_ANSWER, FAILED = "Rejected", "NoAnswer", "Failed"

_ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 5


def new_call_id(taken: Callable[[str], bool], *, choice: Callable[[str], str] = secrets.choice) -> str:
    """A short Ozeki-style call id (`3CiHe`) that `taken` says is free; longer ones if the short space is crowded."""
    length = ID_LENGTH
    for attempt in range(1000):
        if attempt and attempt % 50 == 0:
            length += 1
        candidate = "".join(choice(_ID_ALPHABET) for _ in range(length))
        if not taken(candidate):
            return candidate
    raise RuntimeError("no free call id")  # 1000 collisions mean the id source is broken


def outcome_before_answer(reason: str) -> tuple[str, str]:
    """(call state, history result) for an outgoing call the network ended before it was answered (pure).

    `reason` is the modem's final word: BUSY, NO ANSWER, NO CARRIER (rejected or unreachable), NO DIALTONE.
    """
    reason = reason.upper()
    if reason == "BUSY":
        return BUSY, BUSY
    if reason == "NO ANSWER":
        return CANCELLED, NO_ANSWER
    if reason == "NO CARRIER":
        return ERROR, REJECTED
    return ERROR, FAILED


def connect_failure_state(result: str) -> str:
    """The state 402 CallConnectFailed and the Error notification name for a failed outgoing call."""
    return {BUSY: BUSY, NO_ANSWER: NO_ANSWER, REJECTED: REJECTED}.get(result, ERROR)


@dataclass
class CallRecord:
    """One call. Mutated only by the call service under its lock; `snapshot()` gives readers a stable copy.

    Parties as Ozeki reports them: for an incoming call `source` is the caller's number and `destination`
    the API extension; for an outgoing one `source` is the API extension and `destination` the dialed number.
    Times: `start_time` is wall-clock (for StartTime), the others monotonic seconds.
    """

    id: str
    direction: str
    line: str
    api_extension: str
    source: str
    destination: str
    dialed: str
    caller_id: str
    start_time: float
    created: float
    state: str = RINGING
    answered: float | None = None
    ended: float | None = None
    result: str = ""
    error_url: str = ""
    finished_url: str = ""
    hung_up_locally: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def caller(self) -> str:
        return self.source

    @property
    def callee(self) -> str:
        return self.destination

    def ring_duration(self, now: float) -> float:
        until = self.answered if self.answered is not None else (self.ended if self.ended is not None else now)
        return max(0.0, until - self.created)

    def talk_duration(self, now: float) -> float:
        if self.answered is None:
            return 0.0
        return max(0.0, (self.ended if self.ended is not None else now) - self.answered)

    def hangup_result(self, *, local: bool) -> str:
        """Who ended an answered call, in ListCallHistory's words: the gateway is the callee of incoming calls."""
        gateway_is_caller = self.direction == OUTBOUND
        return CALLER_HANG_UP if local == gateway_is_caller else CALLEE_HUNG_UP

    def snapshot(self) -> "CallRecord":
        return CallRecord(**{**self.__dict__, "extra": dict(self.extra)})


class CallObserver(Protocol):
    """What a leg tells the call service when its call changes (the service owns states and notifications)."""

    def leg_changed(self, call: CallRecord, state: str) -> None:
        """The call moved to a live state (InCall after answer, Hold, back to InCall)."""

    def leg_ended(self, call: CallRecord, state: str, result: str, *, local: bool) -> None:
        """The call is over (`local`: the gateway ended it)."""


class VoiceModem(Protocol):
    """The modem operations a GSM leg uses (pigate.modem.Modem)."""

    def answer(self) -> None: ...

    def hangup(self) -> None: ...

    def send_dtmf(self, keys: str) -> None: ...

    def start_audio(self) -> None: ...

    def command(self, cmd: str, timeout: float | None = None) -> list[str]: ...


class CallModem(VoiceModem, Protocol):
    """The modem operations the call service uses beyond a leg's (pigate.modem.Modem)."""

    @property
    def state(self) -> str: ...

    def dial(self, number: str) -> None: ...

    def list_calls(self) -> list[CallInfo]: ...


@dataclass(frozen=True)
class CallLine:
    """A GSM line as the call service sees it: its name, the SIM's number, its modem and its PCM audio port."""

    name: str
    number: str
    modem: CallModem
    audio_port: str | None = None


@dataclass(frozen=True)
class CallSettings:
    default_ring_time: int = 120
    max_ring_time: int = 600
    answer_poll: float = 1.0          # AT+CLCC polling while dialing, for modems without +CLCC URCs
    reason_wait: float = 0.5          # how long a dropped call may take to say why (BUSY, NO ANSWER)
    ring_quiet: float = 1.5           # after the gateway ends a call, RINGs not yet confirmed ended are stale
    max_record_seconds: float = 600.0
    stop_timeout: float = 5.0


@dataclass(frozen=True)
class ActiveCall:
    """A live call as ListActiveCalls shows it."""

    call_id: str
    direction: str
    line: str
    api_extension: str
    source: str
    caller_id: str
    destination: str
    caller_dialed: str
    callee_dialed: str
    start_time: float
    ring_duration: float
    talk_duration: float
    state: str
