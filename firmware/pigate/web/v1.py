"""The JSON API under /v1: send and follow SMS, place and list calls, the box's status (problem+json errors).

A message sent here may have several recipients: each is stored as its own SMS (the row of the first one is
the message's head and its id the message's id); SendSms messages appear as messages of one recipient.
A 202 is answered only once every recipient's message is committed. With an `Idempotency-Key` header, the
recipients are stored under keys derived from it, so a retry (even after a crash half-way through) stores
only what is missing and answers the same message; the same key with a different request is refused (422).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
import uuid
from typing import Any, Callable
from urllib.parse import parse_qsl

import bottle

from pigate.api.auth import AddressGuard
from pigate.api.params import Param, Params, Spec
from pigate.config import Config
from pigate.errors import ApiError, InvalidParameter, OzmlError
from pigate.ozml import parse
from pigate.store.views import Cursor, Views, group_ref
from pigate.web import problem
from pigate.web.access import CSRF_HEADER, UNSAFE, Access, Principal, csrf_ok

log = logging.getLogger(__name__)

MESSAGE_STATES = ("queued", "sending", "sent", "delivered", "undelivered", "failed")
MAX_BODY = 65536

# The declarations every /v1 endpoint validates with; /v1/openapi.json is made from them too.
SEND = Spec((
    Param("text", "text", required=True, doc="the message; long text is sent in parts (GSM-7 or UCS-2)"),
    Param("recipients", required=True, many=True, high_items=100, doc="phone numbers, +international or national"),
    Param("line", doc="the GSM line to send from (its name); any free line when absent"),
    Param("delivery_report_url", "url", doc="where SMSDeliveryReport is posted for each recipient"),
), doc="Send an SMS to one or more recipients.")
LIST = Spec((
    Param("state", "choice", choices=MESSAGE_STATES, doc="only messages with a recipient in this state"),
    Param("recipient", doc="only messages to this number (as stored: +international)"),
    Param("line", doc="only messages sent on this line"),
    Param("limit", "int", default=20, low=1, high=200),
    Param("cursor", doc="next_cursor of the previous page"),
), doc="Messages, newest first, a page at a time.")
CALL = Spec((
    Param("to", required=True, doc="the number to call"),
    Param("ozml", "text", doc="OzML to run when the call connects"),
    Param("url", "url", doc="where CallConnected is posted (its OzML answer runs)"),
    Param("ring_time", "int", default=120, low=1, high=3600, doc="seconds to ring"),
), doc="Place a call from a free line.")
CALLS = Spec((
    Param("limit", "int", default=20, low=1, high=200, doc="how many ended calls"),
    Param("page", "int", default=0, low=0, high=1000000),
), doc="Calls in progress and the call history, newest first.")
EMPTY = Spec()

# Endpoint -> (method, path, spec, where its parameters travel, the Ozeki command its rights are those of,
# success status). The OpenAPI document walks this table.
ENDPOINTS = (
    ("post", "/v1/sms", SEND, "body", "SendSms", 202),
    ("get", "/v1/sms", LIST, "query", "ListSms", 200),
    ("get", "/v1/sms/{id}", EMPTY, "path", "GetSms", 200),
    ("post", "/v1/calls", CALL, "body", "Call", 202),
    ("get", "/v1/calls", CALLS, "query", "ListCallHistory", 200),
    ("get", "/v1/status", EMPTY, "query", "ListSmsLines", 200),
)


def _iso(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def message_json(rows: list) -> dict:
    """A message (its recipients, head first) as /v1 shows it."""
    head = rows[0][0]
    states = [m.state for m, _ in rows]
    return {
        "id": head.id, "text": head.text, "encoding": head.encoding, "created": _iso(head.created),
        "state": _overall(states), "delivery_report_url": head.report_url or None,
        "recipients": [{
            "recipient": m.recipient, "sms_id": m.id, "state": m.state, "reason": m.reason or None,
            "line": m.line, "updated": _iso(m.updated),
            "parts": [{"seq": p.seq, "state": p.state, "attempts": p.attempts, "reference": p.mr,
                       "sent": _iso(p.sent), "report": p.report or None, "reason": p.reason or None}
                      for p in parts],
        } for m, parts in rows],
    }


def _overall(states: list[str]) -> str:
    """One state for the message: the least advanced of its recipients' (failed only when all failed)."""
    for state in ("queued", "sending", "sent"):
        if state in states:
            return state
    if all(s == "failed" for s in states):
        return "failed"
    if all(s == "delivered" for s in states):
        return "delivered"
    return "undelivered" if "undelivered" in states else ("failed" if "failed" in states else "delivered")


