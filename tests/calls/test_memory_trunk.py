"""The call service on a second trunk (tests/calls/memory.py: no modem, legs are OzML fakes): incoming calls,
outgoing calls, history and third-party control work the same as on the GSM lines, over the same HTTP API."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import bottle
import pytest

from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.calls import CallCommands
from pigate.api.ozeki import CommandTable, OzekiApi
from pigate.calls import END_BUSY, END_LINE_DOWN, END_REJECTED, CallService, CallSettings, LegMedia, RecordingShelf
from pigate.config import ApiExtension, NotificationsConfig
from pigate.httpserver import HttpServer
from pigate.store import Database
from pigate.store.calls import CallStore, HistoryFilter
from tests.calls.conftest import _ours
from tests.calls.memory import LINE, MemoryTrunk
from tests.calls.test_incoming import wait_for
from tests.calls.world import WebApp
from tests.support import Answer, api_call

ALICE, BOB = "+15551230001", "+15551230002"


@dataclass
class Box:
    trunk: MemoryTrunk
    service: CallService
    store: CallStore
    app: WebApp
    base: str

    def api(self, command: str, **params: str) -> Answer:
        return api_call(self.base, command, **params)

    def history(self, call_id: str):
        return wait_for(lambda: self.store.get_history(call_id), what=f"history of {call_id}")

    def only_call_id(self) -> str:
        return wait_for(lambda: [c.call_id for c in self.service.active_calls()], what="a live call")[0]

    def leg(self, channel: str):
        return wait_for(lambda: self.trunk.legs.get(channel), what=f"the leg on {channel}")


@pytest.fixture
def box(tmp_path: Path):
    stoppers = []
    app = WebApp()
    stoppers.append(app.close)
    db = Database(path=tmp_path / "pigate.db")
    stoppers.append(db.close)
    store = CallStore(db=db)
    trunk = MemoryTrunk()
    ext = ApiExtension(id="9999", lines=[LINE.name], incoming_call_url=app.url("/incoming"))
    media = LegMedia(tts=None, library=None, shelf=RecordingShelf(directory=tmp_path / "recordings", index=store))
    service = CallService(store=store, trunks=[trunk], extensions=[ext], poster=_poster(), media=media,
                          notifications=NotificationsConfig(call_changed_url=app.url("/changed"),
                                                            error_url=app.url("/errors")),
                          settings=CallSettings(answer_poll=0.2, stop_timeout=3.0))
    service.start()
    stoppers.append(service.stop)
    table = CommandTable()
    CallCommands(service=service).register(table)
    web = bottle.Bottle()
    OzekiApi(commands=table, users=UserGuard(users=[]), addresses=AddressGuard()).install(web)
    http = HttpServer(app=web, name="memory-http").start()
    stoppers.append(http.stop)
    yield Box(trunk, service, store, app, http.url)
    for stop in reversed(stoppers):
        stop()
    wait_for(lambda: not _ours(), timeout=3, what=f"threads to end: {_ours()}")


def _poster():
    from pigate.notify import Notifier, NotifyConfig

    return Notifier(config=NotifyConfig(retries=0, connect_timeout=1.0, read_timeout=5.0))


def held(app: WebApp, path: str, answer: str) -> threading.Event:
    """Make the app sit on posts to `path` until the returned event is set, then answer `answer`."""
    release = threading.Event()
    app.routes[path] = lambda fields: (release.wait(10), answer)[1]
    return release


def hung_up(leg) -> None:
    """The telephony's hang-up follows the history row (which is written first): wait for it."""
    wait_for(lambda: ("hangup", "") in leg.actions(), what="the leg's hang-up")


# ---- incoming ------------------------------------------------------------------------------------

def test_an_incoming_call_runs_its_script_and_is_in_the_history(box):
    box.app.routes["/incoming"] = "<Response><Speak>Hello caller</Speak></Response>"
    channel = box.trunk.ring(ALICE)
    (posted,) = box.app.wait("/incoming")
    assert (posted["Caller"], posted["ApiExtension"], posted["NotificationName"]) == (ALICE, "9999", "IncomingCall")
    call_id = posted["CallLegID"]
    row = box.history(call_id)
    assert (row.direction, row.source, row.destination, row.dialed) == ("Inbound", ALICE, "9999", LINE.number)
    assert (row.state, row.result, row.line) == ("Completed", "CalleeHungUp", LINE.name)
    # The books first (the leg is closed), then the telephony hangs up.
    hung_up(box.leg(channel))
    assert box.leg(channel).actions() == [("answer", ""), ("speak", "Hello caller"), ("closed", ""), ("hangup", "")]
    box.service.idle()
    assert box.app.states(call_id) == ["Ringing", "InCall", "Completed"]
    assert box.trunk.released == [(channel, True)]


