"""SendMsg/WaitForMsg between two live sessions (real threads, real time) and OzML SendMessage."""

from __future__ import annotations

import threading
import time

from pigate.ozml.fakes import FakeLeg
from pigate.ozml.mailbox import Mailboxes
from pigate.ozml.services import ScriptExtras
from tests.ozml.test_runner import Session


def test_two_live_scripts_exchange_a_message():
    boxes = Mailboxes()
    waiting = Session(FakeLeg(id="call-a"), extras=ScriptExtras(mailboxes=boxes))
    sender = Session(extras=ScriptExtras(mailboxes=boxes))
    done = threading.Event()

    def run_waiter():
        waiting.run("""<Response><Speak>Please hold</Speak>
          <WaitForMsg Connection="Supervisor" Var="answer" Timeout="10"><Speak>fallback</Speak></WaitForMsg>
          <Speak>The supervisor says $answer</Speak></Response>""")
        done.set()

    thread = threading.Thread(target=run_waiter)
    thread.start()
    time.sleep(0.3)
    assert not done.is_set()                       # it is really waiting
    sender.run("<Response><SendMsg Connection='supervisor'>approved</SendMsg></Response>", context="IncomingSMS")
    assert done.wait(5), "the waiting script did not get the message"
    thread.join(5)
    assert waiting.leg.spoken == ["Please hold", "The supervisor says approved"]


def test_a_timeout_runs_the_fallback():
    s = Session(extras=ScriptExtras(mailboxes=Mailboxes()))
    started = time.monotonic()
    s.run("""<Response><WaitForMsg Connection="supervisor" Var="answer" Timeout="0.3">
        <Speak>Nobody answered</Speak></WaitForMsg><Speak>after $answer</Speak></Response>""")
    assert 0.3 <= time.monotonic() - started < 2.0
    assert s.leg.spoken == ["Nobody answered", "after $answer"]     # the variable stays unset


def test_a_message_sent_first_waits_for_its_reader_and_messages_keep_their_order():
    boxes = Mailboxes()
    Session(leg=None, extras=ScriptExtras(mailboxes=boxes)).run(
        "<Response><SendMsg Connection='c'>one</SendMsg><SendMsg Connection='c'>two</SendMsg></Response>",
        context="IncomingSMS")
    s = Session(extras=ScriptExtras(mailboxes=boxes))
    s.run("""<Response><WaitForMsg Connection="C" Var="a" Timeout="1"/><WaitForMsg Connection="c" Var="b" Timeout="1"/>
        <Speak>$a then $b</Speak></Response>""")
    assert s.leg.spoken == ["one then two"]
    assert boxes.pending("c") == 0


def test_a_hang_up_ends_the_wait_early():
    leg = FakeLeg()
    s = Session(leg, extras=ScriptExtras(mailboxes=Mailboxes()))
    threading.Timer(0.2, leg.hangup).start()
    started = time.monotonic()
    report = s.run("""<Response><WaitForMsg Connection="x" Var="a" Timeout="30"><Speak>late</Speak></WaitForMsg>
        <Speak>never</Speak></Response>""")
    assert time.monotonic() - started < 2.0 and leg.spoken == []
    assert report.ended in ("caller", "hangup")


def test_old_messages_expire():
    now = [0.0]
    boxes = Mailboxes(ttl=60, clock=lambda: now[0])
    boxes.send("c", "stale")
    now[0] = 61.0
    assert boxes.wait("c", 0) is None


def test_sendmessage_sends_one_sms_per_recipient():
    s = Session()
    s.run("<Response><SendMessage Recipient='+15551230001; +15551230002' Originator='+15550000001'>"
          "Gate opens</SendMessage></Response>", context="IncomingCall")
    assert [(m["recipient"], m["text"], m["sender"]) for m in s.services.sms] == [
        ("+15551230001", "Gate opens", "+15550000001"), ("+15551230002", "Gate opens", "+15550000001")]
