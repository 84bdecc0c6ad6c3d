"""HTTP load for benchmarks: wrk when installed, else a threaded keep-alive Python client."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_load(host: str, port: int, path: str, *, connections: int = 50, seconds: float = 5.0) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(host, port, path, connections, seconds)
    return _python(host, port, path, connections, seconds)


def _wrk(host, port, path, connections, seconds) -> LoadResult:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", f"http://{host}:{port}{path}"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    secs = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return LoadResult(total, errors, secs, "wrk")


def _python(host, port, path, connections, seconds) -> LoadResult:
    counts = [0] * connections
    errors = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.monotonic() < stop:
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                counts[i] += 1 if resp.status == 200 else 0
                errors[i] += 0 if resp.status == 200 else 1
            except OSError:
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(sum(counts), sum(errors), time.monotonic() - t0, "python")
