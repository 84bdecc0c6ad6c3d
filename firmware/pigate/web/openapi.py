"""/v1/openapi.json and /v1/reference: the OpenAPI 3.1 document made from the parameter declarations the
handlers validate with (the Ozeki commands' Specs and the /v1 endpoints'), and the same rendered as HTML."""

from __future__ import annotations

import html
from typing import Iterable

from pigate.api.ozeki import Command
from pigate.web import problem, v1

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NINT = {"type": ["integer", "null"]}

PART = {"type": "object", "required": ["seq", "state"], "properties": {
    "seq": {"type": "integer"}, "state": _STR, "attempts": {"type": "integer"}, "reference": _NINT,
    "sent": _NSTR, "report": _NSTR, "reason": _NSTR}}
RECIPIENT = {"type": "object", "required": ["recipient", "sms_id", "state", "parts"], "properties": {
    "recipient": _STR, "sms_id": _STR, "state": {"enum": list(v1.MESSAGE_STATES)}, "reason": _NSTR, "line": _NSTR,
    "updated": _NSTR, "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}}}
MESSAGE = {"type": "object", "required": ["id", "state", "recipients"], "properties": {
    "id": _STR, "text": _STR, "encoding": _STR, "created": _NSTR, "state": {"enum": list(v1.MESSAGE_STATES)},
    "delivery_report_url": _NSTR,
    "recipients": {"type": "array", "items": {"$ref": "#/components/schemas/Recipient"}}}}
PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}, "next_cursor": _NSTR}}
CALL = {"type": "object", "required": ["id", "state"], "properties": {
    "id": _STR, "direction": _STR, "line": _STR, "from": _STR, "to": _STR, "state": _STR, "result": _STR,
    "started": _NSTR, "ring_seconds": {"type": "number"}, "talk_seconds": {"type": "number"},
    "recordings": {"type": "array", "items": _STR}}}
CALLS = {"type": "object", "required": ["active", "history"], "properties": {
    "active": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}},
    "history": {"type": "object", "required": ["total", "items"], "properties": {
        "total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}}}}}}
CALL_ACCEPTED = {"type": "object", "required": ["id"], "properties": {"id": _STR, "to": _STR}}
LINE = {"type": "object", "required": ["name", "state"], "properties": {
    "name": _STR, "number": _NSTR, "state": _NSTR, "model": _NSTR, "revision": _NSTR, "imei": _NSTR, "sim": _NSTR,
    "operator": _NSTR, "registration": {}, "signal_percent": _NINT, "signal_dbm": _NINT,
    "signal_bars": {"type": "integer", "minimum": 0, "maximum": 5}, "last_error": _NSTR,
    "submitted": {"type": "integer"}, "messages": {"type": "object"}}}
STATUS = {"type": "object", "required": ["lines", "active_calls"], "properties": {
    "version": _STR, "uptime_seconds": {"type": "number"},
    "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
    "sip": {"type": "array"}, "leds": {"type": "object"}, "active_calls": {"type": "integer"},
    "sms_waiting": {"type": "integer"}}}
PROBLEM = {"type": "object", "required": ["title", "status"], "properties": {
    "type": _STR, "title": _STR, "status": {"type": "integer"}, "detail": _STR,
    "ozeki_code": {"type": "integer"}, "ozeki_name": _STR, "parameter": _STR}}

SCHEMAS = {"Part": PART, "Recipient": RECIPIENT, "Message": MESSAGE, "MessagePage": PAGE, "Call": CALL,
           "Calls": CALLS, "CallAccepted": CALL_ACCEPTED, "Line": LINE, "Status": STATUS, "Problem": PROBLEM}
RESULTS = {("post", "/v1/sms"): "Message", ("get", "/v1/sms"): "MessagePage", ("get", "/v1/sms/{id}"): "Message",
           ("post", "/v1/calls"): "CallAccepted", ("get", "/v1/calls"): "Calls", ("get", "/v1/status"): "Status"}


def _problems(codes: Iterable[int]) -> dict:
    ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {str(c): {"description": _REASONS.get(c, "error"), "content": ref} for c in sorted(set(codes))}


_REASONS = {400: "the request could not be parsed", 401: "authentication required or failed",
            403: "not allowed (address, rights or CSRF)", 404: "not found", 409: "cannot be done now",
            413: "body too large", 415: "not JSON", 422: "a parameter is missing or invalid",
            500: "the daemon failed (see its log)"}


def _query_params(spec) -> list[dict]:
    return [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema(),
             **({"description": p.doc} if p.doc else {})} for p in spec]


def build(*, commands: list[Command], auth: bool, version: str = "") -> dict:
    paths: dict[str, dict] = {}
    for method, path, spec, where, command, ok in v1.ENDPOINTS:
        op: dict = {"operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
                    "summary": spec.doc, "tags": ["JSON API"], "x-ozeki-command": command,
                    "responses": {str(ok): {"description": "accepted" if ok == 202 else "OK", "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{RESULTS[(method, path)]}"}}}}}}
        errors = {400, 403, 422, 500} | ({401} if auth else set())
        if where == "body":
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": spec.json_schema()}}}
            errors |= {409, 413, 415}
            if path == "/v1/sms":
                op["parameters"] = [{"name": "Idempotency-Key", "in": "header", "required": False,
                                     "schema": {"type": "string", "maxLength": 200},
                                     "description": "a retry with the same key answers the same message"}]
        elif where == "path":
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": _STR}]
            errors |= {404}
        else:
            op["parameters"] = _query_params(spec)
        if (method, path) == ("post", "/v1/sms"):
            op["responses"]["202"]["links"] = {"GetMessage": {"operationId": "get_v1_sms_id",
                                                              "parameters": {"id": "$response.body#/id"}}}
        op["responses"].update(_problems(errors))
        paths.setdefault(path, {})[method] = op
    for cmd in commands:
        form = {"type": "object", "properties": {p.name: p.schema() for p in cmd.spec},
                "required": [p.name for p in cmd.spec if p.required]}
        if not form["required"]:
            del form["required"]
        xml = {"200": {"description": "the Response document; its <Code> is the outcome (200 = done)",
                       "content": {"application/xml": {"schema": _STR}}}}
        doc = cmd.spec.doc + (f" Also spelled: {', '.join(cmd.aliases)}." if cmd.aliases else "")
        paths[f"/api/{cmd.name}"] = {
            "get": {"operationId": f"api_{cmd.name}_get", "summary": doc, "tags": ["Ozeki API"],
                    "parameters": _query_params(cmd.spec) + ([] if not auth else _credentials()), "responses": xml},
            "post": {"operationId": f"api_{cmd.name}_post", "summary": doc, "tags": ["Ozeki API"],
                     "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": form}}},
                     "responses": xml},
        }
        if cmd.upload is not None:  # a file as the body, the other parameters in the query
            post = paths[f"/api/{cmd.name}"]["post"]
            post["parameters"] = _query_params(cmd.spec) + ([] if not auth else _credentials())
            post["requestBody"]["content"].update(
                {t: {"schema": {"type": "string", "maxLength": cmd.upload.limit}} for t in cmd.upload.types})
    out: dict = {
        "openapi": "3.1.0",
        "info": {"title": "pigate", "version": version or "0",
                 "description": "The box's JSON API (/v1) and its Ozeki-compatible command API (/api). Errors of "
                                "/v1 are application/problem+json with the Ozeki status code in `ozeki_code`."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "basic": {"type": "http", "scheme": "basic"}}},
    }
    if auth:
        out["security"] = [{"bearer": []}, {"apiKey": []}, {"basic": []}]
    return out


