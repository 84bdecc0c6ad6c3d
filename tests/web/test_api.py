"""The JSON API /v1, its OpenAPI document and /metrics, against a real daemon on the simulator."""

from __future__ import annotations

import base64
import json
import signal
import urllib.parse

from prometheus_client.parser import text_string_to_metric_families

from pigate.api.auth import hash_password
from tests.web.conftest import fetch, get_json, post_json, quote, until

A, B = "+15551230001", "+15551230002"


def _delivered(base: str, message_id: str) -> dict | None:
    msg = get_json(f"{base}/v1/sms/{message_id}")
    return msg if msg["state"] == "delivered" else None


def test_send_to_two_recipients_reaches_both_and_reports_each_part(daemon_factory):
    d = daemon_factory()
    status, headers, msg = post_json(f"{d.base}/v1/sms", {"text": "Hello both " + "x" * 160, "recipients": [A, B]})
    assert status == 202 and headers["Location"] == f"/v1/sms/{msg['id']}"
    assert [r["recipient"] for r in msg["recipients"]] == [A, B]
    for number in (A, B):
        inbox = until(lambda: get_json(f"{d.base}/sim/handsets/{quote(number)}/inbox"))
        assert [m["text"] for m in inbox] == ["Hello both " + "x" * 160]
    done = until(lambda: _delivered(d.base, msg["id"]))
    assert done, get_json(f"{d.base}/v1/sms/{msg['id']}")
    for r in done["recipients"]:
        assert r["state"] == "delivered"
        assert [(p["seq"], p["state"], p["report"]) for p in r["parts"]] == [(1, "sent", "delivered"),
                                                                            (2, "sent", "delivered")]
        assert all(isinstance(p["reference"], int) for p in r["parts"])
    # A SendSms message is a message of one recipient here too.
    sms_id = d.call("SendSms", ApiExtension="9999", Recipient=A, Message="old style").find("SmsId")
    one = get_json(f"{d.base}/v1/sms/{sms_id}")
    assert one["id"] == sms_id and [r["recipient"] for r in one["recipients"]] == [A]
    # Another recipient's row is not a message id of its own.
    assert fetch(f"{d.base}/v1/sms/{done['recipients'][1]['sms_id']}")[0] == 404


def test_idempotency_key_makes_a_retry_the_same_message(daemon_factory):
    d = daemon_factory()
    body = {"text": "only once", "recipients": [A]}
    s1, _, m1 = post_json(f"{d.base}/v1/sms", body, {"Idempotency-Key": "order-17"})
    s2, _, m2 = post_json(f"{d.base}/v1/sms", body, {"Idempotency-Key": "order-17"})
    assert s1 == s2 == 202 and m1["id"] == m2["id"]
    status, _, problem = post_json(f"{d.base}/v1/sms", {"text": "something else", "recipients": [A]},
                                   {"Idempotency-Key": "order-17"})
    assert status == 422 and problem["title"] == "Idempotency-Key reused"
    until(lambda: _delivered(d.base, m1["id"]))
    assert [m["text"] for m in get_json(f"{d.base}/sim/handsets/{quote(A)}/inbox")] == ["only once"]


def test_202_means_on_disk_a_kill_right_after_loses_nothing(daemon_factory):
    d = daemon_factory('[simulator]\nsms_latency = 5.0\n')  # still in the outbox when the daemon dies
    status, _, msg = post_json(f"{d.base}/v1/sms", {"text": "durable", "recipients": [A, B]},
                               {"Idempotency-Key": "k"})
    assert status == 202
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(5)
    d.config_text = ""
    d.start()
    again = get_json(f"{d.base}/v1/sms/{msg['id']}")
    assert [r["recipient"] for r in again["recipients"]] == [A, B] and again["text"] == "durable"
    s2, _, retried = post_json(f"{d.base}/v1/sms", {"text": "durable", "recipients": [A, B]}, {"Idempotency-Key": "k"})
    assert s2 == 202 and retried["id"] == msg["id"]


def test_list_filters_and_pages_with_a_cursor(daemon_factory):
    d = daemon_factory()
    ids = [post_json(f"{d.base}/v1/sms", {"text": f"n{i}", "recipients": [A if i % 2 else B]})[2]["id"]
           for i in range(5)]
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = get_json(f"{d.base}/v1/sms?{urllib.parse.urlencode(query)}")
        assert len(page["items"]) <= 2
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]  # newest first, each once
    only_a = get_json(f"{d.base}/v1/sms?recipient={quote(A)}")["items"]
    assert [m["text"] for m in only_a] == ["n3", "n1"]
    until(lambda: all(_delivered(d.base, i) for i in ids))
    assert len(get_json(f"{d.base}/v1/sms?state=delivered")["items"]) == 5
    assert get_json(f"{d.base}/v1/sms?state=failed")["items"] == []


