"""SipLeg: the CallLeg of one SIP call (pigate.sip's SipCall for control, a FramePort under the PCM pump for audio).

The audio is the GSM leg's: the same paced 20 ms pump (modem/pcm.py) plays prompts and feeds recordings, here
over a FramePort joined to the call instead of a modem's PCM port, so Speak, Play, Beep and Record behave alike
on both trunks. What differs is call control:
- Hold and Unhold are SIP re-INVITEs (sendonly / sendrecv).
- BlindTransfer sends a REFER to a SIP URI (`sip:USER@TRUNK` names a trunk of the box, a bare number is sent
  to the call's own trunk host); Forward of a
  ringing incoming call answers 302 is not offered by the driver, so it is refused as on an answered GSM call.
- SendDTMF sends RFC 2833 events and returns once they are sent (as AT+VTS does).
- play_pcm and hear (raw 8 kHz audio in and out, for the Contact ID receiver and sender, and Request) are the
  GSM leg's, over the frame port.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping

from pigate.errors import CallerGone, InappropriateCommand, ModemError, PortGone, SipError
from pigate.modem.pcm import FRAME_BYTES, PcmPump
from pigate.sip import FramePort, SipCall

from ..media import LegMedia
from .gsmleg import GsmLeg

log = logging.getLogger(__name__)

# How long pjsua takes to send one RFC 2833 digit: 160 ms of events, then its end packets and the next start.
DTMF_DIGIT_SECONDS = 0.2

# The SIP status an incoming call is refused with when the call it was routed to failed (calls.model END_*).
REFUSAL_CODES = {"busy": 486, "no-answer": 480, "rejected": 603, "failed": 503, "line-down": 503}


class FrameAudio:
    """A FramePort joined to a call, as the PCM pump's AudioPort (write a frame, read what arrived)."""

    def __init__(self, *, call: SipCall, port: FramePort) -> None:
        self._call, self._port = call, port
        self._pending = bytearray()
        call.connect(port)

    def write(self, data: bytes) -> int:
        self._port.write(data[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0"))
        return len(data)

    @property
    def in_waiting(self) -> int:
        while (frame := self._port.read(0)) is not None:
            self._pending += frame
        return len(self._pending)

    def read(self, size: int) -> bytes:
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def close(self) -> None:
        try:
            self._call.disconnect(self._port)
        except SipError:
            pass  # the call (or the endpoint) is already gone
        self._port.close()


class _SipControl:
    """The voice operations GsmLeg drives, over a SipCall (SipError as the ModemError GsmLeg expects)."""

    def __init__(self, leg: "SipLeg") -> None:
        self._leg = leg

    @property
    def call(self) -> SipCall:
        call = self._leg.sip_call
        if call is None:
            raise ModemError("the SIP call is not dialled yet")
        return call

    def _do(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except SipError as exc:
            raise ModemError(str(exc)) from exc

    def answer(self) -> None:
        self._do(self.call.answer)

    def hangup(self) -> None:
        self._do(self.call.hangup)

    def hold(self) -> None:
        self._do(self.call.hold)

    def retrieve(self) -> None:
        self._do(self.call.unhold)

    def deflect(self, number: str) -> None:
        raise ModemError("SIP calls are not deflected")

    def send_dtmf(self, keys: str) -> None:
        """RFC 2833 events; returns once they are out (pjsua queues them), as AT+VTS does on GSM, so what a
        script or the alarm sender does next (wait for a kissoff, speak) follows the digits."""
        self._do(lambda: self.call.send_dtmf(keys))
        self._leg.keypad.sleep(len(keys) * DTMF_DIGIT_SECONDS)

    def start_audio(self) -> None:
        pass  # SIP media flows once the call is confirmed

    def list_calls(self) -> list:
        call = self._leg.sip_call
        return [] if call is None or call.ended else [call]


class SipLeg(GsmLeg):
    """One SIP call's telephony; `frames(name)` makes the FramePort its audio runs over (the driver's).
    An outgoing leg exists before its INVITE: the trunk sets `sip_call` when it dials."""

    transfers_answered = True  # an answered SIP call is handed on by REFER (a GSM one is bridged by the service)

    def __init__(self, *, call_id: str, sip_call: SipCall | None, caller: str, callee: str, api_extension: str,
                 inbound: bool, frames: Callable[[str], FramePort], media: LegMedia, host: str = "",
                 trunk_hosts: Mapping[str, str] | None = None) -> None:
        self.sip_call = sip_call
        self._host = host
        self._trunk_hosts = dict(trunk_hosts or {})  # trunk name -> its host[:port][;transport] for REFER targets
        self.referred = False  # handed on by a REFER: the trunk ends the dialog once the transfer is over
        self.taken_over = False  # an attended transfer's target: the transferred party's INVITE with Replaces
        self._reject_code = 603
        pump = PcmPump(url=f"sip:{call_id}", name=f"sip-{call_id}", opener=self._open_audio)
        self._frames = frames
        super().__init__(call_id=call_id, caller=caller, callee=callee, api_extension=api_extension,
                         inbound=inbound, modem=_SipControl(self), pump=pump, media=media)

    def _open_audio(self, _url: str) -> FrameAudio:
        if self.sip_call is None:
            raise PortGone(f"{self.id}: no SIP call to join")
        return FrameAudio(call=self.sip_call, port=self._frames(f"leg-{self.id}"))

    def answer(self) -> None:
        assert self.sip_call is not None  # an incoming leg has its call from the start
        if self.sip_call.ended:
            raise CallerGone(f"{self.sip_call.id}: the caller hung up")
        try:
            self.sip_call.answer()
        except SipError as exc:
            if self.sip_call.ended:
                raise CallerGone(str(exc)) from exc
            raise
        self._now_answered()

    def hangup(self) -> None:
        if self.sip_call is not None:
            self.sip_call.hangup()

    def refuse_as(self, reason: str) -> None:
        """The SIP status the next reject() sends: why the call could not be put through (a bridge's far end)."""
        self._reject_code = REFUSAL_CODES.get(reason, 503)

    def reject(self) -> None:
        if self.sip_call is None:
            return
        if self._answered or self.sip_call.direction == "out":
            self.sip_call.hangup()
        else:
            self.sip_call.reject(self._reject_code)

    def refer_uri(self, target: str) -> str:
        """Where a REFER sends the far end: `sip:USER@TRUNK` (a trunk's name) at that trunk's host, any other
        SIP URI as given, a bare number at this call's trunk host."""
        if not target.startswith(("sip:", "sips:")):
            return f"sip:{target}@{self._host}"
        scheme, _, rest = target.partition(":")
        user, at, host = rest.partition("@")
        trunk = self._trunk_hosts.get(host.split(";", 1)[0]) if at else None
        return f"{scheme}:{user}@{trunk}" if trunk else target

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        uri = self.refer_uri(target)
        try:
            if self.sip_call is None:
                raise SipError("not dialled")
            self.sip_call.transfer(uri)
        except SipError as exc:
            log.info("%s: transfer to %s failed: %s", self.id, uri, exc)
            return False
        self.referred = True
        return True

    def transfer_to_call(self, other: "SipLeg") -> None:
        """Attended transfer: REFER with Replaces, sending this call's far end to `other`'s (SipError if refused)."""
        if self.sip_call is None or other.sip_call is None:
            raise SipError("not dialled")
        self.sip_call.transfer_attended(other.sip_call)
        self.referred = other.taken_over = True

    def forward(self, destination: str) -> None:
        raise InappropriateCommand("Forward")
