"""OzML Request on a real GSM call: a script without a call (an SMS answer) calls Bob; the answered call runs
OnAnswered, and OnCompleted / OnBusy run in the requesting script, which texts Alice what happened."""

from __future__ import annotations

from pigate.ozml.runner import Runner
from tests.calls.world import ALICE, BOB

SCRIPT = f"""<Response>
  <Var id="msg">the gate is open</Var>
  <Request DialedAddress="{BOB}" RingTime="20">
    <OnAnswered><Speak>Message for you: $msg</Speak></OnAnswered>
    <OnBusy><SendSms Recipient="{ALICE}">Bob was busy</SendSms></OnBusy>
    <OnError><SendSms Recipient="{ALICE}">Bob could not be reached</SendSms></OnError>
    <OnCompleted><SendSms Recipient="{ALICE}">Bob got it</SendSms></OnCompleted>
  </Request>
</Response>"""


def run_detached(gateway) -> list[str]:
    runner = Runner(leg=None, services=gateway.service.scripts, fetch=lambda url, fields: "",
                    on_error=lambda error, call_id: None, api_extension="9999")
    report = runner.run(context="IncomingSMS", ozml=SCRIPT)
    assert report.errors == []
    return [m.text for m in gateway.handset(ALICE).wait_inbox(1, timeout=10)]


def test_an_answered_request_speaks_and_then_reports_completion(gateway):
    assert run_detached(gateway) == ["Bob got it"]
    call = gateway.handset(BOB).last_call
    assert call.state == "ended" and call.heard_voiced_seconds() >= 1.0   # OnAnswered spoke to Bob


def test_a_busy_callee_runs_onbusy(gateway):
    gateway.handset(BOB).incoming_behaviour = "busy"
    assert run_detached(gateway) == ["Bob was busy"]
