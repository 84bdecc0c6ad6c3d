"""Every notification posted with Ozeki's field names, order and values (the examples of Ozeki's documentation)."""

from __future__ import annotations

import pytest

from pigate.errors import CallConnectFailed, InvalidParameter, OzmlError
from pigate.notify import Notifier, NotifyConfig, messages
from pigate.notify.policy import ForbiddenTarget
from tests.notify.webapp import Reply

# (builder call, the body of Ozeki's example with its line breaks removed)
SEED = [
    (lambda: messages.routing_interception(caller_id="1000", original_dialed_number="1500",
                                           last_dialed_number="431413", last_called_extension="1200",
                                           last_call_state="Calling", api_extension="9999", caller_extension="1000"),
     "NotificationName=RoutingInterception&CallerID=1000&OriginalDialedNumber=1500&LastDialedNumber=431413"
     "&LastCalledExtension=1200&LastCallState=Calling&ApiExtension=9999&CallerExtension=1000"),
    (lambda: messages.call_changed(call_state="Ringing", call_id="3CiHe", caller="103", caller_id="103", callee="101"),
     "NotificationName=CallChanged&CallState=Ringing&CallId=3CiHe&Caller=103&CallerId=103&Callee=101"),
    (lambda: messages.record_completed(success=True, duration=15, call_id="3CiHe", caller="103", callee="101",
                                       record_url="http://ozekixepbx.ip:7780/HttpRecordings/21d75202569941b5a9576babd030e55f.mp3"),
     "Success=true&Duration=15&RecordURL=http%3A%2F%2Fozekixepbx.ip%3A7780%2FHttpRecordings%2F"
     "21d75202569941b5a9576babd030e55f.mp3&CallId=3CiHe&Caller=103&Callee=101&NotificationName=RecordCompleted"),
    (lambda: messages.record_completed(success=True, duration=15, caller="103", callee="101",
                                       record_url="http://ozekixepbx.ip:7780/HttpRecordings/21d75202569941b5a9576babd030e55f.mp3"),
     "Success=true&Duration=15&RecordURL=http%3A%2F%2Fozekixepbx.ip%3A7780%2FHttpRecordings%2F"
     "21d75202569941b5a9576babd030e55f.mp3&Caller=103&Callee=101&NotificationName=RecordCompleted"),
    (lambda: messages.call_connected(call_leg_id="3CiHe", callee="1100", api_extension="9999"),
     "NotificationName=CallConnected&CallLegID=3CiHe&Callee=1100&ApiExtension=9999"),
    (lambda: messages.incoming_call(call_leg_id="3CiHe", caller="500", api_extension="9998"),
     "NotificationName=IncomingCall&CallLegID=3CiHe&Caller=500&ApiExtension=9998"),
    (lambda: messages.incoming_sms(sender="06203123412", recipient="06304645433", id="843952f3-3f3g3",
                                   api_extension="9999", message="Hi John!"),
     "NotificationName=IncomingSMS&Sender=06203123412&Recipient=06304645433&ID=843952f3-3f3g3"
     "&ApiExtension=9999&Message=Hi+John%21"),
    (lambda: messages.sms_delivery_report(delivered=True, id="843952f3-3f3g3", api_extension="9998"),
     "NotificationName=SMSDeliveryReport&Delivered=true&ID=843952f3-3f3g3&ApiExtension=9998"),
    (lambda: messages.dtmf_entered(dtmf_digits="14*5#3", call_leg_id="3CiHe", api_extension="9998"),
     "NotificationName=DtmfEntered&DtmfDigits=14%2A5%233&CallLegID=3CiHe&ApiExtension=9998"),
    (messages.goto, "NotificationName=GoTo"),
    (lambda: messages.error(code=302, args=("Timeout", "UserInput"), call_id="3CiHe"),
     "NotificationName=Error&Code=302&Message=Missing+or+invalid+parameter+%27Timeout%27+for+command"
     "+%27UserInput%27&CallId=3CiHe"),
]


@pytest.mark.parametrize("build,body", SEED, ids=[b.split("&")[0] if b.startswith("N") else "RecordCompleted"
                                                   for _, b in SEED])
def test_each_notification_is_posted_as_in_ozekis_examples(webapp, build, body):
    webapp.route("/n", Reply(200))
    Notifier(config=NotifyConfig(retries=0)).post(webapp.url("/n"), build())
    (req,) = webapp.requests
    assert req.body.decode() == body
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"


def test_booleans_and_durations_are_rendered_as_ozeki_does():
    failed = messages.record_completed(success=False, duration=0, record_url="", caller="1", callee="2")
    assert (failed["Success"], failed["Duration"], failed["RecordURL"]) == ("false", "0", "")
    assert messages.record_completed(success=True, duration=2.5, record_url="u", caller="1", callee="2")["Duration"] == "2.5"
    assert messages.sms_delivery_report(delivered=False, id="x", api_extension="9")["Delivered"] == "false"


def test_states_outside_ozekis_lists_are_programming_errors():
    with pytest.raises(ValueError):
        messages.call_changed(call_state="Ringning", call_id="1", caller="1", caller_id="1", callee="2")
    with pytest.raises(ValueError):
        messages.routing_interception(caller_id="1", original_dialed_number="2", last_dialed_number="2",
                                      last_called_extension="", last_call_state="Ringing", api_extension="9",
                                      caller_extension="1")


def test_error_notification_from_located_ozml_error_and_policy_refusal():
    err = messages.error_from(OzmlError(300, "unclosed tag", line=3, column=7), call_id="c1")
    assert err == {"NotificationName": "Error", "Code": "300",
                   "Message": "line 3, column 7: Error occured during parsing message: 'unclosed tag'",
                   "CallId": "c1"}
    assert messages.error_from(InvalidParameter("Digits", "UserInput"))["Code"] == "302"
    assert messages.error_from(ForbiddenTarget("http://x/", "10.0.0.1", "denied"))["Code"] == "307"
    # beyond Ozeki's 300-307, the failures an app caused: a Call nobody answered, a verb on a call that is gone
    assert messages.error_from(CallConnectFailed("+3612", "Busy"), call_id="c2")["Message"] == \
        "Call connect to '+3612' failed with result state 'Busy'"
    assert messages.error(code=601, args=("c9",))["Message"] == "Call not found with ID 'c9'"
    for code in (200, 999):
        with pytest.raises(ValueError):
            messages.error(code=code)
