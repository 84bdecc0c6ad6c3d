"""What happens to SMS while the daemon is away: received ones wait in the modem and are picked up at start;
accepted ones are sent after a restart. The modem (simulated, in this test process) outlives the daemon,
as a real modem outlives a restarted service."""

from __future__ import annotations

import time

import pytest

from pigate.sim import LatencyProfile, Network
from tests.support import Daemon

GW = "+15550000001"
HANDSET = "+15551230001"


@pytest.fixture
def world(tmp_path):
    """A simulated modem in this process and a daemon on it: make(dialect, latency) -> (net, sim, daemon)."""
    made: list[tuple[Network, Daemon]] = []

    def make(dialect: str, latency: LatencyProfile | None = None) -> tuple[Network, object, Daemon]:
        net = Network(link_dir=tmp_path, latency=latency)
        sim = net.add_modem(number=GW, dialect=dialect)
        sim.start()
        d = Daemon(workdir=tmp_path / "d", config_text=f'[[modems]]\nname = "gsm1"\nport = "{sim.at_link}"\n'
                                                         f'number = "{GW}"\n')
        made.append((net, d))
        return net, sim, d

    yield make
    for net, d in made:
        d.stop()
        net.stop()


def _until(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (value := fn()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return value


def test_sms_received_while_the_daemon_is_down_are_picked_up_at_start(world):
    net, sim, d = world("ec25")
    d.start()
    _until(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
           == "Connected")
    d.stop()
    net.handset(HANDSET).send_sms(to=GW, text="while you were out")
    net.handset(HANDSET).send_sms(to=GW, text="x" * 300)  # multipart, stored part by part
    _until(lambda: sum(s.used for s in sim.storages.values()) == 3)
    d.start()
    got = _until(lambda: d.call("ReceiveMessage", Limit="10").root.findall("Messages/Message"))
    if len(got) < 2:
        got += _until(lambda: d.call("ReceiveMessage", Limit="10").root.findall("Messages/Message"))
    assert sorted(m.findtext("Text") for m in got) == ["while you were out", "x" * 300]
    _until(lambda: sum(s.used for s in sim.storages.values()) == 0)  # deleted once committed


def test_messages_accepted_before_a_restart_are_sent_after_it(world):
    net, sim, d = world("sim7600")
    d.start()
    sim.faults.stop_answering()  # the modem hangs: nothing can be sent
    ids = [d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message=f"m{i}").find("SmsId")
           for i in range(3)]
    assert all(ids)
    d.stop()
    sim.faults.resume()
    d.start()
    _until(lambda: len(net.handset(HANDSET).inbox) >= 3, timeout=20)
    time.sleep(0.5)
    assert sorted(m.text for m in net.handset(HANDSET).inbox) == ["m0", "m1", "m2"]
    assert {d.call("GetSms", SmsId=i).find("Sms/State") for i in ids} <= {"sent", "delivered"}


def test_a_message_waiting_for_the_prompt_at_stop_is_sent_at_once_after_the_restart(world):
    """The daemon is stopped while AT+CMGS waits for the modem's `> ` (the PDU was never written): the stop does
    not wait out the prompt, and the part is not left in doubt (which only a timeout of minutes would settle on
    a line with no message reference seen yet); it goes out as soon as the line is back."""
    net, sim, d = world("sim7600")
    d.start()
    # One message through first, its status report included: the line is done with its bring-up and has
    # nothing left to read when the modem stops answering (a command timing out would start a recovery).
    first = d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="first").find("SmsId")
    _until(lambda: d.call("GetSms", SmsId=first).find("Sms/State") == "delivered")
    # The report is applied before it is deleted from the modem's storage (AT+CMGD): wait for that too, or the
    # silent modem times the delete out and the line goes into recovery (a stress-run finding).
    _until(lambda: sim.storages["SR"].used == 0)
    sim.faults.stop_answering()
    sms_id = d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="in flight").find("SmsId")
    _until(lambda: d.call("GetSms", SmsId=sms_id).find("Sms/Parts/Part/State") == "submitting")
    time.sleep(0.3)  # AT+CMGS is written right after the part is marked
    t0 = time.monotonic()
    d.stop()
    assert time.monotonic() - t0 < 3.0  # not the SMS worker's 5 s join, nor the 10 s prompt timeout
    sim.faults.resume()
    d.start()
    t0 = time.monotonic()
    _until(lambda: [m.text for m in net.handset(HANDSET).inbox] == ["first", "in flight"], timeout=10)
    assert time.monotonic() - t0 < 5.0  # bring-up plus at most the 1 s retry, never the in-doubt timeout
    assert d.call("GetSms", SmsId=sms_id).find("Sms/State") in ("sent", "delivered")


def test_a_delivery_report_that_arrives_while_the_daemon_is_down_is_applied_at_start(world):
    from tests.ozml.loopback_app import Answer, LoopbackApp

    app = LoopbackApp().start()
    app.routes["/dr"] = Answer(b"")
    net, sim, d = world("sim7600", LatencyProfile(delivery_report=1.5))
    try:
        d.start()
        sms_id = d.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="report me later",
                        DeliveryReportURL=app.url("/dr")).find("SmsId")
        _until(lambda: d.call("GetSms", SmsId=sms_id).find("Sms/State") == "sent")
        d.stop()  # the report comes while nobody listens
        _until(lambda: sim.storages["SR"].used == 1, timeout=5)
        d.start()
        _until(lambda: d.call("GetSms", SmsId=sms_id).find("Sms/State") == "delivered")
        posts = _until(lambda: [f for p, f, _ in app.posts if p == "/dr"])
        assert posts == [{"NotificationName": "SMSDeliveryReport", "Delivered": "true", "ID": sms_id,
                          "ApiExtension": "9999"}]
        _until(lambda: sim.storages["SR"].used == 0)
    finally:
        app.close()
