"""Third-party control of live calls: the HTTP call commands and OzML answers to CallChanged.

Quick operations (Hangup, Hold, Unhold, Forward) run on the caller's thread. Media and DTMF (Speak, Play,
Record, SendDTMF, BlindTransfer) and CallChanged scripts run on the call's control queue, so the HTTP answer
is immediate and the actions of one call happen in the order they were asked for.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from pigate.errors import ApiError, CallNotFound, InvalidParameter, MediaError, PigateError
from pigate.media import MediaLibrary, is_url
from pigate.notify import messages
from pigate.ozml.runner import Runner
from .notify import CallNotifications
from .registry import CallRegistry
from pigate.workers import TaskQueue
from .leg import ServiceLeg

log = logging.getLogger(__name__)

_DTMF = re.compile(r"^[0-9*#A-Da-d]{1,64}$")


class ThirdPartyControl:
    def __init__(self, *, registry: CallRegistry, notify: CallNotifications, runner: Callable[[ServiceLeg], Runner],
                 library: MediaLibrary | None) -> None:
        self._registry = registry
        self._notify = notify
        self._runner = runner
        self._library = library

    def hangup(self, call_id: str) -> None:
        self._registry.find(call_id).leg.hangup()

    def hold(self, call_id: str) -> None:
        self._registry.find(call_id).leg.hold()

    def unhold(self, call_id: str) -> None:
        self._registry.find(call_id).leg.unhold()

    def forward(self, call_id: str, destination: str) -> None:
        """Send a ringing incoming call elsewhere (call deflection); 303 once it was answered."""
        self._registry.find(call_id).leg.forward(destination)

    def send_dtmf(self, call_id: str, keys: str) -> None:
        if not _DTMF.match(keys):
            raise InvalidParameter("Keys", "SendDTMF")
        self._submit(call_id, lambda leg: leg.send_dtmf(keys.upper()))

    def speak(self, call_id: str, text: str, *, language: str | None = None, voice: str | None = None) -> None:
        self._submit(call_id, lambda leg: leg.speak(text, language=language, voice=voice))

    def play(self, call_id: str, source: str, *, repeat: bool = False, timeout: float | None = None) -> None:
        self._registry.find(call_id)
        if not is_url(source) and self._library is not None:
            try:
                self._library.local_path(source)  # a missing or escaping file is the command's error, now
            except MediaError as exc:
                raise InvalidParameter("AudioFile", "Play") from exc
        self._submit(call_id, lambda leg: leg.play(source, repeat=repeat, timeout=timeout))

    def blind_transfer(self, call_id: str, target: str) -> None:
        def transfer(leg: ServiceLeg) -> None:
            if not leg.blind_transfer(target):
                log.info("call %s: blind transfer to %s failed", leg.id, target)

        self._submit(call_id, transfer)

    def record(self, call_id: str, *, format: str = "mp3", finished_url: str | None = None,
               duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None) -> None:
        def record(leg: ServiceLeg) -> None:
            result = leg.record(format=format, duration=duration, inactivity=inactivity, finish_digits=finish_digits)
            if finished_url:
                fields = messages.record_completed(
                    success=result.success, duration=result.duration if result.success else 0,
                    record_url=result.url if result.success else "", caller=leg.caller, callee=leg.callee,
                    call_id=leg.id)
                self._answer(leg, finished_url, fields, "ThirdPartyRecordCompleted")

        self._submit(call_id, record)

    def run_script(self, call_id: str, ozml: str) -> None:
        """An app answered CallChanged with OzML: run it on that call, if the call is still up."""
        try:
            self._submit(call_id, lambda leg: self._runner(leg).run(context="CallChanged", ozml=ozml))
        except CallNotFound:
            log.info("call %s ended before its CallChanged answer could run", call_id)

    def _answer(self, leg: ServiceLeg, url: str, fields: dict[str, str], context: str) -> None:
        try:
            answer = self._notify.post_now(url, fields)
        except PigateError as exc:
            log.warning("call %s: %s to %s failed: %s", leg.id, fields.get("NotificationName"), url, exc)
            return
        if answer.strip() and leg.call.live:
            self._runner(leg).run(context=context, ozml=answer)

    def _submit(self, call_id: str, task: Callable[[ServiceLeg], object]) -> None:
        live = self._registry.find(call_id)
        leg = live.leg

        def run() -> None:
            try:
                task(leg)
            except ApiError as exc:
                self._notify.error(messages.error_from(exc, call_id=leg.id), self._notify.error_url(leg.call))
            except PigateError as exc:  # media or modem trouble on this one action; the call goes on
                log.warning("call %s: %s", leg.id, exc)

        with self._registry.lock:
            if live.control is None:
                live.control = TaskQueue(name=f"call-{live.record.id}-control")
            queue = live.control
        if not queue.submit(run):
            raise CallNotFound(call_id)
