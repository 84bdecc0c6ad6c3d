"""The Call command: the gateway dials a handset; CallConnected and its OzML on answer, Error on busy/no answer."""

from __future__ import annotations

from tests.calls.test_incoming import wait_for
from tests.calls.world import BOB


def test_call_connects_posts_call_connected_and_runs_its_script(gateway):
    gateway.app.routes["/connected"] = "<Response><Speak>Hello Bob, this is the gateway.</Speak></Response>"
    bob = gateway.handset(BOB)
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", Url=gateway.app.url("/connected"),
                         ErrorUrl=gateway.app.url("/call-errors"))
    assert answer.code == 200, answer.raw
    call_id = answer.find("CallId")
    assert call_id and len(call_id) == 5

    posted = gateway.app.wait("/connected")[0]
    assert posted == {"NotificationName": "CallConnected", "CallLegID": call_id, "Callee": BOB, "ApiExtension": "9999"}
    hc = bob.last_call
    hc.wait_state("ended", timeout=10)   # the script ended: the API extension's call is hung up
    assert hc.heard_voiced_seconds() >= 1.0
    row = gateway.history(call_id)
    assert (row.direction, row.source, row.destination, row.dialed, row.state, row.result) == (
        "Outbound", "9999", BOB, BOB, "Completed", "CallerHangUp")
    gateway.service.idle()
    assert gateway.app.states(call_id) == ["Ringing", "InCall", "Completed"]
    assert gateway.app.of("/call-errors") == []


def test_call_without_url_or_ozml_is_hung_up_once_connected(gateway):
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999")
    assert answer.code == 200
    hc = gateway.handset(BOB).last_call
    hc.wait_state("ended", timeout=5)
    assert hc.end_reason == "hangup"
    assert gateway.history(answer.find("CallId")).result == "CallerHangUp"


def test_busy_callee_gives_an_error_notification_and_history(gateway):
    gateway.handset(BOB).incoming_behaviour = "busy"
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", Url=gateway.app.url("/connected"),
                         ErrorUrl=gateway.app.url("/call-errors"))
    assert answer.code == 200
    call_id = answer.find("CallId")
    error = gateway.app.wait("/call-errors")[0]
    assert error == {"NotificationName": "Error", "Code": "402", "CallId": call_id,
                     "Message": f"Call connect to '{BOB}' failed with result state 'Busy'"}
    row = gateway.history(call_id)
    assert (row.state, row.result, row.talk_duration) == ("Busy", "Busy", 0.0)
    assert gateway.app.of("/connected") == []
    gateway.service.idle()
    assert gateway.app.states(call_id) == ["Ringing", "Busy"]


def test_unanswered_call_reports_no_answer_to_the_configured_error_url(gateway):
    gateway.handset(BOB).incoming_behaviour = "no_answer"
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", Url=gateway.app.url("/connected"))
    call_id = answer.find("CallId")
    error = gateway.app.wait("/errors")[0]   # no ErrorUrl in the command: [notifications].error_url
    assert (error["Code"], error["CallId"]) == ("402", call_id)
    assert "NoAnswer" in error["Message"]
    row = gateway.history(call_id)
    assert (row.state, row.result) == ("Cancelled", "NoAnswer")
    assert row.ring_duration >= 0.4


def test_ring_time_cancels_a_call_nobody_answers(gateway):
    bob = gateway.handset(BOB)
    bob.incoming_behaviour = "manual"   # rings until someone acts
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", RingTime="1")
    call_id = answer.find("CallId")
    row = gateway.history(call_id, timeout=5)
    assert (row.state, row.result) == ("Cancelled", "NoAnswer")
    assert 0.9 <= row.ring_duration < 3
    wait_for(lambda: bob.last_call.ended, what="the handset to stop ringing")


def test_call_command_errors(gateway):
    assert gateway.api("Call", Dialed=BOB, ApiExtension="1234").code == 401
    assert gateway.api("Call", ApiExtension="9999").code == 302
    assert gateway.api("Call", Dialed="not a number", ApiExtension="9999").code == 302
    assert gateway.api("Call", Dialed=BOB, ApiExtension="9999", Url="ftp://x").code == 302
    bad = gateway.api("Call", Dialed=BOB, ApiExtension="9999", ResponseOzML="<Response><Route>1</Route></Response>")
    assert bad.code == 303
    assert gateway.api("Call", Dialed=BOB, ApiExtension="9999", ResponseOzML="<Response><Speak>").code == 300
    assert gateway.store.history(__import__("pigate.store.calls", fromlist=["HistoryFilter"]).HistoryFilter(),
                                 offset=0, limit=10)[0] == 0


def test_second_call_while_the_line_is_busy_is_402(gateway):
    gateway.handset(BOB).incoming_behaviour = "manual"
    first = gateway.api("Call", Dialed=BOB, ApiExtension="9999")
    assert first.code == 200
    second = gateway.api("Call", Dialed="+15551230009", ApiExtension="9999")
    assert second.code == 402
    assert second.message == "Call connect to '+15551230009' failed with result state 'NoFreeLine'"
    assert gateway.api("Hangup", CallId=first.find("CallId")).code == 200
    assert gateway.history(first.find("CallId")).state == "Cancelled"
    gateway.service.idle()
    assert gateway.app.of("/errors") == []   # the app hung it up itself: not an error
