"""Benchmark: ListExtensions requests/s on the daemon against a bare bottle+waitress constant handler."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.bench.load import run_load
from tests.bench.report import record
from tests.support import Daemon, free_port, pigate_env

SECONDS = 5.0
CONNECTIONS = 50


def _wait(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_list_extensions_rate_against_bare_waitress(tmp_path, capsys):
    threads = 8
    port = free_port()
    base = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_server.py")), str(port),
                             str(threads)], env=pigate_env())
    try:
        _wait(f"http://127.0.0.1:{port}/api")
        baseline = run_load("127.0.0.1", port, "/api?command=ListExtensions",
                            connections=CONNECTIONS, seconds=SECONDS)
    finally:
        base.terminate()
        base.wait(5)
    daemon = Daemon(workdir=tmp_path / "d", config_text="")
    daemon.config_text = f"[http]\nlisten = \"127.0.0.1\"\nport = {daemon.port}\nthreads = {threads}\n"
    daemon.start()
    try:
        ours = run_load("127.0.0.1", daemon.port, "/api?command=ListExtensions",
                        connections=CONNECTIONS, seconds=SECONDS)
        assert daemon.call("ListExtensions").code == 200
    finally:
        daemon.stop()
    ratio = ours.rps / baseline.rps
    with capsys.disabled():
        print(f"\n[bench] ListExtensions, {CONNECTIONS} connections, {ours.tool}: "
              f"pigate {ours.rps:.0f} req/s, bare bottle+waitress {baseline.rps:.0f} req/s, "
              f"ratio {ratio:.2f} (goal >= 0.5); errors {ours.errors}/{baseline.errors}")
    record("ListExtensions req/s, 50 connections", ours.rps, unit="req/s", baseline=baseline.rps,
           against="bare bottle+waitress", goal=">= 0.5", met=ratio >= 0.5)
    assert ours.requests > 0 and baseline.requests > 0
    assert ours.errors == 0, "the daemon must not drop or fail requests under load"