def test_errors_are_problem_json_with_the_ozeki_code(daemon_factory):
    d = daemon_factory()
    cases = [
        ({"text": "x", "recipients": ["not a number"]}, 422, 302, "recipients"),
        ({"text": "", "recipients": [A]}, 422, 302, "text"),
        ({"text": "x", "recipients": []}, 422, 302, "recipients"),
        ({"text": "x", "recipients": [A], "line": "gsm9"}, 422, 302, "line"),
        ({"text": "x", "recipients": [A], "colour": "red"}, 422, 302, "colour"),
        ({"text": "x", "recipients": [A], "delivery_report_url": "ftp://x"}, 422, 302, "delivery_report_url"),
        ({"text": 5, "recipients": [A]}, 422, 302, "text"),
    ]
    for body, status, code, param in cases:
        got, headers, problem = post_json(f"{d.base}/v1/sms", body)
        assert (got, problem["ozeki_code"], problem.get("parameter")) == (status, code, param), body
        assert headers["Content-Type"] == "application/problem+json"
    status, _, raw = fetch(f"{d.base}/v1/sms", data=b"{not json", method="POST",
                           headers={"Content-Type": "application/json"})
    assert status == 400 and json.loads(raw)["ozeki_code"] == 300
    assert fetch(f"{d.base}/v1/sms", data=b"text=x", method="POST")[0] == 415
    status, _, raw = fetch(f"{d.base}/v1/sms/nope")
    assert status == 404 and json.loads(raw)["status"] == 404
    status, _, raw = fetch(f"{d.base}/v1/sms?limit=0")
    assert status == 422 and json.loads(raw)["parameter"] == "limit"
    status, _, problem = post_json(f"{d.base}/v1/calls", {"to": A, "ozml": "<Response><Bogus/></Response>"})
    assert (status, problem["ozeki_code"], problem["parameter"], problem["line"]) == (422, 301, "ozml", 1)


def test_calls_and_status(daemon_factory):
    d = daemon_factory()
    # The line comes up in the background: until it is registered a call has no line (409, as the API says).
    assert until(lambda: get_json(f"{d.base}/v1/status")["lines"][0]["state"] == "registered", timeout=15)
    status, _, call = post_json(f"{d.base}/v1/calls", {"to": A, "ozml": "<Response><Speak>Hi</Speak></Response>"})
    assert status == 202
    ended = until(lambda: get_json(f"{d.base}/v1/calls")["history"]["items"], timeout=15)
    assert ended[0]["id"] == call["id"] and ended[0]["to"] == A and ended[0]["result"] == "CallerHangUp"
    assert get_json(f"{d.base}/sim/handsets/{quote(A)}/calls")[0]["heard_seconds"] > 0.5
    st = get_json(f"{d.base}/v1/status")
    line = st["lines"][0]
    assert (line["name"], line["state"], line["operator"]) == ("gsm1", "registered", "SimNet")
    assert 0 <= line["signal_bars"] <= 5 and st["active_calls"] == 0


def test_api_keys_bearer_tokens_and_rights(daemon_factory):
    key, reader = "k3y-" + "a" * 40, "r3ad-" + "b" * 40
    d = daemon_factory(f'[[http.api_keys]]\nname = "shop"\nkey_hash = "{hash_password(key, iterations=1000)}"\n'
                       f'[[http.api_keys]]\nname = "ro"\nkey_hash = "{hash_password(reader, iterations=1000)}"\n'
                       'commands = ["GetSms", "ListSms"]\n')
    body = {"text": "auth", "recipients": [A]}
    status, headers, problem = post_json(f"{d.base}/v1/sms", body)
    assert (status, problem["ozeki_code"]) == (401, 304) and {k.lower(): v for k, v in headers.items()}["www-authenticate"].startswith("Bearer")
    status, _, problem = post_json(f"{d.base}/v1/sms", body, {"Authorization": "Bearer wrong"})
    assert (status, problem["ozeki_code"]) == (401, 305)
    status, _, msg = post_json(f"{d.base}/v1/sms", body, {"Authorization": f"Bearer {key}"})
    assert status == 202
    assert fetch(f"{d.base}/v1/sms/{msg['id']}", headers={"X-API-Key": reader})[0] == 200
    status, _, problem = post_json(f"{d.base}/v1/sms", body, {"X-API-Key": reader})
    assert (status, problem["ozeki_code"]) == (403, 306)
    # The page's data and the metrics need credentials too; the Ozeki API does not take API keys.
    assert fetch(f"{d.base}/metrics")[0] == 401
    assert fetch(f"{d.base}/metrics", headers={"Authorization": f"Bearer {key}"})[0] == 200
    basic = base64.b64encode(b"shop:" + key.encode()).decode()
    assert fetch(f"{d.base}/v1/status", headers={"Authorization": f"Basic {basic}"})[0] == 401


