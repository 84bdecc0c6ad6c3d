"""Receiving: +CMTI and +CMT, multipart reassembly, a missing part, IncomingSMS and ReceiveMessage polling."""

from __future__ import annotations

import time

import pytest

HANDSET = "+15551230001"
GW = "+15550000001"


def test_incoming_sms_is_notified_with_ozekis_fields_and_deleted_from_the_modem(gateway):
    gateway.net.handset(HANDSET).send_sms(GW, "Hi John! 😀")
    [post] = gateway.app.wait(1, "/incoming")
    assert list(post) == ["NotificationName", "Sender", "Recipient", "ID", "ApiExtension", "Message"]
    assert (post["NotificationName"], post["Sender"], post["Recipient"], post["ApiExtension"], post["Message"]) == \
        ("IncomingSMS", HANDSET, GW, "9999", "Hi John! 😀")
    assert gateway.store.get_incoming(post["ID"]).text == "Hi John! 😀"
    deadline = time.monotonic() + 5
    while gateway.modems[0].list_sms(4) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.modems[0].list_sms(4) == [], "deleted from the modem once committed"


@pytest.mark.parametrize("text", ["long " * 80, "Ünïcödé ✓ " * 30, "🎉" * 50])
def test_multipart_is_reassembled(gateway, text):
    gateway.net.handset(HANDSET).send_sms(GW, text)
    [post] = gateway.app.wait(1, "/incoming")
    assert post["Message"] == text
    msg = gateway.store.get_incoming(post["ID"])
    assert msg.parts > 1 and not msg.incomplete


def test_direct_delivery_with_cmt_is_received_too(gateway):
    gateway.modems[0].command("AT+CNMI=2,2,0,1,0")  # +CMT: the message is only in the URC
    gateway.net.handset(HANDSET).send_sms(GW, "direct " * 30)
    [post] = gateway.app.wait(1, "/incoming")
    assert post["Message"] == "direct " * 30


def test_a_missing_part_is_delivered_incomplete_after_the_timeout(gateway):
    text = "".join(f"<{i:03d}>" for i in range(100))  # 500 characters: 4 parts of 153
    gateway.net.handset(HANDSET).send_sms_parts(GW, text, [1, 2, 4])
    time.sleep(0.5)
    assert gateway.app.posts == [], "nothing before the reassembly timeout"
    [post] = gateway.app.wait(1, "/incoming", timeout=10)
    msg = gateway.store.get_incoming(post["ID"])
    assert msg.incomplete and (msg.parts, msg.parts_received) == (4, 3)
    assert post["Message"] == text[:306] + text[459:]
    a = gateway.call("ReceiveMessage", AfterDownload="nothing")
    assert a.find("Messages/Message/Incomplete") == "true"


def test_receive_message_polls_the_inbox(gateway):
    h = gateway.net.handset(HANDSET)
    for i in range(3):
        h.send_sms(GW, f"poll {i}")
    gateway.app.wait(3, "/incoming")
    a = gateway.call("ReceiveMessage", Folder="inbox", Limit="2", AfterDownload="markread")
    msgs = a.root.findall("Messages/Message")
    assert [m.findtext("Text") for m in msgs] == ["poll 0", "poll 1"]
    assert msgs[0].findtext("Sender") == HANDSET and msgs[0].findtext("Recipient") == GW
    a = gateway.call("ReceiveMessage", AfterDownload="delete")
    assert [m.findtext("Text") for m in a.root.findall("Messages/Message")] == ["poll 2"]
    assert gateway.call("ReceiveMessage").root.findall("Messages/Message") == []
    assert gateway.call("ReceiveMessage", Folder="outbox").code == 302


def test_send_sms_in_the_answer_to_incoming_sms_is_honoured(gateway):
    gateway.app.answer = ('<?xml version="1.0"?><Response><SendSms Recipient="+15551230009">Got it: thanks'
                          '</SendSms></Response>')
    gateway.net.handset(HANDSET).send_sms(GW, "order 42")
    [reply] = gateway.net.handset("+15551230009").wait_inbox(1, timeout=10)
    assert reply.text == "Got it: thanks"


def test_messages_waiting_in_the_modem_at_start_are_swept(gateway_factory, tmp_path):
    g = gateway_factory()
    g.service.stop()  # the daemon is down; a message arrives and waits in the modem's storage
    g.net.handset(HANDSET).send_sms(GW, "while you were out")
    deadline = time.monotonic() + 5
    while not g.modems[0].list_sms(4) and time.monotonic() < deadline:
        time.sleep(0.05)
    g.service.start()
    [post] = g.app.wait(1, "/incoming")
    assert post["Message"] == "while you were out"


def test_a_message_whose_indication_never_came_is_found_by_the_periodic_sweep(gateway_factory):
    from dataclasses import replace

    from tests.sms.conftest import FAST

    g = gateway_factory(settings=replace(FAST, sweep_interval=1.0))
    g.modems[0].command("AT+CNMI=0,0,0,0,0")  # the modem stores what arrives and says nothing
    g.net.handset(HANDSET).send_sms(GW, "no +CMTI for me")
    [post] = g.app.wait(1, "/incoming", timeout=5)
    assert post["Message"] == "no +CMTI for me"
    assert g.modems[0].list_sms(4) == []  # committed, then deleted


def test_receive_message_gives_both_times_in_the_api_s_one_format(gateway):
    """ReceivedTime and SentTime (the service centre's time stamp) as every other time in the API:
    `YYYY-MM-DD HH:MM:SS`, local time; the sent time is the one the network stamped, within seconds of now."""
    import re
    from datetime import datetime

    gateway.net.handset(HANDSET).send_sms(GW, "what time is it")
    gateway.app.wait(1, "/incoming")
    [m] = gateway.call("ReceiveMessage").root.findall("Messages/Message")
    shape = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    received, sent = m.findtext("ReceivedTime"), m.findtext("SentTime")
    assert shape.match(received) and shape.match(sent), (received, sent)
    now = datetime.now()
    for text in (received, sent):
        assert abs((datetime.strptime(text, "%Y-%m-%d %H:%M:%S") - now).total_seconds()) < 120
