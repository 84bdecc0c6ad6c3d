"""The Ozeki HTTP API frame: /api and / (GET or POST form), guards, command dispatch, XML answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import parse_qsl

import bottle

from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.params import Params
from pigate.api.responses import CONTENT_TYPE, Element, render, render_error
from pigate.errors import ApiError, InvalidParameter, NotImplementedCommand, ParseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiRequest:
    """One validated API call as a command handler sees it."""

    params: Params
    remote_addr: str
    user: str | None


Handler = Callable[[ApiRequest], "Iterable[Element] | None"]


class CommandTable:
    """Command name (case-insensitive, with aliases such as ForwardCall/Forward) -> handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[str, Handler]] = {}

    def add(self, name: str, handler: Handler, *aliases: str) -> None:
        for key in (name, *aliases):
            if key.lower() in self._handlers:
                raise ValueError(f"command {key} registered twice")
            self._handlers[key.lower()] = (key, handler)

    def lookup(self, name: str) -> tuple[str, Handler]:
        try:
            return self._handlers[name.lower()]
        except KeyError:
            raise NotImplementedCommand(name) from None

    @property
    def names(self) -> list[str]:
        return sorted(name for name, _ in self._handlers.values())


class OzekiApi:
    """Turns HTTP requests into command calls; every answer is HTTP 200 with the Response document."""

    def __init__(self, *, commands: CommandTable, users: UserGuard, addresses: AddressGuard,
                 max_request_bytes: int = 65536) -> None:
        self.commands = commands
        self._users = users
        self._addresses = addresses
        self._max = max_request_bytes

    def install(self, app: bottle.Bottle) -> None:
        app.route("/api", ["GET", "POST"], self._handle)
        app.route("/", ["GET", "POST"], self._handle)

    def _handle(self) -> bytes:
        bottle.response.content_type = CONTENT_TYPE
        environ = bottle.request.environ
        try:
            body = self.call(environ)
        except ApiError as error:
            body = render_error(error)
        except Exception:  # a bug must still answer in the API's terms, never with a traceback
            log.exception("command failed")
            body = render_error(ParseError("internal error, see the log"))
        return body

    def call(self, environ: dict) -> bytes:
        remote = environ.get("REMOTE_ADDR", "")
        self._addresses.check(remote)
        pairs = self._read_pairs(environ)
        params = Params.from_pairs("", pairs)
        command = params.get("command")
        if not command:
            raise InvalidParameter("command", "")
        name, handler = self.commands.lookup(command)
        params.command = name
        user = self._users.check(params.get("Username"), params.get("Password"), address=remote)
        self._users.authorize(user, name)
        elements = handler(ApiRequest(params=params, remote_addr=remote, user=user)) or ()
        return render(200, None, elements)

    def _read_pairs(self, environ: dict) -> list[tuple[str, str]]:
        query = environ.get("QUERY_STRING", "")
        if len(query) > self._max:
            raise ParseError(f"query over {self._max} bytes")
        pairs = _decode(query)
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError as exc:
                raise ParseError("bad Content-Length") from exc
            if length > self._max:
                raise ParseError(f"body over {self._max} bytes")
            ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            raw = environ["wsgi.input"].read(length) if length else b""
            if raw:
                if ctype not in ("", "application/x-www-form-urlencoded"):
                    raise ParseError(f"unsupported content type {ctype}")
                try:
                    pairs += _decode(raw.decode("ascii"))
                except UnicodeDecodeError as exc:
                    raise ParseError("body is not URL-encoded") from exc
        return pairs


def _decode(text: str) -> list[tuple[str, str]]:
    try:
        text = text.encode("latin-1").decode("utf-8")  # WSGI hands raw bytes over as latin-1
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeError, ValueError) as exc:
        raise ParseError("parameters are not valid UTF-8 URL encoding") from exc
