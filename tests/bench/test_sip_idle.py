"""Idle cost of SIP: the daemon's resident memory with the pjsua2 endpoint up (one registered-less peer trunk)
against the same daemon without SIP, both measured in this run, for the table of `make bench`.
"""

from __future__ import annotations

import time

from tests.bench.report import record
from tests.sip.conftest import free_sip_port
from tests.support import Daemon


def _rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _idle_rss(tmp_path, name: str, config: str) -> int:
    d = Daemon(workdir=tmp_path / name, config_text=config)
    try:
        d.start(timeout=20)
        time.sleep(1.0)  # let bring-up and the first timers settle
        return _rss_kib(d.proc.pid)
    finally:
        assert d.stop() == 0, d.log()


def test_idle_rss_with_the_sip_endpoint_up(tmp_path):
    base = _idle_rss(tmp_path, "nosip", "")
    sip = _idle_rss(tmp_path, "sip", f"""
[sip]
enabled = true
port = {free_sip_port()}
max_calls = 32

[[sip.peers]]
name = "pbx"
address = "127.0.0.1:5999"
""")
    assert base > 0 and sip > 0
    record("idle RSS with the SIP endpoint up (max_calls 32)", sip / 1024, unit="MiB", baseline=base / 1024,
           against=f"without SIP; +{(sip - base) / 1024:.1f} MiB")
