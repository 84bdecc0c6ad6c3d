"""Sending through HTTP and the simulator: what the handset receives, and what the API says about it."""

from __future__ import annotations

import pytest

HANDSET = "+15551230001"


@pytest.mark.parametrize("text", [
    "Hello from pigate",
    "Straße {x} [y] ~ € " * 20,                      # GSM-7 with escapes, multipart
    "Привет, как дела? Всё хорошо.",                 # UCS-2
    "emoji 😀🎉👍🏽 and more " * 12,                 # UCS-2 multipart with surrogate pairs
])
def test_round_trip_reaches_the_handset_exactly(gateway, text):
    h = gateway.net.handset(HANDSET)
    sms_id = gateway.send(HANDSET, text)
    [got] = h.wait_inbox(1, timeout=10)
    assert got.text == text and got.sender == "+15550000001"
    gateway.wait_state(sms_id, ("sent", "delivered"))
    a = gateway.call("GetSms", SmsId=sms_id)
    assert a.code == 200 and a.find("Sms/Recipient") == HANDSET and a.find("Sms/Text") == text
    parts = a.root.findall("Sms/Parts/Part")
    assert len(parts) == len(got.parts) and all(p.findtext("State") == "sent" for p in parts)
