"""Every status code of the table, reached through the real daemon's API the way a client would meet it.

304-307 are covered in process (tests/foundation/test_api_frame.py). 702 and 703 belong to Ozeki's
configuration commands (AddConfig, ModifyConfig), which pigate does not offer: its configuration is the file.
"""

from __future__ import annotations

import urllib.request

from tests.support import free_port, parse_answer


def _raw(d, query: str):
    with urllib.request.urlopen(f"{d.base}/api?{query}", timeout=10) as resp:
        return parse_answer(resp.read())


def test_codes_on_a_box_with_a_line(daemon_factory):
    d = daemon_factory()
    seen = {
        200: d.call("ListExtensions"),
        300: _raw(d, "command=SendSms&Message=%ff"),
        301: d.call("Fax"),
        302: d.call("SendSms", ApiExtension="9999", Message="no recipient"),
        303: d.call("Call", Dialed="+15551230001", ApiExtension="9999",
                    ResponseOzML="<Response><Route>101</Route></Response>"),
        401: d.call("SendSms", ApiExtension="1234", Recipient="+15551230001", Message="hi"),
        601: d.call("Hangup", CallId="nope"),
        701: d.call("ListExtensions", Type="Fax"),
    }
    for code, answer in seen.items():
        assert answer.code == code, (code, answer.message)
    assert seen[302].message == "Missing or invalid parameter 'Recipient' for command 'SendSms'"
    assert seen[303].message.endswith("Command 'Route' cannot be used here")
    assert seen[401].message.startswith("API extension '1234' unavailable")
    assert seen[601].message == "Call not found with ID 'nope'"


def test_codes_on_a_box_without_a_line(daemon_factory):
    port = free_port()
    d = daemon_factory(f'modems = []\n[http]\nlisten = "127.0.0.1"\nport = {port}\n', port=port)
    sms = d.call("SendSms", ApiExtension="9999", Recipient="+15551230001", Message="hi")
    assert (sms.code, sms.message) == (501, "Destination of the SMS is not found")
    assert sms.find("SmsId") is None
    call = d.call("Call", Dialed="+15551230001", ApiExtension="9999")
    assert call.code == 402 and call.message.startswith("Call connect to '+15551230001' failed with result state")
