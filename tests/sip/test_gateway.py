"""The daemon takes SIP calls: a configured peer's call reaches the API extension's IncomingCall webhook and the
OzML answer runs on it (speech heard by the caller, its key presses drive a menu); a stranger still gets 403."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ozml.loopback_app import Answer, LoopbackApp
from tests.sip.conftest import free_sip_port

IVR = (Path(__file__).resolve().parents[1] / "ozml" / "data" / "basic_ivr.xml").read_bytes()


@pytest.fixture
def app():
    a = LoopbackApp().start()
    yield a
    a.close()


def _sip_daemon(daemon_factory, app) -> tuple[object, int]:
    port = free_sip_port()
    d = daemon_factory(f"""
[notifications]
incoming_call_url = "{app.url('/call')}"

[sip]
enabled = true
listen = "127.0.0.1"
port = {port}

[[sip.peers]]
name = "lab"
address = "127.0.0.1"
""")
    return d, port


def _level(peer, ms: int = 500) -> float:
    peer.send("level", ms=ms)
    return peer.expect("Level")["rms"]


def _submissions(d) -> list[dict]:
    with urllib.request.urlopen(f"{d.base}/sim/submissions", timeout=5) as resp:
        return json.load(resp)


def _wait(predicate, timeout: float, what: str, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{log()[-3000:]}"
        time.sleep(0.05)
    return value


def test_a_peers_call_runs_the_ivr_the_app_answers_with(daemon_factory, app, peer_factory):
    app.routes["/call"] = Answer(IVR)
    d, port = _sip_daemon(daemon_factory, app)
    peer = peer_factory(gateway_port=port)
    t0 = time.monotonic()
    peer.send("dial", target="100", caller_id="+15557654321")
    peer.expect("Answered", timeout=10)
    answered = time.monotonic() - t0
    posts = [fields for path, fields, _ in app.posts if path == "/call"]
    assert len(posts) == 1, app.posts
    assert posts[0]["Caller"] == "+15557654321" and posts[0]["ApiExtension"] == "9999", posts[0]
    time.sleep(0.6)
    assert _level(peer, 400) < 50, "the IVR starts with a 1 s Delay: silence"
    _wait(lambda: _level(peer, 300) > 300, 5, "the welcome speech at the caller", d.log)
    peer.send("dtmf", digits="1")
    sms = _wait(lambda: [s for s in _submissions(d) if "45026467" in json.dumps(s)], 20,
                "the IVR's SMS to 45026467", d.log)
    assert "Hello from Ozeki Phone System" in json.dumps(sms[0])
    active = d.call("ListActiveCalls").raw.decode()
    assert "<Source>+15557654321</Source>" in active and "<Line>lab</Line>" in active, active
    peer.command("hangup")
    peer.expect("Ended")
    history = _wait(lambda: (lambda a: a if a.find("TotalRecords") == "1" else None)(d.call("ListCallHistory")),
                    10, "the history row", d.log)
    assert history.find("CallHistory/Call/Direction") == "Inbound"
    assert history.find("CallHistory/Call/State") == "CallerHangUp", history.raw
    assert history.find("CallHistory/Call/Line") == "lab"
    assert answered < 5.0


def test_a_stranger_gets_403_and_never_reaches_the_app(daemon_factory, app, peer_factory):
    app.routes["/call"] = Answer(IVR)
    d, port = _sip_daemon(daemon_factory, app)
    stranger = peer_factory(gateway_port=port, listen="127.0.0.5")
    stranger.send("dial", target="100")
    ended = stranger.expect("Ended", timeout=10)
    assert ended["code"] == 403
    assert not [p for p in app.posts if p[0] == "/call"]
    assert "refused a call from 127.0.0.5" in d.log()


def test_record_on_a_sip_call_keeps_what_the_caller_sent(daemon_factory, app, peer_factory):
    import io
    import wave

    from tests.sip.peer import strongest

    app.routes["/recorded"] = Answer(b"")
    app.routes["/call"] = Answer(f'<Response><Record Format="wav" Duration="1.5" '
                                 f'FinishedUrl="{app.url("/recorded")}"/></Response>'.encode())
    d, port = _sip_daemon(daemon_factory, app)
    peer = peer_factory(gateway_port=port, tone=1000)
    peer.send("dial", target="100")
    peer.expect("Answered", timeout=10)
    done = _wait(lambda: [f for p, f, _ in app.posts if p == "/recorded"], 15, "RecordCompleted", d.log)[0]
    assert done["Success"] == "true" and 1.3 <= float(done["Duration"]) <= 1.7, done
    with urllib.request.urlopen(done["RecordURL"], timeout=5) as resp:
        with wave.open(io.BytesIO(resp.read())) as w:
            pcm = w.readframes(w.getnframes())
    hz, ratio = strongest(pcm)
    assert hz == 1000 and ratio > 10, (hz, ratio)
