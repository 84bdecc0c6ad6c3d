"""SendMessage (the SMS Gateway's style) and ReceiveMessage's options, on the real daemon and its simulator."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

ALICE, BOB = "+15551230001", "+15551230002"


def inbox(d, number: str, n: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{d.base}/sim/handsets/{urllib.parse.quote(number)}/inbox", timeout=5) as r:
            got = json.loads(r.read())
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_sendmessage_reaches_every_recipient_with_a_report_each(daemon_factory):
    d = daemon_factory()
    got = d.call("SendMessage", Recipient=f"{ALICE},{BOB}", MessageType="SMS:TEXT", MessageData="Gate opens at 9")
    assert got.code == 200
    reports = got.root.findall("AcceptReports/AcceptReport")
    assert [(r.findtext("StatusCode"), r.findtext("StatusMessage"), r.findtext("Recipient")) for r in reports] == [
        ("0", "Message accepted for delivery", ALICE), ("0", "Message accepted for delivery", BOB)]
    assert [m["text"] for m in inbox(d, ALICE, 1)] == ["Gate opens at 9"]
    assert [m["text"] for m in inbox(d, BOB, 1)] == ["Gate opens at 9"]
    sms_id = reports[0].findtext("MessageId")
    assert d.call("GetSms", SmsId=sms_id).find("Sms/Recipient") == ALICE


def test_one_bad_recipient_is_refused_alone(daemon_factory):
    d = daemon_factory()
    got = d.call("SendMessage", Recipient=f"call me,{BOB}", Message="hello")
    codes = [(r.findtext("Recipient"), r.findtext("StatusCode")) for r in got.root.findall("AcceptReports/AcceptReport")]
    assert got.code == 200 and codes == [("call me", "302"), (BOB, "0")]
    assert [m["text"] for m in inbox(d, BOB, 1)] == ["hello"]


def test_sendmessage_refusals(daemon_factory):
    d = daemon_factory()
    assert d.call("SendMessage", Recipient="nonsense", MessageData="x").code == 302
    assert d.call("SendMessage", Recipient=ALICE).code == 302
    bad_type = d.call("SendMessage", Recipient=ALICE, MessageData="x", MessageType="SMS:BINARY")
    assert (bad_type.code, bad_type.message) == (302, "Missing or invalid parameter 'MessageType' for command 'SendMessage'")
    assert d.call("SendMessage", Recipient=ALICE, MessageData="x", ApiExtension="7").code == 401
    assert d.call("ListSms").find("TotalRecords") == "0"


def test_a_reference_makes_sendmessage_idempotent(daemon_factory):
    d = daemon_factory()
    ids = [[r.findtext("MessageId") for r in d.call("SendMessage", Recipient=f"{ALICE},{BOB}", MessageData="once",
                                                     Reference="r1").root.findall("AcceptReports/AcceptReport")]
           for _ in range(2)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 2
    assert d.call("ListSms").find("TotalRecords") == "2"


def test_receivemessage_keeps_folder_limit_and_afterdownload(daemon_factory):
    d = daemon_factory()
    for i in range(3):
        urllib.request.urlopen(urllib.request.Request(
            f"{d.base}/sim/handsets/{urllib.parse.quote(ALICE)}/sms", data=f"text=m{i}".encode()), timeout=5).read()
        time.sleep(0.05)  # keep their order of arrival
    deadline = time.monotonic() + 10
    while len(d.call("ReceiveMessage", AfterDownload="nothing", Limit="10").root.findall("Messages/Message")) < 3:
        assert time.monotonic() < deadline, "the three SMS did not arrive"
        time.sleep(0.05)
    first = d.call("ReceiveMessage", Folder="inbox", Limit="2", AfterDownload="markread")
    assert [m.findtext("Text") for m in first.root.findall("Messages/Message")] == ["m0", "m1"]
    rest = d.call("ReceiveMessage", afterdownload="delete")          # names are case-insensitive
    assert [m.findtext("Text") for m in rest.root.findall("Messages/Message")] == ["m2"]
    assert d.call("ReceiveMessage").root.findall("Messages/Message") == []
    assert d.call("ReceiveMessage", Folder="sent").code == 302
    assert d.call("ReceiveMessage", Limit="0").code == 302
    assert d.call("ReceiveMessage", AfterDownload="burn").code == 302