def _credentials() -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": _STR} for n in ("Username", "Password")]


def reference_html(doc: dict) -> str:
    """The document as one self-contained HTML page (no script, no CDN)."""
    e = html.escape
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>{e(doc['info']['title'])} API reference</title><link rel='stylesheet' href='/static/style.css'>",
           "</head><body class='reference'><header><h1>pigate API reference</h1>",
           "<nav><a href='/'>Dashboard</a> <a href='/v1/openapi.json'>openapi.json</a></nav></header><main>",
           f"<p>{e(doc['info']['description'])}</p>"]
    for tag in ("JSON API", "Ozeki API"):
        out.append(f"<h2>{e(tag)}</h2>")
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if tag not in op.get("tags", ()):
                    continue
                anchor = e(op["operationId"])
                out.append(f"<section class='op' id='{anchor}'><h3><span class='method'>{method.upper()}</span> "
                           f"<code>{e(path)}</code></h3><p>{e(op.get('summary') or '')}</p>")
                rows = [(p["name"], p["in"], p.get("required", False), p.get("schema", {}), p.get("description", ""))
                        for p in op.get("parameters", [])]
                body = op.get("requestBody", {}).get("content", {})
                for ctype, media in body.items():
                    schema = media["schema"]
                    for name, s in schema.get("properties", {}).items():
                        rows.append((name, ctype.split("/")[-1], name in schema.get("required", []), s,
                                     s.get("description", "")))
                if rows:
                    out.append("<table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th></th></tr>")
                    for name, where, req, schema, desc in rows:
                        out.append(f"<tr><td><code>{e(name)}</code></td><td>{e(where)}</td>"
                                   f"<td>{e(_type(schema))}</td><td>{'yes' if req else ''}</td><td>{e(desc)}</td></tr>")
                    out.append("</table>")
                codes = ", ".join(op["responses"])
                out.append(f"<p class='codes'>Answers: {e(codes)}</p></section>")
    out.append("<h2 id='problems'>Errors</h2><table><tr><th>Ozeki code</th><th>HTTP status</th></tr>")
    for code, status in sorted(problem.HTTP_STATUS.items()):
        out.append(f"<tr id='problem-{code}'><td>{code}</td><td>{status}</td></tr>")
    out.append("</table></main></body></html>")
    return "".join(out)


def _type(schema: dict) -> str:
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    kind = schema.get("type", "")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    extra = []
    if "minimum" in schema or "maximum" in schema:
        extra.append(f"{schema.get('minimum', '')}..{schema.get('maximum', '')}")
    if "default" in schema:
        extra.append(f"default {schema['default']}")
    return f"{kind} ({', '.join(extra)})" if extra else str(kind)
