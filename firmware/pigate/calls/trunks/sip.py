"""The SIP trunk: the box's SIP accounts and peers as a Trunk (contract.py), over pigate.sip's SipDriver.

- One trunk line per account or peer (its name; its number: the account's user, the peer's name). A line carries
  up to `capacity` calls at once (the driver's max_calls), not one as on GSM.
- A call's channel is its SipCall's id; an outgoing call's channel is reserved before the INVITE exists
  ("out-" and the call id) and bound to the SipCall when it is dialled.
- Incoming calls reach here only after the driver's admission rule (strangers already got 403): they are sent
  180 Ringing and reported; the service answers them through the leg or refuses them (the leg's reject: 603,
  or the SIP code of why a bridged call failed; 486 when the service cannot take the call at all).
- The final SIP status maps to the contract's reasons (`end_reason`).
- A call handed on by REFER (BlindTransfer, AttendedTransfer) is over in the service's books at once; its dialog
  stays up until the transfer's final NOTIFY (then the box sends BYE; a NOTIFY that came before the service let
  the call go ends it then) or the far end ends it.
- An attended transfer's target call is over in the books too; the transferred party's INVITE with Replaces takes
  its far end over, which then ends the box's dialog. One still up `replace_grace` seconds later (the transfer
  failed, or the far end does not do Replaces) is hung up, so that nobody is left in a silent call.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Sequence

from pigate.errors import DialFailed, SipError
from pigate.sip import Answered as SipAnswered, CallEvent as SipEvent, Digit as SipDigit, Ended as SipEnded
from pigate.sip import Ringing as SipRinging, SipCall, SipDriver, TransferStatus as SipTransferStatus

from ..media import LegMedia
from ..model import END_BUSY, END_FAILED, END_HANGUP, END_LINE_DOWN, END_NO_ANSWER, END_REJECTED
from .contract import Answered, CallEvent, Digit, Ended, Incoming, Report, Ringing, TrunkLine
from .sipleg import SipLeg

if TYPE_CHECKING:
    from ..model import CallRecord

log = logging.getLogger(__name__)


def end_reason(code: int, reason: str = "", *, answered: bool = False) -> str:
    """The contract's reason for a SIP call's final status (pure)."""
    if code == 503 and reason == "endpoint stopped":
        return END_LINE_DOWN
    if answered or code < 300:
        return END_HANGUP
    if code in (486, 600):
        return END_BUSY
    if code in (408, 480, 487):
        return END_NO_ANSWER
    if code in (403, 603):
        return END_REJECTED
    return END_FAILED


def _is_user(caller_id: str) -> bool:
    """A caller id that fits a From URI's user part (a number or a plain name)."""
    return bool(caller_id) and all(c.isalnum() or c in "+-_.*#" for c in caller_id)


