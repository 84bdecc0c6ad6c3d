"""SendAlarmNotification over HTTP: the box calls an alarm receiver and reports one event in Contact ID.

SendAlarmNotification (ours): Dialed*, ApiExtension*, Account* (1-4 hex digits), EventCode* (3 hex digits),
Qualifier (1 new, 3 restore, 6 status; default 1), Partition (default 01), Zone (default 000), FinishedUrl (gets
AlarmNotificationSent: CallId, Account, EventCode, Acknowledged, Attempts), ErrorUrl (the call could not be
connected), RingTime. Answers `<CallId>` once the call is dialled; 302 names a field that is not Contact ID.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.params import Param, Spec
from pigate.api.responses import Element
from pigate.errors import InvalidParameter, OzmlError
from pigate.ozml import parse
from pigate.calls import CallService

_FIELDS = ("Account", "EventCode", "Qualifier", "Partition", "Zone")
SEND_ALARM = Spec((
    Param("Dialed", required=True, doc="the alarm receiver's number"),
    Param("ApiExtension", required=True),
    Param("Account", required=True, doc="1-4 hex digits (0-9, B-F)"),
    Param("EventCode", required=True, doc="3 hex digits, e.g. 130 burglary, 110 fire"),
    Param("Qualifier", "choice", choices=("1", "3", "6"), doc="1 new event (default), 3 restore, 6 still present"),
    Param("Partition", doc="2 hex digits; default 01"),
    Param("Zone", doc="3 hex digits (zone or user); default 000"),
    Param("FinishedUrl", "url", doc="gets AlarmNotificationSent: Acknowledged once the receiver sent its kissoff"),
    Param("ErrorUrl", "url", doc="gets an Error notification when the call cannot be connected"),
    Param("RingTime", "int", default=60, low=1, high=600),
), doc="Call an alarm receiver and report one Contact ID event; answers <CallId> once dialled.")


class AlarmCommands:
    def __init__(self, *, calls: CallService) -> None:
        self._calls = calls

    def register(self, table: CommandTable) -> None:
        table.add("SendAlarmNotification", self.send_alarm, spec=SEND_ALARM)

    def send_alarm(self, request: ApiRequest) -> list[Element]:
        """The call's script is the OzML verb, checked here by its own rules (302 names the field)."""
        p = request.params
        a = SEND_ALARM.bind(p)
        values = {name: str(a[name]) for name in _FIELDS if a[name]}
        if a["FinishedUrl"]:
            values["FinishedUrl"] = str(a["FinishedUrl"])
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in values.items())
        ozml = f"<Response><SendAlarmNotification{attrs}/></Response>"
        try:
            parse(ozml, context="CallConnected")
        except OzmlError as exc:
            raise InvalidParameter(str(exc.args_[0]) if exc.code == 302 else "Account", p.command) from exc
        call_id = self._calls.call(a["Dialed"], api_extension=a["ApiExtension"], error_url=a["ErrorUrl"],
                                   response_ozml=ozml, ring_time=a["RingTime"])
        return [("CallId", call_id)]
