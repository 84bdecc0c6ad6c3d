"""What a call is to the call service: its record (ids, parties, state, times) and the pure rules around it."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol

from pigate.callstates import (BUSY, CALLEE_HUNG_UP, CALLER_HANG_UP, CANCELLED, COMPLETED, ENDED, ERROR, FAILED,
                               NO_ANSWER, REJECTED, RINGING)
from pigate.events import Event

INBOUND, OUTBOUND = "Inbound", "Outbound"
DIRECTIONS = ("Internal", "External", INBOUND, OUTBOUND)

# Why a trunk says a call ended (trunks' Ended events and DialFailed): the words every trunk maps its own to.
END_HANGUP = "hangup"          # the far end hung up (ringing in: the caller gave up)
END_BUSY = "busy"
END_NO_ANSWER = "no-answer"    # the far end (or its network) gave up ringing
END_REJECTED = "rejected"      # refused before an answer
END_FAILED = "failed"          # anything else: no dial tone, a network or trunk error
END_LINE_DOWN = "line-down"    # the line or account went away under the call
END_REASONS = (END_HANGUP, END_BUSY, END_NO_ANSWER, END_REJECTED, END_FAILED, END_LINE_DOWN)

# (state, history result) of an outgoing call the far end ended before it was answered, by reason.
_BEFORE_ANSWER = {END_BUSY: (BUSY, BUSY), END_NO_ANSWER: (CANCELLED, NO_ANSWER), END_REJECTED: (ERROR, REJECTED)}

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
    """(call state, history result) for an outgoing call that ended, or could not be placed, before an answer."""
    return _BEFORE_ANSWER.get(reason, (ERROR, FAILED))


def remote_end(call: "CallRecord", reason: str) -> tuple[str, str]:
    """(call state, history result) of a call the far end or the network ended, for any trunk (pure)."""
    if reason == END_LINE_DOWN:
        return ERROR, FAILED
    if call.answered is not None:
        return COMPLETED, call.hangup_result(local=False)
    if call.direction == INBOUND:
        return CANCELLED, CANCELLED  # the caller gave up before an answer
    return outcome_before_answer(reason)


LOCAL_ENDS = ("hangup", "reject", "fail", "timeout")


def local_end(call: "CallRecord", how: str = "hangup") -> tuple[str, str]:
    """(call state, history result) when the gateway ends a call (pure). Completed only for a call that was
    connected; one still ringing ends Cancelled (hung up), Busy (an incoming call refused: the caller hears
    busy) or Error (the gateway could not handle it: no URL, the app unreachable, a broken script). A refused
    or failed incoming call's history result is Rejected; an outgoing one the gateway gave up is Cancelled or
    Failed. A call that rang out (`timeout`: nobody answered it in time) is Cancelled/NoAnswer. See docs/calls.md."""
    if how not in LOCAL_ENDS:
        raise ValueError(f"a local end is one of {LOCAL_ENDS}, not {how!r}")
    if call.state != RINGING:
        return COMPLETED, call.hangup_result(local=True)
    inbound = call.direction == INBOUND
    if how == "timeout":
        return CANCELLED, NO_ANSWER
    if how == "reject":
        return (BUSY, REJECTED) if inbound else (CANCELLED, CANCELLED)
    if how == "fail":
        return ERROR, REJECTED if inbound else FAILED
    return CANCELLED, REJECTED if inbound else CANCELLED


def refusal_reason(state: str) -> str:
    """Why a caller is refused when the leg dialled for it failed with `state` (a result or 402's state):
    the END_* reason (a SIP caller hears its status: busy 486, no answer 480, rejected 603, else 503). No free
    line is a failure of the box, not the callee's busy: 503, so a load balancer in front tries another box."""
    return {BUSY: END_BUSY, NO_ANSWER: END_NO_ANSWER, REJECTED: END_REJECTED}.get(state, END_FAILED)


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
        return self.state not in ENDED

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


@dataclass(frozen=True)
class CallMedia(Event):
    """A call's far end starts to hear something: `kind` speak (`what`: the text), play (the source) or beep."""

    topic: ClassVar[str] = "call.media"
    call_id: str
    line: str
    kind: str
    what: str


class CallObserver(Protocol):
    """What a leg tells the call service when its call changes (the service owns states and notifications)."""

    def leg_changed(self, call: CallRecord, state: str) -> None:
        """The call moved to a live state (InCall after answer, Hold, back to InCall)."""

    def leg_ended(self, call: CallRecord, state: str, result: str, *, local: bool) -> None:
        """The call is over (`local`: the gateway ended it)."""

    def leg_media(self, call: CallRecord, kind: str, what: str) -> None:
        """The leg starts to speak (`what`: the text), play (the source) or beep on the call."""

    def leg_transfer(self, leg: Any, target: str) -> bool:
        """Blind-transfer an answered call its trunk cannot hand on (GSM): True once the target answered and the
        call is handed over to a bridge (`leg`: the ServiceLeg)."""


@dataclass(frozen=True)
class CallSettings:
    default_ring_time: int = 120      # the Call command's RingTime when it names none
    max_ring_time: int = 600
    ring_time: int = 60               # a leg the box dials on its own ([calls] ring_time)
    answer_time: float = 120.0        # an incoming call nobody answers is refused after this ([calls] answer_time)
    answer_poll: float = 1.0          # how often a dialing call asks its trunk to poll (trunk.poll)
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
