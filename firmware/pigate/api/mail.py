"""The e-mail HTTP commands: SendEmail, GetEmail, ListEmail.

- SendEmail (ApiExtension*, Recipient* (one address or several, comma separated), Message, Subject, Sender
  (default: `[email] sender`), Reference (ours: a client key that makes a resubmission return the same EmailId)):
  `<EmailId>`, only once the mail is committed. 701 when no relay is configured.
- GetEmail (EmailId*): `<Email>` with EmailId, State (queued, sending, transferring, sent, failed, unknown),
  Reason, Attempts, Sender, Recipient, Subject, MessageId, Attachments, Created, Updated, Sent.
- ListEmail (State: comma-separated filter; PageNumber from 0; RowsPerPage 1-500, default 20):
  `<TotalRecords>` then `<EmailList><Email>` as GetEmail.
"""

from __future__ import annotations

import time

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.responses import Element
from pigate.errors import InvalidParameter
from pigate.mail import MailService
from pigate.store.email import STATES, Email


def _time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def _email(mail: Email) -> Element:
    return ("Email", [("EmailId", mail.id), ("State", mail.state), ("Reason", mail.reason),
                      ("Attempts", mail.attempts), ("Sender", mail.sender), ("Recipient", ", ".join(mail.recipients)),
                      ("Subject", mail.subject), ("MessageId", mail.message_id),
                      ("Attachments", len(mail.attachments)), ("Created", _time(mail.created)),
                      ("Updated", _time(mail.updated)), ("Sent", _time(mail.sent))])


class MailCommands:
    def __init__(self, *, service: MailService) -> None:
        self._mail = service

    def register(self, table: CommandTable) -> None:
        table.add("SendEmail", self.send_email)
        table.add("GetEmail", self.get_email)
        table.add("ListEmail", self.list_email)

    def send_email(self, request: ApiRequest) -> list[Element]:
        p = request.params
        ext = p.require("ApiExtension")
        recipient = p.require("Recipient")
        email_id = self._mail.submit(recipient, p.values.get("message", ""), api_extension=ext,
                                     sender=p.get("Sender") or None, subject=p.get("Subject") or None,
                                     reference=p.get("Reference") or None, command=p.command)
        return [("EmailId", email_id)]

    def get_email(self, request: ApiRequest) -> list[Element]:
        mail = self._mail.get(request.params.require("EmailId", "Id"))
        if mail is None:
            raise InvalidParameter("EmailId", request.params.command)
        return [_email(mail)]

    def list_email(self, request: ApiRequest) -> list[Element]:
        p = request.params
        states = [s.strip().lower() for s in p.get("State").split(",") if s.strip()]
        if any(s not in STATES for s in states):
            raise InvalidParameter("State", p.command)
        page = p.int("PageNumber", 0, low=0)
        rows = p.int("RowsPerPage", 20, low=1, high=500)
        total, mails = self._mail.list(states=states, offset=page * rows, limit=rows)
        return [("TotalRecords", total), ("EmailList", [_email(m) for m in mails])]
