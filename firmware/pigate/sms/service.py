"""The SMS service's public face: accept messages durably, send them on free lines, match delivery reports,
receive and reassemble, notify apps, answer USSD, and report the state of messages and lines.

Threads: one worker per GSM line (`outbox.LineWorker`: submissions and that line's receive tasks), one for
notifications and timers (`hooks.HookWorker`). Event-bus handlers only hand work to those threads.

Crash rule (the README's "What accepted means for an SMS"): a part left `submitting` by a crash, or whose
AT+CMGS timed out after the PDU was written, is *in doubt* and is never resent blindly. It is settled by the
next message reference the same modem hands out (modems number submissions consecutively: none of the parts
in doubt took a reference -> resend; all did -> sent), by a late +CMGS, or by its status report; otherwise it
is failed with the reason "outcome unknown" after `doubt_timeout`. So every accepted message reaches the
network exactly once or is recorded as failed.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from pigate import errors
from pigate import routing as routes
from pigate.config import ApiExtension, Config, NotificationsConfig, SmsConfig
from pigate.events import EventBus
from pigate.modem import events as ev
from pigate.notify import messages
from pigate.retry import RetryPolicy
from pigate.routing import Routing
from . import codec
from .inbox import Receiver, join_parts
from .outbox import READY_STATES, Line, LineWorker
from .reports import ReportMatcher
from .hooks import HookWorker, Poster
from .answers import DetachedScript
from pigate.store import Database
from pigate.store.sms import (Hook, InboundSms, NewSms, OutboundPart, OutboundSms, Pdu, SmsStore)

log = logging.getLogger(__name__)

__all__ = ["SmsService", "Line", "OutboundSms", "OutboundPart", "InboundSms", "from_config"]


# The OzML an app answers IncomingSMS or SMSDeliveryReport with goes here (sms/answers.py: DetachedScripts).
AnswerHandler = Callable[[DetachedScript], None]


class SmsService:
    def __init__(self, *, store: SmsStore, lines: Sequence[Line], extensions: Sequence[ApiExtension],
                 bus: EventBus, poster: Poster | None, incoming_sms_url: str = "",
                 settings: SmsConfig = SmsConfig(), answer_handler: AnswerHandler | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.settings, self._bus, self._clock = store, settings, bus, clock
        self._lines = {line.name: line for line in lines}
        self._extensions = {e.id: e for e in extensions}
        self._routing = Routing(extensions=extensions, defaults=NotificationsConfig(incoming_sms_url=incoming_sms_url))
        self._answer = answer_handler
        retry = RetryPolicy(attempts=settings.max_attempts, base=settings.retry_base, cap=settings.retry_cap)
        self._workers = {name: LineWorker(line=line, store=store, retry=retry, hook=self._outbound_hook, clock=clock)
                         for name, line in self._lines.items()}
        self._receivers = {name: Receiver(line=line, store=store, route=self._route, hook=self._inbound_hook,
                                          on_report=self._report_from_storage(name), clock=clock)
                           for name, line in self._lines.items()}
        self._reports = {name: ReportMatcher(line=line, store=store, window=settings.report_window,
                                             hook=self._outbound_hook, clock=clock)
                         for name, line in self._lines.items()}
        self._hooks = HookWorker(store=store, poster=poster,
                                 policy=RetryPolicy(attempts=settings.hook_attempts, base=settings.hook_backoff,
                                                    cap=settings.hook_backoff_cap),
                                 on_answer=self._on_hook_answer, upkeep=self._upkeep, clock=clock)
        self._unsubscribe: list[Callable[[], None]] = []
        self._next_sweep = clock() + settings.sweep_interval

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        doubt = self.store.in_doubt_at_start(now=self._clock())
        if doubt:
            log.warning("%d SMS part(s) were being submitted when the daemon stopped; they are in doubt", doubt)
        for key, handler in ((ev.MODEM_SMS, self._on_sms_event), (ev.StateChanged, self._on_state)):
            self._unsubscribe.append(self._bus.subscribe(key, handler))
        for name, worker in self._workers.items():
            worker.start()
            # A line not up yet is swept by _on_state when it comes up (subscribed above, so none is missed).
            if self._lines[name].modem.state in READY_STATES:
                worker.post(self._receivers[name].sweep)
        self._hooks.start()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for worker in self._workers.values():
            worker.stop()
        self._hooks.stop()

    def set_extensions(self, extensions: Sequence[ApiExtension]) -> None:
        """API extensions changed over the API, applied live (readers take a snapshot or a single lookup)."""
        self._extensions = {e.id: e for e in extensions}
        self._routing.set_extensions(extensions)

    # ---- sending -------------------------------------------------------------------------------

    def submit(self, recipient: str, text: str, *, api_extension: str, sender: str | None = None,
               report_url: str | None = None, reference: str | None = None, command: str = "SendSms") -> str:
        """Validate, store durably, and return the SmsId; ApiErrors (401, 302, 501) name what is wrong."""
        ext = self._extensions.get(api_extension)
        if ext is None:
            raise errors.ApiExtensionUnavailable(api_extension)
        try:
            number = codec.normalize_number(recipient)
        except codec.CodecError as exc:
            raise errors.InvalidParameter("Recipient", command) from exc
        if not text:
            raise errors.InvalidParameter("Message", command)
        report_url = (report_url or "").strip()
        if report_url and not report_url.lower().startswith(("http://", "https://")):
            raise errors.InvalidParameter("DeliveryReportURL", command)
        lines = self._lines_for(ext, sender)
        if not lines:
            raise errors.SmsDestinationNotFound()
        encoding = codec.encoding_for(text)

        def encode(concat_ref: int) -> list[Pdu]:
            try:
                parts = codec.encode_submit(number, text, reference=concat_ref, max_parts=self.settings.max_parts,
                                            reference_bits=self.settings.concat_reference_bits)
            except codec.CodecError as exc:
                raise errors.InvalidParameter("Message", command, detail=str(exc)) from exc
            return [Pdu(p.hex, p.tpdu_length) for p in parts]

        new = NewSms(api_extension=ext.id, recipient=number, text=text, encoding=encoding, sender=sender or "",
                     lines=tuple(lines) if set(lines) != set(self._lines) else (), report_url=report_url,
                     client_ref=reference or "")
        sms_id, created = self.store.add_outgoing(new, encode, now=self._clock())
        if created:
            for name in lines:
                self._workers[name].wake()
        return sms_id

    def _lines_for(self, ext: ApiExtension, sender: str | None) -> list[str]:
        allowed = [n for n in (ext.lines or list(self._lines)) if n in self._lines]
        if sender:
            own = [n for n in allowed if codec.same_number(self._lines[n].number, sender)]
            if own:
                return own  # a Sender that is one of our lines' numbers picks that line
        return allowed

    # ---- reading state -------------------------------------------------------------------------

    def get(self, sms_id: str) -> tuple[OutboundSms, list[OutboundPart]] | None:
        return self.store.get_outgoing(sms_id)

    def list(self, *, states: Iterable[str] = (), offset: int = 0, limit: int = 20) -> tuple[int, list[OutboundSms]]:
        return self.store.list_outgoing(states=states, offset=offset, limit=limit)

    def receive(self, *, limit: int, after: str) -> list[InboundSms]:
        """Poll the inbox (unread messages, oldest first); `after` is 'delete', 'markread' or 'nothing'."""
        msgs = self.store.incoming(unread_only=True, limit=limit)
        ids = [m.id for m in msgs]
        if ids and after == "delete":
            self.store.delete_incoming(ids)
        elif ids and after == "markread":
            self.store.mark_read(ids)
        return msgs

    def line_status(self) -> list[dict[str, Any]]:
        counts = self.store.counts()
        out = []
        for name, line in self._lines.items():
            try:
                status = dict(line.modem.status())
            except Exception as exc:  # a status page must show a broken line, not fail
                status = {"state": "unknown", "last_error": str(exc)}
            status.update(name=name, number=line.number, submitted=self._workers[name].submitted,
                          messages={state: n for (ln, state), n in counts.items() if ln == name})
            out.append(status)
        return out

    def waiting(self) -> int:
        """Messages accepted but not yet assigned to a line."""
        return sum(n for (ln, state), n in self.store.counts().items() if ln is None and state == "queued")

    # ---- USSD ----------------------------------------------------------------------------------

    def ussd(self, code: str, *, api_extension: str) -> str:
        ext = self._extensions.get(api_extension)
        if ext is None:
            raise errors.ApiExtensionUnavailable(api_extension)
        names = [n for n in (ext.lines or list(self._lines)) if n in self._lines]
        ready = [n for n in names if self._lines[n].modem.state in READY_STATES]
        if not ready:
            raise errors.SmsDestinationNotFound()
        try:
            return self._lines[ready[0]].modem.ussd(code, self.settings.ussd_timeout)
        except errors.ModemError as exc:
            log.warning("USSD %s on %s failed: %s", code, ready[0], exc)
            raise errors.SmsDestinationNotFound() from exc

    # ---- events (on the bus's dispatcher thread: hand over, never block) -------------------------

    def _on_sms_event(self, event: ev.ModemEvent) -> None:
        name = event.name
        worker = self._workers.get(name)
        if worker is None:
            return
        if isinstance(event, ev.SmsStored):
            worker.post(lambda: self._receivers[name].on_stored(event.storage, event.index))
        elif isinstance(event, ev.SmsDelivered):
            worker.post(lambda: self._receivers[name].on_deliver(event.pdu_hex, event.needs_ack))
        elif isinstance(event, ev.StatusReport):
            worker.post(lambda: self._reports[name].on_report(event.pdu_hex, event.needs_ack))
        elif isinstance(event, ev.StatusReportStored):
            worker.post(lambda: self._reports[name].on_report_stored(event.storage, event.index))
        elif isinstance(event, ev.LateSubmit):
            if self.store.settle_late_answer(name, event.reference, now=self._clock(), hook=self._outbound_hook):
                log.info("%s: a late +CMGS settled an SMS part in doubt", name)

    def _on_state(self, event: ev.StateChanged) -> None:
        worker = self._workers.get(event.name)
        if worker is None:
            return
        if event.state in READY_STATES and event.previous not in READY_STATES:
            worker.post(self._receivers[event.name].sweep)  # what arrived while the line was away
        worker.wake()

    def _report_from_storage(self, name: str) -> Callable[[str], None]:
        return lambda pdu_hex: self._reports[name].on_report(pdu_hex)

    # ---- notifications ----------------------------------------------------------------------------

    def _route(self, line: str) -> tuple[str, str]:
        """The API extension an SMS arriving on `line` belongs to, and the line's number (its Recipient)."""
        return self._routing.extension_for_line(line), self._lines[line].number

    def _outbound_hook(self, msg: OutboundSms) -> tuple[str, str, dict[str, str]] | None:
        if not msg.report_url:
            return None
        fields = messages.sms_delivery_report(delivered=msg.state == "delivered", id=msg.id,
                                              api_extension=msg.api_extension)
        self._hooks.wake()  # harmless if the transaction queuing it rolls back: the round finds nothing
        return messages.SMS_DELIVERY_REPORT, msg.report_url, fields

    def _inbound_hook(self, msg: InboundSms) -> tuple[str, str, dict[str, str]] | None:
        url = self._routing.url(routes.INCOMING_SMS, msg.api_extension)
        if not url:
            return None  # no app configured: ReceiveMessage polling is the way in
        fields = messages.incoming_sms(sender=msg.sender, recipient=msg.recipient, id=msg.id,
                                       api_extension=msg.api_extension, message=msg.text)
        self._hooks.wake()
        return messages.INCOMING_SMS, url, fields

    def queue_notification(self, kind: str, subject: str, url: str, fields: dict[str, str]) -> None:
        """Post a notification through the durable webhook queue (committed when this returns, retried with the
        hooks' backoff while the app is down, across restarts); (kind, subject) is posted once. Its answer is
        not acted on (only IncomingSMS and SMSDeliveryReport answers run as scripts)."""
        if self.store.queue_hook(kind, subject, url, fields, now=self._clock()):
            self._hooks.wake()

    def _on_hook_answer(self, hook: Hook, answer: str) -> None:
        if not answer.strip() or hook.kind not in (messages.INCOMING_SMS, messages.SMS_DELIVERY_REPORT):
            return
        if self._answer is None:
            log.info("answer to %s %s ignored: no script runner", hook.kind, hook.subject)
            return
        if hook.kind == messages.INCOMING_SMS:
            msg = self.store.get_incoming(hook.subject)
            extension = msg.api_extension if msg is not None else ""
        else:
            extension = hook.fields.get("ApiExtension", "")
        self._answer(DetachedScript(context=hook.kind, api_extension=extension, subject=hook.subject, ozml=answer))

    # ---- timers (on the notification thread) -------------------------------------------------------

    def _upkeep(self, now: float) -> float | None:
        s = self.settings
        join = join_parts
        if self.store.expire_partial(before=now - s.reassembly_timeout, api_extension_for=self._route, join=join,
                                     now=now, hook=self._inbound_hook):
            self._hooks.wake()
        if self.store.expire_unknown(before=now - s.doubt_timeout, now=now, hook=self._outbound_hook):
            self._hooks.wake()
        oldest = self.store.next_partial_deadline()
        deadlines = [oldest + s.reassembly_timeout] if oldest is not None else []
        deadlines.append(now + min(s.doubt_timeout, 30.0))
        deadlines.append(self._sweep_due(now))
        return min(deadlines)

    def _sweep_due(self, now: float) -> float:
        """Sweep each ready line's storage every sweep_interval: a +CMTI lost while a port re-enumerated, or a
        message held by a full storage, would otherwise wait for the next restart or re-registration."""
        if now >= self._next_sweep:
            for name, worker in self._workers.items():
                if self._lines[name].modem.state in READY_STATES:
                    worker.post(self._receivers[name].sweep)
                    worker.wake()
            self._next_sweep = now + self.settings.sweep_interval
        return self._next_sweep

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: True once nothing is queued, sending, or in doubt, and no webhook is pending."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.store.counts()
            busy = sum(n for (_, state), n in counts.items() if state in ("queued", "sending"))
            pending = [h for h in self.store.hooks() if h["state"] == "pending"]
            if not busy and not pending:
                return True
            time.sleep(0.05)
        return False


def from_config(*, config: Config, db: Database, bus: EventBus, modems: Mapping[str, Any], poster: Poster | None,
                settings: SmsConfig | None = None, answer_handler: AnswerHandler | None = None) -> SmsService:
    """The service for the configured lines (`modems`: line name -> pigate.modem.Modem) and API extensions."""
    lines = [Line(m.name, m.number, modems[m.name], m.pacing) for m in config.modems if m.name in modems]
    return SmsService(store=SmsStore(db=db), lines=lines, extensions=config.api_extensions, bus=bus, poster=poster,
                      incoming_sms_url=config.notifications.incoming_sms_url,
                      settings=settings or config.sms, answer_handler=answer_handler)
