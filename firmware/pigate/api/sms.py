"""The SMS HTTP commands: SendSms, GetSms, ListSms, ListSmsLines, ReceiveMessage, SendUssd.

Answers beyond Code/Message (ours where Ozeki's pages are silent). Every time (Created, Updated, Sent,
ReceivedTime, SentTime) is `YYYY-MM-DD HH:MM:SS` in the box's local time, as in the call commands.
- SendSms: `<SmsId>` (only once the message is committed). Optional `Reference`: a client key that makes a
  resubmission idempotent (the same SmsId, no second message).
- GetSms (SmsId): `<Sms>` with SmsId, State (queued, sending, sent, delivered, undelivered, failed), Reason,
  Recipient, Sender, ApiExtension, Line, Encoding, Created, Updated, Text, and `<Parts><Part>` with Seq, State
  (queued, submitting, retry, sent, unknown, failed), Attempts, Reference (TP-MR), Report, Reason.
- ListSms (State: comma-separated filter; PageNumber from 0; RowsPerPage 1-500, default 20):
  `<TotalRecords>` then `<SmsList><Sms>` (as GetSms, without Text and Parts).
- ListSmsLines: `<Lines><Line>` with Name, Number, State, Operator, Registration, Signal (percent), Submitted
  (this run), LastError, and the line's messages per state.
- ReceiveMessage (Folder=inbox, Limit 1-100 default 10, AfterDownload=markread|delete|nothing, default
  markread): the unread received messages, oldest first: `<Messages><Message>` with Id, Sender, Recipient,
  ApiExtension, Line, ReceivedTime, SentTime, Text, Incomplete (true when the reassembly timeout delivered a
  message with parts missing), Parts, PartsReceived.
- SendUssd (Code, ApiExtension): `<Ussd>` the network's decoded answer.
"""

from __future__ import annotations

import re

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.params import Param, Spec
from pigate.api.responses import Element, api_time
from pigate.errors import InvalidParameter
from pigate.sms import InboundSms, OutboundPart, OutboundSms, SmsService

MESSAGE_STATES = ("queued", "sending", "sent", "delivered", "undelivered", "failed")
_USSD_RE = re.compile(r"^[0-9*#+]{1,40}$")


SEND_SMS = Spec((
    Param("ApiExtension", required=True, doc="the API extension sending (its lines are used)"),
    Param("Recipient", required=True, doc="the phone number, international (+...) or national"),
    Param("Message", "text", required=True, doc="the text; kept as sent (GSM-7 or UCS-2, split into parts)"),
    Param("Sender", doc="one of the lines' numbers picks that line"),
    Param("DeliveryReportURL", "url", aliases=("DelivaryReportURL",),
          doc="where SMSDeliveryReport is posted when the report arrives"),
    Param("Reference", doc="a client key: resubmitting it returns the same SmsId"),
), doc="Send an SMS; answers <SmsId> only once the message is on disk.")
GET_SMS = Spec((Param("SmsId", required=True, aliases=("Id",)),), doc="One sent message with its parts.")
LIST_SMS = Spec((
    Param("State", doc="comma-separated: " + ", ".join(MESSAGE_STATES)),
    Param("PageNumber", "int", default=0, low=0),
    Param("RowsPerPage", "int", default=20, low=1, high=500),
), doc="Sent messages, newest first.")
LIST_LINES = Spec(doc="Each GSM line's state, operator, signal and message counts.")
RECEIVE_MESSAGE = Spec((
    Param("Folder", "choice", choices=("inbox",), default="inbox"),
    Param("Limit", "int", default=10, low=1, high=100),
    Param("AfterDownload", "choice", choices=("markread", "delete", "nothing"), default="markread"),
), doc="The unread received messages, oldest first.")
SEND_USSD = Spec((
    Param("Code", required=True, doc="digits, * and #, e.g. *100#"),
    Param("ApiExtension", required=True),
), doc="A USSD request; answers the network's text.")


def _time(ts: float | None) -> str:
    return api_time(ts) if ts else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _sms(msg: OutboundSms) -> list[Element]:
    return [("SmsId", msg.id), ("State", msg.state), ("Reason", msg.reason), ("Recipient", msg.recipient),
            ("Sender", msg.sender), ("ApiExtension", msg.api_extension), ("Line", msg.line or ""),
            ("Encoding", msg.encoding), ("PartCount", msg.parts), ("Created", _time(msg.created)),
            ("Updated", _time(msg.updated))]


