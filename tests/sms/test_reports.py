"""Delivery reports: success, failure and never, per part, and the SMSDeliveryReport notification."""

from __future__ import annotations

import time

import pytest

HANDSET = "+15551230001"


@pytest.mark.parametrize("policy, delivered", [("success", "true"), ("fail", "false")])
def test_report_outcome_is_notified_with_ozekis_fields(gateway, policy, delivered):
    gateway.net.delivery_policy = policy
    url = gateway.app.url("/dr")
    sms_id = gateway.send(HANDSET, "x" * 400, DeliveryReportURL=url)  # three parts, each reported
    [post] = gateway.app.wait(1, "/dr")
    assert list(post.items()) == [("NotificationName", "SMSDeliveryReport"), ("Delivered", delivered),
                                  ("ID", sms_id), ("ApiExtension", "9999")]
    state = gateway.wait_state(sms_id, ("delivered", "undelivered"))
    assert state == ("delivered" if policy == "success" else "undelivered")
    parts = gateway.store.get_outgoing(sms_id)[1]
    assert len(parts) == 3
    if policy == "success":
        assert all(p.report == "delivered" for p in parts), "delivered only when every part is"
    time.sleep(0.3)
    assert len(gateway.app.wait(1, "/dr")) == 1, "one notification per message"


def test_the_delivary_spelling_is_accepted(gateway):
    url = gateway.app.url("/dr2")
    sms_id = gateway.send(HANDSET, "hello", DelivaryReportURL=url)
    [post] = gateway.app.wait(1, "/dr2")
    assert post["ID"] == sms_id and post["Delivered"] == "true"


def test_no_report_leaves_the_message_sent_and_posts_nothing(gateway):
    gateway.net.delivery_policy = "never"
    sms_id = gateway.send(HANDSET, "hello", DeliveryReportURL=gateway.app.url("/dr3"))
    gateway.net.handset(HANDSET).wait_inbox(1)
    gateway.wait_state(sms_id, ("sent",))
    time.sleep(0.5)
    assert gateway.state(sms_id) == "sent" and gateway.app.posts == []


def test_reports_match_the_right_message_when_references_repeat(gateway):
    """Two messages to different handsets; each report is matched on reference AND recipient."""
    gateway.net.handset("+15551230002").delivery_policy = "fail"
    ok = gateway.send(HANDSET, "one", DeliveryReportURL=gateway.app.url("/a"))
    bad = gateway.send("+15551230002", "two", DeliveryReportURL=gateway.app.url("/b"))
    assert gateway.app.wait(1, "/a")[0]["Delivered"] == "true"
    assert gateway.app.wait(1, "/b")[0]["Delivered"] == "false"
    assert (gateway.state(ok), gateway.state(bad)) == ("delivered", "undelivered")
