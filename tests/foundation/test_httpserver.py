"""The HTTP server stops cleanly, at once, and even when its loop's wake-up pipe is already gone; a response
larger than the socket takes reaches a late reader while the app still runs."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request

import bottle
import pytest

from pigate.httpserver import HttpServer


def _app() -> bottle.Bottle:
    app = bottle.Bottle()
    app.route("/", "GET", lambda: "up")
    return app


def test_stop_is_immediate_and_the_port_closes():
    http = HttpServer(app=_app()).start()
    url = http.url
    assert urllib.request.urlopen(url + "/", timeout=5).read() == b"up"
    t0 = time.monotonic()
    http.stop()
    assert time.monotonic() - t0 < 0.5  # not the loop's 1 s select timeout
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=1)


def test_stop_does_not_raise_when_the_wake_up_pipe_is_gone():
    http = HttpServer(app=_app()).start()
    url = http.url
    trigger = http._server.trigger
    os.close(trigger.trigger)  # what a double close elsewhere in the process does to it
    trigger.trigger = os.open(os.devnull, os.O_RDONLY)  # a valid fd number that cannot be written
    http.stop()  # falls back to closing from this thread
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=1)


def test_a_big_chunk_reaches_a_late_reader_while_the_app_waits():
    """The worker sends what the socket takes; the server's loop must send the rest while the app is still
    running (here: waiting for the reader to confirm it got the whole chunk, as a live stream waits)."""
    chunk = os.urandom(1024) * 16384  # 16 MiB: far more than the sockets' buffers hold
    got_it = threading.Event()

    def stream():
        yield chunk
        got_it.wait(20)
        yield b"end" if got_it.is_set() else b"the chunk did not arrive while the app waited"

    app = bottle.Bottle()
    app.route("/big", "GET", stream)
    http = HttpServer(app=app).start()
    try:
        with socket.create_connection(("127.0.0.1", http.port), timeout=20) as sock:
            sock.sendall(b"GET /big HTTP/1.0\r\n\r\n")
            time.sleep(0.5)  # the socket fills up: the worker's own send is partial
            data = bytearray()
            while (head := data.find(b"\r\n\r\n")) < 0 or len(data) - head - 4 < len(chunk):
                piece = sock.recv(1 << 20)
                assert piece, "connection closed early"
                data += piece
            got_it.set()
            while piece:
                piece = sock.recv(1 << 20)
                data += piece
        assert bytes(data[head + 4:]) == chunk + b"end"
    finally:
        got_it.set()
        http.stop()
