"""A broken web app never wedges a call or the daemon: a handset calls the box, the app misbehaves in each
way the OzML issue lists, and each time the call ends as specified, the app hears of script errors, and the
daemon still answers its API. Also: an IncomingSMS answer runs through the OzML runner in the daemon."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest

from tests.ozml.loopback_app import Answer, LoopbackApp
from tests.support import free_port

HANDSET = "+15551230007"
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"&lol;" * 10)
                   for i in range(1, 10))
        + b']><Response><Speak>&lol9;</Speak></Response>')


@pytest.fixture
def app():
    a = LoopbackApp().start()
    yield a
    a.close()


def _sim(d, path: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim{path}", data=body), timeout=10) as resp:
        return json.loads(resp.read())


def _call_ends(d, within: float) -> dict:
    _sim(d, f"/handsets/{urllib.parse.quote(HANDSET)}/call", {"to": "+15550000001"})
    deadline = time.monotonic() + within
    while True:
        call = _sim(d, f"/handsets/{urllib.parse.quote(HANDSET)}/calls")[-1]
        if call["state"] not in ("dialing", "ringing", "active", "incoming"):
            return call
        assert time.monotonic() < deadline, f"call still {call['state']} after {within}s:\n{d.log()[-3000:]}"
        time.sleep(0.05)


def _daemon(daemon_factory, app, read_timeout=1.0):
    port = free_port()
    return daemon_factory(
        f'[http]\nlisten = "127.0.0.1"\nport = {port}\n'
        f'[notifications]\nincoming_call_url = "{app.url("/call")}"\nerror_url = "{app.url("/error")}"\n'
        f'incoming_sms_url = "{app.url("/sms")}"\n'
        f"connect_timeout = 1.0\nread_timeout = {read_timeout}\nretries = 0\n", port=port)


def _wait_registered(d) -> None:
    deadline = time.monotonic() + 10
    while d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State") != "Connected":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _errors(app) -> list[str]:
    return [fields["Code"] for path, fields, _ in app.posts if path == "/error"]


@pytest.mark.parametrize("name,answer,error_code", [
    ("slow", Answer(b"<Response><Speak>late</Speak></Response>", delay=5.0), None),
    ("500", Answer(b"oops", status=500), None),
    ("garbage", Answer(b"\x00\xffthis is not xml <<<"), "300"),
    ("xml bomb", Answer(BOMB), "300"),
    ("5 MB body", Answer(b"<Response>" + b"<Delay>0</Delay>" * 330_000 + b"</Response>"), None),
    ("wrong verb", Answer(b"<Response><Route>101</Route></Response>"), "303"),
])
def test_incoming_call_with_a_broken_app(daemon_factory, app, name, answer, error_code):
    app.routes["/call"] = answer
    app.routes["/error"] = Answer(b"")
    d = _daemon(daemon_factory, app)
    _wait_registered(d)
    t0 = time.monotonic()
    call = _call_ends(d, within=8)
    assert time.monotonic() - t0 < 5, f"{name}: the call took {time.monotonic() - t0:.1f}s to end"
    assert call["heard_seconds"] == 0 and call["state"] in ("ended", "rejected", "busy")
    posted = [f for p, f, _ in app.posts if p == "/call"]
    assert posted and posted[0]["NotificationName"] == "IncomingCall" and posted[0]["Caller"] == HANDSET
    if error_code:
        deadline = time.monotonic() + 5
        while error_code not in _errors(app):
            assert time.monotonic() < deadline, f"{name}: no Error {error_code}; got {_errors(app)}"
            time.sleep(0.05)
    assert d.call("ListExtensions").code == 200
    history = d.call("ListCallHistory").root.findall("CallHistory/Call")
    assert len(history) == 1


def test_app_down_refuses_the_call_and_the_daemon_goes_on(daemon_factory, app):
    dead = free_port()
    port = free_port()
    d = daemon_factory(f'[http]\nlisten = "127.0.0.1"\nport = {port}\n'
                       f'[notifications]\nincoming_call_url = "http://127.0.0.1:{dead}/call"\n'
                       f"connect_timeout = 1.0\nread_timeout = 1.0\nretries = 0\n", port=port)
    _wait_registered(d)
    call = _call_ends(d, within=8)
    assert call["heard_seconds"] == 0
    assert d.call("ListExtensions").code == 200


def test_goto_loop_is_cut_after_ten_hops_and_reported(daemon_factory, app):
    loop = Answer(f'<Response><GoTo>{app.url("/loop")}</GoTo></Response>'.encode())
    app.routes["/call"] = Answer(f'<Response><Speak>hi</Speak><GoTo>{app.url("/loop")}</GoTo></Response>'.encode())
    app.routes["/loop"] = loop
    app.routes["/error"] = Answer(b"")
    d = _daemon(daemon_factory, app)
    _wait_registered(d)
    call = _call_ends(d, within=10)
    assert call["state"] == "ended" and call["heard_seconds"] > 0  # it answered and spoke before looping
    assert app.paths().count("/loop") == 10
    deadline = time.monotonic() + 5
    while not _errors(app):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert d.call("ListExtensions").code == 200


def test_incoming_sms_answer_runs_in_the_daemon(daemon_factory, app):
    """IncomingSMS answered with a script: Var substitution and a SendSms back to the sender, once."""
    app.routes["/sms"] = lambda f: Answer(
        f'<Response><Var id="who">{f["Sender"]}</Var>'
        f'<SendSms Recipient="$who">Thanks, $who: got "{f["Message"]}"</SendSms></Response>'.encode())
    d = _daemon(daemon_factory, app)
    _wait_registered(d)
    _sim(d, f"/handsets/{urllib.parse.quote(HANDSET)}/sms", {"text": "ping"})
    deadline = time.monotonic() + 10
    while not (inbox := _sim(d, f"/handsets/{urllib.parse.quote(HANDSET)}/inbox")):
        assert time.monotonic() < deadline, d.log()[-3000:]
        time.sleep(0.05)
    time.sleep(0.3)
    inbox = _sim(d, f"/handsets/{urllib.parse.quote(HANDSET)}/inbox")
    assert [m["text"] for m in inbox] == [f'Thanks, {HANDSET}: got "ping"']
    sms = [f for p, f, _ in app.posts if p == "/sms"]
    assert sms[0]["NotificationName"] == "IncomingSMS" and sms[0]["Sender"] == HANDSET and sms[0]["Message"] == "ping"
