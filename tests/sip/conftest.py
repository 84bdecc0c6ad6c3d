"""SIP test fixtures: the driver under test in this process, real peers (a pjsua2 process, sipp, Kamailio) beside it."""

from __future__ import annotations

import csv
import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pigate.sip import SipDriver
from tests.support import ROOT, pigate_env

HERE = Path(__file__).resolve().parent

def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host` (the endpoint listens on both)."""
    for _ in range(50):
        with socket.socket() as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free SIP port")


@pytest.fixture
def gateway():
    """Start SipDrivers in this process (one at a time: one pjsua2 Endpoint per process); all stopped after."""
    started: list[SipDriver] = []

    def start(**kw) -> SipDriver:
        kw.setdefault("port", free_sip_port())
        driver = SipDriver(**kw)
        started.append(driver)
        driver.start()
        return driver

    yield start
    for driver in started:
        driver.stop()


class PeerProcess:
    """tests/sip/peer.py in a subprocess: commands in, JSON events out."""

    def __init__(self, *, gateway_port: int, tone: int = 0, answer: str = "answer", listen: str = "127.0.0.1",
                 alarm: str = "", port: int | None = None):
        self.port = port or free_sip_port(listen)
        self.listen = listen
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(HERE / "peer.py"), "--port", str(self.port), "--listen", listen,
             "--gateway-port", str(gateway_port), "--tone", str(tone), "--answer", answer, "--alarm", alarm],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=pigate_env(), cwd=ROOT)
        self.events: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []     # every event, for failure messages
        self.pending: list[dict] = []  # events not yet returned by expect()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.expect("Ready", timeout=15)

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def send(self, cmd: str, **args) -> None:
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()

    def expect(self, event: str, timeout: float = 10.0) -> dict:
        """The oldest not yet expected event named `event`, waiting for it; an Error event fails the test."""
        deadline = time.monotonic() + timeout
        while True:
            for i, got in enumerate(self.pending):
                if got["event"] == "Error":
                    raise AssertionError(f"peer error: {got['error']}")
                if got["event"] == event:
                    del self.pending[i]
                    return got
            left = deadline - time.monotonic()
            try:
                got = self.events.get(timeout=max(0.01, left))
            except queue.Empty:
                raise AssertionError(f"peer: no {event} within {timeout}s; saw {self.seen}; "
                                     f"stderr: {self._stderr()}") from None
            self.seen.append(got)
            self.pending.append(got)

    def command(self, cmd: str, **args) -> None:
        self.send(cmd, **args)
        self.expect("Ok")

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read()[-2000:]

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        return self.proc.returncode


@pytest.fixture
def peer_factory():
    peers: list[PeerProcess] = []

    def start(**kw) -> PeerProcess:
        p = PeerProcess(**kw)
        peers.append(p)
        return p

    yield start
    for p in peers:
        p.close()


def sipp_path() -> str:
    path = shutil.which("sipp")
    if not path:
        pytest.skip("sipp (Debian sip-tester) is not installed")
    return path


def run_sipp(args: list[str], *, cwd: Path, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run sipp in the background mode it needs without a terminal; it ends by itself (-m)."""
    proc = subprocess.Popen([sipp_path(), *args, "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error"],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class Sipp:
    """sipp placing `calls` calls with a scenario of tests/sip/scenarios (`hold_ms` is its -d), in the background
    from `source`; `wait()` returns its final counts from -trace_stat. `kill()` if it may still run."""

    def __init__(self, workdir: Path, scenario: str, target: str, *, service: str, calls: int, rate: float,
                 hold_ms: int, limit: int, source: str = "127.0.0.1", extra: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sipp_path(), "-sf", str(HERE / "scenarios" / scenario), target, "-s", service, "-i", source,
             "-p", str(free_sip_port(source)), "-mp", str(free_sip_port(source)), "-m", str(calls), "-r", str(rate),
             "-l", str(limit), "-d", str(hold_ms), "-nostdin", "-timeout", "90s", "-trace_stat", "-fd", "1",
             "-trace_err", *extra],
            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = ""

    def wait(self, timeout: float = 100) -> dict[str, int]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self.out = out[-3000:] + err[-2000:]
        (stat,) = self.workdir.glob("*.csv")
        last = list(csv.DictReader(stat.read_text().splitlines(), delimiter=";"))[-1]
        return {"ok": int(last["SuccessfulCall(C)"]), "failed": int(last["FailedCall(C)"])}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
