"""Fixtures of the call tests: a whole voice gateway on the simulator, stopped (threads, ptys, sockets) afterwards."""

from __future__ import annotations

import threading
import time

import pytest

from tests.calls.world import Gateway, start_gateway

# Threads the call service starts: sessions, control queues, the notification queue, PCM pumps.
OURS = ("call-", "calls-notify", "pcm-")


def _ours() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(OURS)]


@pytest.fixture
def gateway_factory(tmp_path):
    made: list[Gateway] = []

    def make(**kw) -> Gateway:
        g = start_gateway(tmp_path / f"g{len(made)}", **kw)
        made.append(g)
        return g

    yield make
    for g in made:
        g.stop()
    deadline = time.monotonic() + 2.0
    while _ours() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _ours(), f"threads left running: {_ours()}"


@pytest.fixture
def gateway(gateway_factory) -> Gateway:
    return gateway_factory()
