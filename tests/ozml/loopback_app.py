"""A real HTTP app on 127.0.0.1 that answers notifications with canned OzML (or misbehaves) and records the posts."""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    delay: float = 0.0  # seconds before answering (a slow app)


class LoopbackApp:
    """`routes` maps a path to an Answer or a function(fields) -> Answer; every post is kept in `posts`."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer | Callable[[dict[str, str]], Answer]] = {}
        self.posts: list[tuple[str, dict[str, str], str]] = []  # (path, fields, content type)
        self._release = threading.Event()  # set at close so slow handlers stop waiting
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                fields = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                app.posts.append((self.path, fields, self.headers.get("Content-Type", "")))
                route = app.routes.get(self.path, Answer(b"", 404))
                answer = route(fields) if callable(route) else route
                if answer.delay and app._release.wait(answer.delay):
                    return
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the gateway gave up on us (body cap, timeout): expected in these tests

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False
        self.server.block_on_close = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="loopback-app")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.posts]

    def start(self) -> "LoopbackApp":
        self.thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()  # joins the handler threads
        self.thread.join(5)