def test_openapi_is_made_from_the_declarations_the_handlers_validate_with(daemon_factory):
    d = daemon_factory()
    doc = get_json(f"{d.base}/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    names = [p[len("/api/"):] for p in doc["paths"] if p.startswith("/api/")]
    listed = {"SendSms", "GetSms", "ListSms", "ListSmsLines", "ReceiveMessage", "SendUssd", "Call", "Hangup",
              "ListActiveCalls", "ListCallHistory", "ListExtensions", "ModemCommand", "Speak", "Play", "Record"}
    assert listed <= set(names)
    # For every command: leave out each required parameter in turn and the handler names exactly that one.
    for name in names:
        op = doc["paths"][f"/api/{name}"]["get"]
        required = [p for p in op["parameters"] if p["required"]]
        filled = {p["name"]: _sample(p["schema"]) for p in required}
        for missing in required:
            params = {k: v for k, v in filled.items() if k != missing["name"]}
            answer = d.call(name, **params)
            assert answer.code == 302 and f"'{missing['name']}'" in answer.message, (name, missing, answer.message)
    # Optional numbers are range-checked as documented.
    rows = next(p for p in doc["paths"]["/api/ListSms"]["get"]["parameters"] if p["name"] == "RowsPerPage")
    assert rows["schema"]["maximum"] == 500
    assert d.call("ListSms", RowsPerPage="501").code == 302 and d.call("ListSms", RowsPerPage="500").code == 200
    send = doc["paths"]["/v1/sms"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert send["required"] == ["text", "recipients"] and send["additionalProperties"] is False
    status, _, page = fetch(f"{d.base}/v1/reference")
    assert status == 200 and b"/v1/sms" in page and b"SendSms" in page and b"<script" not in page


def _sample(schema: dict) -> str:
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": "1", "number": "1", "boolean": "true"}.get(schema.get("type"), "x")


def test_metrics_parse_and_move_as_sms_are_sent_and_received(daemon_factory):
    d = daemon_factory()

    def samples() -> dict:
        status, headers, body = fetch(f"{d.base}/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        out = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out

    line = (("line", "gsm1"),)
    # The line comes up in the background after HTTP answers: wait until the metrics show it registered.
    registered = ("pigate_modem_registered", (("line", "gsm1"), ("state", "registered")))
    before = until(lambda: (s := samples()).get(registered) == 1 and s)
    assert before, samples()
    assert before.get(("pigate_sms_sent_total", line), 0) == 0
    assert before[("pigate_modem_signal_percent", line)] > 0
    for i in range(3):
        post_json(f"{d.base}/v1/sms", {"text": f"m{i}", "recipients": [A]})
    until(lambda: samples().get(("pigate_sms_sent_total", line)) == 3)
    get_json(f"{d.base}/sim/handsets/{quote(A)}/sms", data=b"text=back")
    after = until(lambda: (s := samples()).get(("pigate_sms_received_total", line)) == 1 and s)
    assert after[("pigate_sms_submission_seconds_count", ())] == 3
    assert after[("pigate_sms_queue_depth", ())] == 0
    until(lambda: samples().get(("pigate_sms_delivery_seconds_count", ())) == 3)


def test_status_lists_the_sip_trunks_as_configured(daemon_factory):
    d = daemon_factory('[sip]\nenabled = false\n[[sip.accounts]]\nname = "pbx"\nregistrar = "127.0.0.1:5099"\n'
                       'username = "box"\n[[sip.peers]]\nname = "office"\naddress = "127.0.0.1:5098"\n')
    sip = get_json(f"{d.base}/v1/status")["sip"]
    assert sip == [{"name": "pbx", "kind": "account", "where": "box@127.0.0.1:5099", "state": "disabled",
                    "connected": False, "last_error": None},
                   {"name": "office", "kind": "peer", "where": "127.0.0.1:5098", "state": "disabled",
                    "connected": False, "last_error": None}]
    _, _, body = fetch(f"{d.base}/metrics")
    assert 'pigate_sip_registered{account="pbx"} 0.0' in body.decode()
