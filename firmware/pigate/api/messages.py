"""SendMessage: an SMS sent in the style of the Ozeki SMS Gateway's HTTP API, through the SMS service.

SendMessage (ours, after the SMS Gateway's `sendmessage`): Recipient* (one number or several, comma separated),
MessageData* (or Message), MessageType (`SMS:TEXT`, the only type), Originator (or Sender), ApiExtension (default
the first configured), ReportUrl (or DeliveryReportURL), Reference (each recipient's message gets
`Reference:N`, so a resubmission sends nothing twice). The answer has one `<AcceptReport>` per recipient in
`<AcceptReports>`: StatusCode (0 = accepted, else the API code that refused that recipient), StatusMessage,
MessageId (the SmsId, for GetSms), Originator, Recipient, MessageType, MessageData. The answer is 200 when at
least one recipient was accepted; when none was, it is the first recipient's error.
"""

from __future__ import annotations

from typing import Sequence

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.params import Param, Spec
from pigate.api.responses import Element
from pigate.config import ApiExtension
from pigate.errors import ApiError, InvalidParameter
from pigate.ozml.verbs import recipients_of
from pigate.sms import SmsService

MESSAGE_TYPES = ("SMS:TEXT",)
ACCEPTED = "Message accepted for delivery"


SEND_MESSAGE = Spec((
    Param("Recipient", required=True, doc="one phone number, or several separated by commas"),
    Param("MessageData", "text", required=True, aliases=("Message",), doc="the text, kept as sent"),
    Param("MessageType", "choice", choices=MESSAGE_TYPES, default="SMS:TEXT"),
    Param("Originator", aliases=("Sender",), doc="one of the lines' numbers picks that line"),
    Param("ApiExtension", doc="default: the first configured"),
    Param("ReportUrl", "url", aliases=("DeliveryReportURL",), doc="where SMSDeliveryReport is posted"),
    Param("Reference", doc="a client key; each recipient's message gets Reference:N, so a resubmission sends "
                           "nothing twice"),
), doc="Send an SMS in the Ozeki SMS Gateway's style; one <AcceptReport> per recipient.")


class MessageCommands:
    def __init__(self, *, service: SmsService, extensions: Sequence[ApiExtension]) -> None:
        self._sms = service
        self._default = extensions[0].id if extensions else ""

    def register(self, table: CommandTable) -> None:
        table.add("SendMessage", self.send_message, spec=SEND_MESSAGE)

    def send_message(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = SEND_MESSAGE.bind(p)
        recipients = recipients_of(a["Recipient"])
        if not recipients:
            raise InvalidParameter("Recipient", p.command)
        text, kind = a["MessageData"], a["MessageType"]
        ext = a["ApiExtension"] or self._default
        sender, ref, report_url = a["Originator"], a["Reference"], a["ReportUrl"]
        reports: list[Element] = []
        first_error: ApiError | None = None
        for i, number in enumerate(recipients):
            try:
                sms_id = self._sms.submit(number, text, api_extension=ext, sender=sender or None,
                                          report_url=report_url or None,
                                          reference=f"{ref}:{i}" if ref else None, command=p.command)
                code, message = 0, ACCEPTED
            except ApiError as exc:
                first_error = first_error or exc
                sms_id, code, message = "", exc.code, exc.message
            reports.append(("AcceptReport", [("StatusCode", code), ("StatusMessage", message), ("MessageId", sms_id),
                                             ("Originator", sender), ("Recipient", number), ("MessageType", kind),
                                             ("MessageData", text)]))
        if first_error is not None and all(dict(r[1])["StatusCode"] for r in reports):  # type: ignore[index]
            raise first_error
        return [("AcceptReports", reports)]
