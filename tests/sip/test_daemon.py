"""The daemon with `[sip] enabled`: its account registers and is listed, strangers get 403, it stops clean."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.sip.conftest import free_sip_port
from tests.sip.kamailio import Kamailio
from tests.sip.test_security import _replies, _sipp
from tests.support import pigate_env


class _Gw:
    """What _sipp needs of a gateway: its SIP port."""

    def __init__(self, port: int) -> None:
        self.endpoint = type("E", (), {"port": port})()


def test_daemon_registers_lists_the_account_refuses_strangers_and_stops_cleanly(daemon_factory, tmp_path):
    k = Kamailio(workdir=tmp_path, user="alice", password="s3cret")
    k.start()
    try:
        port = free_sip_port()
        d = daemon_factory(f"""
[sip]
enabled = true
listen = "127.0.0.1"
port = {port}

[[sip.accounts]]
name = "pbx"
registrar = "{k.host}:{k.port}"
username = "alice"
password = "s3cret"

[[sip.peers]]
name = "asterisk"
address = "127.0.0.1"
""")
        deadline = time.monotonic() + 10
        while True:
            ans = d.call("ListExtensions", Type="SipAccount")
            state = ans.find("Extensions/ExtensionSummary/State")
            if state == "Connected" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert state == "Connected", d.log()
        assert ans.find("Extensions/ExtensionSummary/Id") == "pbx"
        assert ans.find("Extensions/ExtensionSummary/PhoneNumber") == f"sip:alice@{k.host}"
        status = subprocess.run([sys.executable, "-m", "pigate", "status"], capture_output=True, text=True,
                                env={**pigate_env(), "PIGATE_URL": d.base}, timeout=20)
        row = next(line for line in status.stdout.splitlines() if line.startswith("pbx"))
        assert row.split() == ["pbx", "SipAccount", f"sip:alice@{k.host}", "Connected"], status.stdout
        done = _sipp(tmp_path, _Gw(port), "refused.xml", source="127.0.0.5", calls=3, rate=10)
        assert done.returncode == 0, done.stdout[-2000:]
        assert _replies(tmp_path, 403) == 3
        t0 = time.monotonic()
        assert d.stop() == 0, d.log()
        assert time.monotonic() - t0 < 2.5
        log = d.log()
        assert "refused a call from 127.0.0.5" in log and "registered for" in log
        assert "Assertion" not in log and "terminate called" not in log
    finally:
        k.stop()
