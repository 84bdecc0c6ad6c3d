"""A handset calls the gateway: IncomingCall goes to the app, its OzML runs on the call, and the handset hears it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from pigate.events import Event
from tests.calls.world import ALICE, BOB, GATEWAY

MENU = """<Response>
<UserInput timeout="5" repeat="true">
  <InitialCommands><Speak>Press one.</Speak></InitialCommands>
  <Inputs>
    <Input key="1">
      <Speak>You pressed one.</Speak>
      <SendSms recipient="{bob}">Alice pressed one</SendSms>
    </Input>
  </Inputs>
</UserInput>
</Response>""".format(bob=BOB)



@dataclass(frozen=True)
class Hold(Event):
    """An event that keeps the bus's dispatcher busy for as long as a test wants."""

    topic: ClassVar[str] = "test.hold"


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_menu_is_heard_and_a_key_runs_its_input(gateway):
    gateway.app.routes["/incoming"] = MENU
    alice = gateway.handset(ALICE)
    hc = alice.call(GATEWAY)

    posted = gateway.app.wait("/incoming")[0]
    call_id = posted["CallLegID"]
    assert posted == {"NotificationName": "IncomingCall", "CallLegID": call_id, "Caller": ALICE, "ApiExtension": "9999"}
    hc.wait_state("active", timeout=5)

    # The prompt ("Press one.", about a second of speech) reaches the handset's ear.
    wait_for(lambda: hc.heard_voiced_seconds() >= 0.4, what="the menu prompt")
    before = len(hc.heard_pcm)
    hc.press("1")

    sms = gateway.handset(BOB).wait_inbox(1, timeout=10)
    assert sms[0].text == "Alice pressed one" and sms[0].sender == GATEWAY
    # The script ends after the Input: the gateway hangs up (the API extension's call rule).
    hc.wait_state("ended", timeout=10)
    after = hc.heard_pcm[before:]
    from pigate.sim.audio import rms, voiced_seconds
    assert voiced_seconds(after) >= 0.6, "the Input's speech was not heard"
    assert rms(after) > 300

    row = gateway.history(call_id)
    assert (row.direction, row.source, row.destination, row.state, row.result) == (
        "Inbound", ALICE, "9999", "Completed", "CalleeHungUp")
    assert row.talk_duration > 1.0
    gateway.service.idle()
    assert gateway.app.states(call_id) == ["Ringing", "InCall", "Completed"]
    changed = gateway.app.of("/changed")[0]
    assert changed == {"NotificationName": "CallChanged", "CallState": "Ringing", "CallId": call_id,
                       "Caller": ALICE, "CallerId": ALICE, "Callee": "9999"}


def test_reject_refuses_without_answering(gateway):
    gateway.app.routes["/incoming"] = "<Response><Reject/></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    hc.wait_state("rejected", timeout=5)
    assert hc.heard_pcm == b""
    row = gateway.history(call_id)
    assert (row.state, row.result, row.talk_duration) == ("Busy", "Rejected", 0.0)  # never Completed
    gateway.service.idle()
    assert gateway.app.states(call_id) == ["Ringing", "Busy"]


def _refused(gateway, call_id):
    row = gateway.history(call_id)
    gateway.service.idle()
    return row.state, row.result, row.talk_duration, gateway.app.states(call_id)


def test_a_call_refused_because_the_app_is_unreachable_is_an_error_not_completed(gateway):
    def broken(fields):
        raise ConnectionAbortedError("the app drops the connection")

    gateway.app.routes["/incoming"] = broken
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/changed")[0]["CallId"]
    hc.wait_state("rejected", timeout=5)
    assert _refused(gateway, call_id) == ("Error", "Rejected", 0.0, ["Ringing", "Error"])
    listed = gateway.api("ListCallHistory")
    assert listed.find("CallHistory/Call/CallState") == "Error"
    assert listed.find("CallHistory/Call/State") == "Rejected"


