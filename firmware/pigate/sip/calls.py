"""A SIP call: dial, answer, reject, hang up, DTMF both ways, hold, blind and attended REFER, audio, typed events.

A `SipCall` is a plain object any thread may use; each method runs on the pjsua2 thread through the endpoint and
raises SipError when pjsua2 refuses or the call is gone. Events (`Ringing`, `Answered`, `Digit`, `Held`,
`Resumed`, `TransferStatus`, `Ended`) go to the call's listener on the endpoint's event thread, in order;
events that happen before `listen()` are kept and handed over when it is called.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Literal

from pigate.errors import SipError
from pigate.sip.endpoint import Endpoint
from pigate.sip.uris import caller_number, display_name

log = logging.getLogger(__name__)

DTMF_DIGITS = frozenset("0123456789*#ABCDabcd")
State = Literal["incoming", "calling", "early", "connected", "ended"]


@dataclass(frozen=True)
class CallEvent:
    call: "SipCall"


@dataclass(frozen=True)
class Ringing(CallEvent):
    """The far end rings (180) or sends early media (183)."""

    code: int = 180


@dataclass(frozen=True)
class Answered(CallEvent):
    """The call is up (200 OK and ACK)."""


@dataclass(frozen=True)
class Digit(CallEvent):
    """A DTMF digit from the far end; `method` is 'rfc2833' or 'info'."""

    digit: str = ""
    method: str = "rfc2833"


@dataclass(frozen=True)
class Held(CallEvent):
    """The call is on hold; `by` is 'local' (we held it) or 'remote'."""

    by: str = "local"


@dataclass(frozen=True)
class Resumed(CallEvent):
    """Audio flows again after a hold."""


@dataclass(frozen=True)
class TransferStatus(CallEvent):
    """Progress of a REFER we sent: the NOTIFY's status; `final` on the last one."""

    code: int = 0
    reason: str = ""
    final: bool = False


@dataclass(frozen=True)
class Ended(CallEvent):
    """The call is over: `code` is the final SIP status (200 after a normal BYE, 486 busy, 487 cancelled, ...)."""

    code: int = 0
    reason: str = ""


Listener = Callable[[CallEvent], None]


