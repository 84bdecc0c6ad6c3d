"""Transfers the trunk cannot do itself: BlindTransfer of an answered GSM call, bridged by the box.

A GSM module cannot hand an answered call on (explicit call transfer needs a second call on the same module and
the operator's support), so the box does what a PBX would: it dials the target like a call the app places
(calls/targets.py: sip:USER@TRUNK, the API extension's routes, else its GSM lines), with the transferred
party's number as caller ID; while the target rings, the transferred party hears a ringing tone. The transfer
is done when the target answers: the call is handed over (its script sees it Transferred and ends) and its
session bridges the two until either hangs up; history shows the call as TransferCompleted. A target that is
busy, does not answer within `[calls] ring_time` or cannot be dialled fails the transfer: the call stays as it
was and the script goes on with its next command.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from pigate.errors import ApiError

from .bridge import Dialer, hand_over, ringing_for
from .model import INBOUND

if TYPE_CHECKING:
    from .registry import LiveCall
    from .targets import Target

log = logging.getLogger(__name__)


class TransferDialer(Dialer, Protocol):
    """The call service, which also knows where a dialled target goes."""

    def target(self, dialed: str, *, api_extension: str) -> "Target": ...


class Transfers:
    def __init__(self, *, dialer: TransferDialer) -> None:
        self._dialer = dialer

    def blind(self, live: "LiveCall", target: str) -> bool:
        """Dial `target` for `live` (answered, on a trunk that cannot transfer) and hand `live` over to a bridge
        once it answers; False when the transfer failed (the call goes on as before)."""
        rec = live.record
        if live.bridged or live.handoff is not None or not rec.live:
            log.info("call %s: already bridged; not transferred to %s", rec.id, target)
            return False
        try:
            where = self._dialer.target(target, api_extension=rec.api_extension)
            if where.invalid:
                log.info("call %s: transfer target %s: %s", rec.id, target, where.why)
                return False
            party = rec.source if rec.direction == INBOUND else rec.destination
            out = self._dialer.place(where, api_extension=rec.api_extension, source=party, caller_id=party,
                                     dialed=target)
        except ApiError as exc:
            log.info("call %s: transfer to %s failed: %s", rec.id, target, exc)
            return False
        log.info("call %s: transferring to %s on line %s (call %s)", rec.id, where.number, out.record.line,
                 out.record.id)
        with ringing_for(live):
            answered = self._dialer.await_answer(out, unless=lambda: not rec.live)
        if not answered:
            log.info("call %s: transfer to %s failed: %s", rec.id, target, out.record.result)
            return False
        out.leg.connected()
        if not rec.live:
            out.leg.hangup()
            return False
        live.handoff = out
        hand_over(live)
        log.info("call %s: transferred to %s (call %s)", rec.id, target, out.record.id)
        return True
