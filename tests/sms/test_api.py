"""The SMS HTTP commands: validation, idempotent references, status, lines, USSD, several modems."""

from __future__ import annotations

import collections
import time

import pytest

from pigate.sim import LatencyProfile

HANDSET = "+15551230001"


@pytest.mark.parametrize("params, code", [
    ({"ApiExtension": "nope", "Recipient": HANDSET, "Message": "x"}, 401),
    ({"ApiExtension": "9999", "Recipient": "12", "Message": "x"}, 302),
    ({"ApiExtension": "9999", "Recipient": "call me", "Message": "x"}, 302),
    ({"ApiExtension": "9999", "Recipient": HANDSET, "Message": "   "}, 302),
    ({"ApiExtension": "9999", "Recipient": HANDSET}, 302),
    ({"ApiExtension": "9999", "Recipient": HANDSET, "Message": "x" * 1600}, 302),  # 11 parts
    ({"ApiExtension": "9999", "Recipient": HANDSET, "Message": "x", "DeliveryReportURL": "ftp://x"}, 302),
])
def test_invalid_send_sms_is_refused_and_stores_nothing(gateway, params, code):
    a = gateway.call("SendSms", **params)
    assert a.code == code and a.find("SmsId") is None
    assert gateway.store.list_outgoing()[0] == 0


def test_message_text_is_kept_exactly_with_its_spaces_and_newlines(gateway):
    text = "  two lines\nsecond line  "
    gateway.send(HANDSET, text)
    assert gateway.net.handset(HANDSET).wait_inbox(1)[0].text == text


def test_a_reference_makes_a_resubmission_idempotent(gateway):
    first = gateway.send(HANDSET, "only once", Reference="order-77")
    again = gateway.send(HANDSET, "only once", Reference="order-77")
    other = gateway.send(HANDSET, "only once", Reference="order-78")
    assert first == again != other
    gateway.wait_state(first, ("delivered",))
    gateway.wait_state(other, ("delivered",))
    assert collections.Counter(s.text for s in gateway.net.submissions)["only once"] == 2


def test_get_list_and_lines(gateway):
    ids = [gateway.send(HANDSET, f"list {i}") for i in range(3)]
    for i in ids:
        gateway.wait_state(i, ("delivered",))
    a = gateway.call("GetSms", SmsId=ids[0])
    assert a.find("Sms/State") == "delivered" and a.find("Sms/Parts/Part/Reference").isdigit()
    assert gateway.call("GetSms", SmsId="no-such-id").code == 302
    a = gateway.call("ListSms", State="delivered", RowsPerPage="2", PageNumber="0")
    assert a.find("TotalRecords") == "3" and len(a.root.findall("SmsList/Sms")) == 2
    assert gateway.call("ListSms", State="bogus").code == 302
    a = gateway.call("ListSmsLines")
    line = a.root.find("Lines/Line")
    assert (line.findtext("Name"), line.findtext("Number"), line.findtext("State")) == \
        ("gsm1", "+15550000001", "registered")
    assert line.findtext("Messages/Delivered") == "3"


def test_send_ussd_returns_the_decoded_answer(gateway):
    a = gateway.call("SendUssd", Code="*100#", ApiExtension="9999")
    assert a.code == 200 and a.find("Ussd") == "Your balance is 10.00 EUR."
    assert gateway.call("SendUssd", Code="*100#; AT+CFUN=0", ApiExtension="9999").code == 302
    assert gateway.call("SendUssd", Code="*100#", ApiExtension="nope").code == 401


def test_an_incoming_sms_during_a_submission_is_received(gateway):
    """+CMTI arrives while AT+CMGS is in flight (a URC inside a transaction): both complete."""
    gateway.net.latency = LatencyProfile(sms_submit=1.0)
    sms_id = gateway.send(HANDSET, "outgoing, slowly")
    time.sleep(0.3)
    gateway.net.handset("+15551230005").send_sms("+15550000001", "meanwhile")
    [post] = gateway.app.wait(1, "/incoming")
    assert post["Message"] == "meanwhile"
    gateway.wait_state(sms_id, ("delivered",))


def test_several_modems_share_the_load_and_an_extension_can_pin_a_line(gateway_factory):
    g = gateway_factory(numbers=("+15550000001", "+15550000002"))
    g.net.latency = LatencyProfile(sms_submit=0.2)
    ids = [g.send(HANDSET, f"load {i}") for i in range(8)]
    for i in ids:
        g.wait_state(i, ("delivered",))
    used = collections.Counter(s.modem for s in g.net.submissions)
    assert set(used) == {"+15550000001", "+15550000002"}, used
    pinned = g.send(HANDSET, "from line two", Sender="+15550000002")
    g.wait_state(pinned, ("delivered",))
    assert g.net.submissions[-1].modem == "+15550000002"


def test_a_message_too_long_gets_a_302_that_says_its_length_and_the_limit(gateway):
    a = gateway.call("SendSms", ApiExtension="9999", Recipient=HANDSET, Message="x" * 1600)
    assert a.code == 302
    message = a.find("Message")
    assert "'Message'" in message and "'SendSms'" in message
    assert "too long: 1600 characters" in message and "11 SMS parts" in message
    assert "at most 10 parts (1530 GSM-7 septets)" in message


def test_a_section_sign_goes_out_as_gsm7(gateway):
    sms_id = gateway.send(HANDSET, "§ 12 applies")
    assert gateway.call("GetSms", SmsId=sms_id).find("Sms/Encoding") == "gsm7"
    assert gateway.net.handset(HANDSET).wait_inbox(1)[0].text == "§ 12 applies"
    assert gateway.net.submissions[-1].encoding == "gsm7"
