"""Benchmarks of the web side, each against a baseline measured in the same run on the same daemon:
- POST /v1/sms accepted per second against SendSms on /api (both answer only once the message is on disk);
- SendSms accepted per second with 20 dashboard live streams open against none (goal: at most 10% slower).

They record the figures (tests/bench/report.py); they assert only that nothing failed and that the streams
really received updates. The simulated modem takes 30 s per submission, so the line worker is not sending while
the rates are measured (what is measured is acceptance), and the rounds run in ABBA order, each with the same
pauses around it, so the outbox's growth and a drift of the machine's load hit both sides alike. Beside the rates
(which a busy machine blurs) the daemon's CPU time per accepted SMS is shown with and without the streams.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
import urllib.parse

from tests.bench import report
from tests.support import Daemon, process_cpu_seconds

SECONDS = 2.0
CLIENTS = 8
STREAMS = 20
ROUNDS = (True, False, False, True)  # with streams? (ABBA; a stream slot is freed within two heartbeats)
HANDSET = "+15551230001"


def _load(port: int, request, seconds: float = SECONDS, clients: int = CLIENTS) -> tuple[float, int, int]:
    """(accepted per second, accepted, failed): `request(conn, n)` sends one and returns the response."""
    done, failed = [0] * clients, [0] * clients
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        n = 0
        while time.monotonic() < stop:
            n += 1
            resp = request(conn, f"{i}-{n}")
            body = resp.read()
            ok = resp.status == 202 or (resp.status == 200 and b"<Code>200</Code>" in body)
            done[i] += ok
            failed[i] += not ok
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0), sum(done), sum(failed)


def _send_sms(conn: http.client.HTTPConnection, tag: str) -> http.client.HTTPResponse:
    q = urllib.parse.urlencode({"command": "SendSms", "ApiExtension": "9999", "Recipient": HANDSET,
                                "Message": f"bench {tag}"})
    conn.request("GET", f"/api?{q}")
    return conn.getresponse()


def _post_v1(conn: http.client.HTTPConnection, tag: str) -> http.client.HTTPResponse:
    body = json.dumps({"text": f"bench {tag}", "recipients": [HANDSET]})
    conn.request("POST", "/v1/sms", body=body, headers={"Content-Type": "application/json"})
    return conn.getresponse()


class _Streams:
    """`n` live dashboard streams, each read to the end by its own thread, counting the events it gets."""

    def __init__(self, port: int, n: int) -> None:
        self.events = [0] * n
        self._socks: list = []
        self._conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(n)]
        self._threads = [threading.Thread(target=self._read, args=(i,), daemon=True) for i in range(n)]

    def __enter__(self) -> "_Streams":
        for i, conn in enumerate(self._conns):
            deadline = time.monotonic() + 15
            while True:  # the streams of the previous round are freed at their next heartbeat
                conn.request("GET", "/events")
                sock = conn.sock  # http.client lets go of it once the response is being read
                resp = conn.getresponse()
                if resp.status != 503 or time.monotonic() > deadline:
                    break
                resp.read()
                time.sleep(0.2)
            assert resp.status == 200, resp.read()
            self._socks.append(sock)
            self._threads[i].resp = resp  # type: ignore[attr-defined]
        for t in self._threads:
            t.start()
        return self

    def _read(self, i: int) -> None:
        resp = self._threads[i].resp  # type: ignore[attr-defined]
        try:
            for line in resp:
                if line.startswith(b"event: outbox"):
                    self.events[i] += 1
        except (OSError, ValueError, http.client.HTTPException):
            pass  # closed by __exit__

    def __exit__(self, *exc: object) -> None:
        for sock in self._socks:
            try:
                sock.shutdown(2)  # wakes the reader blocked on it
            except OSError:
                pass
        for conn in self._conns:
            conn.close()
        for t in self._threads:
            t.join(5)


def test_json_api_and_live_streams_against_sendsms(tmp_path, capsys):
    d = Daemon(workdir=tmp_path / "d", config_text="[simulator]\nsms_latency = 30.0\n")
    d.start()
    try:
        _load(d.port, _send_sms, seconds=1.0)  # warm-up: caches, the database file, the line worker
        # Interleaved, so a drift of the machine's load hits both sides alike.
        api, v1 = [], []
        for first in (True, False, False, True):
            (api if first else v1).append(_load(d.port, _send_sms if first else _post_v1))
        plains, lives, received = [], [], []
        cpu = {True: [0.0, 0], False: [0.0, 0]}  # with streams? -> daemon CPU seconds, SMS accepted
        for live in ROUNDS:
            with (_Streams(d.port, STREAMS) if live else contextlib.nullcontext()) as streams:
                time.sleep(0.5)  # the streams' first events are written; a plain round gets the same pause
                before = process_cpu_seconds(d.proc.pid)
                result = _load(d.port, _send_sms)
                cpu[live][0] += process_cpu_seconds(d.proc.pid) - before
                cpu[live][1] += result[1]
                (lives if live else plains).append(result)
                time.sleep(1.0)  # the last changes reach the streams
            if live:
                received += streams.events
        assert d.call("ListExtensionTypes").code == 200
    finally:
        d.stop()
    api_rate = sum(r for r, _, _ in api) / len(api)
    v1_rate = sum(r for r, _, _ in v1) / len(v1)
    plain_rate = sum(r for r, _, _ in plains) / len(plains)
    live_rate = sum(r for r, _, _ in lives) / len(lives)
    live_cpu, plain_cpu = (1000 * cpu[k][0] / max(1, cpu[k][1]) for k in (True, False))
    with capsys.disabled():
        report.record(f"POST /v1/sms accepted/s, {CLIENTS} clients", v1_rate, unit="SMS/s", baseline=api_rate,
                      against="SendSms on /api", goal=">= 0.8", met=v1_rate >= 0.8 * api_rate)
        report.record(f"SendSms accepted/s with {STREAMS} live streams", live_rate, unit="SMS/s",
                      baseline=plain_rate, against="no stream open", goal=">= 0.90",
                      met=live_rate >= 0.9 * plain_rate)
        report.record(f"daemon CPU per accepted SendSms with {STREAMS} live streams", live_cpu, unit="ms",
                      baseline=plain_cpu, against="no stream open")
        print(f"[bench] outbox updates per stream {min(received)}-{max(received)}")
    assert all(failed == 0 for _, _, failed in api + v1 + plains + lives)
    assert all(done > 0 for _, done, _ in api + v1 + plains + lives)
    assert min(received) >= 2, "every stream must have received outbox updates while SMS were sent"
