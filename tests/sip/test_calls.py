"""SIP calls between the driver and a second pjsua2 process on loopback: both directions, audio, DTMF, hold, REFER."""

from __future__ import annotations

import queue
import threading
import time
from array import array

import pytest

from pigate.config import SipPeer
from pigate.errors import SipError
from pigate.media import wav
from pigate.media.dtmf import tone_pcm
from pigate.media.resample import resample
from pigate.sip import FRAME_BYTES, Answered, Digit, Ended, Held, Resumed, Ringing, TransferStatus
from tests.sip.conftest import free_sip_port
from tests.sip.peer import strongest


class Events:
    """A call listener that tests can wait on."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()
        self.seen: list = []

    def __call__(self, event) -> None:
        self.q.put(event)

    def wait(self, kind, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                ev = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind.__name__} within {timeout}s; saw {self.seen}") from None
            self.seen.append(ev)
            if isinstance(ev, kind):
                return ev


def _start(gateway, peer_factory, on_incoming, **peer_kw):
    gw_port = free_sip_port()
    peer = peer_factory(gateway_port=gw_port, **peer_kw)
    gw = gateway(port=gw_port, on_incoming=on_incoming, max_calls=8,
                 peers=[SipPeer(name="p1", address=f"127.0.0.1:{peer.port}")])
    return gw, peer


@pytest.fixture
def setup(gateway, peer_factory):
    incoming: queue.Queue = queue.Queue()
    events = Events()

    def on_incoming(call):
        call.listen(events)
        incoming.put(call)
        call.answer()

    def start(**peer_kw):
        gw, peer = _start(gateway, peer_factory, on_incoming, **peer_kw)
        return gw, peer, incoming, events

    return start


def resample8k(pcm: bytes, rate: int) -> bytes:
    return pcm if rate == 8000 else resample(array("h", pcm), rate, 8000).tobytes()


def _pump(port, pcm: bytes, seconds: float) -> bytes:
    """Send `pcm` (looping) through a frame port in real time for `seconds`; return what came back."""
    got = bytearray()
    t0 = next_at = time.monotonic()
    i = 0
    while time.monotonic() - t0 < seconds:
        port.write(pcm[i:i + FRAME_BYTES])
        i = (i + FRAME_BYTES) % (len(pcm) - FRAME_BYTES)
        while (frame := port.read(0)) is not None:
            got += frame
        next_at += 0.02
        time.sleep(max(0.0, next_at - time.monotonic()))
    return bytes(got)


def test_incoming_call_carries_caller_and_called_number_and_hangs_up_from_the_far_end(setup):
    gw, peer, incoming, events = setup()
    peer.command("dial", target="+4930123456", caller_id="+15551230001")
    call = incoming.get(timeout=10)
    assert (call.direction, call.trunk, call.caller, call.called) == ("in", "p1", "+15551230001", "+4930123456")
    events.wait(Answered)
    peer.expect("Answered")
    assert [c.id for c in gw.calls()] == [call.id]
    peer.command("hangup")
    ended = events.wait(Ended)
    assert ended.code == 200 and call.ended
    assert gw.calls() == []


def test_outgoing_call_rings_answers_and_our_hangup_ends_it_at_the_peer(setup):
    gw, peer, _, _ = setup()
    events = Events()
    call = gw.dial("5551234", trunk="p1", caller_id="+15550000001", listener=events)
    incoming = peer.expect("Incoming")
    assert (incoming["caller"], incoming["called"], incoming["trunk"]) == ("+15550000001", "5551234", "gw")
    assert events.wait(Ringing).code == 180
    events.wait(Answered)
    call.hangup()
    assert events.wait(Ended).code == 200
    peer.expect("Ended")


def test_a_rejected_outgoing_call_ends_with_the_peers_status(setup):
    gw, peer, _, _ = setup(answer="reject")
    events = Events()
    gw.dial("5551234", trunk="p1", listener=events)
    assert events.wait(Ended).code == 486


def test_we_reject_an_incoming_call_with_the_code_we_choose(gateway, peer_factory):
    def on_incoming(call):
        call.reject(603)

    gw, peer = _start(gateway, peer_factory, on_incoming)
    peer.command("dial", target="100")
    assert peer.expect("Ended")["code"] == 603


def test_a_frame_port_exchanges_tones_with_the_peer_both_ways(setup):
    gw, peer, incoming, events = setup(tone=600)
    port = gw.frame_port("test")
    peer.command("dial", target="200")
    call = incoming.get(timeout=10)
    events.wait(Answered)
    call.connect(port)
    heard = _pump(port, tone_pcm((1000,), 1000, amplitude=0.3), seconds=2.0)
    hz, ratio = strongest(heard[-8000:])
    assert hz == 600 and ratio > 100, (hz, ratio)   # the peer's tone reached the gateway
    assert len(heard) >= 1.5 * 50 * FRAME_BYTES     # ~50 frames a second came in
    peer.send("tone")
    tone = peer.expect("Tone")
    assert tone["hz"] == 1000 and tone["ratio"] > 100, tone  # and ours reached the peer
    call.hangup()
    events.wait(Ended)


def test_dtmf_crosses_both_ways_by_rfc2833_and_sip_info(setup):
    gw, peer, incoming, events = setup()
    peer.command("dial", target="300")
    call = incoming.get(timeout=10)
    events.wait(Answered)
    peer.expect("Answered")
    peer.command("dtmf", digits="12#", method="rfc2833")
    got = [events.wait(Digit) for _ in range(3)]
    assert [(d.digit, d.method) for d in got] == [("1", "rfc2833"), ("2", "rfc2833"), ("#", "rfc2833")]
    peer.command("dtmf", digits="9*", method="info")
    got = [events.wait(Digit) for _ in range(2)]
    assert [(d.digit, d.method) for d in got] == [("9", "info"), ("*", "info")]
    call.send_dtmf("47", method="rfc2833")
    assert [peer.expect("Digit")["digit"] for _ in range(2)] == ["4", "7"]
    call.send_dtmf("5", method="info")
    digit = peer.expect("Digit")
    assert (digit["digit"], digit["method"]) == ("5", "info")
    with pytest.raises(SipError, match="DTMF digits"):
        call.send_dtmf("1x")


def test_hold_and_unhold_are_reinvites_the_peer_sees(setup):
    gw, peer, incoming, events = setup()
    peer.command("dial", target="400")
    call = incoming.get(timeout=10)
    events.wait(Answered)
    peer.expect("Answered")
    call.hold()
    assert events.wait(Held).by == "local"
    assert peer.expect("Held")["by"] == "remote"
    call.unhold()
    events.wait(Resumed)
    peer.expect("Resumed")
    peer.command("hold")
    assert events.wait(Held).by == "remote"


def test_blind_transfer_sends_a_refer_and_a_refer_to_the_gateway_is_declined(setup):
    gw, peer, incoming, events = setup()
    peer.command("dial", target="500")
    call = incoming.get(timeout=10)
    events.wait(Answered)
    peer.expect("Answered")
    # The peer is pigate's driver too, which refuses transfer requests (a caller must not make the gateway dial).
    call.transfer("sip:101@127.0.0.1:5999")
    status = events.wait(TransferStatus)
    assert status.code == 603 and status.final
    assert not call.ended  # a refused transfer leaves the call up


def test_dialling_an_unknown_trunk_or_a_bad_number_fails_clearly(setup):
    gw, peer, _, _ = setup()
    with pytest.raises(SipError, match="no SIP account or peer named 'nope'"):
        gw.dial("123", trunk="nope")
    with pytest.raises(SipError, match="not a dialable"):
        gw.dial("12 3", trunk="p1")


def test_a_wav_player_reaches_the_peer_and_a_recorder_keeps_what_the_peer_sends(setup, tmp_path):
    gw, peer, incoming, events = setup(tone=400)
    prompt = tmp_path / "prompt.wav"
    prompt.write_bytes(wav.encode(tone_pcm((1400,), 3000, amplitude=0.3), 8000))
    done = threading.Event()
    player = gw.player(prompt, on_done=lambda p: done.set())
    recorder = gw.recorder(tmp_path / "heard.wav")
    peer.command("dial", target="600")
    call = incoming.get(timeout=10)
    events.wait(Answered)
    call.connect(player)
    call.connect(recorder)
    time.sleep(1.5)
    peer.send("tone")
    heard = peer.expect("Tone")
    assert heard["hz"] == 1400 and heard["ratio"] > 100, heard
    assert done.wait(5)  # the 3 s prompt ended and said so
    call.disconnect(recorder)
    recorder.close()
    audio = wav.decode((tmp_path / "heard.wav").read_bytes())
    pcm = audio.samples.tobytes() if hasattr(audio.samples, "tobytes") else bytes(audio.samples)
    seconds = len(pcm) / 2 / audio.rate
    assert 2.0 < seconds < 6.0, seconds
    hz, ratio = strongest(resample8k(pcm, audio.rate)[-8000:])
    assert hz == 400 and ratio > 100, (hz, ratio)
    with pytest.raises(SipError, match="cannot play"):
        gw.player(tmp_path / "missing.wav")