def test_a_hangup_before_answering_cancels_the_call(gateway):
    gateway.app.routes["/incoming"] = "<Response><Hangup/></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    hc.wait_state("rejected", timeout=5)
    assert _refused(gateway, call_id) == ("Cancelled", "Rejected", 0.0, ["Ringing", "Cancelled"])


def test_a_hangup_after_answering_completes_the_call(gateway):
    gateway.app.routes["/incoming"] = "<Response><Speak>Bye.</Speak><Hangup/></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    hc.wait_state("ended", timeout=10)
    state, result, talk, states = _refused(gateway, call_id)
    assert (state, result, states) == ("Completed", "CalleeHungUp", ["Ringing", "InCall", "Completed"])
    assert talk > 0


def test_caller_hanging_up_mid_menu_ends_the_session(gateway):
    gateway.app.routes["/incoming"] = """<Response>
      <UserInput timeout="2" repeat="true"><InitialCommands><Speak>Welcome. Please choose.</Speak></InitialCommands>
      <Inputs><Input key="1"><Speak>One.</Speak></Input></Inputs></UserInput></Response>"""
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    hc.wait_state("active", timeout=5)
    wait_for(lambda: hc.heard_voiced_seconds() >= 0.2, what="the prompt")
    sessions_before = _session_threads()
    assert sessions_before, "the call has no session thread"
    hc.hangup()

    row = gateway.history(call_id)
    assert (row.state, row.result) == ("Completed", "CallerHangUp")
    wait_for(lambda: not _session_threads(), timeout=3, what="the session thread to end")
    assert gateway.service.active_calls() == []
    gateway.service.idle()
    assert gateway.app.states(call_id)[-1] == "Completed"
    assert gateway.api("ListActiveCalls").root.find("ActiveCalls") is not None
    assert list(gateway.api("ListActiveCalls").root.find("ActiveCalls")) == []


def test_no_incoming_url_refuses_the_call(gateway_factory):
    gateway = gateway_factory(incoming=False)
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("rejected", timeout=5)
    total = gateway.api("ListCallHistory")
    assert total.find("TotalRecords") == "1"
    assert total.find("CallHistory/Call/State") == "Rejected"
    assert total.find("CallHistory/Call/CallState") == "Error"  # the gateway has nowhere to send it
    assert gateway.app.of("/incoming") == []


def test_caller_gone_before_the_answer_is_cancelled_even_if_ata_learns_it_first(gateway):
    """The race behind the test below, forced: the modem's end-of-call event is held back (the bus's one
    dispatcher is busy), so the gateway's ATA is what meets the missing call. It is still the caller giving up."""
    import threading

    posted, release_app = threading.Event(), threading.Event()
    release_bus, bus_held = threading.Event(), threading.Event()
    gateway.app.routes["/incoming"] = lambda fields: (posted.set(), release_app.wait(5),
                                                      "<Response><Speak>Hi</Speak></Response>")[2]
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.only_call_id()
    assert posted.wait(5)
    gateway.bus.subscribe(Hold, lambda e: (bus_held.set(), release_bus.wait(5)))
    gateway.bus.publish(Hold())
    assert bus_held.wait(5)  # the dispatcher is busy: the end-of-call events will queue behind this one
    hc.give_up()
    time.sleep(0.2)          # the modem has dropped the call (its URCs wait in the queue)
    release_app.set()        # the app answers; the runner's ATA finds no call
    row = gateway.history(call_id)
    release_bus.set()
    assert (row.state, row.result) == ("Cancelled", "Cancelled")


def test_caller_giving_up_while_the_app_thinks_cancels_the_call(gateway):
    release = __import__("threading").Event()

    def slow(fields):
        release.wait(5)
        return "<Response><Speak>Too late.</Speak></Response>"

    gateway.app.routes["/incoming"] = slow
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.only_call_id()
    hc.give_up()
    release.set()
    row = gateway.history(call_id)
    assert (row.state, row.result, row.talk_duration) == ("Cancelled", "Cancelled", 0.0)
    assert hc.heard_pcm == b""


def _session_threads():
    import threading
    return [t for t in threading.enumerate() if t.name.startswith("call-") and not t.name.endswith("-control")]
