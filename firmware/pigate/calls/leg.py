"""The Leg a call's scripts and third-party commands drive: a trunk's CallLeg plus the call's record and its rules.

Every trunk's leg only does telephony; this wrapper owns what is the same on every trunk: which actions a
state allows, the state each action leads to, and how a hang-up, a refusal or a transfer ends up in the books
(it tells the service, the CallObserver, before the telephony acts, so the far end's own end-of-call report then
finds no live call to misread).
"""

from __future__ import annotations

import logging
from typing import Callable

from pigate.callstates import CANCELLED, ERROR, FAILED, HOLD, IN_CALL, RINGING, TRANSFER_COMPLETED, TRANSFERRED
from pigate.errors import CallerGone, InappropriateCommand, PigateError
from pigate.ozml.leg import CallLeg, DrivenKeypad, RecordingResult

from .model import END_NO_ANSWER, CallObserver, CallRecord, local_end

log = logging.getLogger(__name__)


class ServiceLeg:
    """A Leg (pigate.ozml.leg.Leg) over `leg`, for the call `call`; states live in `call`, changed via `observer`."""

    def __init__(self, *, call: CallRecord, leg: CallLeg, observer: CallObserver) -> None:
        self.call = call
        self.trunk_leg = leg
        self._observer = observer
        # Handed on to a bridge (BlindTransfer of an answered GSM call, AttendedTransfer): the call stays up, but
        # its scripts see it Transferred and stop, and third-party commands no longer drive it.
        self.handed_over = False

    # -- identity ---------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.call.id

    @property
    def caller(self) -> str:
        return self.call.source

    @property
    def callee(self) -> str:
        return self.call.destination

    @property
    def api_extension(self) -> str:
        return self.call.api_extension

    @property
    def state(self) -> str:
        return TRANSFERRED if self.handed_over and self.call.live else self.call.state

    @property
    def keypad(self) -> DrivenKeypad:
        return self.trunk_leg.keypad

    # -- driven by the call service ---------------------------------------------------------------
    def connected(self) -> None:
        self.trunk_leg.connected()

    def close(self) -> None:
        self.trunk_leg.close()

    def press(self, key: str) -> None:
        self.trunk_leg.keypad.push(key)

    def drop(self) -> None:
        """Hang up the telephony of a call the books already ended (it rang out): no state change."""
        try:
            self.trunk_leg.hangup()
        except PigateError as exc:
            log.warning("call %s: hang-up failed: %s", self.id, exc)

    # -- call control -----------------------------------------------------------------------------
    def answer(self) -> None:
        if self.state != RINGING:
            return
        try:
            self.trunk_leg.answer()
        except PigateError as exc:
            # Mostly the caller hanging up while the answer was on its way: then the caller gave up (Cancelled),
            # whichever of the two the trunk reported first; otherwise answering failed.
            gone = isinstance(exc, CallerGone)
            log.warning("call %s: answering failed (%s): %s", self.id, "caller gone" if gone else "error", exc)
            if gone:
                self._observer.leg_ended(self.call, CANCELLED, CANCELLED, local=False)
            else:
                self._observer.leg_ended(self.call, ERROR, FAILED, local=True)
            try:
                self.trunk_leg.hangup()
            except PigateError as again:
                log.info("call %s: hang-up after a failed answer: %s", self.id, again)
            return
        self._observer.leg_changed(self.call, IN_CALL)

    def hangup(self) -> None:
        self._end_here("hangup", self.trunk_leg.hangup)

    def reject(self) -> None:
        """Refuse a ringing call: Busy (on an answered one this hangs up, as the Leg says)."""
        self._end_here("reject", self.trunk_leg.reject)

    def fail(self) -> None:
        """End a call the gateway could not handle: Error if it never connected (model.local_end)."""
        self._end_here("fail", self.trunk_leg.fail)

    def time_out(self) -> None:
        """Refuse a ringing incoming call nobody answered in time: Cancelled/NoAnswer (SIP: 480)."""
        refuse_as = getattr(self.trunk_leg, "refuse_as", None)
        if refuse_as is not None:
            refuse_as(END_NO_ANSWER)
        self._end_here("timeout", self.trunk_leg.reject)

    def _end_here(self, how: str, telephony: Callable[[], None]) -> None:
        if not self.call.live:
            return
        # Recorded as ended first: the trunk's own end-of-call report then finds no live call to misread.
        self._observer.leg_ended(self.call, *local_end(self.call, how), local=True)
        try:
            telephony()
        except PigateError as exc:
            log.warning("call %s: %s failed: %s", self.id, how, exc)

    def hold(self) -> None:
        if self.state != IN_CALL:
            return
        self.trunk_leg.hold()
        self._observer.leg_changed(self.call, HOLD)

    def unhold(self) -> None:
        if self.state != HOLD:
            return
        self.trunk_leg.unhold()
        self._observer.leg_changed(self.call, IN_CALL)

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        if not self.call.live or self.handed_over:
            return False
        if self.state != RINGING and not getattr(self.trunk_leg, "transfers_answered", False):
            # A trunk that cannot hand an answered call on itself (GSM): the box dials the target and bridges
            # the far party to it (calls/transfer.py); the call stays up, handed over.
            return self._observer.leg_transfer(self, target)
        if not self.trunk_leg.blind_transfer(target, transferor_party=transferor_party):
            return False
        self.handed_on()
        return True

    def handed_on(self) -> None:
        """The far end was handed on by the trunk itself (REFER, deflection): the call ends Transferred."""
        if self.call.live:
            self._observer.leg_ended(self.call, TRANSFERRED, TRANSFER_COMPLETED, local=True)

    def forward(self, destination: str) -> None:
        if self.state != RINGING:
            raise InappropriateCommand("Forward")
        self.trunk_leg.forward(destination)
        self.handed_on()

    def send_dtmf(self, keys: str) -> None:
        self.trunk_leg.send_dtmf(keys)

    # -- media ------------------------------------------------------------------------------------
    def speak(self, text: str, *, language: str | None = None, voice: str | None = None,
              interruptible: bool = False) -> bool:
        if not self.call.live:
            return False
        self._observer.leg_media(self.call, "speak", text)
        return self.trunk_leg.speak(text, language=language, voice=voice, interruptible=interruptible)

    def play(self, source: str, *, repeat: bool = False, timeout: float | None = None,
             interruptible: bool = False) -> bool:
        if not self.call.live:
            return False
        self._observer.leg_media(self.call, "play", source)
        return self.trunk_leg.play(source, repeat=repeat, timeout=timeout, interruptible=interruptible)

    def beep(self) -> None:
        if self.call.live:
            self._observer.leg_media(self.call, "beep", "")
            self.trunk_leg.beep()

    def play_pcm(self, pcm: bytes) -> None:
        if self.call.live:
            self.trunk_leg.play_pcm(pcm)

    def hear(self, seconds: float) -> bytes:
        if not self.call.live:
            return b""
        return self.trunk_leg.hear(seconds)

    def record(self, *, format: str = "mp3", duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None, path: str | None = None) -> RecordingResult:
        if not self.call.live:
            return RecordingResult(False)
        return self.trunk_leg.record(format=format, duration=duration, inactivity=inactivity,
                                     finish_digits=finish_digits, path=path)
