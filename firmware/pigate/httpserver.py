"""A WSGI app served by waitress on its own thread, started and stopped cleanly (the daemon's and tests')."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any, Callable

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from pigate.errors import ListenError

log = logging.getLogger(__name__)
# waitress warns on every request queued behind busy workers: thousands of lines a second under a flood,
# which costs more than the requests themselves. Our own code logs floods (once per address).
QUIET_LOGGERS = ("waitress.queue",)


class _Channel(HTTPChannel):
    """waitress's connection, without its loop spinning while a worker writes a response.

    A worker that writes (`write_soon`) appends to the output buffer and sends it itself, holding the buffer's
    lock. Meanwhile waitress's loop sees output pending, selects the socket as writable (it is, at once),
    fails to take the lock and goes round again: measured, ~20 turns of the loop per SendSms, each turn asking
    every open connection whether it is readable or writable - so each open dashboard stream made every
    request dearer (20 streams: SendSms 25-50% slower). While a worker holds the lock, the connection is not
    writable for the loop; what the worker could not send (the socket was full) the loop sends once the lock
    is free: the worker pulls the loop's trigger after letting go of it. (It reads waitress's channel state,
    hence `waitress<4` in setup.cfg; tests/foundation/test_httpserver.py checks what it relies on.)
    """

    def writable(self) -> bool:
        if not super().writable():
            return False
        if self.requests and not (self.will_close or self.close_when_flushed):
            if not self.outbuf_lock.acquire(False):
                return False
            self.outbuf_lock.release()
        return True

    def write_soon(self, data: bytes) -> int:
        written = super().write_soon(data)
        if self.total_outbufs_len:
            self.server.pull_trigger()
        return written


class HttpServer:
    """`start()` binds and serves on a thread; `stop()` ends it at once.

    Stopping drains waitress's workers first (a worker writing to a closed trigger raises EBADF), then closes
    the sockets from inside the server's own loop (its select is woken by the trigger), so the loop ends at
    once rather than after its 1 s select timeout.
    """

    def __init__(self, *, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 name: str = "http", **adjustments: Any) -> None:
        self._app, self._host, self._port, self._threads = app, host, port, threads
        self._name = name
        self._adjustments = adjustments
        self._server = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def bind(self) -> "HttpServer":
        """Take the address now, before anything else starts; ListenError (one line, no traceback) when it
        cannot be had. start() then serves on this socket."""
        if self._socket is not None:
            return self
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((self._host, self._port))
            sock.listen(1024)
        except OSError as exc:
            sock.close()
            why = (exc.strerror or str(exc)).lower()
            host = f"[{self._host}]" if ":" in self._host else self._host
            raise ListenError(f"cannot listen on {host}:{self._port}: {why}") from exc
        self._socket = sock
        return self

    def start(self) -> "HttpServer":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        self.bind()
        sock, self._socket = self._socket, None
        try:
            channels: dict = {}
            self._server = create_server(self._app, map=channels, sockets=[sock], threads=self._threads,
                                         ident="pigate", **self._adjustments)
            for server in list(channels.values()):
                if isinstance(server, BaseWSGIServer):
                    server.channel_class = _Channel
        except BaseException:
            sock.close()
            raise
        self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:  # sockets closed under a select by a stop that raced the trigger
            pass

    @property
    def port(self) -> int:
        if self._server is not None:
            return int(self._server.effective_port)
        return self._socket.getsockname()[1] if self._socket is not None else 0

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 2.0) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:  # bound, never started
            sock.close()
        server, self._server = self._server, None
        if server is None:
            return
        server.task_dispatcher.shutdown(timeout=1)
        try:
            server.trigger.pull_trigger(server.close)
        except OSError as exc:  # the wake-up pipe is already gone: close from here; the loop ends within 1 s
            log.warning("%s: closing without waking the loop: %s", self._name, exc)
            with contextlib.suppress(OSError):
                server.close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
