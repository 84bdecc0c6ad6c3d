"""OzML SendEmail in a live GSM call: the mail goes out with the recording attached, and the call never waits
for the relay."""

from __future__ import annotations

import socket
import time

import pytest

from pigate.mail import MailService, Relay as SmtpRelay
from pigate.retry import RetryPolicy
from pigate.config import ApiExtension
from pigate.ozml.services import ScriptExtras
from pigate.sim.audio import tone
from pigate.store.email import EmailStore
from tests.calls.test_incoming import wait_for
from tests.calls.world import ALICE, GATEWAY, start_gateway


def mail_extras(port: int, spool):
    def make(db, stoppers):
        service = MailService(store=EmailStore(db=db), relay=SmtpRelay(host="127.0.0.1", port=port, starttls=False,
                                                                       timeout=5.0),
                              spool=spool, default_sender="box@gw.example", extensions=[ApiExtension()],
                              retry=RetryPolicy(3, 0.2, 0.5))
        service.start()
        stoppers.append(service.stop)
        make.service = service
        return ScriptExtras(email=service)
    return make


@pytest.fixture
def gateway_with_mail(tmp_path, relay_port):
    made = []

    def start():
        extras = mail_extras(relay_port, tmp_path / "spool")
        g = start_gateway(tmp_path / "g", extras=extras)
        made.append(g)
        return g, extras.service

    yield start
    for g in made:
        g.stop()


def test_a_voicemail_is_mailed_with_its_recording(gateway_with_mail, relay):
    relay.start()
    gateway, _ = gateway_with_mail()
    gateway.app.routes["/incoming"] = """<Response>
      <Record Format="wav" Duration="20" FinishDigits="#"/>
      <SendEmail Recipient="voicemail@example.org" Subject="Voicemail from $caller" Attach="recording">
        A caller left a message.</SendEmail>
      <Speak>Thank you.</Speak>
    </Response>""".replace("$caller", ALICE)
    hc = gateway.handset(ALICE).call(GATEWAY)
    hc.wait_state("active", timeout=5)
    hc.play_pcm(tone(600, 0.8))
    wait_for(lambda: hc.queued_seconds == 0, what="the handset to finish playing")
    hc.press("#")
    _, rcpts, msg = relay.wait(timeout=15)[0]
    assert rcpts == ["voicemail@example.org"] and msg["Subject"] == f"Voicemail from {ALICE}"
    body, attachment = [part for part in msg.iter_parts()]
    assert body.get_content().strip() == "A caller left a message."
    assert attachment.get_content_type() == "audio/x-wav" and attachment.get_filename().endswith(".wav")
    data = attachment.get_content()
    assert data[:4] == b"RIFF" and len(data) > 8000      # at least half a second of 8 kHz 16-bit audio
    hc.wait_state("ended", timeout=10)


def test_sendemail_does_not_hold_the_call_while_the_relay_hangs(gateway_with_mail, relay_port):
    # A relay that accepts connections and never says a word: an SMTP client would wait for its timeout (5 s).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", relay_port))
        silent.listen(8)
        gateway, mail = gateway_with_mail()
        gateway.app.routes["/incoming"] = """<Response>
          <SendEmail Recipient="ops@example.org" Subject="call">A call came in.</SendEmail>
          <Speak>Hello there.</Speak>
        </Response>"""
        hc = gateway.handset(ALICE).call(GATEWAY)
        hc.wait_state("active", timeout=5)
        started = time.monotonic()
        wait_for(lambda: hc.heard_voiced_seconds() >= 0.3, what="the speech after SendEmail")
        assert time.monotonic() - started < 4.0, "the call waited for the relay"
        total, mails = mail.list()
        assert total == 1 and mails[0].state in ("queued", "sending")   # still with the relay, the call went on
        hc.wait_state("ended", timeout=10)


def test_attach_without_a_recording_is_reported(gateway_with_mail, relay):
    relay.start()
    gateway, mail = gateway_with_mail()
    gateway.app.routes["/incoming"] = """<Response>
      <SendEmail Recipient="ops@example.org" Attach="recording">nothing recorded</SendEmail>
    </Response>"""
    gateway.handset(ALICE).call(GATEWAY)
    error = gateway.app.wait("/errors")[0]
    assert (error["Code"], error["Message"]) == (
        "302", "Missing or invalid parameter 'Attach' for command 'SendEmail': no recording to attach")
    assert mail.list()[0] == 0


def test_an_sms_answer_run_twice_sends_its_mail_once(tmp_path, relay, relay_port):
    """The SMS service posts IncomingSMS at least once; its answer's SendEmail must still be one mail."""
    from pigate.sms import DetachedScript, DetachedScripts
    from pigate.store import Database

    relay.start()
    db = Database(path=tmp_path / "pigate.db")
    mail = MailService(store=EmailStore(db=db), relay=SmtpRelay(host="127.0.0.1", port=relay_port, starttls=False),
                       spool=tmp_path / "spool", default_sender="box@gw.example", extensions=[ApiExtension()])
    mail.start()
    scripts = DetachedScripts(submit=lambda *a, **k: "sms", calls=None, fetch=lambda url, fields: "",
                              error_url=lambda ext: "", workers=1, extras=ScriptExtras(email=mail))
    try:
        answer = DetachedScript(context="IncomingSMS", api_extension="9999", subject="sms-1",
                                ozml="<Response><SendEmail Recipient='ops@example.org'>got an SMS</SendEmail></Response>")
        scripts.submit(answer)
        scripts.submit(answer)                      # the same notification answered again
        scripts.submit(DetachedScript(context="IncomingSMS", api_extension="9999", subject="sms-2",
                                      ozml="<Response><SendEmail Recipient='ops@example.org'>marker</SendEmail>"
                                           "</Response>"))
        relay.wait(2)                               # one worker: both runs of sms-1 are over by now
        wait_for(lambda: mail.list(states=["sent"])[0] == 2, what="both mails sent")
        assert [m.get_content().strip() for _, _, m in relay.messages] == ["got an SMS", "marker"]
        assert mail.list()[0] == 2
    finally:
        scripts.stop()
        mail.stop()
        db.close()
