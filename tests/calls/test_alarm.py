"""Contact ID on GSM calls. Receiving: a simulated alarm panel (a handset that listens for tones and presses DTMF
blocks) calls the box, whose script is ReceiveAlarmNotification; the events reach the app, and a corrupted block
gets no kissoff and is decoded when the panel repeats it. Sending: SendAlarmNotification calls a handset acting as
the receiver, and the kissoff is reported to FinishedUrl."""

from __future__ import annotations

from pigate.alarm import encode_block, parse_block
from concurrent.futures import ThreadPoolExecutor

from pigate.sim.alarmpanel import AlarmPanel, AlarmReceiver
from tests.calls.world import ALICE, BOB, GATEWAY

BURGLARY = encode_block("12B4", "130", zone="015")                       # 1 130: burglary, zone 15
RESTORE = encode_block("12B4", "130", qualifier="3", zone="015")         # 3 130: the zone is back to normal


def test_a_panel_reports_two_events_and_a_corrupted_block_is_repeated(gateway):
    gateway.app.routes["/incoming"] = (f"<Response><ReceiveAlarmNotification Url='{gateway.app.url('/alarm')}' "
                                       "Timeout='5'/></Response>")
    call = gateway.handset(ALICE).call(GATEWAY)
    report = AlarmPanel(call=call, blocks=[BURGLARY, RESTORE], corrupt=[1]).run()
    assert report.handshake, report
    assert report.sent[0] == BURGLARY and report.sent[2] == RESTORE and report.sent[1] != RESTORE
    assert report.acknowledged == [BURGLARY, RESTORE]                    # the corrupted attempt got no kissoff
    posted = gateway.app.wait("/alarm", 2, timeout=10)
    assert [(p["Account"], p["Qualifier"], p["Kind"], p["EventCode"], p["Partition"], p["Zone"]) for p in posted] == [
        ("12B4", "1", "new", "130", "01", "015"), ("12B4", "3", "restore", "130", "01", "015")]
    assert posted[0]["NotificationName"] == "AlarmNotification" and posted[0]["Caller"] == ALICE
    assert parse_block(posted[1]["Raw"]).qualifier == "3"


def test_sendalarmnotification_reaches_a_receiver_and_reports_the_kissoff(gateway):
    answer = gateway.api("SendAlarmNotification", Dialed=BOB, ApiExtension="9999", Account="12B4", EventCode="130",
                         Zone="015", FinishedUrl=gateway.app.url("/sent"))
    assert answer.code == 200, answer.raw
    with ThreadPoolExecutor(1) as pool:
        received = pool.submit(AlarmReceiver(call=gateway.handset(BOB).last_call).run, block_timeout=5).result(30)
    assert received == [BURGLARY]
    sent = gateway.app.wait("/sent", timeout=10)[0]
    assert (sent["NotificationName"], sent["CallId"], sent["Account"], sent["EventCode"], sent["Acknowledged"],
            sent["Attempts"]) == ("AlarmNotificationSent", answer.find("CallId"), "12B4", "130", "true", "1")


def test_sendalarmnotification_checks_its_fields(gateway):
    bad = gateway.api("SendAlarmNotification", Dialed=BOB, ApiExtension="9999", Account="12345", EventCode="130")
    assert (bad.code, bad.message) == (302, "Missing or invalid parameter 'Account' for command 'SendAlarmNotification'")
    assert gateway.api("SendAlarmNotification", Dialed=BOB, ApiExtension="9999", Account="1234").code == 302
    assert gateway.api("SendAlarmNotification", Dialed=BOB, ApiExtension="9999", Account="1234",
                       EventCode="130", Qualifier="2").code == 302
    assert gateway.service.active_calls() == []
