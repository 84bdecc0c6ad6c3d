"""Third-party control of live calls over HTTP: list, hang up, hold, DTMF, speak, play, record; 601 when unknown."""

from __future__ import annotations

import io
import time
import wave

from pigate.media import wav
from pigate.sim.audio import rms, tone
from tests.calls.test_incoming import wait_for
from tests.calls.world import ALICE, BOB, GATEWAY

LONG_WAIT = "<Response><Delay>20</Delay></Response>"


def connect_bob(gateway, ozml: str = LONG_WAIT):
    answer = gateway.api("Call", Dialed=BOB, ApiExtension="9999", ResponseOzML=ozml)
    assert answer.code == 200, answer.raw
    hc = gateway.handset(BOB).last_call
    hc.wait_state("active", timeout=5)
    call_id = answer.find("CallId")
    wait_for(lambda: gateway.service.active_calls()[0].state == "InCall", what="InCall")
    return call_id, hc


def test_list_active_calls_then_hang_up(gateway):
    call_id, hc = connect_bob(gateway)
    listed = gateway.api("ListActiveCalls")
    calls = listed.root.findall("ActiveCalls/Call")
    assert len(calls) == 1
    call = calls[0]
    assert [child.tag for child in call][:10] == ["CallId", "Source", "CallerId", "Destination", "CallerDialed",
                                                   "CalleeDialed", "StartTime", "RingDuration", "TalkDuration",
                                                   "CallState"]
    assert (call.findtext("CallId"), call.findtext("Source"), call.findtext("Destination"),
            call.findtext("CallState")) == (call_id, "9999", BOB, "InCall")
    assert len(call.findtext("StartTime")) == 19 and call.findtext("RingDuration").count(".") == 1

    assert gateway.api("Hangup", CallId=call_id).code == 200
    hc.wait_state("ended", timeout=5)
    assert list(gateway.api("ListActiveCalls").root.find("ActiveCalls")) == []
    gone = gateway.api("Hangup", CallId=call_id)
    assert (gone.code, gone.message) == (601, f"Call not found with ID '{call_id}'")
    assert gateway.history(call_id).result == "CallerHangUp"


def test_unknown_call_ids_are_601_for_every_call_command(gateway):
    for command, extra in (("Hangup", {}), ("Hold", {}), ("Unhold", {}), ("SendDTMF", {"Keys": "1"}),
                           ("Speak", {"Text": "hi"}), ("Play", {"AudioFile": "x.wav"}), ("Record", {}),
                           ("ForwardCall", {"Destination": "+1555"}), ("BlindTransfer", {"Target": "101"})):
        answer = gateway.api(command, CallId="nope1", **extra)
        assert answer.code == 601, (command, answer.raw)
    assert gateway.api("Hangup").code == 302


def test_hold_and_unhold_change_state_and_silence_the_gateway(gateway):
    call_id, hc = connect_bob(gateway)
    assert gateway.api("Hold", CallId=call_id).code == 200
    assert gateway.service.active_calls()[0].state == "Hold"
    start = len(hc.heard_pcm)
    assert gateway.api("Speak", CallId=call_id, Text="You are on hold.").code == 200
    wait_for(lambda: len(hc.heard_pcm) - start > 16000 * 1.5, what="1.5 s of audio")
    assert rms(hc.heard_pcm[start:]) < 50, "speech leaked through a held call"
    assert gateway.api("Unhold", CallId=call_id).code == 200
    assert gateway.service.active_calls()[0].state == "InCall"
    gateway.service.idle()
    assert gateway.app.states(call_id) == ["Ringing", "InCall", "Hold", "InCall"]


def test_send_dtmf_and_speak_reach_the_handset(gateway):
    call_id, hc = connect_bob(gateway)
    assert gateway.api("SendDTMF", CallId=call_id, Keys="12#").code == 200
    assert hc.wait_dtmf(3) == "12#"
    assert gateway.api("SendDTMF", CallId=call_id, Keys="x").code == 302
    start = len(hc.heard_pcm)
    assert gateway.api("Speak", CallId=call_id, Text="Third party speaking.", Party="callee").code == 200
    wait_for(lambda: hc.heard_voiced_seconds() >= 0.8, what="speech")
    assert rms(hc.heard_pcm[start:]) > 300
    assert gateway.api("Speak", CallId=call_id, Text="x", Party="nobody").code == 302


def test_play_a_content_file(gateway):
    (gateway.data / "content" / "beep.wav").write_bytes(wav.encode(tone(600, 0.8), 8000))
    call_id, hc = connect_bob(gateway)
    assert gateway.api("Play", CallId=call_id, AudioFile="missing.wav").code == 302
    assert gateway.api("Play", CallId=call_id, AudioFile="../etc/passwd").code == 302
    assert gateway.api("Play", CallId=call_id, AudioFile="c:\\sounds\\beep.wav").code == 200
    wait_for(lambda: hc.heard_voiced_seconds() >= 0.7, what="the tone")


def test_record_command_keeps_what_the_handset_said(gateway):
    call_id, hc = connect_bob(gateway)
    answer = gateway.api("Record", CallId=call_id, Format="wav", Duration="1.5",
                         FinishedUrl=gateway.app.url("/recorded"))
    assert answer.code == 200
    # The handset talks until the recording is over: it starts on the call's control thread a moment after the
    # answer (a moment that is long on a loaded machine), and all of it must hold the tone.
    deadline = time.monotonic() + 10
    while not gateway.app.of("/recorded"):
        assert time.monotonic() < deadline, "no RecordCompleted"
        hc.play_pcm(tone(440, 0.1))
        time.sleep(0.1)
    done = gateway.app.of("/recorded")[0]
    assert (done["NotificationName"], done["Success"], done["CallId"], done["Caller"], done["Callee"]) == (
        "RecordCompleted", "true", call_id, "9999", BOB)
    assert 1.3 <= float(done["Duration"]) <= 1.7
    assert done["RecordURL"].startswith(gateway.base + "/HttpRecordings/") and done["RecordURL"].endswith(".wav")
    body = gateway.get(done["RecordURL"][len(gateway.base):])
    with wave.open(io.BytesIO(body)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        pcm = w.readframes(w.getnframes())
    assert rms(pcm) > 2000, "the handset's tone is not in the recording"
    assert gateway.store.recordings(call_id)[0]["format"] == "wav"


def test_recordings_route_serves_only_recordings(gateway):
    import urllib.error
    for path in ("/HttpRecordings/pigate.db", "/HttpRecordings/..%2Fpigate.db",
                 "/HttpRecordings/" + "0" * 32 + ".wav"):
        try:
            gateway.get(path)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        else:
            raise AssertionError(f"{path} was served")


def test_incoming_call_is_listed_while_ringing(gateway):
    import threading
    release = threading.Event()
    gateway.app.routes["/incoming"] = lambda fields: release.wait(5) and ""
    hc = gateway.handset(ALICE).call(GATEWAY)
    call_id = gateway.only_call_id()
    call = gateway.api("ListActiveCalls").root.find("ActiveCalls/Call")
    assert (call.findtext("CallId"), call.findtext("Source"), call.findtext("Destination"),
            call.findtext("CallerDialed"), call.findtext("CallState"), call.findtext("TalkDuration")) == (
        call_id, ALICE, "9999", GATEWAY, "Ringing", "0.000")
    release.set()
    hc.wait_state("rejected", timeout=5)   # an empty answer: the script ends, the ringing call is refused
