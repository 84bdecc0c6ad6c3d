"""The call HTTP commands (Call, Hangup, Hold, Unhold, Forward, BlindTransfer, SendDTMF, Speak, Play, Record,
ListActiveCalls, ListCallHistory) and the read-only /HttpRecordings/ route.

Answers beyond Code/Message (ours where Ozeki's pages are silent):
- Call: `<CallId>` of the new call (Ozeki answers only the code; the id lets an app follow the call).
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
from pigate.api.params import Params
from pigate.api.responses import TIME_FORMAT, Element, api_time
from pigate.calls import DIRECTIONS, ActiveCall, CallService, HistoryFilter, HistoryRow
from pigate.errors import InvalidParameter
from pigate.ozml.parser import parse

PARTIES = ("caller", "callee", "all")
FORMATS = ("mp3", "wav")


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
        table.add("Call", self.call)
        table.add("Hangup", self.hangup)
        table.add("Hold", self.hold)
        table.add("Unhold", self.unhold)
        table.add("ForwardCall", self.forward, "Forward")
        table.add("BlindTransfer", self.blind_transfer)
        table.add("SendDTMF", self.send_dtmf)
        table.add("Speak", self.speak)
        table.add("Play", self.play)
        table.add("Record", self.record)
        table.add("ListActiveCalls", self.list_active)
        table.add("ListCallHistory", self.list_history, "GetCallHistory")

    def call(self, request: ApiRequest) -> list[Element]:
        p = request.params
        dialed = p.require("Dialed")
        ext = p.require("ApiExtension")
        ozml = p.values.get("responseozml", "").strip() or None
        if ozml is not None:
            # A broken script fails the command with its own code (300-303, line and column), not at connect time.
            parse(ozml, context="CallConnected")
        call_id = self._calls.call(dialed, api_extension=ext, caller_id=p.get("CallerId") or None,
                                   caller_display_name=p.get("CallerDisplayName") or None, url=p.url("Url"),
                                   error_url=p.url("ErrorUrl"), response_ozml=ozml,
                                   finished_url=p.url("FinishedUrl"),
                                   ring_time=p.int("RingTime", 120, low=1, high=3600))
        return [("CallId", call_id)]

    def _party(self, p: Params) -> None:
        p.choice("Party", PARTIES)

    def hangup(self, request: ApiRequest) -> None:
        self._calls.control.hangup(request.params.require("CallId"))

    def hold(self, request: ApiRequest) -> None:
        self._calls.control.hold(request.params.require("CallId"))

    def unhold(self, request: ApiRequest) -> None:
        self._calls.control.unhold(request.params.require("CallId"))

    def forward(self, request: ApiRequest) -> None:
        p = request.params
        self._calls.control.forward(p.require("CallId"), p.require("Destination"))

    def blind_transfer(self, request: ApiRequest) -> None:
        p = request.params
        p.choice("TransferorParty", ("caller", "callee"))
        self._calls.control.blind_transfer(p.require("CallId"), p.require("Target"))

    def send_dtmf(self, request: ApiRequest) -> None:
        p = request.params
        self._party(p)
        self._calls.control.send_dtmf(p.require("CallId"), p.require("Keys"))

    def speak(self, request: ApiRequest) -> None:
        p = request.params
        self._party(p)
        call_id = p.require("CallId")
        text = p.require("Text")
        self._calls.control.speak(call_id, text, language=p.get("Language") or None,
                                  voice=p.get("Voice") or None)

    def play(self, request: ApiRequest) -> None:
        p = request.params
        self._party(p)
        call_id = p.require("CallId")
        source = p.require("AudioFile")
        self._calls.control.play(call_id, source, repeat=p.bool("Repeat", False),
                                 timeout=p.float("Timeout"))

    def record(self, request: ApiRequest) -> None:
        p = request.params
        call_id = p.require("CallId")
        digits = p.get("FinishDigits")
        if digits and any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise InvalidParameter("FinishDigits", p.command)
        self._calls.control.record(call_id, format=p.choice("Format", FORMATS, "mp3"),
                                   finished_url=p.url("FinishedUrl"), duration=p.float("Duration", low=0.1),
                                   inactivity=p.float("Inactivity", low=0.1), finish_digits=digits.upper() or None)

    def list_active(self, request: ApiRequest) -> list[Element]:
        return [("ActiveCalls", [_active(c) for c in self._calls.active_calls()])]

    def list_history(self, request: ApiRequest) -> list[Element]:
        p = request.params
        page = p.int("PageNumber", 0, low=0)
        rows = p.int("RowsPerPage", 20, low=1, high=500)
        since = None
        if p.get("From"):
            try:
                since = datetime.strptime(p.get("From"), TIME_FORMAT).timestamp()
            except ValueError as exc:
                raise InvalidParameter("From", p.command) from exc
        call_type = p.get("Type")
        if call_type and call_type.lower() != "audio":
            return [("TotalRecords", 0), ("CallHistory", [])]
        flt = HistoryFilter(since=since, direction=p.choice("Direction", DIRECTIONS), source=p.get("Source"),
                            destination=p.get("Destination"), state=p.get("State"), dialed=p.get("Dialed"),
                            caller_id=p.get("CallerId"), call_id=p.get("CallId"))
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
