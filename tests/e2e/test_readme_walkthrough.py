"""The README's walk-through against a real daemon on its built-in simulator: what a new user types first."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.support import pigate_env

HANDSET = "+15551230001"


def _json(url: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as resp:
        return json.loads(resp.read())


def _until(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_send_sms_reaches_the_handset_and_a_handset_sms_can_be_polled(daemon_factory):
    d = daemon_factory()
    ans = d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="Hello 😀 world")
    assert ans.code == 200 and len(ans.find("SmsId")) == 36
    inbox = _until(lambda: _json(f"{d.base}/sim/handsets/{urllib.parse.quote(HANDSET)}/inbox"))
    assert [(m["from"], m["text"]) for m in inbox] == [("+15550000001", "Hello 😀 world")]

    _json(f"{d.base}/sim/handsets/{urllib.parse.quote(HANDSET)}/sms", {"text": "Hi box"})
    got = _until(lambda: d.call("ReceiveMessage").root.findall("Messages/Message"))
    assert [(m.findtext("Sender"), m.findtext("Text")) for m in got] == [(HANDSET, "Hi box")]


def test_pigate_sim_cli_drives_the_running_daemon(daemon_factory):
    d = daemon_factory()
    run = lambda *a: subprocess.run([sys.executable, "-m", "pigate", "sim", *a, "--url", d.base],
                                    env=pigate_env(), capture_output=True, text=True, timeout=30)
    res = run("sms", HANDSET, "from the cli")
    assert res.returncode == 0, res.stderr
    got = _until(lambda: d.call("ReceiveMessage").root.findall("Messages/Message"))
    assert got and got[0].findtext("Text") == "from the cli"
    d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="back to you")
    inbox = _until(lambda: json.loads(run("inbox", HANDSET).stdout or "[]"))
    assert [m["text"] for m in inbox] == ["back to you"]


def test_sim_control_obeys_the_address_lists(daemon_factory):
    from tests.support import free_port

    port = free_port()
    d = daemon_factory(f"[http]\nlisten = \"127.0.0.1\"\nport = {port}\nallow = [\"10.0.0.0/8\"]\n", port=port)
    try:
        urllib.request.urlopen(f"{d.base}/sim/handsets", timeout=5)
        raise AssertionError("the control API answered a denied address")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    req = urllib.request.Request(f"{d.base}/sim/handsets", headers={"X-Forwarded-For": "10.1.2.3"})
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("a forged X-Forwarded-For got through")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
