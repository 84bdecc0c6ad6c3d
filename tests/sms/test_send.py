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


def test_pacing_spaces_submissions_without_holding_up_reception(gateway_factory):
    g = gateway_factory(pacing=0.3)
    for i in range(4):
        g.send(HANDSET, f"paced {i}")
    h = g.net.handset(HANDSET)
    g.net.handset("+15551230002").send_sms(to="+15550000001", text="arrives meanwhile")
    [post] = g.app.wait(1, "/incoming", timeout=1.0)  # received during the pauses, not after the batch
    assert post["Message"] == "arrives meanwhile"
    h.wait_inbox(4, timeout=10)
    times = [s.at.timestamp() for s in g.net.submissions]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3 and min(gaps) >= 0.28, gaps
