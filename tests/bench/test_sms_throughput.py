"""SMS throughput at a realistic submission latency: pigate's messages per minute against the modem's limit
(60 / latency) and against gammu-smsd (files backend) driving the same simulated modem with the same messages.

A benchmark, not a timed test: it prints the figures and asserts only that every message arrived.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pigate.sim import LatencyProfile, Network
from tests.bench.report import record
from tests.support import Daemon, api_call

LATENCY = 1.5
N = 15
GW = "+15550000001"
HANDSET = "+15551230001"


def _wait_submissions(net: Network, prefix: str, n: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(s.text.startswith(prefix) for s in net.submissions) >= n:
            return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"{prefix}: {sum(s.text.startswith(prefix) for s in net.submissions)} of {n} sent")


def _pigate_rate(tmp_path: Path, net: Network, link: str) -> float:
    d = Daemon(workdir=tmp_path / "pigate", config_text=f"""
[[modems]]
name = "gsm1"
port = "{link}"
number = "{GW}"
sms_timeout = 10.0

[[api_extensions]]
id = "9999"
""")
    try:
        d.start(timeout=20)
        deadline = time.monotonic() + 20
        while d.call("ListSmsLines").find("Lines/Line/State") != "registered":
            assert time.monotonic() < deadline, d.log()
            time.sleep(0.05)
        t0 = time.monotonic()
        for i in range(N):
            a = api_call(d.base, "SendSms", ApiExtension="9999", Recipient=HANDSET, Message=f"pigate {i:02d}")
            assert a.code == 200
        t1 = _wait_submissions(net, "pigate ", N, N * LATENCY * 3)
    finally:
        d.stop()
    return N / (t1 - t0) * 60


def _gammu_rate(tmp_path: Path, net: Network, link: str) -> float:
    base = tmp_path / "gammu"
    dirs = {k: base / k for k in ("in", "out", "sent", "err")}
    for p in dirs.values():
        p.mkdir(parents=True)
    rc = base / "smsdrc"
    log = base / "smsd.log"
    rc.write_text(f"""[gammu]
device = {link}
connection = at

[smsd]
service = files
inboxpath = {dirs['in']}/
outboxpath = {dirs['out']}/
sentsmspath = {dirs['sent']}/
errorsmspath = {dirs['err']}/
logfile = {log}
debuglevel = 1
LoopSleep = 0
CheckSecurity = 0
CheckBattery = 0
CheckSignal = 0
StatusFrequency = 0
""")
    proc = subprocess.Popen(["gammu-smsd", "-c", str(rc)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "Starting phone communication" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text() if log.exists() else ""
            time.sleep(0.05)
        time.sleep(3.0)  # let it finish its own bring-up before the clock starts
        t0 = time.monotonic()
        for i in range(N):
            name = f"OUTC20240101_1200{i:02d}_00_{HANDSET}_sms{i}.txt"
            tmp = base / name
            tmp.write_text(f"gammu {i:02d}")
            tmp.rename(dirs["out"] / name)  # whole files only: gammu must never see a half-written one
        t1 = _wait_submissions(net, "gammu ", N, N * LATENCY * 4)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return N / (t1 - t0) * 60


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gammu-smsd") is None, reason="gammu-smsd (Debian package gammu-smsd) missing")
def test_sms_throughput_against_the_modem_limit_and_gammu_smsd(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    net = Network(link_dir=links, latency=LatencyProfile(sms_submit=LATENCY))
    sim = net.add_modem(number=GW, dialect="sim7600")
    sim.start()
    try:
        link = str(sim.at_link)
        # gammu-smsd first: it expects a modem fresh from power-on, while pigate asserts every setting it needs.
        theirs = _gammu_rate(tmp_path, net, link)
        ours = _pigate_rate(tmp_path, net, link)
        h = net.handset(HANDSET)
        h.wait_inbox(2 * N, timeout=20)
    finally:
        net.stop()
    limit = 60 / LATENCY
    print(f"\nSMS throughput, {N} messages at {LATENCY} s per submission:"
          f"\n  modem limit  {limit:6.1f} msg/min"
          f"\n  pigate       {ours:6.1f} msg/min  ({ours / limit:.1%} of the limit)"
          f"\n  gammu-smsd   {theirs:6.1f} msg/min  ({theirs / limit:.1%} of the limit; pigate/gammu = "
          f"{ours / theirs:.2f})")
    record("SMS/min, 1 line at 1.5 s submission, vs gammu-smsd", ours, unit="msg/min", baseline=theirs,
           against="gammu-smsd")
    got = collections.Counter(m.text for m in h.inbox)
    assert all(got[f"pigate {i:02d}"] == 1 and got[f"gammu {i:02d}"] == 1 for i in range(N)), got
