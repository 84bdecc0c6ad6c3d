"""`pigate status` and `pigate sms ...` against a running daemon, as an operator uses them over SSH."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.support import pigate_env


def _pigate(d, *args):
    env = {**pigate_env(), "PIGATE_URL": d.base}
    return subprocess.run([sys.executable, "-m", "pigate", *args], env=env, capture_output=True, text=True,
                          timeout=30)


def test_status_and_sms_commands(daemon_factory):
    d = daemon_factory()
    deadline = time.monotonic() + 10
    while "registered" not in (out := _pigate(d, "status").stdout):
        assert time.monotonic() < deadline, out
        time.sleep(0.1)
    assert "gsm1  +15550000001  registered  SimNet" in out

    sent = _pigate(d, "sms", "send", "+15551230001", "x" * 200)
    assert sent.returncode == 0, sent.stderr
    sms_id = sent.stdout.strip()
    deadline = time.monotonic() + 10
    while "delivered" not in (listing := _pigate(d, "sms", "list").stdout):
        assert time.monotonic() < deadline, listing
        time.sleep(0.1)
    assert sms_id in listing and "(1 of 1)" in listing
    shown = _pigate(d, "sms", "show", sms_id).stdout
    assert "PartCount:    2" in shown and shown.count("delivered") == 3  # the message and both parts

    missing = _pigate(d, "sms", "show", "no-such-id")
    assert missing.returncode == 1 and "302" in missing.stderr


def test_unreachable_daemon_is_a_clear_error():
    res = subprocess.run([sys.executable, "-m", "pigate", "status", "--url", "http://127.0.0.1:9"],
                         env=pigate_env(), capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 and "cannot reach pigate at http://127.0.0.1:9" in res.stderr


def test_at_sends_one_command_to_the_modem(daemon_factory):
    d = daemon_factory()
    sock = str(d.workdir / "data" / "control.sock")  # `pigate at` goes over the control socket
    deadline = time.monotonic() + 10
    while (res := _pigate(d, "at", "AT+CSQ", "--socket", sock)).returncode != 0:
        assert time.monotonic() < deadline, res.stdout + res.stderr
        time.sleep(0.1)
    assert res.stdout.splitlines()[-2:] == ["+CSQ: 21,99", "OK"]
    bad = _pigate(d, "at", "AT+NOSUCH", "--socket", sock)
    assert bad.returncode == 1 and bad.stdout.strip().endswith("ERROR")
    unknown = _pigate(d, "at", "AT", "--line", "gsm9", "--socket", sock)
    assert unknown.returncode == 1 and "no line 'gsm9'; lines: gsm1" in unknown.stderr


def test_call_places_a_call_that_speaks_its_script(daemon_factory, tmp_path):
    import json
    import urllib.request

    d = daemon_factory()
    script = tmp_path / "hello.xml"
    script.write_text("<Response><Speak>Hello from the gateway, this is a test call.</Speak></Response>")
    deadline = time.monotonic() + 10
    while (res := _pigate(d, "call", "+15551230009", "--ozml", str(script))).returncode != 0:
        assert time.monotonic() < deadline, res.stderr
        time.sleep(0.2)
    assert res.stdout.strip()  # the call id
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(f"{d.base}/sim/handsets/%2B15551230009/calls", timeout=5) as resp:
            calls = json.loads(resp.read())
        if calls and calls[-1]["state"] == "ended":
            break
        assert time.monotonic() < deadline, calls
        time.sleep(0.1)
    assert calls[-1]["heard_seconds"] > 1.5  # the sentence was spoken, then the gateway hung up


def test_sim_commands_find_the_daemon_through_pigate_url(daemon_factory):
    d = daemon_factory()
    assert not d.base.endswith(":9509")
    sent = _pigate(d, "sim", "sms", "+15551230009", "hello from the sim CLI")
    assert sent.returncode == 0, sent.stderr
    deadline = time.monotonic() + 10
    while not (got := d.call("ReceiveMessage", Limit="10").root.findall("Messages/Message")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert [m.findtext("Text") for m in got] == ["hello from the sim CLI"]
    status = _pigate(d, "sim", "status")
    assert status.returncode == 0 and "+15550000001" in status.stdout
