"""The verbs pigate adds to the runner beyond telephony and SMS: e-mail, SendMessage, messages between scripts,
files, Request and alarm calls. A mixin of Runner: it uses the session's leg, scope, services and blocks."""

from __future__ import annotations

import logging
from pathlib import Path

from pigate.alarm import contactid
from pigate.alarm import receiver as alarm_receiver
from pigate.alarm import sender as alarm_sender
from pigate.errors import ApiError, ConfigNotFound, InvalidParameter, NotifyError, NotImplementedCommand
from pigate.notify import messages
from pigate.ozml import verbs as v
from pigate.ozml.files import ScriptFiles
from pigate.ozml.flow import MAX_DETACHED_DELAY, Flow, Frame
from pigate.ozml.leg import ENDED, RINGING
from pigate.ozml.mailbox import Mailboxes

log = logging.getLogger(__name__)

# How often Request looks at the call it placed.
REQUEST_POLL = 0.1


class OurVerbs:
    """Handlers the Runner registers for these verbs (see `our_handlers`)."""

    def our_handlers(self) -> dict:
        return {
            v.SendMessage: self._send_message, v.SendEmail: self._send_email, v.SendMsg: self._send_msg,
            v.WaitForMsg: self._wait_for_msg, v.DeleteFile: self._delete_file, v.MoveFile: self._move_file,
            v.Request: self._request, v.ReceiveAlarmNotification: self._receive_alarm,
            v.SendAlarmNotification: self._send_alarm,
        }

    # -- messaging --------------------------------------------------------------------------------
    def _send_message(self, verb: v.SendMessage, frame: Frame) -> Flow:
        for number in v.recipients_of(verb.recipient):
            self.services.send_sms(number, verb.message_data, sender=verb.originator,
                                   api_extension=verb.api_extension or self.api_extension, delivery_report_url=None)
        return Flow.NEXT

    def _send_email(self, verb: v.SendEmail, frame: Frame) -> Flow:
        """Commits the mail and goes on: the mail service's worker talks to the relay, never this session."""
        if self.extras.email is None:
            raise ConfigNotFound("email")
        attachments = []
        if verb.attach == "recording":
            if not self._recording:
                raise InvalidParameter("Attach", verb.TAG, detail="no recording to attach")
            attachments.append(Path(self._recording))
        self.extras.email.submit(verb.recipient, verb.message, api_extension=self.api_extension, sender=verb.sender,
                                 subject=verb.subject, attachments=attachments, command=verb.TAG)
        return Flow.NEXT

    # -- messages between live scripts ------------------------------------------------------------
    def _mailboxes(self, verb: v.Verb) -> Mailboxes:
        if self.extras.mailboxes is None:
            raise NotImplementedCommand(verb.TAG)
        return self.extras.mailboxes

    def _send_msg(self, verb: v.SendMsg, frame: Frame) -> Flow:
        self._mailboxes(verb).send(verb.connection, verb.message)
        return Flow.NEXT

    def _wait_for_msg(self, verb: v.WaitForMsg, frame: Frame) -> Flow:
        """Blocks this session only; ends early when the call is over or the session is cancelled."""
        timeout = verb.timeout if self.leg is not None else min(verb.timeout, MAX_DETACHED_DELAY)
        leg = self.leg

        def interrupted() -> bool:
            return self._cancelled.is_set() or (leg is not None and leg.state in ENDED)

        got = self._mailboxes(verb).wait(verb.connection, timeout, interrupted=interrupted)
        if got is not None:
            self.scope.values[verb.var] = got
            return Flow.NEXT
        if interrupted():
            return Flow.NEXT  # the block's own check ends the session
        return self._block(verb.on_timeout, frame)

    # -- files ------------------------------------------------------------------------------------
    def _files(self, verb: v.Verb) -> ScriptFiles:
        if self.extras.files is None:
            raise NotImplementedCommand(verb.TAG)
        return self.extras.files

    def _delete_file(self, verb: v.DeleteFile, frame: Frame) -> Flow:
        self._files(verb).delete(verb.path, command=verb.TAG)
        return Flow.NEXT

    def _move_file(self, verb: v.MoveFile, frame: Frame) -> Flow:
        self._files(verb).move(verb.source, verb.target, command=verb.TAG)
        return Flow.NEXT

    # -- calls placed by the script ---------------------------------------------------------------
    def _request(self, verb: v.Request, frame: Frame) -> Flow:
        """Place the call (its answered script is OnAnswered, or RequestOzML), then follow it to its end and run
        the handler of its fate here. A call that cannot be placed runs OnError (reported when there is none)."""
        ozml = self.scope.substitute(verb.request_ozml or f"<Response>{verb.answered_ozml}</Response>")
        try:
            call_id = self.services.call(
                verb.dialed_address, api_extension=verb.extension_address or self.api_extension,
                caller_id=verb.caller_phone_number, caller_display_name=verb.caller_display_name, url=None,
                error_url=None, response_ozml=ozml, finished_url=None, ring_time=verb.ring_time)
        except ApiError as exc:
            if not verb.has("OnError"):
                raise
            log.info("%s: Request to %s failed: %s", self._call_id() or "OzML", verb.dialed_address, exc)
            return self._block(verb.handler("OnError"), frame)
        flow = self._block(verb.handler("OnSetup"), frame)
        rang = False
        fate = None
        while flow is Flow.NEXT:
            if self._cancelled.is_set() or (self.leg is not None and self.leg.state in ENDED and self._owned):
                return Flow.NEXT  # the block's own checks end the session
            fate = self.services.call_fate(call_id)
            if fate is None or fate.ended:
                break
            if not rang and fate.state == RINGING:
                rang = True
                flow = self._block(verb.handler("OnRinging"), frame)
                continue
            self._cancelled.wait(REQUEST_POLL)
        if flow is not Flow.NEXT:
            return flow
        if fate is not None and fate.answered:
            return self._block(verb.handler("OnCompleted"), frame)
        busy = fate is not None and "Busy" in (fate.state, fate.result)
        return self._block(verb.handler("OnBusy" if busy and verb.has("OnBusy") else "OnError"), frame)

    # -- alarm calls (Contact ID) -----------------------------------------------------------------
    def _receive_alarm(self, verb: v.ReceiveAlarmNotification, frame: Frame) -> Flow:
        """Each event acknowledged (kissoff) is committed to the durable webhook queue before the next block is
        read, so an app that is down gets it once it is back, across restarts of the daemon."""
        leg = self._leg(verb)
        queue = self.extras.notifications
        count = [0]

        def post(event) -> None:
            fields = messages.alarm_notification(
                call_id=leg.id, caller=leg.caller, account=event.account, message_type=event.message_type,
                qualifier=event.qualifier, kind=event.kind, event_code=event.event_code, partition=event.partition,
                zone=event.zone, raw=event.raw)
            count[0] += 1
            if queue is not None:
                queue.queue_notification(messages.ALARM_NOTIFICATION, f"{leg.id}:{count[0]}", verb.url, fields)
                return
            try:
                self.fetch(verb.url, fields)
            except (ApiError, NotifyError) as exc:
                log.warning("%s: AlarmNotification to %s failed: %s", leg.id, verb.url, exc)

        alarm_receiver.receive(leg, on_event=post, wait=verb.timeout, stopped=self._cancelled.is_set)
        return Flow.NEXT

    def _send_alarm(self, verb: v.SendAlarmNotification, frame: Frame) -> Flow:
        leg = self._leg(verb)
        block = contactid.encode_block(verb.account, verb.event_code, qualifier=verb.qualifier,
                                       partition=verb.partition, zone=verb.zone)
        report = alarm_sender.send(leg, [block])
        ok = bool(report.acknowledged)
        log.info("%s: Contact ID %s %s", leg.id, block, "acknowledged" if ok else "not acknowledged")
        if verb.finished_url:
            fields = messages.alarm_notification_sent(call_id=leg.id, account=verb.account.upper(),
                                                      event_code=verb.event_code.upper(), acknowledged=ok,
                                                      attempts=report.attempts)
            try:
                self.fetch(verb.finished_url, fields)
            except (ApiError, NotifyError) as exc:
                log.warning("%s: AlarmNotificationSent to %s failed: %s", leg.id, verb.finished_url, exc)
        return Flow.NEXT
