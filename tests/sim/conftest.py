"""Fixtures for the simulator's tests: a network (always stopped) and a pyserial AT client on a modem's pty."""

from __future__ import annotations

import threading

import pytest

from pigate.sim import LatencyProfile, Network
from tests.sim.atclient import AtClient


@pytest.fixture
def net(tmp_path):
    threads_before = set(threading.enumerate())
    network = Network(latency=LatencyProfile(ring_interval=0.3, no_answer=0.3), link_dir=tmp_path)
    yield network
    network.stop()
    assert not network.scheduler.errors, network.scheduler.errors
    leftover = [t for t in threading.enumerate() if t not in threads_before and t.name.startswith("sim-")]
    assert not leftover, leftover


@pytest.fixture
def open_client():
    clients: list[AtClient] = []

    def open_(path: str, **kw) -> AtClient:
        c = AtClient(path, **kw)
        clients.append(c)
        return c

    yield open_
    for c in clients:
        c.close()


@pytest.fixture(params=["sim800", "sim7600", "ec25"])
def dialect(request) -> str:
    return request.param


@pytest.fixture
def modem(net, dialect):
    m = net.add_modem(number="+15550000001", dialect=dialect)
    m.start()
    return m


@pytest.fixture
def at(modem, open_client) -> AtClient:
    """A client on the modem with echo off, numeric errors, as a driver sets it up."""
    c = open_client(modem.at_path)
    c.ok("ATE0")
    c.ok("AT+CMEE=1")
    return c
