"""Voice on the simulator: incoming and outgoing calls, each handset behaviour, DTMF both ways, paced PCM audio."""

from __future__ import annotations

import os
import select
import time
import tty

import pytest

from pigate.sim import audio
from pigate.sim.handset import SimTimeout

HANDSET = "+15551230001"
DTMF_ON = {"sim800": "AT+DDET=1", "ec25": "AT+QTONEDET=1", "sim7600": None}
DTMF_URC = {"sim800": "+DTMF: 5", "sim7600": "+RXDTMF: 5", "ec25": "+QTONEDET: 53"}


def test_incoming_call_rings_is_answered_reports_keys_and_ends(net, modem, at, dialect):
    at.ok("AT+CLIP=1")
    if DTMF_ON[dialect]:
        at.ok(DTMF_ON[dialect])
    call = net.handset(HANDSET).call(modem.number)
    assert at.wait_line("RING") == "RING"
    assert at.wait_line("+CLIP:") == f'+CLIP: "{HANDSET}",145,"",0,"",0'
    call.wait_state("ringing")
    assert at.ok("AT+CLCC") == [f'+CLCC: 1,1,4,0,0,"{HANDSET}",145']
    at.ok("ATA")
    call.wait_state("active")
    if dialect == "sim7600":
        assert at.wait_line("VOICE CALL:") == "VOICE CALL: BEGIN"
    assert at.ok("AT+CLCC") == [f'+CLCC: 1,1,0,0,0,"{HANDSET}",145']
    call.press("5")
    assert at.wait_line(DTMF_URC[dialect].split(":")[0]) == DTMF_URC[dialect]
    call.hangup()
    if dialect == "sim7600":
        assert at.wait_line("VOICE CALL:").startswith("VOICE CALL: END: 0000")
    assert at.wait_line("NO CARRIER") == "NO CARRIER"
    assert at.ok("AT+CLCC") == []


def test_rings_repeat_until_the_caller_gives_up(net, modem, at):
    call = net.handset(HANDSET).call(modem.number, ring_timeout=0.8)
    at.wait_line("RING")
    at.wait_line("RING")  # ring_interval is 0.3 s in these tests
    at.wait_line("NO CARRIER", timeout=3)
    assert call.state == "no_answer"


def test_gateway_rejects_an_incoming_call(net, modem, at):
    call = net.handset(HANDSET).call(modem.number)
    at.wait_line("RING")
    at.ok("ATH")
    call.wait_state("rejected")


def test_outgoing_call_answered_with_state_urcs_and_dtmf_out(net, modem, at, dialect):
    at.ok("AT+CLCC=1")
    h = net.handset(HANDSET)
    lines, final = at.command(f"ATD{HANDSET};")
    assert final == "OK"
    assert at.wait_line("+CLCC:") == f'+CLCC: 1,0,2,0,0,"{HANDSET}",145'
    assert at.wait_line("+CLCC:") == f'+CLCC: 1,0,3,0,0,"{HANDSET}",145'
    assert at.wait_line("+CLCC:") == f'+CLCC: 1,0,0,0,0,"{HANDSET}",145'
    call = h.last_call.wait_state("active")
    at.ok('AT+VTS="1,2,3"' if dialect != "ec25" else 'AT+VTS="123"')
    at.ok("AT+VTS=#")
    assert call.wait_dtmf(4) == "123#"
    at.ok("AT+CHUP" if dialect != "sim800" else "ATH")
    call.wait_state("ended")
    assert at.wait_line("+CLCC:") == f'+CLCC: 1,0,6,0,0,"{HANDSET}",145'


@pytest.mark.parametrize("behaviour,result,state", [
    ("busy", "BUSY", "busy"), ("reject", "NO CARRIER", "rejected"), ("no_answer", "NO ANSWER", "no_answer")])
def test_outgoing_call_not_answered(net, modem, at, behaviour, result, state):
    h = net.handset(HANDSET)
    h.incoming_behaviour = behaviour
    at.ok(f"ATD{HANDSET};")
    assert at.wait_line(result, timeout=3) == result
    assert h.last_call.state == state
    assert at.ok("AT+CLCC") == []


def test_manual_handset_answers_when_told(net, modem, at):
    h = net.handset(HANDSET)
    h.incoming_behaviour = "manual"
    at.ok(f"ATD{HANDSET};")
    call = h.last_call.wait_state("incoming")
    time.sleep(0.2)
    assert at.ok("AT+CLCC") == [f'+CLCC: 1,0,3,0,0,"{HANDSET}",145']
    call.answer()
    call.wait_state("active")
    call.hangup()
    assert at.wait_line("NO CARRIER")


def test_calls_fail_without_registration(net, modem, at):
    modem.faults.registration_lost()
    assert at.command(f"ATD{HANDSET};") == ([], "NO CARRIER")
    call = net.handset(HANDSET).call(modem.number)
    with pytest.raises(SimTimeout):
        call.wait_state("ringing", timeout=1)
    assert call.state == "unreachable"


