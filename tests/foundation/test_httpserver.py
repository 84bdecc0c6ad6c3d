"""The HTTP server stops cleanly, at once, and even when its loop's wake-up pipe is already gone."""

from __future__ import annotations

import os
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
