"""Benchmarks of the web side, each against a baseline measured in the same run on the same daemon:
- POST /v1/sms accepted per second against SendSms on /api (both answer only once the message is on disk);
- SendSms accepted per second with 20 dashboard live streams open against none (goal: at most 10% slower).

They print the figures; they assert only that nothing failed and that the streams really received updates.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse

from tests.support import Daemon

SECONDS = 3.0
CLIENTS = 8
STREAMS = 20
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
            conn.request("GET", "/events")
            self._socks.append(conn.sock)
            resp = conn.getresponse()
            assert resp.status == 200, resp.read()
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
    d = Daemon(workdir=tmp_path / "d", config_text="")
    d.start()
    try:
        _load(d.port, _send_sms, seconds=1.0)  # warm-up: caches, the database file, the line worker
        # Interleaved, so a drift of the machine's load hits both sides alike.
        api, v1 = [], []
        for _ in range(2):
            api.append(_load(d.port, _send_sms))
            v1.append(_load(d.port, _post_v1))
        plain = _load(d.port, _send_sms)
        with _Streams(d.port, STREAMS) as streams:
            time.sleep(0.5)
            live = _load(d.port, _send_sms)
            time.sleep(1.0)  # the last changes reach the streams
        assert d.call("ListExtensionTypes").code == 200
    finally:
        d.stop()
    api_rate = sum(r for r, _, _ in api) / len(api)
    v1_rate = sum(r for r, _, _ in v1) / len(v1)
    with capsys.disabled():
        print(f"\n[bench] accepted SMS/s, {CLIENTS} clients: POST /v1/sms {v1_rate:.0f}, SendSms {api_rate:.0f}, "
              f"ratio {v1_rate / api_rate:.2f} (goal >= 0.8)")
        print(f"[bench] SendSms/s with {STREAMS} live streams {live[0]:.0f}, without {plain[0]:.0f}, "
              f"ratio {live[0] / plain[0]:.2f} (goal >= 0.90); outbox updates per stream "
              f"{min(streams.events)}-{max(streams.events)}")
    assert all(failed == 0 for _, _, failed in api + v1 + [plain, live])
    assert all(done > 0 for _, done, _ in api + v1 + [plain, live])
    assert min(streams.events) >= 2, "every stream must have received outbox updates while SMS were sent"