def test_registration_loss_drops_the_call(net, modem, at):
    call = net.handset(HANDSET).call(modem.number)
    at.wait_line("RING")
    at.ok("ATA")
    call.wait_state("active")
    modem.faults.registration_lost()
    assert at.wait_line("NO CARRIER")
    call.wait_state("ended")


def open_audio(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def read_for(fd: int, seconds: float) -> list[tuple[float, int]]:
    """(arrival time, bytes) of every read during `seconds`."""
    out = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], left)
        if r:
            out.append((time.monotonic(), len(os.read(fd, 65536))))
    return out


@pytest.mark.parametrize("dialect", ["sim7600", "ec25"])
def test_call_audio_is_paced_at_50_frames_per_second_both_ways(net, modem, at, dialect):
    fd = open_audio(modem.audio_path)
    try:
        if dialect == "ec25":
            at.ok("AT+QPCMV=1,0")  # before answering, as on the real module
        call = net.handset(HANDSET).call(modem.number)
        at.wait_line("RING")
        at.ok("ATA")
        call.wait_state("active")
        if dialect == "sim7600":
            at.ok("AT+CPCMREG=1")  # after the call connects
        call.play_tone(1000, 3.0)
        # The gateway speaks: 1.5 s of tone written in 20 ms frames.
        for frame in audio.frames(audio.tone(600, 1.5)):
            os.write(fd, frame)
        read_for(fd, 0.1)  # drain what queued up before we listened
        reads = read_for(fd, 3.0)
        total = sum(n for _, n in reads)
        # Frames that arrived after the first read, over the time between first and last read.
        span = reads[-1][0] - reads[0][0]
        rate = (total - reads[0][1]) / audio.FRAME_BYTES / span
        print(f"pace {rate:.3f} frames/s")
        # Clocked at 50 frames/s: over the span, off by at most the frames a stalled stream may catch up at once
        # (MAX_CATCH_UP) and one frame of edge; a stream left unpaced would be off by hundreds.
        allowed = (audio.MAX_CATCH_UP / audio.FRAME_SECONDS + 1) / span
        assert abs(rate - 50) <= allowed, f"{rate:.2f} frames/s (allowed 50 +- {allowed:.2f})"
        assert total % audio.FRAME_BYTES == 0
        # What the handset played came through: loud, not silence.
        deadline = time.monotonic() + 2
        while call.heard_seconds() < 1.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert call.heard_voiced_seconds() == pytest.approx(1.5, abs=0.06)
        assert call.heard_rms() > 1000
    finally:
        os.close(fd)
    call.hangup()
    at.wait_line("NO CARRIER")
    assert not modem.calls._stream.is_set()


def test_no_audio_before_pcm_is_switched_on(net, open_client):
    m = net.add_modem(number="+15550000009", dialect="sim7600")
    m.start()
    at = open_client(m.at_path)
    at.ok("ATE0")
    fd = open_audio(m.audio_path)
    try:
        call = net.handset(HANDSET).call(m.number)
        at.wait_line("RING")
        at.ok("ATA")
        call.wait_state("active")
        assert read_for(fd, 0.3) == []
        at.ok("AT+CPCMREG=1")
        assert sum(n for _, n in read_for(fd, 0.3)) > 0
        at.ok("AT+CPCMREG=0")
        time.sleep(0.1)
        read_for(fd, 0.05)
        assert read_for(fd, 0.3) == []
    finally:
        os.close(fd)


def test_sim800_reports_mo_ring_and_mo_connected(net, open_client):
    m = net.add_modem(number="+15550000008", dialect="sim800")
    m.start()
    at = open_client(m.at_path)
    at.ok("ATE0")
    at.ok("AT+MORING=1")
    at.ok(f"ATD{HANDSET};")
    assert at.wait_line("MO ") == "MO RING"
    assert at.wait_line("MO ") == "MO CONNECTED"
    at.ok("ATH")


def test_handset_plays_a_wav_of_any_rate_into_the_call(net, open_client, tmp_path):
    import math
    import struct
    import wave

    path = tmp_path / "stereo16k.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        samples = [int(6000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(16000)]
        w.writeframes(struct.pack(f"<{2 * len(samples)}h", *[s for s in samples for _ in (0, 1)]))
    m = net.add_modem(number="+15550000007", dialect="ec25")
    m.start()
    at = open_client(m.at_path)
    at.ok("ATE0")
    at.ok("AT+QPCMV=1,0")
    fd = open_audio(m.audio_path)
    try:
        call = net.handset(HANDSET).call(m.number)
        at.wait_line("RING")
        at.ok("ATA")
        call.wait_state("active")
        assert call.play_wav(path) == pytest.approx(1.0, abs=0.001)
        got = b""
        deadline = time.monotonic() + 3
        while audio.voiced_seconds(got) < 0.98 and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                got += os.read(fd, 65536)
        assert audio.voiced_seconds(got) == pytest.approx(1.0, abs=0.04)
        # A 6000-amplitude sine has an RMS of ~4240; silence frames around it are left out.
        loud = audio.pcm_bytes([s for s in audio.samples_of(got) if s])
        assert 3800 < audio.rms(loud) < 4600
    finally:
        os.close(fd)
