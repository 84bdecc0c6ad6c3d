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
from pigate.api.params import Param, Spec
from pigate.api.responses import Element
from pigate.errors import InvalidParameter
from pigate.mail import MailService
from pigate.store.email import STATES, Email


SEND_EMAIL = Spec((
    Param("ApiExtension", required=True, doc="the API extension sending"),
    Param("Recipient", required=True, doc="one e-mail address, or several separated by commas"),
    Param("Subject"),
    Param("Message", "text", doc="the text of the mail, kept as sent"),
    Param("Sender", doc="the From address; default [email] sender"),
    Param("Reference", doc="a client key: resubmitting it returns the same EmailId"),
), doc="Send an e-mail through the configured SMTP relay; answers <EmailId> once it is on disk (701: no relay).")
GET_EMAIL = Spec((Param("EmailId", required=True, aliases=("Id",)),), doc="One e-mail and its state.")
LIST_EMAIL = Spec((
    Param("State", doc="comma-separated: " + ", ".join(STATES)),
    Param("PageNumber", "int", default=0, low=0),
    Param("RowsPerPage", "int", default=20, low=1, high=500),
), doc="E-mails, newest first.")


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
        table.add("SendEmail", self.send_email, spec=SEND_EMAIL)
        table.add("GetEmail", self.get_email, spec=GET_EMAIL)
        table.add("ListEmail", self.list_email, spec=LIST_EMAIL)

    def send_email(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = SEND_EMAIL.bind(p)
        email_id = self._mail.submit(a["Recipient"], a["Message"], api_extension=a["ApiExtension"],
                                     sender=a["Sender"] or None, subject=a["Subject"] or None,
                                     reference=a["Reference"] or None, command=p.command)
        return [("EmailId", email_id)]

    def get_email(self, request: ApiRequest) -> list[Element]:
        mail = self._mail.get(GET_EMAIL.bind(request.params)["EmailId"])
        if mail is None:
            raise InvalidParameter("EmailId", request.params.command)
        return [_email(mail)]

    def list_email(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = LIST_EMAIL.bind(p)
        states = [s.strip().lower() for s in a["State"].split(",") if s.strip()]
        if any(s not in STATES for s in states):
            raise InvalidParameter("State", p.command)
        page, rows = a["PageNumber"], a["RowsPerPage"]
        total, mails = self._mail.list(states=states, offset=page * rows, limit=rows)
        return [("TotalRecords", total), ("EmailList", [_email(m) for m in mails])]
