"""Request: which handler runs for each fate of the call it places (FakeServices reports the fates)."""

from __future__ import annotations

from pigate.errors import CallConnectFailed
from pigate.ozml.services import CallFate
from tests.ozml.test_runner import Session

SCRIPT = """<Response><Var id="who">Bob</Var><Request DialedAddress="+15551230002" RingTime="30">
  <OnSetup><Speak>setup</Speak></OnSetup>
  <OnRinging><Speak>ringing</Speak></OnRinging>
  <OnAnswered><Speak>Hello $who</Speak></OnAnswered>
  <OnBusy><Speak>busy</Speak></OnBusy>
  <OnError><Speak>error</Speak></OnError>
  <OnCompleted><Speak>completed</Speak></OnCompleted>
</Request><Speak>after</Speak></Response>"""


def run(fates, **fail) -> Session:
    s = Session()
    s.services.fates = list(fates)
    s.services.fail.update(fail)
    s.run(SCRIPT)
    return s


def test_an_answered_call_runs_onanswered_on_it_then_oncompleted_here():
    s = run([CallFate("Ringing"), CallFate("InCall", answered=True),
             CallFate("Completed", "CalleeHungUp", answered=True, ended=True)])
    assert s.leg.spoken == ["setup", "ringing", "completed", "after"]
    placed = s.services.calls[0]
    assert placed["dialed"] == "+15551230002" and placed["ring_time"] == 30
    assert placed["response_ozml"] == "<Response><Speak>Hello Bob</Speak></Response>"   # the scope's $who


def test_busy_runs_onbusy():
    s = run([CallFate("Ringing"), CallFate("Busy", "Busy", ended=True)])
    assert s.leg.spoken == ["setup", "ringing", "busy", "after"]


def test_no_answer_runs_onerror():
    s = run([CallFate("Cancelled", "NoAnswer", ended=True)])
    assert s.leg.spoken == ["setup", "error", "after"]


def test_a_call_that_cannot_be_placed_runs_onerror_and_is_not_reported():
    s = run([], call=CallConnectFailed("+15551230002", "NoFreeLine"))
    assert s.leg.spoken == ["error", "after"] and s.errors == []


def test_without_onerror_a_failure_is_reported():
    s = Session()
    s.services.fail["call"] = CallConnectFailed("+15551230002", "NoFreeLine")
    s.run('<Response><Request DialedAddress="+15551230002"/><Speak>after</Speak></Response>')
    assert [code for code, _, _ in s.errors] == [402] and s.leg.spoken == ["after"]


def test_handlers_are_checked_when_parsed():
    from pigate.ozml import check
    bad = check("<Response><Request DialedAddress='1'><OnSetup/><OnSetup/><OnWhatever/></Request></Response>")
    assert [e.code for e in bad] == [303, 301]
    assert [e.code for e in check("<Response><Request/></Response>")] == [302]
    assert [e.code for e in check("<Response><OnSetup/></Response>")] == [303]


def test_a_bad_required_value_is_one_problem_not_two():
    from pigate.ozml import check
    problems = check("<Response><SendAlarmNotification Account='1234' EventCode='13'/></Response>")
    assert [(e.code, e.line, e.column) for e in problems] == [(302, 1, 11)]
