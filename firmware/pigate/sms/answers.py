"""OzML answering a notification about no call (IncomingSMS, SMSDeliveryReport), run on a small bounded pool.

Such a script has no leg: SendSms, Call, GoTo, Var/ForEach and Delay (capped by the runner) do something;
voice verbs are the runner's to refuse. At most `workers` scripts run at once so a burst of incoming SMS
cannot make a thread each; the rest wait their turn in order.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from pigate.errors import ApiError, NotImplementedCommand, PigateError
from pigate.notify import messages
from pigate.ozml.leg import Leg
from pigate.ozml.runner import Runner
from pigate.ozml.services import CallFate, EmailSender, Fetch, ScriptExtras, ScriptServices

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetachedScript:
    """An app's OzML answer to a notification that is about a message, not a call."""

    context: str  # messages.INCOMING_SMS or messages.SMS_DELIVERY_REPORT
    api_extension: str
    subject: str  # the message id the notification was about (for logs)
    ozml: str


class _ScriptServices:
    """What one detached script reaches: SendSms, each carrying a reference derived from what the script
    answers, and the call service's verbs when the box has one (else 301, reported and the script goes on).

    The SMS service posts a notification at least once (a crash between acting on the answer and marking
    the post done posts it again); the reference makes the second run's SendSms the same message, not a new one.
    """

    def __init__(self, *, calls: ScriptServices | None, submit: Callable[..., str], prefix: str) -> None:
        self._calls = calls
        self._submit = submit
        self._prefix = prefix
        self._count = 0

    def send_sms(self, recipient: str, text: str, *, sender: str | None, api_extension: str,
                 delivery_report_url: str | None) -> str:
        self._count += 1
        return self._submit(recipient, text, api_extension=api_extension, sender=sender,
                            report_url=delivery_report_url, reference=f"{self._prefix}:{self._count}")

    def _with_calls(self, verb: str) -> ScriptServices:
        if self._calls is None:
            raise NotImplementedCommand(verb)
        return self._calls

    def call(self, *args: object, **kwargs: object) -> str:
        return self._with_calls("Call").call(*args, **kwargs)

    def call_fate(self, call_id: str) -> CallFate | None:
        return self._with_calls("Request").call_fate(call_id)

    def call_setup(self, *args: object, **kwargs: object) -> str:
        return self._with_calls("CallSetup").call_setup(*args, **kwargs)

    def attended_transfer(self, *args: object, **kwargs: object) -> None:
        self._with_calls("AttendedTransfer").attended_transfer(*args, **kwargs)

    def find_leg(self, call_id: str, *, party: str | None) -> Leg:
        return self._with_calls("third-party call control").find_leg(call_id, party=party)


class _ReferencedEmail:
    """The mail service for one detached script: each SendEmail carries a reference derived from the script,
    so a notification posted twice (see _ScriptServices) does not send its mails twice."""

    def __init__(self, *, email: EmailSender, prefix: str) -> None:
        self._email, self._prefix, self._count = email, prefix, 0

    def submit(self, recipients: str, text: str, **kwargs: object) -> str:
        self._count += 1
        kwargs["reference"] = f"{self._prefix}:mail:{self._count}"
        return self._email.submit(recipients, text, **kwargs)  # type: ignore[arg-type]


class DetachedScripts:
    """Runs DetachedScripts through the OzML runner; errors become Error notifications to the error URL.

    `submit` is the SMS service's (it takes the idempotency `reference`); `calls` the call service's script
    services, None on a box without one.
    """

    def __init__(self, *, submit: Callable[..., str], calls: ScriptServices | None, fetch: Fetch,
                 error_url: Callable[[str], str], workers: int = 4, extras: ScriptExtras = ScriptExtras()) -> None:
        self._calls = calls
        self._extras = extras
        self._submit = submit
        self._fetch = fetch
        self._error_url = error_url
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ozml-detached")
        self._live: set[Runner] = set()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, script: DetachedScript) -> None:
        with self._lock:
            if self._closed:
                log.warning("%s answer about %s dropped: shutting down", script.context, script.subject)
                return
            self._pool.submit(self._run, script)

    def _run(self, script: DetachedScript) -> None:
        prefix = f"{script.context}:{script.subject}"
        services = _ScriptServices(calls=self._calls, submit=self._submit, prefix=prefix)
        extras = self._extras
        if extras.email is not None:
            extras = dataclasses.replace(extras, email=_ReferencedEmail(email=extras.email, prefix=prefix))
        runner = Runner(leg=None, services=services, fetch=self._fetch, on_error=self._reporter(script),
                        api_extension=script.api_extension, extras=extras)
        with self._lock:
            if self._closed:
                return
            self._live.add(runner)
        try:
            report = runner.run(context=script.context, ozml=script.ozml)
            log.info("%s answer about %s ran: %s", script.context, script.subject, report.ended)
        finally:
            with self._lock:
                self._live.discard(runner)

    def _reporter(self, script: DetachedScript) -> Callable[[ApiError, str], None]:
        def on_error(error: ApiError, call_id: str) -> None:
            url = self._error_url(script.api_extension)
            log.warning("%s answer about %s: %s", script.context, script.subject, error)
            if not url:
                return
            try:
                self._fetch(url, messages.error_from(error, call_id=call_id))
            except PigateError as exc:
                log.warning("Error notification to %s failed: %s", url, exc)

        return on_error

    def stop(self, timeout: float = 5.0) -> None:
        """Refuse new scripts, end the running ones at their next step, and drop the ones still waiting."""
        with self._lock:
            self._closed = True
            live = list(self._live)
        for runner in live:
            runner.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
