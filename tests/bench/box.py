"""A gateway for benchmarks: the daemon as a subprocess (confined under PIGATE_BENCH_BUDGET) on N simulated lines
whose simulator runs in the benchmark's process, so the daemon's CPU is its own, plus what the figures need:
its CPU time, the PCM pump's lateness per call from its log, handsets' timings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from pigate.sim import LatencyProfile, Network
from pigate.sim.handset import HandsetCall
from tests.support import Answer, Daemon, api_call, process_cpu_seconds

PACING = re.compile(r"(\S+)-(\w+): (\d+) frames written, (\d+) dropped; ([\w -]+) priority; "
                    r"lateness p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms over (\d+)")


@dataclass(frozen=True)
class Pacing:
    """One call's PCM pump figures, as it logged them when the call ended."""

    line: str
    call_id: str
    frames: int
    dropped: int
    priority: str
    p50: float
    p99: float
    max: float


def number(i: int) -> str:
    return f"+1555000{i:04d}"


def handset_number(i: int) -> str:
    return f"+1555123{i:04d}"


class Box:
    def __init__(self, workdir: Path, *, lines: int, latency: LatencyProfile, extra_config: str = "") -> None:
        (workdir / "links").mkdir(parents=True, exist_ok=True)
        self.net = Network(link_dir=workdir / "links", latency=latency)
        self.lines = lines
        self.daemon: Daemon | None = None
        try:
            sims = [self.net.add_modem(number=number(i), dialect="sim7600") for i in range(lines)]
            for sim in sims:
                sim.start()
            modems = "".join(f'[[modems]]\nname = "gsm{i}"\nport = "{sim.at_link}"\naudio_port = "{sim.audio_link}"\n'
                             f'number = "{number(i)}"\n\n' for i, sim in enumerate(sims))
            self.data = workdir / "daemon" / "data"
            self.daemon = Daemon(workdir=workdir / "daemon", config_text=modems + '[[api_extensions]]\nid = "9999"\n'
                                 + extra_config)
            self.daemon.start(timeout=30)
            self.wait_lines()
        except BaseException:
            self.stop()
            raise

    @property
    def base(self) -> str:
        return self.daemon.base

    def api(self, command: str, **params: str) -> Answer:
        return api_call(self.base, command, **params)

    def wait_lines(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            states = [e.findtext("State") for e in
                      self.api("ListExtensions", Type="GsmLine").root.iter("ExtensionSummary")]
            if states.count("Connected") == self.lines:
                return
            assert time.monotonic() < deadline, f"lines: {states}\n{self.daemon.log()}"
            time.sleep(0.05)

    def cpu(self) -> float:
        """The daemon's user + system CPU seconds so far (its own rusage, read from /proc)."""
        return process_cpu_seconds(self.daemon.proc.pid)

    def call(self, handset: str, ozml: str) -> str:
        a = self.api("Call", Dialed=handset, ApiExtension="9999", ResponseOzML=ozml)
        assert a.code == 200, a.raw
        return a.find("CallId")

    def idle(self, timeout: float = 10) -> None:
        """Until the gateway lists no active call (every call placed so far is over on its side too)."""
        wait_for(lambda: not self.api("ListActiveCalls").root.findall(".//CallId"), timeout, "the calls to end")

    def handset_call(self, handset: str, *, after: int, timeout: float = 15) -> HandsetCall:
        """The handset's call numbered `after` (0 = its first), once it is connected."""
        h = self.net.handset(handset)
        deadline = time.monotonic() + timeout
        while len(h.calls) <= after or h.calls[after].answered_at is None:
            assert time.monotonic() < deadline, f"no connected call on {handset}\n{self.daemon.log()[-3000:]}"
            time.sleep(0.005)
        return h.calls[after]

    def pacing(self, call_id: str, timeout: float = 10) -> Pacing:
        deadline = time.monotonic() + timeout
        while True:
            for m in PACING.finditer(self.daemon.log()):
                if m[2] == call_id:
                    return Pacing(m[1], m[2], int(m[3]), int(m[4]), m[5], float(m[6]), float(m[7]), float(m[8]))
            assert time.monotonic() < deadline, f"no pacing logged for {call_id}"
            time.sleep(0.05)

    def stop(self) -> None:
        try:
            if self.daemon is not None:
                self.daemon.stop()
        finally:
            self.net.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
