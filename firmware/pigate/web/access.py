"""Who may use the web page and /v1: API keys and bearer tokens, Basic users, login sessions and CSRF tokens.

Users and keys are checked by pigate.api.auth's UserGuard (the same salted hashes, the same throttling as the
Ozeki API). A session is a random id in an HttpOnly SameSite=Strict cookie; each session has its own CSRF
token, which every form (hidden field `csrf`) and every unsafe /v1 request made with the cookie (header
`X-CSRF-Token`) must carry. Sessions live in memory: a restart logs everyone out.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from pigate.api.auth import UserGuard
from pigate.config import ApiKey, User
from pigate.errors import AuthenticationFailed, AuthenticationRequired

SESSION_COOKIE = "pigate_session"
LOGIN_COOKIE = "pigate_login"  # the CSRF token of the login form itself, before there is a session
CSRF_FIELD = "csrf"
CSRF_HEADER = "HTTP_X_CSRF_TOKEN"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    """Who made a request: `kind` is user, key, session or anonymous (auth off)."""

    name: str | None
    kind: str
    csrf: str = ""  # the session's CSRF token (kind == session)


@dataclass
class Session:
    user: str
    csrf: str
    last_seen: float


class Sessions:
    """Login sessions by random id, dropped after `idle` seconds without a request."""

    def __init__(self, *, idle: float = 12 * 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._idle, self._clock = idle, clock
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(24), self._clock())
        with self._lock:
            self._expire()
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str) -> Session | None:
        if not sid:
            return None
        with self._lock:
            self._expire()
            session = self._by_id.get(sid)
            if session is not None:
                session.last_seen = self._clock()
            return session

    def drop(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)

    def _expire(self) -> None:
        now = self._clock()
        for sid in [s for s, v in self._by_id.items() if now - v.last_seen > self._idle]:
            del self._by_id[sid]


class Access:
    """The checks of the web page and the JSON API."""

    def __init__(self, *, users: UserGuard, keys: Iterable[ApiKey], sessions: Sessions | None = None) -> None:
        self.users = users
        # One guard per key (each with its own throttle): a token is tried against each key, and a wrong one
        # counts once against each, not once per key against one.
        self._keys = {k.name: UserGuard(users=[User(k.name, k.key_hash, list(k.commands))]) for k in keys}
        self.sessions = sessions or Sessions()

    @property
    def enabled(self) -> bool:
        return self.users.enabled or bool(self._keys)

    def from_environ(self, environ: dict, *, allow_session: bool = True) -> Principal:
        """The principal of a request; 304 when it carries nothing and auth is on, 305 for a bad credential."""
        if not self.enabled:
            return Principal(None, "anonymous")
        address = environ.get("REMOTE_ADDR", "")
        token = _bearer(environ) or environ.get("HTTP_X_API_KEY", "").strip()
        if token:
            return Principal(self._key(token, address), "key")
        basic = _basic(environ)
        if basic is not None:
            if not self.users.enabled:
                raise AuthenticationFailed()
            return Principal(self.users.check(*basic, address=address), "user")
        if allow_session:
            sid = cookie(environ, SESSION_COOKIE)
            session = self.sessions.get(sid)
            if session is not None:
                return Principal(session.user, "session", session.csrf)
        raise AuthenticationRequired()

    def _key(self, token: str, address: str) -> str:
        for name, guard in self._keys.items():
            try:
                return guard.check(name, token, address=address) or name
            except AuthenticationFailed:
                continue
        raise AuthenticationFailed()

    def authorize(self, principal: Principal, command: str) -> None:
        """306 when the user's or key's `commands` list does not include `command`."""
        if principal.kind == "key":
            self._keys[principal.name or ""].authorize(principal.name, command)
        else:
            self.users.authorize(principal.name, command)

    def login(self, username: str, password: str, *, address: str) -> tuple[str, Session]:
        """A new session for a user whose password checks out (304/305 otherwise; 305 too for a client the
        login throttle has locked out)."""
        if not username or not password:
            raise AuthenticationRequired()
        name = self.users.check(username, password, address=address)
        if name is None:
            raise AuthenticationFailed()
        return self.sessions.create(name)


def csrf_ok(expected: str, given: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


def _bearer(environ: dict) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _basic(environ: dict) -> tuple[str, str] | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed() from None
    if not sep:
        raise AuthenticationFailed()
    return user, password


def cookie(environ: dict, name: str) -> str:
    """The value of the request's cookie `name` ("" when it has none)."""
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def set_cookie(name: str, value: str, *, max_age: int | None = None, secure: bool = False) -> str:
    """A Set-Cookie header value: HttpOnly, SameSite=Strict, Path=/."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
