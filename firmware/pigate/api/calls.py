"""The call HTTP commands (Call, CallSetup, Hangup, Hold, Unhold, Forward, BlindTransfer, AttendedTransfer,
SendDTMF, Speak, Play, Record, ListActiveCalls, ListCallHistory) and the read-only /HttpRecordings/ route.

Answers beyond Code/Message (ours where Ozeki's pages are silent):
- Call: `<CallId>` of the new call (Ozeki answers only the code; the id lets an app follow the call).
- CallSetup: `<CallId>` of the caller's leg; ApiExtension (ours) says whose lines and routes it uses.
- ListActiveCalls: `<ActiveCalls><Call>` with CallId, Source, CallerId, Destination, CallerDialed, CalleeDialed,
  StartTime, RingDuration, TalkDuration, CallState (Ozeki's layout, docs/calls.md), then ours: Direction, Line.
- ListCallHistory / GetCallHistory: `<TotalRecords>` then `<CallHistory><Call>` with StartTime, Direction,
  Source, Destination, State (how it ended: CallerHangUp, CalleeHungUp, TransferCompleted, Rejected, NoAnswer,
  Busy, Cancelled, Failed), Dialed, CallerId, Type (Audio), CallId, then ours: CallState (the final call
  state), RingDuration, TalkDuration, Line, ApiExtension, CallerName and CalleeName (the address book's names
  of Source and Destination, empty when unknown). Newest first; RowsPerPage 1-500.
Party (caller, callee, all) is accepted and ignored: a GSM call has one far party.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import bottle

from pigate.api.auth import AddressGuard
from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.params import Param, Spec
from pigate.api.responses import TIME_FORMAT, Element, api_time
from pigate.calls import DIRECTIONS, ActiveCall, CallService, HistoryFilter, HistoryRow
from pigate.errors import InvalidParameter
from pigate.ozml.parser import parse

PARTIES = ("caller", "callee", "all")
FORMATS = ("mp3", "wav")


_CALL_ID = Param("CallId", required=True, doc="the id Call answered or a notification carried")
_PARTY = Param("Party", "choice", choices=PARTIES, doc="accepted and ignored: a GSM call has one far party")

CALL = Spec((
    Param("Dialed", required=True, doc="the number to call, or sip:USER@TRUNK (a SIP account or peer)"),
    Param("ApiExtension", required=True),
    Param("CallerId", doc="kept in the history (GSM shows the SIM's own number)"),
    Param("CallerDisplayName"),
    Param("Url", "url", doc="where CallConnected is posted; its OzML answer runs on the call"),
    Param("ErrorUrl", "url"),
    Param("ResponseOzML", "text", doc="OzML to run when the call connects, instead of asking Url"),
    Param("FinishedUrl", "url"),
    Param("RingTime", "int", default=120, low=1, high=3600, doc="seconds to ring before giving up"),
), doc="Place a call from a free line; answers <CallId>.")
CALL_SETUP = Spec((
    Param("Caller", required=True, doc="called first: a number or sip:USER@TRUNK"),
    Param("Callee", required=True, doc="called once Caller answers, with Caller's number as caller ID"),
    Param("ApiExtension", doc="whose lines and routes place the calls (default: the box's first)"),
    Param("ErrorUrl", "url"),
), doc="Call two parties and join them; answers <CallId> of the caller's leg.")
ATTENDED_TRANSFER = Spec((Param("TransferredCallId", required=True), Param("TargetCallId", required=True)),
                         doc="Join the far parties of two answered calls (SIP: REFER with Replaces).")
HANGUP = Spec((_CALL_ID,), doc="End a call.")
HOLD = Spec((_CALL_ID,), doc="Put a call on hold.")
UNHOLD = Spec((_CALL_ID,), doc="Take a call off hold.")
FORWARD = Spec((_CALL_ID, Param("Destination", required=True)), doc="Forward a ringing call.")
BLIND_TRANSFER = Spec((Param("TransferorParty", "choice", choices=("caller", "callee")), _CALL_ID,
                       Param("Target", required=True)),
                      doc="Transfer a call to another number.")
SEND_DTMF = Spec((_PARTY, _CALL_ID, Param("Keys", required=True)), doc="Send DTMF tones on a call.")
SPEAK = Spec((_PARTY, _CALL_ID, Param("Text", required=True), Param("Language"), Param("Voice")),
             doc="Speak text on a call (espeak-ng).")
PLAY = Spec((_PARTY, _CALL_ID, Param("AudioFile", required=True, doc="a file in the content folder or an http(s) URL"),
             Param("Repeat", "bool", default=False), Param("Timeout", "float", low=0, high=86400)),
            doc="Play audio on a call.")
RECORD = Spec((_CALL_ID, Param("FinishDigits", doc="keys that end the recording (0-9, *, #, A-D)"),
               Param("Format", "choice", choices=FORMATS, default="mp3"), Param("FinishedUrl", "url"),
               Param("Duration", "float", low=0.1, high=86400), Param("Inactivity", "float", low=0.1, high=86400)),
              doc="Record the call's audio; RecordCompleted goes to FinishedUrl.")
LIST_ACTIVE = Spec(doc="The calls in progress.")
LIST_HISTORY = Spec((
    Param("PageNumber", "int", default=0, low=0), Param("RowsPerPage", "int", default=20, low=1, high=500),
    Param("From", doc="only calls started at or after YYYY-MM-DD HH:MM:SS (local time)"),
    Param("Type", doc="Audio (other types have no calls)"), Param("Direction", "choice", choices=DIRECTIONS),
    Param("Source"), Param("Destination"), Param("State"), Param("Dialed"), Param("CallerId"), Param("CallId"),
    Param("Party", doc="accepted and ignored"),
), doc="Ended calls, newest first.")


def _time(ts: float) -> str:
    return api_time(ts)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _active(call: ActiveCall) -> Element:
    return ("Call", [("CallId", call.call_id), ("Source", call.source), ("CallerId", call.caller_id),
                     ("Destination", call.destination), ("CallerDialed", call.caller_dialed),
                     ("CalleeDialed", call.callee_dialed), ("StartTime", _time(call.start_time)),
                     ("RingDuration", _seconds(call.ring_duration)), ("TalkDuration", _seconds(call.talk_duration)),
                     ("CallState", call.state), ("Direction", call.direction), ("Line", call.line)])


def _history(row: HistoryRow, name: Callable[[str], str]) -> Element:
    return ("Call", [("StartTime", _time(row.start_time)), ("Direction", row.direction), ("Source", row.source),
                     ("Destination", row.destination), ("State", row.result or row.state), ("Dialed", row.dialed),
                     ("CallerId", row.caller_id), ("Type", "Audio"), ("CallId", row.call_id),
                     ("CallState", row.state), ("RingDuration", _seconds(row.ring_duration)),
                     ("TalkDuration", _seconds(row.talk_duration)), ("Line", row.line),
                     ("ApiExtension", row.api_extension), ("CallerName", name(row.source)),
                     ("CalleeName", name(row.destination))])


class CallCommands:
    """`names` gives the address book's name of a number ("" when unknown)."""

    def __init__(self, *, service: CallService, names: Callable[[str], str] = lambda number: "") -> None:
        self._calls = service
        self._names = names

    def register(self, table: CommandTable) -> None:
        table.add("Call", self.call, spec=CALL)
        table.add("CallSetup", self.call_setup, spec=CALL_SETUP)
        table.add("AttendedTransfer", self.attended_transfer, spec=ATTENDED_TRANSFER)
        table.add("Hangup", self.hangup, spec=HANGUP)
        table.add("Hold", self.hold, spec=HOLD)
        table.add("Unhold", self.unhold, spec=UNHOLD)
        table.add("ForwardCall", self.forward, "Forward", spec=FORWARD)
        table.add("BlindTransfer", self.blind_transfer, spec=BLIND_TRANSFER)
        table.add("SendDTMF", self.send_dtmf, spec=SEND_DTMF)
        table.add("Speak", self.speak, spec=SPEAK)
        table.add("Play", self.play, spec=PLAY)
        table.add("Record", self.record, spec=RECORD)
        table.add("ListActiveCalls", self.list_active, spec=LIST_ACTIVE)
        table.add("ListCallHistory", self.list_history, "GetCallHistory", spec=LIST_HISTORY)

    def call(self, request: ApiRequest) -> list[Element]:
        a = CALL.bind(request.params)
        ozml = a["ResponseOzML"].strip() or None
        if ozml is not None:
            # A broken script fails the command with its own code (300-303, line and column), not at connect time.
            parse(ozml, context="CallConnected")
        call_id = self._calls.call(a["Dialed"], api_extension=a["ApiExtension"], caller_id=a["CallerId"] or None,
                                   caller_display_name=a["CallerDisplayName"] or None, url=a["Url"],
                                   error_url=a["ErrorUrl"], response_ozml=ozml, finished_url=a["FinishedUrl"],
                                   ring_time=a["RingTime"])
        return [("CallId", call_id)]

    def call_setup(self, request: ApiRequest) -> list[Element]:
        a = CALL_SETUP.bind(request.params)
        call_id = self._calls.call_setup(a["Caller"], a["Callee"], api_extension=a["ApiExtension"],
                                         error_url=a["ErrorUrl"] or None)
        return [("CallId", call_id)]

    def attended_transfer(self, request: ApiRequest) -> None:
        a = ATTENDED_TRANSFER.bind(request.params)
        self._calls.attended_transfer(a["TransferredCallId"], a["TargetCallId"])

    def hangup(self, request: ApiRequest) -> None:
        self._calls.control.hangup(HANGUP.bind(request.params)["CallId"])

    def hold(self, request: ApiRequest) -> None:
        self._calls.control.hold(HOLD.bind(request.params)["CallId"])

    def unhold(self, request: ApiRequest) -> None:
        self._calls.control.unhold(UNHOLD.bind(request.params)["CallId"])

    def forward(self, request: ApiRequest) -> None:
        a = FORWARD.bind(request.params)
        self._calls.control.forward(a["CallId"], a["Destination"])

    def blind_transfer(self, request: ApiRequest) -> None:
        a = BLIND_TRANSFER.bind(request.params)
        self._calls.control.blind_transfer(a["CallId"], a["Target"])

    def send_dtmf(self, request: ApiRequest) -> None:
        a = SEND_DTMF.bind(request.params)
        self._calls.control.send_dtmf(a["CallId"], a["Keys"])

    def speak(self, request: ApiRequest) -> None:
        a = SPEAK.bind(request.params)
        self._calls.control.speak(a["CallId"], a["Text"], language=a["Language"] or None, voice=a["Voice"] or None)

    def play(self, request: ApiRequest) -> None:
        a = PLAY.bind(request.params)
        self._calls.control.play(a["CallId"], a["AudioFile"], repeat=a["Repeat"], timeout=a["Timeout"])

    def record(self, request: ApiRequest) -> None:
        p = request.params
        a = RECORD.bind(p)
        digits = a["FinishDigits"]
        if digits and any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise InvalidParameter("FinishDigits", p.command)
        self._calls.control.record(a["CallId"], format=a["Format"], finished_url=a["FinishedUrl"],
                                   duration=a["Duration"], inactivity=a["Inactivity"],
                                   finish_digits=digits.upper() or None)

    def list_active(self, request: ApiRequest) -> list[Element]:
        return [("ActiveCalls", [_active(c) for c in self._calls.active_calls()])]

    def list_history(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = LIST_HISTORY.bind(p)
        page, rows = a["PageNumber"], a["RowsPerPage"]
        since = None
        if a["From"]:
            try:
                since = datetime.strptime(a["From"], TIME_FORMAT).timestamp()
            except ValueError as exc:
                raise InvalidParameter("From", p.command) from exc
        if a["Type"] and a["Type"].lower() != "audio":
            return [("TotalRecords", 0), ("CallHistory", [])]
        flt = HistoryFilter(since=since, direction=a["Direction"], source=a["Source"], destination=a["Destination"],
                            state=a["State"], dialed=a["Dialed"], caller_id=a["CallerId"], call_id=a["CallId"])
        total, found = self._calls.history(flt, offset=page * rows, limit=rows)
        return [("TotalRecords", total), ("CallHistory", [_history(r, self._names) for r in found])]


def install_recordings(web: bottle.Bottle, *, service: CallService, guard: AddressGuard | None = None) -> None:
    """Serve GET /HttpRecordings/<id>.<wav|mp3> read-only from the recordings folder (RecordCompleted's RecordURL).

    Names are random 128-bit ids, so a URL is only known to the app it was posted to; the API's address
    guard applies when given. Nothing else in the data directory can be reached through this route.
    """

    def serve(name: str):
        if guard is not None and not guard.allowed(bottle.request.environ.get("REMOTE_ADDR", "")):
            return bottle.HTTPError(403, "Forbidden")
        path = service.recording_path(name)
        if path is None:
            return bottle.HTTPError(404, "Not found")
        mime = "audio/mpeg" if path.suffix == ".mp3" else "audio/wav"
        return bottle.static_file(path.name, root=str(path.parent), mimetype=mime)

    web.route("/HttpRecordings/<name>", ["GET", "HEAD"], serve)
