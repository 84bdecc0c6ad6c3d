"""The Ozeki HTTP API frame: /api and / (GET or POST form, or a file as the body of a command that takes one),
guards, command dispatch, XML answers."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable
from urllib.parse import parse_qsl

import bottle

from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.params import Params, Spec
from pigate.api.responses import CONTENT_TYPE, Element, render, render_error
from pigate.errors import ApiError, InvalidParameter, NotImplementedCommand, ParseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiRequest:
    """One validated API call as a command handler sees it."""

    params: Params
    remote_addr: str
    user: str | None
    body: BinaryIO | None = None  # an upload's body, read as a stream (see Upload); None for a form
    body_type: str = ""           # its content type (one of the Upload's types)


@dataclass(frozen=True)
class Upload:
    """A command that also takes a file as the raw POST body (one of `types`), up to `limit` bytes, beside its
    query parameters: bigger than a form may be, and read by the handler as a stream."""

    types: tuple[str, ...]
    limit: int
    parameter: str  # the parameter the body stands for (named in errors)


Handler = Callable[[ApiRequest], "Iterable[Element] | None"]


@dataclass(frozen=True)
class Command:
    """A registered command: its name, other spellings, and the parameters its handler validates with."""

    name: str
    aliases: tuple[str, ...]
    spec: Spec
    upload: Upload | None = None


class CommandTable:
    """Command name (case-insensitive, with aliases such as ForwardCall/Forward) -> handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._commands: dict[str, Command] = {}

    def add(self, name: str, handler: Handler, *aliases: str, spec: Spec = Spec(), upload: Upload | None = None) -> None:
        for key in (name, *aliases):
            if key.lower() in self._handlers:
                raise ValueError(f"command {key} registered twice")
            self._handlers[key.lower()] = (key, handler)
        self._commands[name] = Command(name, aliases, spec, upload)

    def upload_of(self, name: str) -> Upload | None:
        """The upload a command (by any of its names) takes, if any."""
        for command in self._commands.values():
            if name.lower() in (command.name.lower(), *(a.lower() for a in command.aliases)):
                return command.upload
        return None

    def commands(self) -> list[Command]:
        """Every command once (not its aliases), by name: what the OpenAPI document describes."""
        return [self._commands[n] for n in sorted(self._commands)]

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

    def install(self, app: bottle.Bottle, *, root: bool = True) -> None:
        """/api and /api/NAME (the command in the path, as the OpenAPI document lists them); `/` too unless
        the dashboard owns it (then a request to / that names a command is still handed here)."""
        app.route("/api", ["GET", "POST"], self._handle)
        app.route("/api/<name>", ["GET", "POST"], self._handle)
        if root:
            app.route("/", ["GET", "POST"], self._handle)

    def handle(self) -> bytes:
        """The current bottle request as an API call (for a route that shares a path with something else)."""
        return self._handle()

    def _handle(self, name: str | None = None) -> bytes:
        bottle.response.content_type = CONTENT_TYPE
        environ = bottle.request.environ
        try:
            body = self.call(environ, command=name)
        except ApiError as error:
            body = render_error(error)
        except Exception:  # a bug must still answer in the API's terms, never with a traceback
            log.exception("command failed")
            body = render_error(ParseError("internal error, see the log"))
        return body

    def call(self, environ: dict, *, command: str | None = None) -> bytes:
        remote = environ.get("REMOTE_ADDR", "")
        self._addresses.check(remote)
        query = environ.get("QUERY_STRING", "")
        if len(query) > self._max:
            raise ParseError(f"query over {self._max} bytes")
        pairs = _decode(query)
        # An upload's command is named before its body (in the path or the query), and so are its credentials.
        upload = self.commands.upload_of(command or Params.from_pairs("", pairs).get("command"))
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        is_upload = upload is not None and environ.get("REQUEST_METHOD") == "POST" and ctype in upload.types
        if not is_upload:
            pairs += self._read_form(environ, upload)
        params = Params.from_pairs("", pairs)
        command = command or params.get("command")
        if not command:
            raise InvalidParameter("command", "")
        name, handler = self.commands.lookup(command)
        params.command = name
        user = self._users.check(params.get("Username"), params.get("Password"), address=remote)
        self._users.authorize(user, name)
        body = self._upload(environ, upload, name) if is_upload and upload is not None else None
        elements = handler(ApiRequest(params=params, remote_addr=remote, user=user, body=body,
                                      body_type=ctype if body is not None else "")) or ()
        return render(200, None, elements)

    def _upload(self, environ: dict, upload: Upload, command: str) -> io.RawIOBase:
        """The body as a stream of at most its Content-Length (refused at once when that is over the limit)."""
        length = _length(environ)
        if length > upload.limit:
            raise InvalidParameter(upload.parameter, command,
                                   detail=f"{length} bytes, over the limit of {upload.limit} bytes")
        return _Bounded(environ["wsgi.input"], length)

    def _read_form(self, environ: dict, upload: Upload | None) -> list[tuple[str, str]]:
        if environ.get("REQUEST_METHOD") != "POST":
            return []
        length = _length(environ)
        if length > self._max:
            hint = f"; send the file as the body ({', '.join(upload.types)})" if upload is not None else ""
            raise ParseError(f"body over {self._max} bytes{hint}")
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            return []
        if ctype not in ("", "application/x-www-form-urlencoded"):
            raise ParseError(f"unsupported content type {ctype}")
        try:
            return _decode(raw.decode("ascii"))
        except UnicodeDecodeError as exc:
            raise ParseError("body is not URL-encoded") from exc


def _length(environ: dict) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise ParseError("bad Content-Length") from exc


class _Bounded(io.RawIOBase):
    """A request body read in pieces, never past its Content-Length (the connection may carry more)."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        super().__init__()
        self._stream, self._left = stream, length

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._left <= 0:
            return 0
        data = self._stream.read(min(len(buf), self._left))
        self._left -= len(data)
        buf[:len(data)] = data
        return len(data)


def _decode(text: str) -> list[tuple[str, str]]:
    try:
        text = text.encode("latin-1").decode("utf-8")  # WSGI hands raw bytes over as latin-1
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeError, ValueError) as exc:
        raise ParseError("parameters are not valid UTF-8 URL encoding") from exc
