"""A call placed the moment the previous one on its line ended: not ended by that call's late NO CARRIER, nor
forgotten by its release."""

from __future__ import annotations

import time

import pytest

from pigate.calls import OUTBOUND, CallRecord, GsmLine, GsmSettings, GsmTrunk, LegMedia, RecordingShelf
from pigate.calls.trunks.contract import Answered, Digit, Ended
from tests.calls.test_incoming import wait_for
from tests.calls.world import BOB, GATEWAY

HOLD = "<Response><Delay>20</Delay></Response>"


def _call_bob(gateway) -> str:
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", Url=gateway.app.url("/hold"))
    assert answer.code == 200, answer.raw
    return answer.find("CallId")


@pytest.mark.parametrize("late", [0.0, 0.3], ids=["final-word-at-once", "final-word-late"])
def test_a_call_dialled_right_after_one_ended_stays_up(gateway, late):
    # The modem reports the end of Bob's first call (+CLCC disconnected) at once and its NO CARRIER `late`
    # seconds after: until then the word is the first call's, whatever call the line carries by then.
    gateway.net.modems[GATEWAY].faults.late_final_word(late)
    gateway.app.routes["/hold"] = HOLD
    bob = gateway.handset(BOB)

    first = _call_bob(gateway)
    bob.last_call.wait_state("active", timeout=5)
    bob.last_call.hangup()
    wait_for(lambda: not gateway.service.active_calls(), 5, "the first call to end")

    second = _call_bob(gateway)  # at once, as a script or an operator may
    wait_for(lambda: len(bob.calls) == 2, 5, "the second call to reach Bob")
    redial = bob.calls[1]
    redial.wait_state("active", timeout=5)
    time.sleep(late + 0.5)  # the first call's NO CARRIER has come and gone by now
    assert redial.state == "active", redial.end_reason
    assert [c.call_id for c in gateway.service.active_calls()] == [second]

    redial.hangup()
    wait_for(lambda: not gateway.service.active_calls(), 5, "the second call to end")
    one, two = gateway.history(first), gateway.history(second)
    assert (one.state, one.result) == (two.state, two.result) == ("Completed", "CalleeHungUp"), (one, two)


def test_the_release_of_the_call_before_leaves_the_next_call_on_the_line_alone(gateway):
    # The service frees a line, then releases the trunk's call: a call placed on the line in between must keep
    # its events. A second GSM trunk over the gateway's own modem and bus plays the service's part here.
    events = []
    trunk = GsmTrunk(lines=[GsmLine("gsm1", GATEWAY, gateway.modem)], bus=gateway.bus,
                     media=LegMedia(tts=None, library=None, shelf=RecordingShelf(
                         directory=gateway.data / "recordings", index=gateway.store, base_url=lambda: "")),
                     settings=GsmSettings(reason_wait=0.3))
    trunk.start(events.append)
    try:
        before, _ = trunk.outgoing("gsm1", _record("a"))
        after, leg = trunk.outgoing("gsm1", _record("b"))  # the line was free in the service's books
        trunk.release(before, local=True)                    # ... and only now is the first call released
        trunk.dial(after, BOB)
        bob = gateway.handset(BOB).last_call
        bob.wait_state("active", timeout=5)
        bob.press("5")
        wait_for(lambda: Digit(after, "5") in events, 5, "the key press on the second call")
        assert Answered(after) in events
        bob.hangup()
        wait_for(lambda: any(isinstance(e, Ended) and e.channel == after for e in events), 5, "its end")
    finally:
        trunk.stop()
        leg.close()


def _record(call_id: str) -> CallRecord:
    return CallRecord(id=call_id, direction=OUTBOUND, line="gsm1", api_extension="9999", source="9999",
                      destination=BOB, dialed=BOB, caller_id="9999", start_time=0.0, created=0.0)
