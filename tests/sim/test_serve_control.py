"""`pigate sim serve` as its own process, driven through the /sim/ control API and the `pigate sim` commands."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pigate.sim import cli as sim_cli
from tests.sim.atclient import AtClient
from tests.support import pigate_env

HANDSET = "+15551230001"


class SimProcess:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.link_dir = tmp_path / "links"
        self.link_dir.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pigate.sim.serve", "--link-dir", str(self.link_dir),
             "--control", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=pigate_env())
        self.ports: list[tuple[str, str]] = []

    def read_header(self, modems: int) -> None:
        lines = [self.proc.stdout.readline().strip() for _ in range(2 * modems + 1)]
        for at_line, audio_line in zip(lines[0:-1:2], lines[1:-1:2]):
            assert at_line.startswith("at ") and audio_line.startswith("audio "), lines
            self.ports.append((at_line[3:], audio_line[6:]))
        assert lines[-1].startswith("control http://127.0.0.1:"), lines
        self.base = lines[-1].split(" ", 1)[1].rstrip("/").removesuffix("/sim")

    def http(self, method: str, path: str, body: dict | None = None, *, form: bool = False):
        data, headers = None, {}
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("application/json")
            return json.loads(resp.read())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


@pytest.fixture
def sim_process(tmp_path):
    started: list[SimProcess] = []

    def start(*args: str, modems: int = 1) -> SimProcess:
        p = SimProcess(tmp_path, *args, "--modems", str(modems))
        started.append(p)
        p.read_header(modems)
        return p

    yield start
    for p in started:
        p.stop()


def q(number: str) -> str:
    return urllib.parse.quote(number, safe="+")


def test_serve_prints_ports_first_and_exits_cleanly_on_sigterm(sim_process):
    sim = sim_process("--dialect", "sim800", modems=2)
    (at1, audio1), (at2, _) = sim.ports
    assert Path(at1).name == "15550000001-at" and Path(audio1).name == "15550000001-audio"
    assert Path(at2).name == "15550000002-at"
    assert os.readlink(at1).startswith("/dev/pts/")
    c = AtClient(at1)
    try:
        assert c.ok("AT+CGMM") == ["SIMCOM_SIM800"]
    finally:
        c.close()
    t0 = time.monotonic()
    assert sim.stop() == 0
    assert time.monotonic() - t0 < 5
    assert not Path(at1).exists() and not Path(at2).exists()


def test_control_api_sends_sms_from_handset_and_reads_inbox(sim_process):
    sim = sim_process(modems=2)
    at = AtClient(sim.ports[0][0])
    at2 = AtClient(sim.ports[1][0])
    try:
        at.ok("ATE0")
        at.ok("AT+CMGF=1")
        sent = sim.http("POST", f"/sim/handsets/{q(HANDSET)}/sms", {"text": "from a handset"})
        assert sent == {"from": HANDSET, "to": "+15550000001", "parts": 1, "reference": None}
        assert at.wait_line("+CMTI:") == '+CMTI: "SM",1'
        # Form encoding and an explicit target modem work too.
        sim.http("POST", f"/sim/handsets/{q(HANDSET)}/sms", {"text": "to modem two", "to": "+15550000002"},
                 form=True)
        assert at2.wait_line("+CMTI:")
        lines, final = at.send_text(f'AT+CMGS="{HANDSET}"', "reply from the gateway")
        assert final == "OK"
        deadline = time.monotonic() + 5
        while not (inbox := sim.http("GET", f"/sim/handsets/{q(HANDSET)}/inbox")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(m["from"], m["text"]) for m in inbox] == [("+15550000001", "reply from the gateway")]
        subs = sim.http("GET", "/sim/submissions")
        assert [(s["modem"], s["recipient"], s["text"]) for s in subs] == [
            ("+15550000001", HANDSET, "reply from the gateway")]
    finally:
        at.close()
        at2.close()


def test_control_api_injects_faults_and_rejects_bad_requests(sim_process):
    sim = sim_process()
    at = AtClient(sim.ports[0][0])
    try:
        at.ok("ATE0")
        at.ok("AT+CMEE=1")
        at.ok("AT+CMGF=1")
        r = sim.http("POST", "/sim/modems/+15550000001/faults/cms_error", {"code": 330, "command": "CMGS"})
        assert r["faults"]["errors"]["+CMGS"] == {"kind": "CMS", "code": 330, "times": 1}
        assert at.send_text(f'AT+CMGS="{HANDSET}"', "x") == ([], "+CMS ERROR: 330")
        sim.http("POST", "/sim/modems/15550000001/faults/registration_lost", {})
        assert at.ok("AT+CREG?") == ["+CREG: 0,2"]
        sim.http("POST", "/sim/modems/15550000001/faults/clear", {})
        assert at.ok("AT+CREG?") == ["+CREG: 0,1"]
        with pytest.raises(urllib.error.HTTPError) as err:
            sim.http("POST", f"/sim/handsets/{q(HANDSET)}/sms", {"text": ""})
        assert err.value.code == 400
        with pytest.raises(urllib.error.HTTPError) as err:
            sim.http("POST", "/sim/modems/+19999/faults/vanish", {})
        assert err.value.code == 404
    finally:
        at.close()


def test_cli_commands_drive_a_running_simulator(sim_process, capsys):
    sim = sim_process()
    parser = argparse.ArgumentParser(prog="pigate")
    sim_cli.add_parser(parser.add_subparsers(dest="command"))

    def run(*argv: str):
        args = parser.parse_args(["sim", *argv, "--url", sim.base] if argv[0] != "fault" else
                                 ["sim", argv[0], "--url", sim.base, *argv[1:]])
        code = args.func(args)
        return code, capsys.readouterr().out

    at = AtClient(sim.ports[0][0])
    try:
        at.ok("ATE0")
        code, out = run("sms", HANDSET, "via the cli")
        assert code == 0 and json.loads(out)["parts"] == 1
        assert at.wait_line("+CMTI:")
        code, out = run("fault", "+15550000001", "cme_error", "code=100", "command=CSQ")
        assert code == 0
        at.ok("AT+CMEE=1")
        assert at.command("AT+CSQ") == ([], "+CME ERROR: 100")
        code, out = run("inbox", HANDSET)
        assert code == 0 and json.loads(out) == []
        code, out = run("status")
        assert json.loads(out)["modems"][0]["number"] == "+15550000001"
    finally:
        at.close()


def test_control_api_calls_the_gateway_presses_keys_and_hangs_up(sim_process):
    sim = sim_process()
    at = AtClient(sim.ports[0][0])
    try:
        at.ok("ATE0")
        r = sim.http("POST", f"/sim/handsets/{q(HANDSET)}/call", {})
        assert r["state"] == "dialing" and r["callee"] == "+15550000001"
        assert at.wait_line("RING")
        at.ok("ATA")
        sim.http("POST", f"/sim/handsets/{q(HANDSET)}/call/keys", {"digits": "42"})
        assert [at.wait_line("+RXDTMF:"), at.wait_line("+RXDTMF:")] == ["+RXDTMF: 4", "+RXDTMF: 2"]
        assert sim.http("POST", f"/sim/handsets/{q(HANDSET)}/call/hangup", {})["state"] == "ended"
        assert at.wait_line("NO CARRIER")
        # The gateway calls a handset set to be busy.
        sim.http("POST", f"/sim/handsets/{q(HANDSET)}/settings", {"incoming_behaviour": "busy"})
        at.ok(f"ATD{HANDSET};")
        assert at.wait_line("BUSY")
        calls = sim.http("GET", f"/sim/handsets/{q(HANDSET)}/calls")
        assert [c["state"] for c in calls] == ["ended", "busy"]
        assert sim.http("POST", "/sim/delivery_policy", {"policy": "fail"}) == {"delivery_policy": "fail"}
        with pytest.raises(urllib.error.HTTPError) as err:
            sim.http("POST", f"/sim/handsets/{q(HANDSET)}/settings", {"incoming_behaviour": "dance"})
        assert err.value.code == 400
    finally:
        at.close()