class SipTrunk:
    """Thread-safe: SIP events arrive on the driver's event thread, the service's calls on session/HTTP threads."""

    def __init__(self, *, driver: SipDriver, media: LegMedia, replace_grace: float = 10.0) -> None:
        self._driver, self._media, self._replace_grace = driver, media, replace_grace
        lines = [TrunkLine(a.name, a.username) for a in driver.accounts.values()]
        lines += [TrunkLine(p.name, p.name) for p in driver.peers.values()]
        self.lines: Sequence[TrunkLine] = tuple(lines)
        self.capacity = driver.max_calls
        self._hosts = {**{a.name: a.host for a in driver.accounts.values()},
                       **{p.name: p.uri_host for p in driver.peers.values()}}
        self._lock = threading.Lock()
        self._calls: dict[str, SipCall | None] = {}   # channel -> its SipCall (None: reserved, not yet dialled)
        self._answered: set[str] = set()
        self._pending: dict[str, tuple[SipLeg, str, str]] = {}  # outgoing: leg, line, caller id until dialled
        self._legs: dict[str, SipLeg] = {}
        self._handed_on: dict[str, SipCall] = {}  # referred away, the far end not yet done with the REFER
        self._transfer_over: set[str] = set()     # a final NOTIFY came while the service still had the call
        self._report: Report | None = None

    # ---- the contract --------------------------------------------------------------------------
    def start(self, report: Report) -> None:
        self._report = report
        self._driver.on_incoming = self._on_incoming

    def stop(self) -> None:
        self._driver.on_incoming = None

    def ready(self, line: str) -> bool:
        return self._driver.connected(line)

    def outgoing(self, line: str, call: "CallRecord") -> tuple[str, SipLeg]:
        channel = f"out-{call.id}"
        with self._lock:
            self._calls[channel] = None
            leg = self._leg(call, None, line=line, inbound=False)
            self._pending[channel] = (leg, line, call.caller_id)
            self._legs[channel] = leg
        return channel, leg

    def dial(self, channel: str, number: str) -> None:
        with self._lock:
            leg, line, caller_id = self._pending.pop(channel)
        try:
            sip_call = self._driver.dial(number, trunk=line, caller_id=caller_id if _is_user(caller_id) else "",
                                         listener=lambda ev: self._on_event(channel, ev))
        except SipError as exc:
            raise DialFailed(END_FAILED, str(exc)) from exc
        leg.sip_call = sip_call
        with self._lock:
            self._calls[channel] = sip_call

    def incoming(self, channel: str, call: "CallRecord") -> SipLeg:
        with self._lock:
            sip_call = self._calls[channel]
        assert sip_call is not None
        leg = self._leg(call, sip_call, line=sip_call.trunk, inbound=True)
        with self._lock:
            self._legs[channel] = leg
        return leg

    def poll(self, channel: str) -> None:
        pass  # SIP reports progress itself

    def release(self, channel: str, *, local: bool) -> None:
        with self._lock:
            sip_call = self._calls.pop(channel, None)
            self._pending.pop(channel, None)
            self._answered.discard(channel)
            leg = self._legs.pop(channel, None)
            transfer_over = channel in self._transfer_over
            self._transfer_over.discard(channel)
            handed_on = sip_call is not None and local and leg is not None and not sip_call.ended
            if handed_on and leg.referred and not transfer_over:
                # The far end has our REFER: its dialog is ended when the transfer's final NOTIFY comes.
                self._handed_on[channel] = sip_call
                return
        if handed_on and leg.referred:  # its transfer's final NOTIFY came already
            self._hang_up_left(channel, sip_call)
            return
        if handed_on and leg.taken_over:
            timer = threading.Timer(self._replace_grace, self._hang_up_left, args=(channel, sip_call))
            timer.name, timer.daemon = f"sip-{channel}-replaced", True
            timer.start()
            return
        # The gateway's own ends go through the leg (hangup, reject with its code); what is left is an incoming
        # call the service would not take (shutting down, line at capacity): 486.
        if sip_call is not None and not local and not sip_call.ended:
            try:
                sip_call.reject(486) if sip_call.state == "incoming" else sip_call.hangup()
            except SipError as exc:
                log.debug("sip: %s: refusing on release: %s", channel, exc)

    # ---- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _hang_up_left(channel: str, sip_call: SipCall) -> None:
        """End a dialog a transfer left up (unless its far end ended it meanwhile)."""
        if sip_call.ended:
            return
        log.info("sip: %s: ending the dialog the transfer left", channel)
        try:
            sip_call.hangup()
        except SipError as exc:
            log.debug("sip: %s: hang-up after the transfer: %s", channel, exc)

    def _leg(self, call: "CallRecord", sip_call: SipCall | None, *, line: str, inbound: bool) -> SipLeg:
        return SipLeg(call_id=call.id, sip_call=sip_call, caller=call.source, callee=call.destination,
                      api_extension=call.api_extension, inbound=inbound, frames=self._driver.frame_port,
                      media=self._media, host=self._hosts.get(line, ""), trunk_hosts=self._hosts)

    def _emit(self, event: CallEvent) -> None:
        if self._report is not None:
            self._report(event)

    # ---- SIP events (the driver's event thread) ------------------------------------------------
    def _on_incoming(self, sip_call: SipCall) -> None:
        channel = sip_call.id
        with self._lock:
            self._calls[channel] = sip_call
        sip_call.ringing()
        sip_call.listen(lambda ev: self._on_event(channel, ev))
        log.info("sip: %s from %s (%s) on %s for %r", channel, sip_call.caller or "a withheld number",
                 sip_call.source, sip_call.trunk, sip_call.called)
        self._emit(Incoming(channel, sip_call.trunk, sip_call.caller, sip_call.called))

    def _on_event(self, channel: str, event: SipEvent) -> None:
        with self._lock:
            referred = self._handed_on.get(channel)
            final = isinstance(event, SipTransferStatus) and event.final
            if referred is not None and (isinstance(event, SipEnded) or final):
                del self._handed_on[channel]
            else:
                referred = None
                if final and channel in self._calls:
                    self._transfer_over.add(channel)  # before the service let the call go: release() ends it
        if referred is not None:
            if not isinstance(event, SipEnded):
                log.info("sip: %s: transfer over (%s %s); ending the dialog", channel, event.code, event.reason)
                self._hang_up_left(channel, referred)
            return
        with self._lock:
            if channel not in self._calls:
                return
            outbound = event.call.direction == "out"
            if isinstance(event, SipAnswered):
                self._answered.add(channel)
            answered = channel in self._answered
        if isinstance(event, SipAnswered):
            if outbound:
                self._emit(Answered(channel))
        elif isinstance(event, SipRinging):
            self._emit(Ringing(channel))
        elif isinstance(event, SipDigit):
            self._emit(Digit(channel, event.digit))
        elif isinstance(event, SipEnded):
            self._emit(Ended(channel, end_reason(event.code, event.reason, answered=answered)))