def test_a_caller_giving_up_while_the_app_thinks_is_cancelled_and_never_answered(box):
    release = held(box.app, "/incoming", "<Response><Speak>Too late</Speak></Response>")
    channel = box.trunk.ring(ALICE)
    call_id = box.only_call_id()
    assert box.api("ListActiveCalls").root.findtext("ActiveCalls/Call/CallState") == "Ringing"
    box.trunk.hang_up(channel)
    row = box.history(call_id)
    release.set()
    assert (row.state, row.result) == ("Cancelled", "Cancelled")
    box.service.idle()
    assert "answer" not in [a for a, _ in box.leg(channel).actions()]
    assert box.trunk.released == [(channel, False)]


def test_keys_the_trunk_reports_reach_the_running_menu(box):
    menu = """<Response><UserInput timeout="5">
      <InitialCommands><Record finishedurl="{url}"/></InitialCommands>
      <Inputs><Input key="5"><Speak>You pressed five</Speak></Input></Inputs>
    </UserInput></Response>""".format(url=box.app.url("/recorded"))
    box.app.routes["/incoming"] = menu
    channels: list[str] = []

    def recorded(fields: dict[str, str]) -> str:
        box.trunk.press(channels[0], "5")  # the far end presses a key while the menu is up
        return "<Response></Response>"

    box.app.routes["/recorded"] = recorded
    channels.append(box.trunk.ring(ALICE))
    call_id = box.app.wait("/incoming")[0]["CallLegID"]
    box.history(call_id)
    assert "You pressed five" in box.leg(channels[0]).spoken


def test_an_incoming_call_nobody_takes_is_refused(box):
    box.app.routes["/incoming"] = "<Response><Reject/></Response>"
    channel = box.trunk.ring(ALICE)
    call_id = box.app.wait("/incoming")[0]["CallLegID"]
    assert (box.history(call_id).state, box.history(call_id).result) == ("Busy", "Rejected")  # refused, never connected
    wait_for(lambda: ("reject", "") in box.leg(channel).actions(), what="the refusal")
    assert box.leg(channel).actions() == [("closed", ""), ("reject", "")]  # never answered


# ---- outgoing ------------------------------------------------------------------------------------

def test_an_outgoing_call_connects_and_runs_its_script(box):
    box.app.routes["/connected"] = "<Response><Speak>Hi Bob</Speak></Response>"
    answer = box.api("Call", Dialed=BOB, ApiExtension="9999", Url=box.app.url("/connected"))
    assert answer.code == 200, answer.raw
    call_id = answer.find("CallId")
    ((channel, number),) = box.trunk.dialed
    assert number == BOB
    box.trunk.answer(channel)
    (posted,) = box.app.wait("/connected")
    assert (posted["NotificationName"], posted["Callee"], posted["CallLegID"]) == ("CallConnected", BOB, call_id)
    row = box.history(call_id)
    assert (row.direction, row.source, row.destination, row.state, row.result) == (
        "Outbound", "9999", BOB, "Completed", "CallerHangUp")
    hung_up(box.leg(channel))
    assert box.leg(channel).actions() == [("connected", ""), ("speak", "Hi Bob"), ("closed", ""), ("hangup", "")]


def test_a_busy_far_end_is_an_error_notification_and_a_busy_history_row(box):
    call_id = box.api("Call", Dialed=BOB, ApiExtension="9999").find("CallId")
    ((channel, _),) = box.trunk.dialed
    box.trunk.hang_up(channel, END_BUSY)
    (error,) = box.app.wait("/errors")
    assert (error["NotificationName"], error["CallId"]) == ("Error", call_id)
    assert "Busy" in error["Message"]
    assert (box.history(call_id).state, box.history(call_id).result) == ("Busy", "Busy")


def test_a_dial_the_trunk_refuses_is_402_with_its_reason(box):
    box.trunk.refuse[BOB] = END_REJECTED
    answer = box.api("Call", Dialed=BOB, ApiExtension="9999")
    assert answer.code == 402 and "Rejected" in answer.message, answer.raw
    rows = wait_for(lambda: box.store.history(HistoryFilter(), offset=0, limit=5)[1], what="a history row")
    assert (rows[0].state, rows[0].result) == ("Error", "Rejected")
    assert box.api("Call", Dialed="not a number", ApiExtension="9999").code == 302


