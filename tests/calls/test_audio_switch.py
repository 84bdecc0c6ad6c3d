"""Call audio that will not switch on (SIM7600 AT+CPCMREG=1 answering ERROR), the field's most common cause of a
silent call: a refusal once is retried after switching audio off; a module stuck in it is restarted once its call is
over, and the next call has audio again."""

from __future__ import annotations

from pigate.modem.events import RecoveryStep
from tests.calls.test_incoming import wait_for
from tests.calls.world import BOB, GATEWAY

SPEAK = "<Response><Speak>You are listening to the gateway speaking to you now.</Speak></Response>"


def _speaking_call(gateway):
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", ResponseOzML=SPEAK)
    assert answer.code == 200, answer.raw
    wait_for(lambda: len(gateway.handset(BOB).calls) and gateway.handset(BOB).last_call.state == "active", 10,
             "Bob to answer")
    call = gateway.handset(BOB).last_call
    wait_for(lambda: call.state != "active", 20, "the script to end the call")
    return call


def test_a_refused_audio_switch_is_tried_again_and_the_call_has_audio(gateway):
    gateway.net.modems[GATEWAY].faults.cme_error(code=100, command="AT+CPCMREG", times=1)
    call = _speaking_call(gateway)
    assert call.heard_voiced_seconds() > 1.0, "the handset heard no speech"


def test_a_module_stuck_without_audio_is_restarted_after_the_call_and_the_next_call_has_audio(gateway):
    steps: list[RecoveryStep] = []
    gateway.bus.subscribe(RecoveryStep, steps.append)
    gateway.net.modems[GATEWAY].faults.audio_stuck()
    silent = _speaking_call(gateway)
    assert silent.heard_voiced_seconds() == 0  # this call could not be helped
    wait_for(lambda: any(s.step == "reset" and s.ok for s in steps), 20, "the module's restart")
    assert [s.step for s in steps][:2] == ["start", "reset"], steps  # straight to the rung that cures it
    wait_for(lambda: gateway.modem.state == "registered", 20, "the line to come back")
    assert _speaking_call(gateway).heard_voiced_seconds() > 1.0, "the call after the restart heard no speech"
