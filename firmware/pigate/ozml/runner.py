"""The OzML interpreter: runs one session's verbs, in order, against a Leg and the services; never raises."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Callable

from pigate.errors import ApiError, InappropriateCommand, InvalidParameter, NotifyError, OzmlError, PigateError
from pigate.notify import messages
from pigate.ozml import grammar, menu
from pigate.ozml import verbs as v
from pigate.ozml.flow import MAX_DETACHED_DELAY, Flow, Frame
from pigate.ozml.leg import ENDED, RINGING, Leg
from pigate.ozml.ourverbs import OurVerbs
from pigate.ozml.parser import Script, parse
from pigate.ozml.scope import Scope
from pigate.ozml.services import Fetch, OnError, ScriptExtras, ScriptServices

log = logging.getLogger(__name__)

MAX_HOPS = 10
MAX_MENU_ROUNDS = 20

# Verbs that can run before a ringing call is answered (everything else answers it first).
_BEFORE_ANSWER = (v.Reject, v.Forward, v.Hangup, v.GoTo, v.Var, v.Array, v.SendSms, v.SendEmail, v.Call,
                  v.CallSetup, v.Exit, v.AttendedTransfer, v.DeleteFile, v.MoveFile,
                  v.SendMessage, v.SendMsg, v.Request)


@dataclass
class SessionReport:
    """How a session went, for logs and tests: `ended` is one of script, exit, hangup, transferred,
    rejected, caller (the far end hung up), error, cancelled."""

    ended: str = "script"
    hops: int = 0
    errors: list[ApiError] = field(default_factory=list)


class Runner(OurVerbs):
    """One OzML session on one leg (or none, for an answer to IncomingSMS or SMSDeliveryReport).

    Rules (this package's README.md, "Errors and endings"): a script whose URL is empty or can't be fetched, or whose
    answer is invalid (300-303, reported through `on_error`), hangs up the API extension's call; so does a
    script that ends while the call is still up. Third-party scripts (CallChanged) never hang up on their own.
    GoTo is a jump (the rest of the current script is dropped) and at most `max_hops` happen per session.
    """

    def __init__(self, *, leg: Leg | None, services: ScriptServices, fetch: Fetch, on_error: OnError,
                 api_extension: str = "", max_hops: int = MAX_HOPS, max_menu_rounds: int = MAX_MENU_ROUNDS,
                 extras: ScriptExtras = ScriptExtras()) -> None:
        self.leg = leg
        self.services = services
        self.extras = extras
        self._recording = ""  # the file of the last successful Record (SendEmail Attach="recording")
        self.fetch = fetch
        self.on_error = on_error
        self.api_extension = api_extension or (leg.api_extension if leg is not None else "")
        self.max_hops = max_hops
        self.max_menu_rounds = max_menu_rounds
        self.scope = Scope()
        self.report = SessionReport()
        self._owned = True
        self._cancelled = threading.Event()
        self._handlers: dict[type, Callable[[v.Verb, Frame], Flow]] = {
            v.Delay: self._delay, v.Speak: self._speak, v.Play: self._play, v.Beep: self._beep,
            v.Record: self._record, v.UserInput: self._user_input, v.GoTo: self._goto,
            v.BlindTransfer: self._blind_transfer, v.AttendedTransfer: self._attended_transfer,
            v.Forward: self._forward, v.ForwardCall: self._forward, v.Hangup: self._hangup, v.Hold: self._hold,
            v.Unhold: self._unhold, v.SendDTMF: self._send_dtmf, v.SendSms: self._send_sms,
            v.Call: self._call, v.CallSetup: self._call_setup, v.Route: self._route, v.Reject: self._reject,
            v.Exit: self._exit, v.Var: self._var, v.Array: self._array, v.ForEach: self._for_each,
            **self.our_handlers(),
        }

    # -- entry points -----------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the session before its next verb (daemon shutdown); a verb in progress finishes first,
        so hang the leg up too to end a long prompt or menu at once."""
        self._cancelled.set()

    def start(self, *, context: str, url: str | None = None, fields: dict[str, str] | None = None,
              ozml: str | None = None) -> threading.Thread:
        """Run the session on its own thread (the one thread per live session)."""
        name = f"ozml-{self.leg.id}" if self.leg is not None else "ozml"
        thread = threading.Thread(target=self.run, name=name, daemon=True,
                                  kwargs=dict(context=context, url=url, fields=fields, ozml=ozml))
        thread.start()
        return thread

    def run(self, *, context: str, url: str | None = None, fields: dict[str, str] | None = None,
            ozml: str | None = None) -> SessionReport:
        """Fetch the script from `url` (posting `fields`), or take `ozml` as given, and run it to the end."""
        context = grammar.context_name(context)
        self._owned = not grammar.third_party(context)
        try:
            script = self._load(context, url, fields, ozml)
            if script is None:
                self._end_owned_call("error")
                return self.report
            self._block(script, Frame(context))
            self._end_owned_call("script")
        except Exception:  # a bug must not take the daemon or the call with it
            log.exception("OzML session on %s failed", self._call_id())
            self._end_owned_call("error")
        return self.report

    # -- loading scripts --------------------------------------------------------------------------
    def _load(self, context: str, url: str | None, fields: dict[str, str] | None,
              ozml: str | None) -> Script | None:
        if ozml is not None and not url:
            return self._parse(ozml, context)
        return self._fetch_script(url or "", fields or {}, context)

    def _fetch_script(self, url: str, fields: dict[str, str], context: str) -> Script | None:
        """The script at `url`, () for an empty answer, None if it can't be had (reported or logged)."""
        if not url:
            log.info("%s: no URL for %s, nothing to run", self._call_id(), context)
            return None
        try:
            text = self.fetch(url, fields)
        except ApiError as exc:  # ForbiddenAddress (307)
            self._report(exc)
            return None
        except NotifyError as exc:
            log.warning("%s: %s answer from %s unusable: %s", self._call_id(), context, url, exc)
            return None
        return self._parse(text, context)

    def _parse(self, text: str, context: str) -> Script | None:
        if not text.strip():
            return ()
        try:
            return parse(text, context=context)
        except OzmlError as exc:
            self._report(exc)
            return None

    # -- running ----------------------------------------------------------------------------------
    def _block(self, script: Script, frame: Frame) -> Flow:
        for verb in script:
            if self._cancelled.is_set():
                self._ended("cancelled")
                return Flow.STOP
            if frame.barge_in and self.leg is not None and self.leg.keypad.wait(0):
                return Flow.NEXT  # a key was pressed: the menu stops prompting and reads it
            flow = self._step(verb, frame)
            if flow is not Flow.NEXT:
                return flow
            if self.leg is not None and self.leg.state in ENDED and self._owned:
                self._ended(self._why_ended())
                return Flow.STOP
        return Flow.NEXT

    def _step(self, verb: v.Verb, frame: Frame) -> Flow:
        handler = self._handlers[type(verb)]
        verb = self.scope.expand(verb)
        if (self._owned and self.leg is not None and self.leg.state == RINGING
                and not isinstance(verb, _BEFORE_ANSWER)):
            self.leg.answer()
        try:
            return handler(verb, frame)
        except ApiError as exc:  # e.g. 501 from SendSms, 601 from a third-party CallId: reported, script goes on
            self._report(exc)
        except PigateError as exc:  # a media or modem failure on this verb
            log.warning("%s: %s at line %d failed: %s", self._call_id(), verb.TAG, verb.line, exc)
        return Flow.NEXT

    def _leg(self, verb: v.Verb) -> Leg:
        """The leg a verb acts on: in third-party scripts a CallId/Party may pick another call's leg."""
        call_id, party = getattr(verb, "call_id", None), getattr(verb, "party", None)
        if not self._owned and (call_id or party):
            return self.services.find_leg(call_id or self._call_id(), party=party)
        if self.leg is None:
            raise InappropriateCommand(verb.TAG)  # a call verb in an answer about an SMS
        return self.leg

    # -- media ------------------------------------------------------------------------------------
    def _delay(self, verb: v.Delay, frame: Frame) -> Flow:
        if self.leg is None:
            self._cancelled.wait(min(verb.seconds, MAX_DETACHED_DELAY))
        elif frame.barge_in:
            self.leg.keypad.wait(verb.seconds)
        else:
            self.leg.keypad.sleep(verb.seconds)
        return Flow.NEXT

    def _speak(self, verb: v.Speak, frame: Frame) -> Flow:
        self._leg(verb).speak(verb.text, language=verb.language, voice=verb.voice, interruptible=frame.barge_in)
        return Flow.NEXT

    def _play(self, verb: v.Play, frame: Frame) -> Flow:
        self._leg(verb).play(verb.audio_file, repeat=verb.repeat, timeout=verb.timeout,
                             interruptible=frame.barge_in)
        return Flow.NEXT

    def _beep(self, verb: v.Beep, frame: Frame) -> Flow:
        self._leg(verb).beep()
        return Flow.NEXT

    def _record(self, verb: v.Record, frame: Frame) -> Flow:
        leg = self._leg(verb)
        result = leg.record(format=verb.format, duration=verb.duration, inactivity=verb.inactivity,
                            finish_digits=verb.finish_digits, path=verb.record_path)
        if result.success and result.path:
            self._recording = result.path
        if not verb.finished_url:
            return Flow.NEXT
        context = "RecordCompleted" if self._owned else "ThirdPartyRecordCompleted"
        fields = messages.record_completed(success=result.success, duration=result.duration if result.success else 0,
                                           record_url=result.url if result.success else "", caller=leg.caller,
                                           callee=leg.callee, call_id=None if self._owned else leg.id)
        return self._answer(verb.finished_url, fields, replace(frame, context=context, barge_in=False))

    def _answer(self, url: str, fields: dict[str, str], frame: Frame) -> Flow:
        """Post a notification mid-script and run the OzML it returns in place; an unusable answer ends the call."""
        script = self._fetch_script(url, fields, frame.context)
        if script is None:
            self._end_owned_call("error")
            return Flow.STOP
        return self._block(script, frame)

    # -- menus ------------------------------------------------------------------------------------
    def _user_input(self, verb: v.UserInput, frame: Frame) -> Flow:
        leg = self._leg(verb)
        by_key = {i.key: i for i in verb.inputs}
        inner = replace(frame, menus=frame.menus + 1, barge_in=False)
        rounds = 0
        while True:
            leg.keypad.clear()
            if self._block(verb.initial_commands, replace(frame, barge_in=True)) is Flow.STOP:
                return Flow.STOP
            got = menu.collect(leg.keypad, verb)
            if got.kind == menu.HUNG_UP:
                self._ended("caller")
                return Flow.STOP
            if got.kind == menu.BACK and frame.menus:
                return Flow.BACK
            if got.kind == menu.DIGITS and got.digits in by_key:
                flow = self._block(by_key[got.digits].commands, inner)
            elif got.kind == menu.DIGITS and verb.forward_to_url:
                fields = messages.dtmf_entered(dtmf_digits=got.digits, call_leg_id=leg.id,
                                               api_extension=leg.api_extension)
                flow = self._answer(verb.forward_to_url, fields, replace(inner, context="DtmfEntered"))
            else:  # timeout, digits nobody handles, or BackKey in the outermost menu (which replays it)
                rounds += 1
                if not (verb.repeat or got.kind == menu.BACK) or rounds >= self.max_menu_rounds:
                    return Flow.NEXT
                continue
            if flow is not Flow.BACK:
                return flow

    # -- call control -----------------------------------------------------------------------------
    def _goto(self, verb: v.GoTo, frame: Frame) -> Flow:
        self.report.hops += 1
        if self.report.hops > self.max_hops:
            self._report(OzmlError(303, "GoTo", line=verb.line, column=verb.column))
            self._end_owned_call("error")
            return Flow.STOP
        script = self._fetch_script(verb.url, messages.goto(), "GoTo")
        if script is None:
            self._end_owned_call("error")
            return Flow.STOP
        flow = self._block(script, replace(frame, context="GoTo", barge_in=False))
        return Flow.BACK if flow is Flow.BACK else Flow.STOP

    def _blind_transfer(self, verb: v.BlindTransfer, frame: Frame) -> Flow:
        if self._leg(verb).blind_transfer(verb.target, transferor_party=verb.transferor_party):
            return self._stop_if_ours(verb, "transferred")
        log.info("%s: blind transfer to %s failed, going on", self._call_id(), verb.target)
        return Flow.NEXT

    def _attended_transfer(self, verb: v.AttendedTransfer, frame: Frame) -> Flow:
        self.services.attended_transfer(verb.transferred_call_id, verb.target_call_id)
        return Flow.NEXT

    def _forward(self, verb: v.Forward, frame: Frame) -> Flow:
        self._leg(verb).forward(verb.destination)
        return self._stop_if_ours(verb, "transferred")

    def _hangup(self, verb: v.Hangup, frame: Frame) -> Flow:
        self._leg(verb).hangup()
        return self._stop_if_ours(verb, "hangup")

    def _reject(self, verb: v.Reject, frame: Frame) -> Flow:
        self._leg(verb).reject()
        return self._stop_if_ours(verb, "rejected")

    def _hold(self, verb: v.Hold, frame: Frame) -> Flow:
        self._leg(verb).hold()
        return Flow.NEXT

    def _unhold(self, verb: v.Unhold, frame: Frame) -> Flow:
        self._leg(verb).unhold()
        return Flow.NEXT

    def _send_dtmf(self, verb: v.SendDTMF, frame: Frame) -> Flow:
        self._leg(verb).send_dtmf(verb.keys)
        return Flow.NEXT

    def _route(self, verb: v.Route, frame: Frame) -> Flow:
        raise InappropriateCommand(verb.TAG)  # a routing decision, not a call-script command

    # -- messaging and new calls ------------------------------------------------------------------
    def _send_sms(self, verb: v.SendSms, frame: Frame) -> Flow:
        self.services.send_sms(verb.recipient, verb.message, sender=verb.sender,
                               api_extension=verb.api_extension or self.api_extension,
                               delivery_report_url=verb.delivery_report_url)
        return Flow.NEXT

    def _call(self, verb: v.Call, frame: Frame) -> Flow:
        self.services.call(verb.dialed, api_extension=verb.api_extension or self.api_extension,
                           caller_id=verb.caller_id, caller_display_name=verb.caller_display_name, url=verb.url,
                           error_url=verb.error_url, response_ozml=verb.response_ozml,
                           finished_url=verb.finished_url, ring_time=verb.ring_time)
        return Flow.NEXT

    def _call_setup(self, verb: v.CallSetup, frame: Frame) -> Flow:
        self.services.call_setup(verb.caller, verb.callee, error_url=verb.error_url, api_extension=self.api_extension)
        return Flow.NEXT

    # -- script structure -------------------------------------------------------------------------
    def _exit(self, verb: v.Exit, frame: Frame) -> Flow:
        self._ended("exit")
        return Flow.STOP

    def _var(self, verb: v.Var, frame: Frame) -> Flow:
        self.scope.values[verb.id] = verb.value
        return Flow.NEXT

    def _array(self, verb: v.Array, frame: Frame) -> Flow:
        self.scope.arrays[verb.id] = tuple(self.scope.substitute(item) for item in verb.items)
        return Flow.NEXT

    def _for_each(self, verb: v.ForEach, frame: Frame) -> Flow:
        if verb.source not in self.scope.arrays:
            raise InvalidParameter("Source", verb.TAG)
        for item in self.scope.arrays[verb.source]:
            with self.scope.binding("item", item):
                flow = self._block(verb.body, frame)
            if flow is not Flow.NEXT:
                return flow
        return Flow.NEXT

    # -- endings and errors -----------------------------------------------------------------------
    def _call_id(self) -> str:
        return self.leg.id if self.leg is not None else ""

    def _report(self, error: ApiError) -> None:
        self.report.errors.append(error)
        log.warning("%s: %s", self._call_id() or "OzML", error)
        try:
            self.on_error(error, self._call_id())
        except Exception:  # the error URL being down must not end the session
            log.exception("%s: could not post the Error notification", self._call_id())

    def _ended(self, why: str) -> None:
        if self.report.ended == "script":
            self.report.ended = why

    def _why_ended(self) -> str:
        return "transferred" if self.leg is not None and self.leg.state == "Transferred" else "caller"

    def _stop_if_ours(self, _verb: v.Verb, why: str) -> Flow:
        """After a verb that ends a call: the session stops if that call was its own leg."""
        if self.leg is not None and self.leg.state in ENDED:
            self._ended(why)
            return Flow.STOP
        return Flow.NEXT

    def _end_owned_call(self, why: str) -> None:
        """The owner's rule: the API extension's call is hung up when its script is over or broken."""
        self._ended(why)
        if self._owned and self.leg is not None and self.leg.state not in ENDED:
            try:
                if why == "error":
                    self.leg.fail()
                else:
                    self.leg.hangup()
            except Exception:  # the session thread must end cleanly even if the driver is broken
                log.exception("%s: hang-up failed", self._call_id())
