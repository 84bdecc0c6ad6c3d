"""OzML on GSM calls beyond menus: Record with finish digits, answers to CallChanged, broken apps, other modems."""

from __future__ import annotations

import time

import pytest

from pigate.sim.audio import tone
from tests.calls.test_incoming import wait_for
from tests.calls.world import ALICE, BOB, GATEWAY


def test_script_record_ends_at_a_finish_digit_and_posts_record_completed(gateway):
    gateway.app.routes["/incoming"] = f"""<Response>
      <Record Format="wav" Duration="20" FinishDigits="#" FinishedUrl="{gateway.app.url('/recorded')}"/>
    </Response>"""
    gateway.app.routes["/recorded"] = "<Response><Speak>Thank you.</Speak></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    hc.play_pcm(tone(500, 0.6))
    wait_for(lambda: hc.queued_seconds == 0, what="the handset to finish playing")
    hc.press("#")
    done = gateway.app.wait("/recorded")[0]
    assert set(done) == {"Success", "Duration", "RecordURL", "Caller", "Callee", "NotificationName"}  # no CallId
    assert (done["Success"], done["Caller"], done["Callee"]) == ("true", ALICE, "9999")
    assert 0.5 <= float(done["Duration"]) < 3.0, "Record did not stop at #"
    hc.wait_state("ended", timeout=10)       # the answer's Speak, then the script ends
    assert hc.heard_voiced_seconds() >= 0.4


def test_silence_ends_a_recording_as_unsuccessful(gateway):
    gateway.app.routes["/incoming"] = f"""<Response>
      <Record Format="wav" Inactivity="0.5" FinishedUrl="{gateway.app.url('/recorded')}"/></Response>"""
    hc = gateway.handset(ALICE).call(GATEWAY)
    done = gateway.app.wait("/recorded", timeout=10)[0]
    assert (done["Success"], done["Duration"], done["RecordURL"]) == ("false", "0", "")
    hc.wait_state("ended", timeout=5)


def test_a_callchanged_answer_runs_as_third_party_control(gateway):
    gateway.app.routes["/changed"] = lambda f: (
        "<Response><Speak>This call is monitored.</Speak></Response>" if f["CallState"] == "InCall" else "")
    gateway.app.routes["/incoming"] = "<Response><Delay>3</Delay></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    wait_for(lambda: hc.heard_voiced_seconds() >= 0.8, what="the third-party speech")
    hc.hangup()


def test_an_invalid_answer_is_reported_and_the_call_hung_up(gateway):
    gateway.app.routes["/incoming"] = "<Response><Speak>Hello</Speak><Route>1</Route></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    error = gateway.app.wait("/errors")[0]
    assert (error["NotificationName"], error["Code"], error["CallId"]) == ("Error", "303", call_id)
    assert "line 1" in error["Message"]
    hc.wait_state("rejected", timeout=5)   # never answered: nothing valid to run
    row = gateway.history(call_id)
    assert (row.state, row.result) == ("Error", "Rejected")


def test_script_call_verb_dials_out_from_an_incoming_call(gateway_factory):
    gateway = gateway_factory()
    bob = gateway.handset(BOB)
    gateway.app.routes["/incoming"] = f"""<Response><Speak>Calling Bob.</Speak>
      <Call Url="{gateway.app.url('/connected')}">{BOB}</Call></Response>"""
    gateway.app.routes["/connected"] = "<Response><Speak>Alice asked me to call.</Speak></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("ended", timeout=10)   # Alice's script ends; the line is then free for the Call
    # One modem carries one call: the Call verb ran while Alice's call held the line.
    error = gateway.app.wait("/errors")[0]
    assert error["Code"] == "402" and "NoFreeLine" in error["Message"]
    assert bob.calls == []


@pytest.mark.parametrize("dialect", ["ec25"])
def test_other_modem_audio_dialects_carry_speech(gateway_factory, dialect):
    gateway = gateway_factory(dialect=dialect)
    gateway.app.routes["/incoming"] = "<Response><Speak>Hello from the other modem.</Speak></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("ended", timeout=10)
    assert hc.heard_voiced_seconds() >= 1.0


def test_a_modem_without_audio_port_still_runs_menus_by_dtmf(gateway_factory):
    gateway = gateway_factory(dialect="sim800")
    gateway.app.routes["/incoming"] = f"""<Response><UserInput timeout="3">
      <InitialCommands><Speak>Press two.</Speak></InitialCommands>
      <Inputs><Input key="2"><SendSms recipient="{BOB}">two</SendSms></Input></Inputs></UserInput></Response>"""
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    time.sleep(0.5)   # into the prompt: a menu drops keys pressed before it started
    hc.press("2")
    assert gateway.handset(BOB).wait_inbox(1, timeout=10)[0].text == "two"
    hc.wait_state("ended", timeout=5)


def test_stopping_the_service_hangs_up_live_calls(gateway):
    gateway.app.routes["/incoming"] = "<Response><Delay>30</Delay></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    call_id = gateway.only_call_id()
    wait_for(lambda: gateway.service.active_calls()[0].state == "InCall", what="InCall")
    gateway.service.stop()
    hc.wait_state("ended", timeout=3)
    assert gateway.history(call_id).result == "CalleeHungUp"


def test_ozekis_blind_transfer_example_goes_on_when_the_transfer_fails(gateway):
    # Ozeki's "Blind transfer OzML": an answered GSM call cannot be transferred, so the apology is spoken.
    gateway.app.routes["/incoming"] = """<Response>
      <Speak>Hello, you will be transferred.</Speak>
      <BlindTransfer>101</BlindTransfer>
      <Speak>Sorry, but blind transfer failed.</Speak>
    </Response>"""
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.app.wait("/incoming")[0]["CallLegID"]
    hc.wait_state("ended", timeout=15)
    assert hc.heard_voiced_seconds() >= 2.5, "the apology after the failed transfer was not spoken"
    assert gateway.history(call_id).result == "CalleeHungUp"


def test_forward_is_only_for_ringing_calls(gateway):
    gateway.app.routes["/incoming"] = "<Response><Delay>5</Delay></Response>"
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    call_id = gateway.only_call_id()
    wait_for(lambda: gateway.service.active_calls()[0].state == "InCall", what="InCall")
    assert gateway.api("ForwardCall", CallId=call_id, Destination=BOB).code == 303
    assert gateway.api("Forward", CallId=call_id).code == 302
    hc.hangup()
