"""Calls with sipp as the far end: RFC 2833 digits from sipp's pcaps, and a blind transfer sipp accepts."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from pathlib import Path

from pigate.config import SipPeer
from pigate.sip import Answered, Digit, Ended, TransferStatus
from tests.sip.conftest import free_sip_port, run_sipp, sipp_path
from tests.sip.test_calls import Events

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PCAPS = Path("/usr/share/sip-tester")


def test_rfc2833_digits_from_sipps_pcaps_arrive_as_digit_events(gateway, tmp_path):
    events = Events()
    offered: queue.Queue = queue.Queue()

    def on_incoming(call):
        call.listen(events)
        offered.put(call)
        call.answer()

    gw = gateway(on_incoming=on_incoming, peers=[SipPeer(name="sipp", address="127.0.0.1")])
    (tmp_path / "pcap").symlink_to(PCAPS)  # the scenario plays pcap/dtmf_2833_N.pcap
    result: list = []
    runner = threading.Thread(target=lambda: result.append(run_sipp(
        ["-sf", str(SCENARIOS / "dtmf.xml"), f"127.0.0.1:{gw.endpoint.port}", "-s", "100", "-i", "127.0.0.1",
         "-p", str(free_sip_port()), "-mp", str(free_sip_port()), "-m", "1"], cwd=tmp_path, timeout=30)))
    runner.start()
    try:
        call = offered.get(timeout=10)
        assert (call.caller, call.called) == ("+15550009999", "100")  # the asserted identity, not From's "sipp"
        assert events.wait(Ended).code == 200 and call.ended  # sipp hung up
        # sipp sends its first digit right after its ACK: pjsua2's media thread can report that digit before
        # the SIP thread reports the answer, so the two kinds are checked apart, each in its own order.
        assert any(isinstance(e, Answered) for e in events.seen)
        digits = [e for e in events.seen if isinstance(e, Digit)]
        assert [(d.digit, d.method) for d in digits] == [("1", "rfc2833"), ("5", "rfc2833")]
    finally:
        runner.join(40)
    assert result and result[0].returncode == 0, result and result[0].stdout[-2000:]


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _refer_taker(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """sipp answering one call and accepting the REFER on it (scenarios/refer_uas.xml)."""
    port = free_sip_port()
    sipp = subprocess.Popen([sipp_path(), "-sf", str(SCENARIOS / "refer_uas.xml"), "-i", "127.0.0.1", "-p", str(port),
                             "-mp", str(free_sip_port()), "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error",
                             "-trace_logs"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not _bound(port) and time.monotonic() < deadline:
        time.sleep(0.02)
    return sipp, port


def _transfer_outcome(events: Events) -> TransferStatus:
    status = events.wait(TransferStatus)
    while not status.final:
        status = events.wait(TransferStatus)
    return status


def _refer_to(sipp: subprocess.Popen, tmp_path: Path) -> str:
    out, err = sipp.communicate(timeout=20)
    assert sipp.returncode == 0, out[-2000:] + err[-2000:]
    (log,) = tmp_path.glob("refer_uas_*_logs.log")
    return next(line for line in log.read_text().splitlines() if line.startswith("Refer-To: "))


def test_blind_transfer_is_a_refer_with_the_target_and_its_outcome_comes_back(gateway, tmp_path):
    sipp, port = _refer_taker(tmp_path)
    try:
        gw = gateway(peers=[SipPeer(name="sipp", address=f"127.0.0.1:{port}")])
        events = Events()
        call = gw.dial("200", trunk="sipp", listener=events)
        events.wait(Answered)
        call.transfer("sip:101@127.0.0.1:5999")
        assert _transfer_outcome(events).code == 200
        call.hangup()
        assert events.wait(Ended).code == 200
        assert "sip:101@127.0.0.1:5999" in _refer_to(sipp, tmp_path)
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.communicate()


def test_attended_transfer_refers_to_the_other_call_with_replaces(gateway, peer_factory, tmp_path):
    sipp, port = _refer_taker(tmp_path)
    try:
        gw_port = free_sip_port()
        peer = peer_factory(gateway_port=gw_port)
        gw = gateway(port=gw_port, peers=[SipPeer(name="sipp", address=f"127.0.0.1:{port}"),
                                          SipPeer(name="p1", address=f"127.0.0.1:{peer.port}")])
        first, second = Events(), Events()
        a = gw.dial("200", trunk="sipp", listener=first)
        b = gw.dial("300", trunk="p1", listener=second)
        first.wait(Answered)
        second.wait(Answered)
        a.transfer_attended(b)
        assert _transfer_outcome(first).code == 200
        a.hangup()
        refer_to = _refer_to(sipp, tmp_path)
        assert f"127.0.0.1:{peer.port}" in refer_to and "Replaces=" in refer_to
        assert b.sip_call_id and b.sip_call_id in refer_to
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.communicate()
