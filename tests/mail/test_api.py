"""SendEmail over HTTP on the real daemon, through a real SMTP relay (aiosmtpd on loopback)."""

from __future__ import annotations

import signal

from tests.mail.conftest import email_config
from tests.mail.relay import wait_for


def state_of(daemon, email_id: str) -> tuple[str, int, str]:
    got = daemon.call("GetEmail", EmailId=email_id)
    assert got.code == 200, got.raw
    return got.find("Email/State"), int(got.find("Email/Attempts")), got.find("Email/Reason")


def test_a_mail_arrives_with_its_headers_and_text(daemon_factory, relay, relay_port):
    relay.start()
    d = daemon_factory(email_config(relay_port))
    got = d.call("SendEmail", ApiExtension="9999", Recipient="ops@example.org, boss@example.org",
                 Subject="Line gsm1 is down", Message="Signal lost at 10:02.\n.\nSecond paragraph.")
    assert got.code == 200, got.raw
    email_id = got.find("EmailId")
    mail_from, rcpts, msg = relay.wait()[0]
    assert mail_from == "gateway@box.example"
    assert rcpts == ["ops@example.org", "boss@example.org"]
    assert msg["Subject"] == "Line gsm1 is down"
    assert msg["From"] == "gateway@box.example" and msg["To"] == "ops@example.org, boss@example.org"
    assert msg["Message-ID"] == f"<{email_id}@box.example>"
    assert msg["Date"]
    assert msg.get_content().replace("\r\n", "\n") == "Signal lost at 10:02.\n.\nSecond paragraph.\n"
    wait_for(lambda: state_of(d, email_id)[0] == "sent", what="the mail marked sent")


def test_bad_input_gets_the_api_codes(daemon_factory, relay_port):
    d = daemon_factory(email_config(relay_port))
    assert d.call("SendEmail", ApiExtension="9999").code == 302
    bad = d.call("SendEmail", ApiExtension="9999", Recipient="not an address", Message="x")
    assert bad.code == 302
    assert bad.message == ("Missing or invalid parameter 'Recipient' for command 'SendEmail': "
                           "not an e-mail address: 'not an address'")
    assert d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Sender="nobody").code == 302
    assert d.call("SendEmail", ApiExtension="1234", Recipient="a@example.org").code == 401
    assert d.call("GetEmail", EmailId="nope").code == 302
    assert d.call("ListEmail").find("TotalRecords") == "0"  # nothing bad was accepted


def test_without_a_relay_sendemail_answers_701(daemon_factory):
    d = daemon_factory("")
    got = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Message="x")
    assert (got.code, got.message) == (701, "Configuration for type 'email' not found")


def test_relay_down_then_up_sends_each_mail_exactly_once(daemon_factory, relay, relay_port):
    d = daemon_factory(email_config(relay_port))
    first = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Subject="one").find("EmailId")
    # Retried while nothing listens, with the reason kept.
    wait_for(lambda: state_of(d, first)[1] >= 2, what="two failed attempts")
    state, _, reason = state_of(d, first)
    assert state == "queued" and "unreachable" in reason
    relay.start()
    wait_for(lambda: state_of(d, first)[0] == "sent", what="the mail sent once the relay is back")
    # A second mail goes through the same worker after the first: by then any duplicate would have arrived.
    second = d.call("SendEmail", ApiExtension="9999", Recipient="b@example.org", Subject="two").find("EmailId")
    wait_for(lambda: state_of(d, second)[0] == "sent", what="the second mail")
    subjects = [m["Subject"] for _, _, m in relay.messages]
    assert subjects == ["one", "two"]


def test_an_accepted_mail_survives_a_killed_daemon(daemon_factory, relay, relay_port):
    d = daemon_factory(email_config(relay_port))
    email_id = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Subject="durable").find("EmailId")
    d.signal(signal.SIGKILL)
    d.proc.wait(5)
    relay.start()
    d.start()
    wait_for(lambda: state_of(d, email_id)[0] == "sent", what="the mail sent after the restart")
    assert [m["Message-ID"] for _, _, m in relay.wait()] == [f"<{email_id}@box.example>"]


def test_a_lost_answer_after_the_text_is_never_resent(daemon_factory, relay, relay_port):
    relay.delay = 3.0            # longer than the client's 2 s timeout: the relay takes it, the box cannot know
    relay.start()
    d = daemon_factory(email_config(relay_port))
    email_id = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Subject="doubt").find("EmailId")
    wait_for(lambda: state_of(d, email_id)[0] == "unknown", what="the mail in doubt")
    assert "outcome unknown" in state_of(d, email_id)[2]
    relay.wait(1)
    relay.delay = 0.0
    other = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Subject="after").find("EmailId")
    wait_for(lambda: state_of(d, other)[0] == "sent", what="the next mail")
    assert [m["Subject"] for _, _, m in relay.messages] == ["doubt", "after"]


def test_a_permanent_refusal_fails_at_once(daemon_factory, relay, relay_port):
    relay.refuse_rcpt = {"gone@example.org"}
    relay.start()
    d = daemon_factory(email_config(relay_port))
    email_id = d.call("SendEmail", ApiExtension="9999", Recipient="gone@example.org").find("EmailId")
    wait_for(lambda: state_of(d, email_id)[0] == "failed", what="the refusal")
    state, attempts, reason = state_of(d, email_id)
    assert attempts == 1 and "550" in reason and "gone@example.org" in reason
    mixed = d.call("SendEmail", ApiExtension="9999", Recipient="gone@example.org,here@example.org").find("EmailId")
    wait_for(lambda: state_of(d, mixed)[0] == "sent", what="the mail to the remaining recipient")
    assert "gone@example.org" in state_of(d, mixed)[2]
    assert relay.messages[0][1] == ["here@example.org"]
