"""A real HTTP app on loopback for webhook and download tests: routes, recorded requests, misbehaviours."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def fields(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.body.decode("ascii"), keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (a slow app trickling its answer)
    chunked: bool = False  # no Content-Length, chunked encoding


Handler = Callable[[Request], Reply]


class WebApp:
    """A threaded HTTP server on 127.0.0.x:0. `route(path, handler_or_reply)`; `requests` records what came."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: "ssl.SSLContext | None" = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        app = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(length))
                with app._lock:
                    app.requests.append(req)
                route = app.routes.get(self.path.split("?", 1)[0])
                reply = route(req) if route else Reply(404, b"not found")
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts, size caps): that is what those tests cause

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if reply.chunked:
                    for i in range(0, len(reply.body), 65536):
                        piece = reply.body[i:i + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                elif reply.drip:
                    for b in reply.body:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body)
                self.close_connection = True

            do_GET = do_POST = do_HEAD = _handle

        self.server = ThreadingHTTPServer((host, port), _H)
        self.server.daemon_threads = True
        self.scheme = "https" if tls else "http"
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-webapp", daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def route(self, path: str, what: Handler | Reply) -> None:
        self.routes[path] = what if callable(what) else (lambda _req, r=what: r)

    def start(self) -> "WebApp":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class Blackhole:
    """A listening socket whose accept queue is full, so a new connect() hangs until the client times out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self._fillers = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self._fillers.append(s)
        time.sleep(0.05)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        for s in self._fillers:
            s.close()
        self.sock.close()


class RawServer:
    """Accepts connections and answers each with fixed raw bytes (garbage, half answers), then closes."""

    def __init__(self, payload: bytes, *, hold: float = 0.0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.payload, self.hold = payload, hold
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-raw", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(65536)
                    conn.sendall(self.payload)
                    if self.hold:
                        self._stop.wait(self.hold)
                except OSError:
                    pass

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
