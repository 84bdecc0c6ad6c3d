"""Signed posts verify with the algorithm as docs/webhooks.md states it, and only for the exact request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from pigate.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, Notifier, NotifyConfig, messages, verify
from tests.notify.webapp import Reply

SECRET = "s3cr3t-ключ"


def documented_signature(secret: str, url: str, params: dict[str, str], timestamp: str) -> str:
    """Written from docs/webhooks.md, independently of pigate.notify.signing."""
    data = timestamp + "." + url
    for name in sorted(params):
        data += name + params[name]
    mac = hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_a_signed_post_verifies_as_documented(webapp):
    webapp.route("/hook", Reply(200))
    url = webapp.url("/hook?tenant=7")
    fields = messages.incoming_sms(sender="+3620", recipient="9999", id="abc", api_extension="9999",
                                   message="Hello & üdv")
    before = int(time.time())
    Notifier(config=NotifyConfig(secret=SECRET, retries=0)).post(url, fields)
    (req,) = webapp.requests
    received = dict(urllib.parse.parse_qsl(req.body.decode(), keep_blank_values=True))
    ts, sig = req.headers[TIMESTAMP_HEADER.lower()], req.headers[SIGNATURE_HEADER.lower()]
    assert before <= int(ts) <= time.time() + 1
    assert sig == documented_signature(SECRET, url, received, ts)
    assert verify(SECRET, url, received, sig, timestamp=ts)


def test_verification_fails_for_anything_changed(webapp):
    webapp.route("/hook", Reply(200))
    url = webapp.url("/hook")
    Notifier(config=NotifyConfig(secret=SECRET, retries=0)).post(url, messages.goto())
    req = webapp.requests[0]
    fields = dict(urllib.parse.parse_qsl(req.body.decode()))
    ts, sig = req.headers["x-pigate-timestamp"], req.headers["x-pigate-signature"]
    assert verify(SECRET, url, fields, sig, timestamp=ts)
    assert not verify("other", url, fields, sig, timestamp=ts)
    assert not verify(SECRET, url + "?x", fields, sig, timestamp=ts)
    assert not verify(SECRET, url, {**fields, "NotificationName": "Error"}, sig, timestamp=ts)
    assert not verify(SECRET, url, fields, sig, timestamp=str(int(ts) + 1))
    assert not verify(SECRET, url, fields, sig, timestamp=ts, now=int(ts) + 301), "a replay after 5 minutes"
    assert not verify(SECRET, url, fields, sig, timestamp="soon")


def test_without_a_secret_nothing_is_signed(webapp):
    webapp.route("/hook", Reply(200))
    Notifier(config=NotifyConfig(retries=0)).post(webapp.url("/hook"), messages.goto())
    assert "x-pigate-signature" not in webapp.requests[0].headers


def test_each_redirect_hop_is_signed_for_its_own_url(webapp):
    webapp.route("/old", Reply(307, headers={"Location": "/new"}))
    webapp.route("/new", Reply(200))
    Notifier(config=NotifyConfig(secret=SECRET, retries=0)).post(webapp.url("/old"), messages.goto())
    last = webapp.requests[-1]
    assert last.path == "/new"
    assert verify(SECRET, webapp.url("/new"), {"NotificationName": "GoTo"}, last.headers["x-pigate-signature"],
                  timestamp=last.headers["x-pigate-timestamp"])
