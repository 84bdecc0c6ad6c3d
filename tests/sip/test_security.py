"""Who may call in, tried with sipp from loopback addresses: strangers get 403, floods get 503, nothing breaks."""

from __future__ import annotations

import logging
import threading
import time

from pathlib import Path

import pytest

from pigate.config import SipPeer
from pigate.sip import Answered, Ended
from tests.sip.conftest import free_sip_port, run_sipp
from tests.sip.test_calls import Events

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def _sipp(tmp_path, gw, scenario: str, *, source: str, calls: int, rate: int, limit: int = 0,
          timeout: float = 60.0, transport: str = "u1", hold_ms: int = 1500):
    args = ["-sf", str(SCENARIOS / scenario), f"127.0.0.1:{gw.endpoint.port}", "-s", "15550001", "-t", transport,
            "-i", source, "-p", str(free_sip_port(source)), "-mp", str(free_sip_port(source)),
            "-m", str(calls), "-r", str(rate), "-d", str(hold_ms),
            "-trace_msg", "-message_file", str(tmp_path / "sipp.msg")]
    if limit:
        args += ["-l", str(limit)]
    return run_sipp(args, cwd=tmp_path, timeout=timeout)


def _replies(tmp_path, code: int) -> int:
    text = (tmp_path / "sipp.msg").read_text(errors="replace")
    return text.count(f"SIP/2.0 {code} ")


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
def test_an_invite_from_an_unlisted_loopback_address_is_refused_403_and_never_offered(gateway, tmp_path, caplog,
                                                                                      transport):
    offered = []
    # 127.0.0.1 is a peer; the caller comes from 127.0.0.5, which is neither a peer nor a registrar.
    gw = gateway(on_incoming=offered.append, peers=[SipPeer(name="pbx", address="127.0.0.1")])
    with caplog.at_level(logging.WARNING, logger="pigate.sip"):
        done = _sipp(tmp_path, gw, "refused.xml", source="127.0.0.5", calls=1, rate=1, transport=transport)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert _replies(tmp_path, 403) == 1
    assert offered == [] and gw.calls() == []
    refused = [r.getMessage() for r in caplog.records if "refused a call" in r.getMessage()]
    assert len(refused) == 1 and "127.0.0.5" in refused[0] and "403" in refused[0]
    assert "+15559990000" in refused[0]  # who tried, for the operator


def test_a_scanner_sweeping_from_a_stranger_address_gets_403s_and_a_rate_limited_log(gateway, tmp_path, caplog):
    offered = []
    gw = gateway(on_incoming=offered.append, peers=[SipPeer(name="pbx", address="127.0.0.1")])
    with caplog.at_level(logging.WARNING, logger="pigate.sip"):
        done = _sipp(tmp_path, gw, "refused.xml", source="127.0.0.9", calls=200, rate=200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert _replies(tmp_path, 403) >= 200
    assert offered == []
    assert gw.refusals.total == 200
    lines = [r for r in caplog.records if "refused a call" in r.getMessage()]
    assert len(lines) == 1  # one line per source per minute, however many calls


def test_an_invite_flood_from_a_peer_gets_503_beyond_max_calls_and_the_endpoint_survives(gateway, peer_factory,
                                                                                         tmp_path):
    max_calls = 4
    answered = []
    peak = [0]

    def on_incoming(call):
        answered.append(call)
        call.answer()

    gw_port = free_sip_port()
    peer = peer_factory(gateway_port=gw_port)
    gw = gateway(port=gw_port, on_incoming=on_incoming, max_calls=max_calls,
                 peers=[SipPeer(name="pbx", address="127.0.0.1")])
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], len(gw.calls()))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        done = _sipp(tmp_path, gw, "flood.xml", source="127.0.0.1", calls=120, rate=100, limit=120)
    finally:
        stop.set()
        watcher.join()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert _replies(tmp_path, 486) == 0  # a full box is not a busy callee: a load balancer tries another box
    busy = _replies(tmp_path, 503)
    assert busy >= 60, busy                     # most of the flood was turned away ...
    assert 4 <= len(answered) <= 120 - busy     # ... the rest answered, never more than max_calls at once
    assert peak[0] <= max_calls
    assert gw.endpoint.running
    # Afterwards an ordinary call still works.
    events = Events()
    answered.clear()
    peer.command("dial", target="42")
    peer.expect("Answered")
    answered[0].listen(events)
    events.wait(Answered)
    peer.command("hangup")
    events.wait(Ended)


def test_the_source_build_holds_40_calls_at_once_where_the_pypi_wheel_stopped_at_4(gateway, tmp_path):
    answered = []

    def on_incoming(call):
        answered.append(call)
        call.answer()

    gw = gateway(on_incoming=on_incoming, max_calls=40, peers=[SipPeer(name="pbx", address="127.0.0.1")])
    # 45 calls arrive within about half a second and each is held 6 s, so all overlap: 40 in, 5 refused.
    done = _sipp(tmp_path, gw, "flood.xml", source="127.0.0.1", calls=45, rate=100, limit=45, hold_ms=6000)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert len(answered) == 40
    assert _replies(tmp_path, 503) == 5
