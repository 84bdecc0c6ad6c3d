"""Test support: start the real daemon as a subprocess on a free loopback port, call its API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.bench.budget import Confined, percent_from_env

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pigate_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FIRMWARE), env.get("PYTHONPATH", "")]))
    env.pop("NOTIFY_SOCKET", None)
    return env


@dataclass
class Answer:
    """A parsed API answer."""

    code: int
    message: str
    root: ET.Element
    raw: bytes

    def find(self, path: str) -> str | None:
        return self.root.findtext(path)


def parse_answer(raw: bytes) -> Answer:
    root = ET.fromstring(raw)
    return Answer(int(root.findtext("Code")), root.findtext("Message") or "", root, raw)


def api_call(base: str, command: str | None = None, *, method: str = "GET", path: str = "/api",
             timeout: float = 10.0, **params: str) -> Answer:
    query = dict(params)
    if command is not None:
        query = {"command": command, **query}
    data = urllib.parse.urlencode(query)
    if method == "GET":
        req = urllib.request.Request(f"{base}{path}?{data}")
    else:
        req = urllib.request.Request(f"{base}{path}", data=data.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/xml")
        return parse_answer(resp.read())


HANG_WALL = 120.0  # seconds of wall clock: a daemon that got this far without answering is hung, not slow


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds process `pid` has used (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Daemon:
    """`python -m pigate run --config FILE` in a work directory, on a free port."""

    def __init__(self, *, workdir: Path, config_text: str = "", port: int | None = None,
                 extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.config_text = config_text
        self.extra_env = extra_env or {}
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "daemon.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "pigate.toml"

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        text = self.config_text
        if "[http]" not in text:
            text = f"[http]\nlisten = \"127.0.0.1\"\nport = {self.port}\n\n" + text
        if "[storage]" not in text:
            text += f"\n[storage]\ndata_dir = \"{self.workdir / 'data'}\"\n"
        self.config_path.write_text(text)

    def start(self, wait: bool = True, timeout: float = 10.0) -> float:
        """Start; returns the seconds until the API answered."""
        self.write_config()
        env = {**pigate_env(), **self.extra_env}
        self._log = open(self.log_path, "ab")
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "pigate", "run", "--config", str(self.config_path), *self.args]
        percent = percent_from_env()
        if percent is None:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        else:  # PIGATE_BENCH_BUDGET: the daemon on one core with a Pi-like CPU quota (tests/bench/budget.py)
            self._confined = Confined(cmd, percent=percent, cwd=self.workdir, env=env, stdout=self._log,
                                      stderr=subprocess.STDOUT)
            self.proc = self._confined.proc
        if wait:
            self.wait_ready(timeout)
        return time.monotonic() - t0

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Until the API answers. `timeout` is the daemon's own CPU seconds (it needs about one): a daemon that
        works that long without answering fails the test; a loaded machine's share of the CPU does not. A
        daemon that stops using the CPU without answering (a hang) fails after HANG_WALL seconds."""
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            try:
                api_call(self.base, "ListExtensionTypes", timeout=5)
                return
            except OSError:
                time.sleep(0.02)
            used = process_cpu_seconds(self.proc.pid)
            if used > timeout:
                raise TimeoutError(f"daemon not ready after {used:.1f} s of its own CPU time:\n{self.log()}")
            if time.monotonic() - t0 > HANG_WALL:
                raise TimeoutError(f"daemon not ready after {HANG_WALL} s ({used:.1f} s CPU):\n{self.log()}")

    def call(self, command: str | None = None, **params: str) -> Answer:
        return api_call(self.base, command, **params)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self, timeout: float = 5.0) -> int | None:
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()
        if getattr(self, "_confined", None):
            self._confined.release()
        return self.proc.returncode
