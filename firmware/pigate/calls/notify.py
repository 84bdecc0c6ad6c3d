"""The call service's notifications: CallChanged on every state change, Error, FinishedUrl; posted in order.

Where each goes: CallChanged to the API extension's call_changed_url, else [notifications]; Error to the
call's ErrorUrl (Call command), else the extension's error_url, else [notifications]. Posts run on one
ordered queue so an app sees Ringing before InCall before Completed; a non-empty answer to CallChanged is
third-party OzML and is handed back to the service to run on that call.

Error notifications carry the Ozeki code of what failed: 300-303 for OzML, 307 for a forbidden URL, and
(ours) 402 CallConnectFailed for an outgoing call that was busy, unanswered or failed after the Call
command was accepted, 501 and 601 for SendSms/third-party verbs inside scripts.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping, Protocol

from pigate import routing as routes
from pigate.errors import NotifyError, PigateError
from pigate.notify import messages
from pigate.routing import Routing
from pigate.workers import TaskQueue

from .model import CallRecord

log = logging.getLogger(__name__)


class Poster(Protocol):
    """pigate.notify.Notifier: posts form fields, returns the answer body."""

    def post(self, url: str, fields: Mapping[str, str]) -> str: ...


# Called with (call id, OzML text) when an app answers CallChanged with a script.
ScriptHandler = Callable[[str, str], None]


class CallNotifications:
    def __init__(self, *, poster: Poster | None, routing: Routing, on_script: ScriptHandler) -> None:
        self._poster = poster
        self._routing = routing
        self._on_script = on_script
        self.queue = TaskQueue(name="calls-notify", idle_exit=True)

    def incoming_call_url(self, api_extension: str) -> str:
        return self._routing.url(routes.INCOMING_CALL, api_extension)

    def error_url(self, call: CallRecord | None, api_extension: str = "") -> str:
        if call is not None and call.error_url:
            return call.error_url
        return self._routing.url(routes.ERROR, call.api_extension if call is not None else api_extension)

    def call_changed(self, call: CallRecord) -> None:
        """Queue CallChanged for `call` as it is now (pass a snapshot)."""
        url = self._routing.url(routes.CALL_CHANGED, call.api_extension)
        if not url:
            return
        fields = messages.call_changed(call_state=call.state, call_id=call.id, caller=call.source,
                                       caller_id=call.caller_id, callee=call.destination)
        self.queue.submit(lambda: self._post_call_changed(url, fields, call.id))

    def _post_call_changed(self, url: str, fields: dict[str, str], call_id: str) -> None:
        answer = self._post(url, fields)
        if answer.strip():
            self._on_script(call_id, answer)

    def error(self, fields: dict[str, str], url: str) -> None:
        if not url:
            log.info("call %s: error %s (%s) with no error URL to report it to", fields.get("CallId"),
                     fields.get("Code"), fields.get("Message"))
            return
        self.queue.submit(lambda: self._post(url, fields))

    def finished(self, call: CallRecord) -> None:
        """The Call command's FinishedUrl (ours: CallChanged's fields with the final state); the answer is ignored."""
        if not call.finished_url:
            return
        fields = messages.call_changed(call_state=call.state, call_id=call.id, caller=call.source,
                                       caller_id=call.caller_id, callee=call.destination)
        url = call.finished_url
        self.queue.submit(lambda: self._post(url, fields))

    def post_now(self, url: str, fields: Mapping[str, str]) -> str:
        """Post on the caller's thread (a session waiting for its answer); raises NotifyError/ApiError."""
        if self._poster is None:
            raise NotifyError("notifications are not configured")
        return self._poster.post(url, fields)

    def _post(self, url: str, fields: Mapping[str, str]) -> str:
        if self._poster is None:
            return ""
        try:
            return self._poster.post(url, fields)
        except PigateError as exc:  # NotifyError, ForbiddenTarget (307): the app is told nothing more
            log.warning("%s to %s failed: %s", fields.get("NotificationName"), url, exc)
            return ""

    def close(self, timeout: float = 5.0) -> None:
        self.queue.close(timeout)
