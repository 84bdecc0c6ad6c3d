"""sipp (Debian sip-tester) calls through the gateway: the call goes out on GSM and a simulated handset answers;
each side plays its own tone and the other side's recording has it; sipp's RFC 2833 digits reach the handset;
either side's hang-up ends both. And sipp navigates the Basic IVR over SIP: key 1 sends the SMS to 45026467.

The simulated network runs in the test's process (tests/bench/box.py), so what the handset heard is at hand;
what the gateway sent towards sipp is taken by an RTP recorder at the media address sipp's INVITE offered."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from pigate.sim import LatencyProfile
from pigate.sim import audio as simaudio
from tests.bench.box import Box
from tests.ozml.loopback_app import Answer, LoopbackApp
from tests.sip.conftest import free_sip_port, sipp_path
from tests.sip.peer import strongest
from tests.sip.rtp import RtpRecorder, write_tone_pcap

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PCAPS = Path("/usr/share/sip-tester")
IVR = (Path(__file__).resolve().parents[1] / "ozml" / "data" / "basic_ivr.xml").read_bytes()
BOB = "+15551230002"

GATEWAY = """
[sip]
enabled = true
listen = "127.0.0.1"
port = {port}

[[sip.peers]]
name = "sipp"
address = "127.0.0.1"

[[routes]]
source = "sipp"
match = "9[0-9]+"
to = "gsm"
strip = 1
prepend = "+"

[[routes]]
source = "sipp"
to = "9999"
"""


class SippCall:
    """One sipp call from 127.0.0.1 with a scenario of tests/sip/scenarios, in the background; an RTP recorder
    stands at the media port its SDP offers. Killed by `close()` if still running."""

    def __init__(self, workdir: Path, scenario: str, gateway_port: int, service: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / "pcap").exists():
            (workdir / "pcap").symlink_to(PCAPS)
        write_tone_pcap(workdir / "tone.pcap", 1000, 1.5)
        self.recorder = RtpRecorder()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sipp_path(), "-sf", str(SCENARIOS / scenario), f"127.0.0.1:{gateway_port}", "-s", service,
             "-i", "127.0.0.1", "-p", str(free_sip_port()), "-mp", str(free_sip_port()),
             "-key", "recport", str(self.recorder.port), "-m", "1", "-nostdin", "-timeout", "40s",
             "-timeout_error", "-trace_err"],
            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = ""

    def wait(self, timeout: float = 45) -> int:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise
        self.out = out[-3000:] + err[-2000:]
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.recorder.close()


@pytest.fixture
def sipp_calls():
    made: list[SippCall] = []

    def start(*args) -> SippCall:
        made.append(SippCall(*args))
        return made[-1]

    yield start
    for call in made:
        call.close()


def _box(tmp_path: Path, extra: str = "") -> Box:
    port = free_sip_port()
    box = Box(tmp_path / "box", lines=1, latency=LatencyProfile(answer=0.2), extra_config=GATEWAY.format(port=port)
              + extra)
    box.sip_port = port
    return box


@pytest.fixture
def box(tmp_path):
    b = _box(tmp_path)
    yield b
    b.stop()


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


def test_sipp_calls_a_handset_through_the_gateway_tones_and_digits_cross_and_either_hangup_ends_both(
        box, sipp_calls, tmp_path):
    sipp = sipp_calls(tmp_path / "first", "gateway_uac.xml", box.sip_port, "9" + BOB[1:])
    hc = box.handset_call(BOB, after=0)
    assert (hc.direction, hc.caller) == ("in", "+15550000000")  # the GSM line's call to the handset
    answered = time.monotonic()
    hc.play_tone(600.0, 1.5)  # the handset talks first; sipp plays its tone after 2 s
    assert sipp.wait() == 0, sipp.out
    hc.wait_state("ended", timeout=5)  # sipp's BYE hung up the GSM call
    assert hc.end_reason == "hangup", hc.end_reason

    # The handset's recording: sipp's 1000 Hz tone, about as long as sipp played it.
    heard = hc.heard_pcm
    hz, ratio = strongest(heard)
    assert hz == 1000 and ratio > 10, (hz, ratio)
    assert 1.2 <= simaudio.voiced_seconds(heard) <= 1.8, simaudio.voiced_seconds(heard)
    # sipp's side (what the gateway sent to the media address it offered): the handset's 600 Hz.
    sent = sipp.recorder.pcm(since=answered)
    hz, ratio = strongest(sent)
    assert hz == 600 and ratio > 10, (hz, ratio)
    assert 1.2 <= simaudio.voiced_seconds(sent) <= 1.8, simaudio.voiced_seconds(sent)
    # sipp's RFC 2833 digits, in order, at the handset (the modem plays them into the GSM call).
    assert hc.dtmf_received == "37", hc.dtmf_received

    # Second call: this time the handset hangs up, and sipp gets the gateway's BYE.
    second = sipp_calls(tmp_path / "second", "gateway_uac_wait.xml", box.sip_port, "9" + BOB[1:])
    hc2 = box.handset_call(BOB, after=1)
    _wait(lambda: hc2.dtmf_received == "37", 15, "sipp's digits on the second call")
    hung_up = time.monotonic()
    hc2.hangup()
    assert second.wait(timeout=15) == 0, second.out
    assert time.monotonic() - hung_up < 5, "sipp did not get the BYE at once"
    _wait(lambda: not box.api("ListActiveCalls").root.findall(".//CallId"), 5, "no active call left")
    history = box.api("ListCallHistory")
    assert history.find("TotalRecords") == "4", history.raw  # two calls, each with a SIP and a GSM leg
    assert "Traceback" not in box.daemon.log()


def test_sipp_navigates_the_basic_ivr_and_key_1_sends_the_sms(tmp_path, sipp_calls):
    app = LoopbackApp().start()
    try:
        app.routes["/call"] = Answer(IVR)
        b = _box(tmp_path, f'\n[notifications]\nincoming_call_url = "{app.url("/call")}"\n')
        try:
            sipp = sipp_calls(tmp_path / "ivr", "ivr_uac.xml", b.sip_port, "100")
            assert sipp.wait() == 0, sipp.out
            posts = [fields for path, fields, _ in app.posts if path == "/call"]
            assert len(posts) == 1 and posts[0]["Caller"] == "+15557654321", app.posts
            sms = _wait(lambda: [s for s in list(b.net.submissions) if s.recipient.endswith("45026467")], 15,
                        "the IVR's SMS to 45026467")
            assert "Hello from Ozeki Phone System" in sms[0].text, sms[0]
            # What sipp's side got: the IVR's 1 s Delay in silence, then the welcome speech.
            spoken = sipp.recorder.pcm()
            assert simaudio.rms(spoken[:8000]) < 50, "the IVR starts with a 1 s Delay"
            assert simaudio.voiced_seconds(spoken) > 1.5, simaudio.voiced_seconds(spoken)
        finally:
            b.stop()
    finally:
        app.close()