def _part(part: OutboundPart) -> Element:
    return ("Part", [("Seq", part.seq), ("State", part.state), ("Attempts", part.attempts),
                     ("Reference", "" if part.mr is None else part.mr), ("Report", part.report),
                     ("Sent", _time(part.sent)), ("Reason", part.reason)])


def _inbound(msg: InboundSms) -> Element:
    return ("Message", [("Id", msg.id), ("Sender", msg.sender), ("Recipient", msg.recipient),
                        ("ApiExtension", msg.api_extension), ("Line", msg.line), ("ReceivedTime", _time(msg.received)),
                        ("SentTime", api_time(msg.sent_time)), ("Text", msg.text), ("Incomplete", _flag(msg.incomplete)),
                        ("Parts", msg.parts), ("PartsReceived", msg.parts_received)])


class SmsCommands:
    def __init__(self, *, service: SmsService) -> None:
        self._sms = service

    def register(self, table: CommandTable) -> None:
        table.add("SendSms", self.send_sms, spec=SEND_SMS)
        table.add("GetSms", self.get_sms, spec=GET_SMS)
        table.add("ListSms", self.list_sms, spec=LIST_SMS)
        table.add("ListSmsLines", self.list_lines, spec=LIST_LINES)
        table.add("ReceiveMessage", self.receive_message, spec=RECEIVE_MESSAGE)
        table.add("SendUssd", self.send_ussd, spec=SEND_USSD)

    def send_sms(self, request: ApiRequest) -> list[Element]:
        a = SEND_SMS.bind(request.params)
        # The text as sent ("text" kind): leading spaces and newlines belong to the message.
        sms_id = self._sms.submit(a["Recipient"], a["Message"], api_extension=a["ApiExtension"],
                                  sender=a["Sender"] or None, report_url=a["DeliveryReportURL"],
                                  reference=a["Reference"] or None, command=request.params.command)
        return [("SmsId", sms_id)]

    def get_sms(self, request: ApiRequest) -> list[Element]:
        sms_id = GET_SMS.bind(request.params)["SmsId"]
        found = self._sms.get(sms_id)
        if found is None:
            raise InvalidParameter("SmsId", request.params.command)
        msg, parts = found
        return [("Sms", [*_sms(msg), ("Text", msg.text), ("Parts", [_part(pt) for pt in parts])])]

    def list_sms(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = LIST_SMS.bind(p)
        states = [s.strip().lower() for s in a["State"].split(",") if s.strip()]
        if any(s not in MESSAGE_STATES for s in states):
            raise InvalidParameter("State", p.command)
        page, rows = a["PageNumber"], a["RowsPerPage"]
        total, msgs = self._sms.list(states=states, offset=page * rows, limit=rows)
        return [("TotalRecords", total), ("SmsList", [("Sms", _sms(m)) for m in msgs])]

    def list_lines(self, request: ApiRequest) -> list[Element]:
        out: list[Element] = []
        for st in self._sms.line_status():
            counts = st.get("messages", {})
            out.append(("Line", [
                ("Name", st["name"]), ("Number", st["number"]), ("State", st.get("state", "")),
                ("Operator", st.get("operator") or ""), ("Registration", st.get("registration", "")),
                ("Signal", "" if st.get("signal_percent") is None else st["signal_percent"]),
                ("Submitted", st.get("submitted", 0)), ("LastError", st.get("last_error") or ""),
                ("Messages", [(state.capitalize(), counts.get(state, 0)) for state in MESSAGE_STATES]),
            ]))
        return [("Lines", out), ("Waiting", self._sms.waiting())]

    def receive_message(self, request: ApiRequest) -> list[Element]:
        a = RECEIVE_MESSAGE.bind(request.params)
        msgs = self._sms.receive(limit=a["Limit"], after=a["AfterDownload"])
        return [("Messages", [_inbound(m) for m in msgs])]

    def send_ussd(self, request: ApiRequest) -> list[Element]:
        a = SEND_USSD.bind(request.params)
        if not _USSD_RE.match(a["Code"]):
            raise InvalidParameter("Code", request.params.command)
        return [("Ussd", self._sms.ussd(a["Code"], api_extension=a["ApiExtension"]))]
