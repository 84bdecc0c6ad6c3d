"""SendAlarmNotification over HTTP: the box calls an alarm receiver and reports one event in Contact ID.

SendAlarmNotification (ours): Dialed*, ApiExtension*, Account* (1-4 hex digits), EventCode* (3 hex digits),
Qualifier (1 new, 3 restore, 6 status; default 1), Partition (default 01), Zone (default 000), FinishedUrl (gets
AlarmNotificationSent: CallId, Account, EventCode, Acknowledged, Attempts), ErrorUrl (the call could not be
connected), RingTime. Answers `<CallId>` once the call is dialled; 302 names a field that is not Contact ID.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.responses import Element
from pigate.errors import InvalidParameter, OzmlError
from pigate.ozml import parse
from pigate.calls import CallService

_FIELDS = ("Account", "EventCode", "Qualifier", "Partition", "Zone")


class AlarmCommands:
    def __init__(self, *, calls: CallService) -> None:
        self._calls = calls

    def register(self, table: CommandTable) -> None:
        table.add("SendAlarmNotification", self.send_alarm)

    def send_alarm(self, request: ApiRequest) -> list[Element]:
        """The call's script is the OzML verb, checked here by its own rules (302 names the field)."""
        p = request.params
        values = {name: p.get(name) for name in _FIELDS if p.get(name)}
        finished = p.url("FinishedUrl")
        if finished:
            values["FinishedUrl"] = finished
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in values.items())
        ozml = f"<Response><SendAlarmNotification{attrs}/></Response>"
        try:
            parse(ozml, context="CallConnected")
        except OzmlError as exc:
            raise InvalidParameter(str(exc.args_[0]) if exc.code == 302 else "Account", p.command) from exc
        call_id = self._calls.call(p.require("Dialed"), api_extension=p.require("ApiExtension"),
                                   error_url=p.url("ErrorUrl"), response_ozml=ozml,
                                   ring_time=p.int("RingTime", 60, low=1, high=600))
        return [("CallId", call_id)]
