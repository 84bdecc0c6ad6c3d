"""The web side of the daemon: routes of the dashboard, login, live stream, playground, /v1, OpenAPI, /metrics.

Every page and form obeys the API's address lists; with users or API keys configured, pages need a login
session and every form (and every unsafe request made with the session cookie) a CSRF token. With auth off
the CSRF token is still required: it is per process, and a foreign site cannot read it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from html import escape
from pathlib import Path
from typing import Any, Callable

import bottle

from pigate.api.auth import AddressGuard
from pigate.errors import ApiError, InvalidParameter
from pigate.web import problem
from pigate.web.access import (CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, Access, Principal, cookie, csrf_ok,
                               set_cookie)
from pigate.web.live import LiveHub, StreamsFull
from pigate.web.metrics import CONTENT_TYPE as METRICS_TYPE, Metrics
from pigate.web.openapi import build, reference_html
from pigate.web.playground import Playground, PlaygroundError
from pigate.web.v1 import JsonApi

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                     "Content-Security-Policy": "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; "
                                                "frame-ancestors 'none'; form-action 'self'"}


class Site:
    def __init__(self, *, access: Access, addresses: AddressGuard, json_api: JsonApi, live: LiveHub,
                 metrics: Metrics, commands: Callable[[], list], ozeki: Any, sms: Any,
                 playground: Playground | None, api_extension: str, version: str = "", pages: bool = True) -> None:
        self._access, self._addresses, self._v1, self._live = access, addresses, json_api, live
        self._metrics, self._commands, self._ozeki, self._sms = metrics, commands, ozeki, sms
        self._playground, self._extension, self._version = playground, api_extension, version
        self._pages = pages
        self._anon_key = os.urandom(32)
        self._openapi: bytes | None = None

    # -- wiring ---------------------------------------------------------------------------------------
    def install(self, app: bottle.Bottle) -> None:
        self._v1.install(app)
        app.route("/v1/openapi.json", "GET", self._guarded(self._openapi_json))
        app.route("/v1/reference", "GET", self._guarded(self._reference))
        app.route("/metrics", "GET", self._guarded(self._metrics_route))
        app.route("/static/<name:path>", "GET", self._guarded(self._static))
        app.add_hook("after_request", self._headers)
        if not self._pages:
            return
        app.route("/", ["GET", "POST"], self._root)
        app.route("/login", "GET", self._guarded(self._login_page))
        app.route("/login", "POST", self._guarded(self._login))
        app.route("/logout", "POST", self._guarded(self._page(self._logout, form=True)))
        app.route("/ui/state", "GET", self._guarded(self._page(self._state)))
        app.route("/ui/sms", "POST", self._guarded(self._page(self._send_sms, form=True)))
        app.route("/events", "GET", self._guarded(self._page(self._events)))
        app.route("/playground", "GET", self._guarded(self._page(self._playground_page, html=True)))
        for name, handler in (("run", self._pg_run), ("keys", self._pg_keys), ("hangup", self._pg_hangup)):
            app.route(f"/playground/{name}", "POST", self._guarded(self._page(handler, form=True)))
        app.route("/playground/state", "GET", self._guarded(self._page(self._pg_state)))
        app.route("/playground/audio.wav", "GET", self._guarded(self._page(self._pg_audio)))

    @staticmethod
    def _headers() -> None:
        if not bottle.request.path.startswith(("/api", "/sim", "/HttpRecordings")):
            for name, value in _SECURITY_HEADERS.items():
                bottle.response.set_header(name, value)

    def _guarded(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        def route(**kw: Any) -> Any:
            if not self._addresses.allowed(bottle.request.environ.get("REMOTE_ADDR", "")):
                return bottle.HTTPError(403, "Use API from this address is forbidden")
            return handler(**kw)
        return route

    def _page(self, handler: Callable[..., Any], *, form: bool = False, html: bool = False) -> Callable[..., Any]:
        """A page or form of the dashboard: a session when auth is on (pages redirect to the login), and for a
        form the principal's CSRF token in the `csrf` field."""
        def route(**kw: Any) -> Any:
            environ = bottle.request.environ
            try:
                who = self._access.from_environ(environ)
            except ApiError:
                if html:
                    return bottle.redirect("/login", 303)
                return self._json_problem(problem.Problem(401, "Login required"))
            if form and not csrf_ok(self._csrf(who), bottle.request.forms.getunicode(CSRF_FIELD) or ""):
                return self._json_problem(problem.Problem(403, "CSRF token missing or wrong",
                                                          "reload the page and try again"))
            try:
                return handler(who, **kw)
            except ApiError as error:
                return self._json_problem(problem.from_api_error(error))
            except problem.Problem as p:
                return self._json_problem(p)
            except PlaygroundError as exc:
                return self._json_problem(problem.Problem(409, "Playground", str(exc)))
        return route

    def _csrf(self, who: Principal) -> str:
        if who.kind == "session":
            return who.csrf
        name = f"{who.kind}:{who.name or ''}".encode()
        return hmac.new(self._anon_key, name, hashlib.sha256).hexdigest()

    @staticmethod
    def _json(body: object, status: int = 200) -> bytes:
        bottle.response.status = status
        bottle.response.content_type = "application/json"
        bottle.response.set_header("Cache-Control", "no-store")
        return json.dumps(body).encode()

    @staticmethod
    def _json_problem(p: problem.Problem) -> bytes:
        bottle.response.status = p.status
        bottle.response.content_type = problem.CONTENT_TYPE
        return problem.render(p)

    # -- pages ----------------------------------------------------------------------------------------
    def _root(self) -> Any:
        """`/`: the Ozeki API when the request names a command (or is a POST), else the dashboard."""
        request = bottle.request
        if request.method == "POST" or any(k.lower() == "command" for k in request.query.keys()):
            return self._ozeki.handle()
        if not self._addresses.allowed(request.environ.get("REMOTE_ADDR", "")):
            return bottle.HTTPError(403, "Use API from this address is forbidden")
        return self._page(lambda who: self._file("index.html"), html=True)()

    def _file(self, name: str) -> Any:
        response = bottle.static_file(name, root=str(STATIC))
        response.set_header("Cache-Control", "no-cache")
        return response

    def _static(self, name: str) -> Any:
        if name.endswith(".html"):
            return bottle.HTTPError(404, "Not found")
        return self._file(name)

    def _login_page(self, error: str = "") -> str:
        token = cookie(bottle.request.environ, LOGIN_COOKIE)
        if len(token) < 20:
            token = os.urandom(18).hex()
        bottle.response.set_header("Set-Cookie", set_cookie(LOGIN_COOKIE, token, max_age=3600))
        bottle.response.set_header("Cache-Control", "no-store")
        page = (STATIC / "login.html").read_text(encoding="utf-8")
        return page.replace("{{csrf}}", token).replace("{{error}}", escape(error))

    def _login(self) -> Any:
        forms = bottle.request.forms
        expected = cookie(bottle.request.environ, LOGIN_COOKIE)
        if not csrf_ok(expected, forms.getunicode(CSRF_FIELD) or ""):
            bottle.response.status = 403
            return self._login_page("The form expired; please try again.")
        try:
            sid, _ = self._access.login(forms.getunicode("username") or "", forms.getunicode("password") or "",
                                        address=bottle.request.environ.get("REMOTE_ADDR", ""))
        except ApiError:
            bottle.response.status = 401
            return self._login_page("Wrong user name or password.")
        bottle.response.status = 303
        bottle.response.set_header("Location", "/")
        bottle.response.add_header("Set-Cookie", set_cookie(SESSION_COOKIE, sid))
        bottle.response.add_header("Set-Cookie", set_cookie(LOGIN_COOKIE, "", max_age=0))
        return ""

    def _logout(self, who: Principal) -> Any:
        self._access.sessions.drop(cookie(bottle.request.environ, SESSION_COOKIE))
        bottle.response.status = 303
        bottle.response.set_header("Location", "/login" if self._access.enabled else "/")
        bottle.response.set_header("Set-Cookie", set_cookie(SESSION_COOKIE, "", max_age=0))
        return ""

    def _state(self, who: Principal) -> bytes:
        return self._json({"csrf": self._csrf(who), "user": who.name, "auth": self._access.enabled,
                           "version": self._version, "playground": self._playground is not None,
                           "sections": self._live.snapshot()})

    def _send_sms(self, who: Principal) -> bytes:
        self._access.authorize(who, "SendSms")
        forms = bottle.request.forms
        recipient = (forms.getunicode("recipient") or "").strip()
        text = forms.getunicode("text") or ""
        if not recipient:
            raise InvalidParameter("recipient", "SendSms")
        if not text.strip():
            raise InvalidParameter("text", "SendSms")
        sms_id = self._sms.submit(recipient, text, api_extension=self._extension, command="SendSms")
        return self._json({"id": sms_id}, 202)

    def _events(self, who: Principal) -> Any:
        try:
            stream = self._live.open()
        except StreamsFull:
            bottle.response.set_header("Retry-After", "5")
            return self._json_problem(problem.Problem(503, "Too many live streams", "try again in a moment"))
        bottle.response.content_type = "text/event-stream"
        bottle.response.set_header("Cache-Control", "no-store")
        bottle.response.set_header("X-Accel-Buffering", "no")
        return stream

    # -- playground -----------------------------------------------------------------------------------
    def _need_playground(self) -> Playground:
        if self._playground is None:
            raise problem.Problem(404, "No playground", "the playground runs on the simulator only")
        return self._playground

    def _playground_page(self, who: Principal) -> Any:
        self._need_playground()
        return self._file("playground.html")

    def _pg_run(self, who: Principal) -> bytes:
        self._access.authorize(who, "Call")
        result = self._need_playground().run(bottle.request.forms.getunicode("ozml") or "")
        return self._json(result, 200 if result["problems"] else 202)  # lint problems are an answer, not an error

    def _pg_keys(self, who: Principal) -> bytes:
        return self._json(self._need_playground().keys(bottle.request.forms.getunicode("digits") or ""))

    def _pg_hangup(self, who: Principal) -> bytes:
        return self._json(self._need_playground().hangup())

    def _pg_state(self, who: Principal) -> bytes:
        return self._json(self._need_playground().state())

    def _pg_audio(self, who: Principal) -> Any:
        data = self._need_playground().audio()
        bottle.response.content_type = "audio/wav"
        bottle.response.set_header("Cache-Control", "no-store")
        return data

    # -- documents ------------------------------------------------------------------------------------
    def document(self) -> dict:
        return build(commands=self._commands(), auth=self._access.enabled, version=self._version)

    def _openapi_json(self) -> bytes:
        if self._openapi is None:
            self._openapi = json.dumps(self.document(), indent=1).encode()
        bottle.response.content_type = "application/json"
        return self._openapi

    def _reference(self) -> str:
        return reference_html(self.document())

    def _metrics_route(self) -> Any:
        try:
            self._access.from_environ(bottle.request.environ)
        except ApiError as error:
            return self._json_problem(problem.from_api_error(error))
        bottle.response.content_type = METRICS_TYPE
        return self._metrics.render()