def test_an_unanswered_call_rings_out_polling_its_trunk(box):
    call_id = box.api("Call", Dialed=BOB, ApiExtension="9999", RingTime="1").find("CallId")
    ((channel, _),) = box.trunk.dialed
    row = box.history(call_id)
    assert (row.state, row.result) == ("Cancelled", "NoAnswer")
    assert box.trunk.polls >= 2  # every answer_poll (0.2 s) while it rang
    hung_up(box.leg(channel))
    assert box.trunk.released == [(channel, True)]


def test_a_line_that_is_down_takes_no_call_and_a_line_going_down_ends_its_call(box):
    box.trunk.up[LINE.name] = False
    assert box.api("Call", Dialed=BOB, ApiExtension="9999").code == 402
    box.trunk.up[LINE.name] = True
    held(box.app, "/incoming", "<Response></Response>").set()
    channel = box.trunk.ring(ALICE)
    call_id = box.only_call_id()
    box.trunk.hang_up(channel, END_LINE_DOWN)
    assert (box.history(call_id).state, box.history(call_id).result) == ("Error", "Failed")


# ---- third-party control and history --------------------------------------------------------------

def test_third_party_control_of_a_connected_call(box):
    release = held(box.app, "/connected", "<Response></Response>")
    call_id = box.api("Call", Dialed=BOB, ApiExtension="9999", Url=box.app.url("/connected")).find("CallId")
    ((channel, _),) = box.trunk.dialed
    box.trunk.answer(channel)
    wait_for(lambda: box.service.active_calls()[0].state == "InCall", what="InCall")
    leg = box.leg(channel)
    try:
        assert box.api("Hold", CallId=call_id).code == 200
        assert box.service.active_calls()[0].state == "Hold"
        assert box.api("Unhold", CallId=call_id).code == 200
        assert box.api("SendDTMF", CallId=call_id, Keys="12#").code == 200
        assert box.api("Speak", CallId=call_id, Text="From the operator").code == 200
        wait_for(lambda: leg.spoken == ["From the operator"], what="the spoken text")
        assert [a for a in leg.actions() if a[0] in ("hold", "unhold", "send-dtmf", "speak")] == [
            ("hold", ""), ("unhold", ""), ("send-dtmf", "12#"), ("speak", "From the operator")]
        assert box.api("ForwardCall", CallId=call_id, Destination="+1555").code == 303  # answered: not forwardable
        assert box.api("Hangup", CallId=call_id).code == 200
    finally:
        release.set()
    row = box.history(call_id)
    assert (row.state, row.result) == ("Completed", "CallerHangUp")
    assert box.api("Hangup", CallId=call_id).code == 601
    box.service.idle()
    assert box.app.states(call_id) == ["Ringing", "InCall", "Hold", "InCall", "Completed"]


def test_a_ringing_incoming_call_is_forwarded_by_a_third_party(box):
    release = held(box.app, "/incoming", "<Response><Speak>gone</Speak></Response>")
    channel = box.trunk.ring(ALICE)
    call_id = box.only_call_id()
    try:
        assert box.api("ForwardCall", CallId=call_id, Destination="+15557654321").code == 200
    finally:
        release.set()
    row = box.history(call_id)
    assert (row.state, row.result) == ("Transferred", "TransferCompleted")
    assert box.leg(channel).actions()[0] == ("forward", "+15557654321")


def test_list_call_history_over_http_pages_the_trunks_calls(box):
    box.app.routes["/incoming"] = "<Response><Speak>one</Speak></Response>"
    ids = []
    for _ in range(3):
        box.trunk.ring(ALICE)
        ids.append(box.app.wait("/incoming", n=len(ids) + 1)[-1]["CallLegID"])
        box.history(ids[-1])
    answer = box.api("ListCallHistory", RowsPerPage="2", PageNumber="0")
    assert answer.code == 200 and answer.find("TotalRecords") == "3", answer.raw
    calls = answer.root.findall("CallHistory/Call")
    assert [c.findtext("CallId") for c in calls] == ids[::-1][:2]  # newest first
    assert {(c.findtext("Source"), c.findtext("State"), c.findtext("CallState")) for c in calls} == {
        (ALICE, "CalleeHungUp", "Completed")}