def _same_number(stored: str, given: str) -> bool:
    """Whether a stored (normalized) number is the one a client sent, in whatever form it sent it."""
    a, b = "".join(c for c in stored if c.isdigit()), "".join(c for c in given if c.isdigit())
    return bool(a) and bool(b) and (a.endswith(b[-8:]) or b.endswith(a[-8:]))


def encode_cursor(c: Cursor) -> str:
    return base64.urlsafe_b64encode(json.dumps([c.created, c.id]).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        created, sms_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return Cursor(float(created), str(sms_id))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidParameter("cursor", "ListSms") from exc


class JsonApi:
    """Routes of /v1 over the services (`sms`, `calls`), the store's read views and the status source."""

    def __init__(self, *, config: Config, sms: Any, calls: Any, views: Views, access: Access,
                 addresses: AddressGuard, status: Callable[[], dict]) -> None:
        self._config, self._sms, self._calls, self._views = config, sms, calls, views
        self._access, self._addresses, self._status = access, addresses, status
        self._lines = {m.name: m.number for m in config.modems}
        self._extension = config.api_extensions[0].id if config.api_extensions else ""

    def install(self, app: bottle.Bottle) -> None:
        app.route("/v1/sms", "POST", self._wrap(self.send, "SendSms"))
        app.route("/v1/sms", "GET", self._wrap(self.list, "ListSms"))
        app.route("/v1/sms/<sms_id>", "GET", self._wrap(self.get, "GetSms"))
        app.route("/v1/calls", "POST", self._wrap(self.call, "Call"))
        app.route("/v1/calls", "GET", self._wrap(self.calls, "ListCallHistory"))
        app.route("/v1/status", "GET", self._wrap(self.status, "ListSmsLines"))

    # -- the frame: address guard, auth, CSRF for cookie sessions, errors as problem+json -------------
    def _wrap(self, handler: Callable[..., tuple[int, dict]], command: str) -> Callable[..., bytes]:
        def route(**kw: str) -> bytes:
            environ = bottle.request.environ
            try:
                if not self._addresses.allowed(environ.get("REMOTE_ADDR", "")):
                    raise ApiError(code=307)
                who = self._access.from_environ(environ)
                if who.kind == "session" and environ.get("REQUEST_METHOD") in UNSAFE and \
                        not csrf_ok(who.csrf, environ.get(CSRF_HEADER, "")):
                    raise problem.Problem(403, "CSRF token missing or wrong",
                                          "a request made with the session cookie needs X-CSRF-Token")
                self._access.authorize(who, command)
                status, body = handler(who, **kw)
                bottle.response.status = status
                bottle.response.content_type = "application/json"
                return json.dumps(body).encode()
            except ApiError as error:
                return self._problem(problem.from_api_error(error))
            except problem.Problem as p:
                return self._problem(p)
            except Exception:  # a bug answers in the API's terms, not with a traceback
                log.exception("/v1 %s failed", command)
                return self._problem(problem.Problem(500, "InternalError", "see the daemon's log"))
        return route

    @staticmethod
    def _problem(p: problem.Problem) -> bytes:
        bottle.response.status = p.status
        bottle.response.content_type = problem.CONTENT_TYPE
        if p.status == 401:
            bottle.response.set_header("WWW-Authenticate", 'Bearer realm="pigate"')
        return problem.render(p)

    @staticmethod
    def _json_body(command: str) -> object:
        environ = bottle.request.environ
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise problem.Problem(415, "Unsupported Media Type", "send the body as application/json")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError as exc:
            raise ApiError("bad Content-Length", code=300) from exc
        if length > MAX_BODY:
            raise problem.Problem(413, "Content Too Large", f"the body is over {MAX_BODY} bytes")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError("the body is not JSON", code=300) from exc

    @staticmethod
    def _query(spec: Spec, command: str) -> dict[str, object]:
        query = bottle.request.environ.get("QUERY_STRING", "")
        try:  # WSGI hands the raw bytes over as latin-1
            pairs = parse_qsl(query.encode("latin-1").decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeError, ValueError) as exc:
            raise ApiError("the query is not valid UTF-8 URL encoding", code=300) from exc
        known = {p.name for p in spec}
        for name, value in pairs:
            if name not in known or value == "":  # /v1 is strict: an empty value is not "absent"
                raise InvalidParameter(name, command)
        return spec.bind(Params.from_pairs(command, pairs))

    # -- SMS ------------------------------------------------------------------------------------------
    def send(self, who: Principal) -> tuple[int, dict]:
        a = SEND.bind_json(self._json_body("SendSms"), "SendSms")
        recipients: list[str] = a["recipients"]  # type: ignore[assignment]
        line = a["line"]
        sender = None
        if line:
            if line not in self._lines:
                raise InvalidParameter("line", "SendSms")
            sender = self._lines[line]
        key = bottle.request.environ.get("HTTP_IDEMPOTENCY_KEY", "").strip()
        if len(key) > 200:
            raise InvalidParameter("Idempotency-Key", "SendSms")
        group = hashlib.sha256(f"{who.name or ''}\0{key}".encode()).hexdigest()[:32] if key else uuid.uuid4().hex
        if key:
            earlier = self._views.group(self._extension, group)
            if earlier and (earlier[0][0].text != a["text"] or len(earlier) > len(recipients) or not all(
                    _same_number(m.recipient, r) for (m, _), r in zip(earlier, recipients))):
                raise problem.Problem(422, "Idempotency-Key reused",
                                      "this Idempotency-Key was used with a different request")
        for i, recipient in enumerate(recipients):
            try:
                self._sms.submit(recipient, a["text"], api_extension=self._extension, sender=sender,
                                 report_url=a["delivery_report_url"], reference=group_ref(group, i),
                                 command="SendSms")
            except InvalidParameter as exc:
                names = {"Recipient": "recipients", "Message": "text", "DeliveryReportURL": "delivery_report_url"}
                raise InvalidParameter(names.get(exc.param, exc.param), "SendSms") from exc
        rows = self._views.group(self._extension, group)
        body = message_json(rows)
        bottle.response.set_header("Location", f"/v1/sms/{body['id']}")
        return 202, body

    def get(self, who: Principal, sms_id: str) -> tuple[int, dict]:
        rows = self._views.message(sms_id)
        if not rows:
            raise problem.Problem(404, "Not Found", f"no message {sms_id}")
        return 200, message_json(rows)

    def list(self, who: Principal) -> tuple[int, dict]:
        a = self._query(LIST, "ListSms")
        after = decode_cursor(a["cursor"]) if a["cursor"] else None
        pages, more = self._views.messages(states=[a["state"]] if a["state"] else [], recipient=a["recipient"],
                                           line=a["line"], after=after, limit=a["limit"])
        return 200, {"items": [message_json(m) for m in pages],
                     "next_cursor": encode_cursor(more) if more else None}

    # -- calls ----------------------------------------------------------------------------------------
    def call(self, who: Principal) -> tuple[int, dict]:
        a = CALL.bind_json(self._json_body("Call"), "Call")
        ozml = (a["ozml"] or "").strip() or None
        if ozml is not None:
            try:
                parse(ozml, context="CallConnected")
            except OzmlError as exc:  # the script is a parameter of this request: 422, located, with its code
                raise problem.Problem(422, exc.name, str(exc), ozeki_code=exc.code, ozeki_name=exc.name,
                                      parameter="ozml", line=exc.line, column=exc.column) from exc
        call_id = self._calls.call(a["to"], api_extension=self._extension, url=a["url"], response_ozml=ozml,
                                   ring_time=a["ring_time"])
        return 202, {"id": call_id, "to": a["to"]}

    def calls(self, who: Principal) -> tuple[int, dict]:
        a = self._query(CALLS, "ListCallHistory")
        total, rows = self._calls.history(offset=a["page"] * a["limit"], limit=a["limit"])
        recordings = self._views.recordings([r.call_id for r in rows])
        return 200, {
            "active": [{"id": c.call_id, "direction": c.direction, "line": c.line, "from": c.source,
                        "to": c.destination, "state": c.state, "started": _iso(c.start_time),
                        "ring_seconds": round(c.ring_duration, 3), "talk_seconds": round(c.talk_duration, 3)}
                       for c in self._calls.active_calls()],
            "history": {"total": total, "items": [{
                "id": r.call_id, "direction": r.direction, "line": r.line, "from": r.source, "to": r.destination,
                "state": r.state, "result": r.result, "started": _iso(r.start_time),
                "ring_seconds": round(r.ring_duration, 3), "talk_seconds": round(r.talk_duration, 3),
                "recordings": [f"/HttpRecordings/{x['path']}" for x in recordings.get(r.call_id, [])],
            } for r in rows]},
        }

    def status(self, who: Principal) -> tuple[int, dict]:
        self._query(EMPTY, "ListSmsLines")
        return 200, self._status()
