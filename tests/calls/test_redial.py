"""A call dialled the moment the previous one on the line ended is not ended by that call's late NO CARRIER."""

from __future__ import annotations

import time

import pytest

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
    assert two.talk_duration >= late + 0.5
