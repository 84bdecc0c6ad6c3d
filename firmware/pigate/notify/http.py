"""One HTTP exchange to a policy-checked address with hard deadlines and a body cap; redirects re-checked per hop.

Shared by the webhook client and the media downloader. Built on sockets plus http.client's response
parser (not urllib) because urllib resolves the host itself after any check we could make (a DNS
rebinding window), has no separate connect timeout, and its read timeout is per recv, so an app that
drips a byte a second could hold a call for ever. Here the read timeout is one deadline for the
whole answer.
"""

from __future__ import annotations

import base64
import http.client
import io
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from typing import Callable, Mapping

from pigate.errors import NotifyError
from pigate.notify.policy import AddressPolicy, Target, parse_url

REDIRECTS = (301, 302, 303, 307, 308)


class ConnectFailed(NotifyError):
    """No connection could be made, so the request was certainly not processed (safe to retry)."""


class ResponseTimeout(NotifyError):
    """The request was sent but no complete answer came within the read timeout."""


class ResponseTooLarge(NotifyError):
    """The answer is larger than the configured maximum."""


class BadResponse(NotifyError):
    """The peer did not answer with valid HTTP, or redirected too often or to an unusable URL."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: Message
    body: bytes
    url: str  # the URL that gave this answer (after redirects)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def text(self) -> str:
        """The body decoded by its charset, else by an XML declaration's encoding, else UTF-8 (with replacement)."""
        charset = self.headers.get_content_charset()
        if not charset and self.body.startswith(b"<?xml"):
            decl = self.body[:self.body.find(b"?>") + 2].decode("ascii", "replace")
            for quote in ('"', "'"):
                key = f"encoding={quote}"
                if key in decl:
                    charset = decl.split(key, 1)[1].split(quote, 1)[0]
                    break
        try:
            return self.body.decode(charset or "utf-8", "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


class _DeadlineRaw(io.RawIOBase):
    """A socket reader that fails once the deadline has passed, however the bytes trickle in."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("read deadline passed")
        self._sock.settimeout(left)
        return self._sock.recv_into(buf)


@dataclass(frozen=True)
class _DeadlineSocket:
    """What http.client.HTTPResponse needs from a socket: makefile('rb')."""

    sock: socket.socket
    deadline: float

    def makefile(self, mode: str, *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineRaw(self.sock, self.deadline))


def build_request(method: str, target: Target, headers: Mapping[str, str], body: bytes) -> bytes:
    """The request bytes (HTTP/1.1, one request per connection)."""
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    if target.userinfo:
        lines.append("Authorization: Basic " + base64.b64encode(target.userinfo.encode()).decode())
    for name, value in headers.items():
        if any(c in name + value for c in "\r\n"):
            raise NotifyError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(kw_only=True)
class HttpClient:
    """Sends requests through the address policy, with a connect timeout and a whole-answer read deadline."""

    policy: AddressPolicy
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_body: int = 1024 * 1024
    max_redirects: int = 3
    ssl_context: ssl.SSLContext | None = None
    _ssl: ssl.SSLContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._ssl = self.ssl_context or ssl.create_default_context()

    def request(self, method: str, url: str, *, body: bytes = b"",
                headers: Callable[[str, str, bytes], Mapping[str, str]] | Mapping[str, str] | None = None) -> HttpResponse:
        """Send and follow redirects; `headers` may be a function of (method, url, body) to sign each hop.

        301/302/303 turn a POST into a GET without body (what browsers and requests do); 307/308 repeat
        the same method and body. Every hop's host is resolved and checked again. All hops together get one
        connect timeout plus one read timeout, so redirects cannot stretch the time a caller waits.
        """
        deadline = time.monotonic() + self.connect_timeout + self.read_timeout
        for _hop in range(self.max_redirects + 1):
            hop_headers = headers(method, url, body) if callable(headers) else (headers or {})
            response = self.send_once(method, url, body=body, headers=hop_headers, deadline=deadline)
            if response.status not in REDIRECTS:
                return response
            location = response.header("Location")
            if not location:
                return response
            url = urllib.parse.urljoin(url, location.strip())
            if response.status in (301, 302, 303) and method != "HEAD":
                method, body = "GET", b""
        raise BadResponse(f"more than {self.max_redirects} redirects, last to {url}")

    def send_once(self, method: str, url: str, *, body: bytes = b"", headers: Mapping[str, str] | None = None,
                  deadline: float | None = None) -> HttpResponse:
        """One request without following redirects; `deadline` (monotonic) caps connect plus read."""
        target = parse_url(url)
        addresses = self.policy.resolve(target)
        start = time.monotonic()
        if deadline is None:
            deadline = start + self.connect_timeout + self.read_timeout
        sock = self._connect(target, addresses, min(start + self.connect_timeout, deadline))
        try:
            return self._exchange(sock, method, target, headers or {}, body,
                                  min(time.monotonic() + self.read_timeout, deadline))
        finally:
            sock.close()

    def _connect(self, target: Target, addresses: list[tuple[int, tuple]], deadline: float) -> socket.socket:
        errors: list[str] = []
        for family, sockaddr in addresses:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(left)
                sock.connect(sockaddr)
                if target.scheme == "https":
                    sock = self._ssl.wrap_socket(sock, server_hostname=target.host)
                return sock
            except ssl.SSLError as exc:
                sock.close()
                # Not a ConnectFailed: a certificate problem does not go away on retry.
                raise NotifyError(f"TLS with {target.host} ({sockaddr[0]}) failed: {exc}") from exc
            except OSError as exc:
                sock.close()
                errors.append(f"{sockaddr[0]}: {exc or type(exc).__name__}")
        if not errors:
            errors.append(f"timed out after {self.connect_timeout:g} s")
        raise ConnectFailed(f"cannot connect to {target.host}:{target.port}: {'; '.join(errors)}")

    def _exchange(self, sock: socket.socket, method: str, target: Target, headers: Mapping[str, str],
                  body: bytes, deadline: float) -> HttpResponse:
        try:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock.sendall(build_request(method, target, headers, body))
            response = http.client.HTTPResponse(_DeadlineSocket(sock, deadline), method=method)  # type: ignore[arg-type]
            response.begin()
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > self.max_body:
                raise ResponseTooLarge(f"{target.url} announced {length} bytes, more than {self.max_body}")
            data = response.read(self.max_body + 1)
            if len(data) > self.max_body:
                raise ResponseTooLarge(f"{target.url} sent more than {self.max_body} bytes")
            return HttpResponse(response.status, response.reason, response.msg, data, target.url)
        except TimeoutError as exc:
            raise ResponseTimeout(f"no complete answer from {target.url} within {self.read_timeout:g} s") from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise BadResponse(f"invalid HTTP answer from {target.url}: {exc!r}") from exc
        except OSError as exc:
            raise BadResponse(f"connection to {target.url} failed during the exchange: {exc}") from exc