class SipCall:
    """One SIP dialog with audio. `trunk` is the account or peer it belongs to; `direction` 'in' or 'out'."""

    def __init__(self, *, endpoint: Endpoint, call_id: str, trunk: str, direction: Literal["in", "out"],
                 remote_uri: str = "", source: str = "", called: str = "") -> None:
        self._ep = endpoint
        self.id = call_id
        self.trunk, self.direction = trunk, direction
        self.remote_uri = remote_uri  # the far end as a name-addr (From for incoming, To for outgoing)
        self.source = source          # ip:port an incoming INVITE came from
        self.called = called          # the number or user dialled (Request-URI's user for incoming)
        self.asserted = ""            # an incoming INVITE's P-Asserted-Identity, when the trunk sent one
        self.sip_call_id = ""
        self.state: State = "incoming" if direction == "in" else "calling"
        self.held = False
        self.code, self.reason = 0, ""
        self.pj_call: Any = None
        self._audio: Any = None       # the call's pj.AudioMedia while media is active
        self._media: list[Any] = []   # FramePort/Player/Recorder objects connected to this call
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._early: list[CallEvent] = []
        self._ended = threading.Event()
        self._ended_hook: Callable[[], None] | None = None  # the driver's: forget this call

    # -- who ------------------------------------------------------------------------------------
    @property
    def caller(self) -> str:
        """The calling number of an incoming call (P-Asserted-Identity, else From); '' when withheld."""
        return caller_number(self.remote_uri, self.asserted) if self.direction == "in" else ""

    @property
    def caller_name(self) -> str:
        return display_name(self.remote_uri) if self.direction == "in" else ""

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wait_ended(self, timeout: float) -> bool:
        return self._ended.wait(timeout)

    def __repr__(self) -> str:
        return f"<SipCall {self.id} {self.direction} {self.trunk} {self.remote_uri!r} {self.state}>"

    # -- events ---------------------------------------------------------------------------------
    def listen(self, listener: Listener) -> None:
        """Send this call's events to `listener` (on the endpoint's event thread), including earlier ones."""
        with self._lock:
            self._listener = listener
            early, self._early = self._early, []
        for event in early:
            self._ep.notify(listener, event)

    def _emit(self, event: CallEvent) -> None:
        with self._lock:
            listener = self._listener
            if listener is None:
                self._early.append(event)
                return
        self._ep.notify(listener, event)

    # -- control (any thread) -------------------------------------------------------------------
    def ringing(self) -> None:
        """Send 180 Ringing for an incoming call."""
        self._op("ringing", lambda pc, prm: pc.answer(prm), code=180)

    def answer(self) -> None:
        self._op("answer", lambda pc, prm: pc.answer(prm), code=200)

    def reject(self, code: int = 486, reason: str = "") -> None:
        """Refuse an incoming call with a final status (486 busy, 403, 480, 603 ...)."""
        if not 300 <= code <= 699:
            raise SipError(f"a rejection needs a status 300-699, got {code}")
        self._op("reject", lambda pc, prm: pc.hangup(prm), code=code, reason=reason)

    def hangup(self) -> None:
        """End the call whatever its state (CANCEL, 603/486 or BYE as fits); nothing when already over."""
        if self.ended:
            return
        try:
            self._op("hangup", lambda pc, prm: pc.hangup(prm))
        except SipError:
            if not self.ended:
                raise

    def send_dtmf(self, digits: str, method: Literal["rfc2833", "info"] = "rfc2833") -> None:
        if not digits or any(d not in DTMF_DIGITS for d in digits):
            raise SipError(f"DTMF digits must be 0-9, *, #, A-D: {digits!r}")
        pj = self._ep.pj

        def send(pc: Any, _prm: Any) -> None:
            p = pj.CallSendDtmfParam()
            p.digits = digits
            p.method = pj.PJSUA_DTMF_METHOD_RFC2833 if method == "rfc2833" else pj.PJSUA_DTMF_METHOD_SIP_INFO
            pc.sendDtmf(p)

        self._op("send DTMF", send)

    def hold(self) -> None:
        self._op("hold", lambda pc, prm: pc.setHold(prm))

    def unhold(self) -> None:
        pj = self._ep.pj

        def unhold(pc: Any, prm: Any) -> None:
            prm.opt.flag = pj.PJSUA_CALL_UNHOLD
            pc.reinvite(prm)

        self._op("unhold", unhold)

    def transfer(self, target: str) -> None:
        """Blind transfer: REFER the far end to `target` (a SIP URI); progress comes as TransferStatus."""
        self._op("transfer", lambda pc, prm: pc.xfer(target, prm))

    def transfer_attended(self, other: "SipCall") -> None:
        """Attended transfer: REFER the far end to `other`'s far end, replacing that call (Refer-To with
        Replaces); progress comes as TransferStatus on this call."""
        def refer(pc: Any, prm: Any) -> None:
            if other.pj_call is None:
                raise SipError(f"cannot transfer call {self.id} to call {other.id}: it has ended")
            pc.xferReplaces(other.pj_call, prm)

        self._op("transfer", refer)

    def connect(self, media: Any) -> None:
        """Join a FramePort, Player or Recorder to this call's audio (now, and again after every re-INVITE)."""
        def join() -> None:
            if media not in self._media:
                self._media.append(media)
            if self._audio is not None:
                media._attach(self._audio)
        self._ep.call(join)

    def disconnect(self, media: Any) -> None:
        def leave() -> None:
            if media in self._media:
                self._media.remove(media)
                if self._audio is not None:
                    media._detach(self._audio)
        self._ep.call(leave)

    def _op(self, what: str, fn: Callable[[Any, Any], None], *, code: int = 0, reason: str = "") -> None:
        pj = self._ep.pj

        def run() -> None:
            pc = self.pj_call
            if pc is None:
                raise SipError(f"cannot {what} call {self.id}: it has ended")
            prm = pj.CallOpParam(True)
            if code:
                prm.statusCode = code
            if reason:
                prm.reason = reason
            try:
                fn(pc, prm)
            except pj.Error as exc:
                raise SipError(f"cannot {what} call {self.id}: {exc.info()}") from None

        self._ep.call(run)

    # -- pjsua2 thread --------------------------------------------------------------------------
    def _bind(self, pj_call: Any) -> None:
        """Own `pj_call` (before makeCall for outgoing calls: getInfo() would assert then)."""
        self.pj_call = pj_call
        self._ep.adopt(self)

    def _on_state(self, prm: Any) -> None:
        pj = self._ep.pj
        ci = self.pj_call.getInfo()
        if ci.state == pj.PJSIP_INV_STATE_EARLY and self.state in ("calling", "incoming"):
            if self.direction == "out" and ci.lastStatusCode in (180, 183):
                self.state = "early"
                self._emit(Ringing(self, code=int(ci.lastStatusCode)))
        elif ci.state == pj.PJSIP_INV_STATE_CONFIRMED and self.state != "connected":
            self.state = "connected"
            self._emit(Answered(self))
        elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED and self.state != "ended":
            self.state = "ended"
            self.code, self.reason = int(ci.lastStatusCode), str(ci.lastReason)
            self._ep.later(self._ep.release, self)  # never delete a pjsua2 Call inside its own callback
            self._finish()
            self._emit(Ended(self, code=self.code, reason=self.reason))

    def _on_media_state(self, prm: Any) -> None:
        pj = self._ep.pj
        ci = self.pj_call.getInfo()
        for mi in ci.media:
            if mi.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            if mi.status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                audio = self.pj_call.getAudioMedia(mi.index)
                self._audio = audio
                # RFC 2833 digits only leave while something clocks audio into the call: the null capture port.
                self._ep.lib.audDevManager().getCaptureDevMedia().startTransmit(audio)
                for media in self._media:
                    media._attach(audio)
            held = mi.status in (pj.PJSUA_CALL_MEDIA_LOCAL_HOLD, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
            if held and not self.held:
                self.held = True
                by = "local" if mi.status == pj.PJSUA_CALL_MEDIA_LOCAL_HOLD else "remote"
                self._emit(Held(self, by=by))
            elif mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE and self.held:
                self.held = False
                self._emit(Resumed(self))
            break

    def _on_dtmf(self, prm: Any) -> None:
        pj = self._ep.pj
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        self._emit(Digit(self, digit=str(prm.digit), method=method))

    def _on_transfer_request(self, prm: Any) -> None:
        # A REFER from the far end would make the gateway dial wherever a caller asks: refused (docs/sip.md).
        log.warning("sip: call %s: refused a transfer request to %s", self.id, prm.dstUri)
        prm.statusCode = 603

    def _on_replace_request(self, prm: Any) -> None:
        prm.statusCode = 603

    def _on_transfer_status(self, prm: Any) -> None:
        self._emit(TransferStatus(self, code=int(prm.statusCode), reason=str(prm.reason),
                                  final=bool(prm.finalNotify)))

    def _finish(self) -> None:
        self._ended.set()
        if self._ended_hook is not None:
            self._ended_hook()

    def _pj_close(self) -> None:
        if self.pj_call is not None and self.state != "ended":
            prm = self._ep.pj.CallOpParam(True)
            try:
                self.pj_call.hangup(prm)
            except self._ep.pj.Error:
                pass  # already gone inside pjsua

    def _pj_drop(self) -> None:
        for media in self._media:
            if self._audio is not None:
                media._detach(self._audio)
        self._media = []
        self._audio = None
        if self.pj_call is not None:
            self.pj_call.owner = None
        self.pj_call = None
        if not self._ended.is_set():  # the endpoint stopped under a live call
            self.state = "ended"
            self.code, self.reason = 503, "endpoint stopped"
            self._finish()
            self._emit(Ended(self, code=self.code, reason=self.reason))
