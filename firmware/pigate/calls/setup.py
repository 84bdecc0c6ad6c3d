"""CallSetup (call two parties and join them) and AttendedTransfer (join the far parties of two live calls).

CallSetup(Caller, Callee): the box calls Caller first, like a Call of the API extension (calls/targets.py: a
number, sip:USER@TRUNK, the extension's routes); once Caller answers it calls Callee with Caller's number as
caller ID (Caller hears ringback meanwhile), and once Callee answers the two are bridged (calls/bridge.py) until
either hangs up. Either leg failing (busy, no answer within `[calls] ring_time`, refused) sends the usual Error
notification for that leg and hangs up the other. The answer's call id is Caller's leg; both legs are in ListActiveCalls and the history.

AttendedTransfer(TransferredCallId, TargetCallId): both calls must be up. When both are SIP calls the far end of
the transferred call is sent a REFER with Replaces naming the target call's dialog (it calls that party and
replaces the box's call, RFC 3891); both of the box's calls end Transferred. Otherwise (a GSM call on either
side) the box bridges the two far parties itself: both calls are handed over (their scripts end), joined until
either hangs up, and end TransferCompleted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Protocol

from pigate.callstates import HOLD, IN_CALL
from pigate.errors import CallConnectFailed, InappropriateCommand, InvalidParameter, SipError

from .bridge import Dialer, hand_over, hold_together, ringing_for

if TYPE_CHECKING:
    from .registry import CallRegistry, LiveCall
    from .targets import Target

log = logging.getLogger(__name__)


class SetupDialer(Dialer, Protocol):
    """The call service: where targets go, and a session thread for a new call."""

    def target(self, dialed: str, *, api_extension: str) -> "Target": ...

    def start_session(self, live: "LiveCall", body: Callable[["LiveCall"], None]) -> None: ...


class Setups:
    def __init__(self, *, dialer: SetupDialer, registry: "CallRegistry") -> None:
        self._dialer, self._registry = dialer, registry

    def call_setup(self, caller: str, callee: str, *, api_extension: str, error_url: str | None = None) -> str:
        """Call `caller`, then `callee`, and bridge them; the caller leg's id once it is dialled (402/302/401 as
        for Call)."""
        first_at = self._where(caller, api_extension, "Caller")
        second_at = self._where(callee, api_extension, "Callee")
        first = self._dialer.place(first_at, api_extension=api_extension, source=api_extension,
                                   caller_id=api_extension, dialed=caller.strip(), reported=False,
                                   error_url=error_url or "")
        first.bridged = True  # its session joins it to Callee: no transfer takes it meanwhile

        def session(live: "LiveCall") -> None:
            if not self._dialer.await_answer(live):
                return
            live.leg.connected()
            party = live.record.destination
            try:
                second = self._dialer.place(second_at, api_extension=api_extension, source=party, caller_id=party,
                                            dialed=callee.strip(), reported=False, error_url=error_url or "")
            except CallConnectFailed as exc:
                log.info("call %s: CallSetup to %s failed: %s", live.record.id, callee, exc)
                return
            second.bridged = True
            with ringing_for(live):  # Caller hears ringback while Callee rings
                answered = self._dialer.await_answer(second, unless=lambda: not live.record.live)
            if not answered:
                return
            second.leg.connected()
            log.info("call %s: CallSetup joined %s and %s (call %s)", live.record.id, caller, callee,
                     second.record.id)
            hold_together(live, second)

        log.info("call %s: CallSetup from %s calls %s first, then %s", first.record.id, api_extension, caller,
                 callee)
        self._dialer.start_session(first, session)
        return first.record.id

    def _where(self, dialed: str, api_extension: str, param: str) -> "Target":
        target = self._dialer.target(dialed, api_extension=api_extension)
        if target.invalid:
            raise InvalidParameter(param, "CallSetup")
        return target

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None:
        """Join the far parties of two answered calls (601 for an unknown call, 303 when one is not up or they
        are the same call)."""
        a = self._registry.find(transferred_call_id)
        b = self._registry.find(target_call_id)
        for live in (a, b):
            if a is b or live.record.state not in (IN_CALL, HOLD) or live.bridged or live.leg.handed_over:
                raise InappropriateCommand("AttendedTransfer")
        leg_a, leg_b = a.leg.trunk_leg, b.leg.trunk_leg
        if hasattr(leg_a, "transfer_to_call") and type(leg_b) is type(leg_a):  # two SIP calls
            try:
                leg_a.transfer_to_call(leg_b)  # type: ignore[attr-defined]
            except SipError as exc:
                log.info("call %s: attended transfer to call %s failed: %s", a.record.id, b.record.id, exc)
                raise InappropriateCommand("AttendedTransfer") from exc
            log.info("call %s: attended transfer (REFER with Replaces) to call %s", a.record.id, b.record.id)
            for live in (a, b):  # the far ends now talk to each other; they end the box's dialogs
                live.leg.handed_on()
            return
        with self._registry.lock:
            hand_over(a, b)
        log.info("call %s: attended transfer to call %s: bridged by the box", a.record.id, b.record.id)
