"""The issue's example on the real daemon: a call script waits for the supervisor's SMS reply, which reaches it
through the IncomingSMS script (SendMsg -> WaitForMsg over a named connection); without a reply the fallback runs."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

from tests.calls.test_daemon import wait_for
from tests.calls.world import WebApp
from tests.messaging.test_sendmessage import inbox

SUPERVISOR, CUSTOMER = "+15551230001", "+15551230002"

CALL_SCRIPT = f"""<Response>
  <Speak>Please hold while we ask the supervisor.</Speak>
  <SendSms Recipient="{SUPERVISOR}">Customer waiting. Reply with your answer.</SendSms>
  <WaitForMsg Connection="supervisor" Var="reply" Timeout="TIMEOUT">
    <SendSms Recipient="{SUPERVISOR}">No reply, the customer was told to call back.</SendSms>
    <Hangup/>
  </WaitForMsg>
  <SendSms Recipient="{SUPERVISOR}">Customer told: $reply</SendSms>
</Response>"""


@pytest.fixture
def app():
    web = WebApp()
    web.routes["/sms"] = lambda f: f"<Response><SendMsg Connection='Supervisor'>{f['Message']}</SendMsg></Response>"
    yield web
    web.close()


def start(daemon_factory, app):
    d = daemon_factory(f'[notifications]\nincoming_sms_url = "{app.url("/sms")}"\n')
    wait_for(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
             == "Connected", 15, "the line", d.log)
    return d


def test_the_call_script_gets_the_supervisors_reply(daemon_factory, app):
    d = start(daemon_factory, app)
    got = d.call("Call", Dialed=CUSTOMER, ApiExtension="9999", ResponseOzML=CALL_SCRIPT.replace("TIMEOUT", "30"))
    assert got.code == 200, got.raw
    assert [m["text"] for m in inbox(d, SUPERVISOR, 1)] == ["Customer waiting. Reply with your answer."]
    urllib.request.urlopen(urllib.request.Request(
        f"{d.base}/sim/handsets/{urllib.parse.quote(SUPERVISOR)}/sms", data=b"text=approved"), timeout=5).read()
    texts = [m["text"] for m in inbox(d, SUPERVISOR, 2, timeout=15)]
    assert texts == ["Customer waiting. Reply with your answer.", "Customer told: approved"], d.log()
    assert app.of("/sms")[0]["Message"] == "approved"


def test_without_a_reply_the_fallback_runs(daemon_factory, app):
    d = start(daemon_factory, app)
    d.call("Call", Dialed=CUSTOMER, ApiExtension="9999", ResponseOzML=CALL_SCRIPT.replace("TIMEOUT", "1"))
    texts = [m["text"] for m in inbox(d, SUPERVISOR, 2, timeout=15)]
    assert texts == ["Customer waiting. Reply with your answer.", "No reply, the customer was told to call back."]
    history = wait_for(lambda: (lambda a: a if a.find("TotalRecords") == "1" else None)(d.call("ListCallHistory")),
                       15, "the call's end", d.log)
    assert history.find("CallHistory/Call/Direction") == "Outbound"
