"""The Trunk contract: what the call service needs of whatever carries calls (GSM lines today, SIP accounts next).

A trunk owns its lines (GSM lines, SIP accounts or peers): each has a name (the name API extensions list) and
its own number. It places and answers calls, reports what happens to them as typed events, and hands out one
CallLeg per call (pigate.ozml.leg.CallLeg: the script's Leg plus connected(), close() and keypad.push). It knows
nothing of call ids' meaning, states, history, notifications or scripts: those are the call service's.

A call on a trunk is named by a *channel*: a string the trunk picks, unique among its live calls and
never reused for the next call (the service frees a line before it releases the call that was on it; the GSM
trunk names each call `line#n`, the SIP trunk one per dialog).

Events (`report(event)`, from any thread the trunk likes; `report` never blocks for long and never calls back
into the trunk on that thread):
- Incoming(channel, line, caller, called): a call arrives. The service then asks `incoming(channel, call)` for its
  leg, or `release(channel, local=False)` when it will not take it (shutting down, line busy).
- Ringing(channel): an outgoing call rings at the far end (informational).
- Answered(channel): the far end answered an outgoing call.
- Digit(channel, digit): the far end pressed a key (the service pushes it into the leg's keypad).
- Ended(channel, reason): the far end or the network ended the call; `reason` is one of calls.model's END_*
  (hangup, busy, no-answer, rejected, failed, line-down). The service maps it to a state and result.

Calls the service makes (each may block on the telephony for a moment; never while holding a trunk lock):
- `lines`; `start(report)`, `stop()`; `ready(line)`: the line could place a call now.
- `outgoing(line, call)` -> (channel, leg): reserve a channel and a leg for a new outgoing call (no events yet);
  then `dial(channel, number)`: place it; returns once the far end's network accepted the attempt, raises
  errors.DialFailed(reason) when it did not (busy, rejected, failed).
- `incoming(channel, call)` -> leg: the leg of a call the trunk reported with Incoming.
- `poll(channel)`: while an outgoing call waits for an answer the service calls this every `answer_poll` seconds;
  a trunk that cannot report progress on its own looks now and reports what it finds. Others do nothing.
- `release(channel, local=...)`: the call is over in the service's books (reported Ended, hung up by the gateway,
  rang out, failed); `local` when the gateway ended it. The trunk forgets the channel. Called exactly once per
  channel the service took, and for an Incoming it refused.

A line carries at most `capacity` calls at once (the trunk's attribute: 1 on GSM, the driver's max_calls on SIP);
the leg's answer() raises errors.CallerGone
when the caller hung up first, any PigateError when answering failed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, Sequence, Union

from pigate.ozml.leg import CallLeg

if TYPE_CHECKING:
    from ..model import CallRecord


@dataclass(frozen=True)
class TrunkLine:
    """A line as the call service sees it: its name and its own number (the called number of incoming calls)."""

    name: str
    number: str


@dataclass(frozen=True)
class Incoming:
    channel: str
    line: str
    caller: str   # empty when withheld
    called: str   # the number the caller dialed (the line's own)


@dataclass(frozen=True)
class Ringing:
    channel: str


@dataclass(frozen=True)
class Answered:
    channel: str


@dataclass(frozen=True)
class Digit:
    channel: str
    digit: str


@dataclass(frozen=True)
class Ended:
    channel: str
    reason: str   # calls.model END_*


CallEvent = Union[Incoming, Ringing, Answered, Digit, Ended]
Report = Callable[[CallEvent], None]


class Trunk(Protocol):
    """See the module's docstring for the rules of each call."""

    capacity: int   # live calls one line may carry at once

    @property
    def lines(self) -> Sequence[TrunkLine]: ...

    def start(self, report: Report) -> None: ...

    def stop(self) -> None: ...

    def ready(self, line: str) -> bool: ...

    def outgoing(self, line: str, call: "CallRecord") -> tuple[str, CallLeg]: ...

    def dial(self, channel: str, number: str) -> None: ...

    def incoming(self, channel: str, call: "CallRecord") -> CallLeg: ...

    def poll(self, channel: str) -> None: ...

    def release(self, channel: str, *, local: bool) -> None: ...
