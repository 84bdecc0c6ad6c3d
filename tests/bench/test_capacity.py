"""Benchmark of the box's capacity on the simulator, the daemon as a subprocess:

- SMS per minute with 1, 4 and 16 simulated lines at 1.5 s per submission, from a burst of 10 messages per line
  sent over 8 connections to the last submission: the 1-line rate of the same run is
  the baseline, so the ratio says how well lines add up (goal: >= 15.5 with 16); also against the modem's
  limit (N x 40 per minute);
- durable SendSms accepts per second (each on disk before the answer) against a bare bottle+waitress handler
  doing one SQLite INSERT with fsync (WAL, synchronous=FULL) in the same run, so only our overhead shows;
- CPU seconds per SMS sent, from the daemon's own CPU time.

Run under PIGATE_BENCH_BUDGET=pi4 for the Pi-sized figures (tests/bench/budget.py).
"""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

from pigate.sim import LatencyProfile
from tests.bench.box import Box, handset_number
from tests.bench.budget import Confined, percent_from_env
from tests.bench.load import run_load
from tests.bench.report import record
from tests.bench.test_api_throughput import _wait
from tests.support import free_port, pigate_env

LATENCY = 1.5
PER_LINE = 10
SENDERS = 8  # an application submits a burst over several connections
CONNECTIONS = 50
SECONDS = 5.0


def _sms_rate(tmp: Path, lines: int) -> tuple[float, float, int]:
    """(messages per minute, daemon CPU seconds, messages) for PER_LINE messages per line."""
    box = Box(tmp, lines=lines, latency=LatencyProfile(sms_submit=LATENCY))
    try:
        n = lines * PER_LINE
        cpu0 = box.cpu()
        t0 = datetime.now(timezone.utc)

        def send(i: int) -> int:
            return box.api("SendSms", ApiExtension="9999", Recipient=handset_number(i % 50), Message=f"cap {i:03d}").code

        with concurrent.futures.ThreadPoolExecutor(SENDERS) as pool:
            assert set(pool.map(send, range(n))) == {200}
        deadline = time.monotonic() + n * LATENCY + 30
        while len(box.net.submissions) < n:
            assert time.monotonic() < deadline, f"{len(box.net.submissions)} of {n} sent\n{box.daemon.log()[-2000:]}"
            time.sleep(0.01)
        last = max(s.at for s in box.net.submissions)
        cpu = box.cpu() - cpu0
        per_line = {}
        for s in box.net.submissions:
            per_line[s.modem] = per_line.get(s.modem, 0) + 1
        assert len(per_line) == lines, f"not every line sent: {per_line}"
    finally:
        box.stop()
    return n / (last - t0).total_seconds() * 60, cpu, n


def test_sms_per_minute_adds_up_over_lines(tmp_path):
    limit = 60 / LATENCY
    one = None
    for lines in (1, 4, 16):
        rate, cpu, n = _sms_rate(tmp_path / f"l{lines}", lines)
        one = one or rate
        goal = ">= 15.5" if lines == 16 else ""
        record(f"SMS/min, {lines} line{'s' if lines > 1 else ''} at {LATENCY} s per submission", rate,
               unit="msg/min", baseline=one, against="1 line, same run", goal=goal,
               met=(rate / one >= 15.5) if lines == 16 else None)
        record(f"SMS/min, {lines} line{'s' if lines > 1 else ''}, of the modems' limit", rate / (lines * limit),
               unit="", goal="", met=None)
        if lines == 16:
            record("CPU per SMS sent, 16 lines", cpu / n, unit="s")


def _popen_server(args: list[str]):
    percent = percent_from_env()
    if percent is None:
        return subprocess.Popen(args, env=pigate_env()), None
    c = Confined(args, percent=percent, env=pigate_env())
    return c.proc, c


def test_durable_accepts_against_a_bare_sqlite_handler(tmp_path):
    threads = 8
    query = urllib.parse.urlencode({"command": "SendSms", "ApiExtension": "9999", "Recipient": "+15551230001",
                                    "Message": "capacity"})
    port = free_port()
    proc, confined = _popen_server([sys.executable, str(Path(__file__).with_name("baseline_store_server.py")),
                                    str(port), str(threads), str(tmp_path / "baseline.db")])
    try:
        _wait(f"http://127.0.0.1:{port}/api?Recipient=x&Message=warmup")
        baseline = run_load("127.0.0.1", port, "/api?" + query, connections=CONNECTIONS, seconds=SECONDS)
    finally:
        proc.terminate()
        proc.wait(5)
        if confined:
            confined.release()
    box = Box(tmp_path / "box", lines=1, latency=LatencyProfile(sms_submit=LATENCY))  # [http] threads: 8 too
    try:
        before = int(box.api("ListSms").find("TotalRecords") or 0)
        ours = run_load("127.0.0.1", box.daemon.port, "/api?" + query, connections=CONNECTIONS, seconds=SECONDS)
        stored = int(box.api("ListSms").find("TotalRecords") or 0) - before
    finally:
        box.stop()
    ratio = ours.rps / baseline.rps
    record(f"durable SendSms accepts/s, {CONNECTIONS} connections", ours.rps, unit="req/s", baseline=baseline.rps,
           against="bare INSERT+fsync", goal=">= 0.5", met=ratio >= 0.5)
    assert ours.errors == 0, f"the daemon failed {ours.errors} requests (the baseline {baseline.errors})"
    assert stored >= ours.requests, f"{ours.requests} accepted, {stored} on disk"
