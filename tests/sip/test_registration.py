"""Registered trunks against Kamailio as a digest-auth registrar on 127.0.0.2: register, restart, wrong password."""

from __future__ import annotations

import logging
import queue

import pytest

from pigate.config import SipAccount
from pigate.sip import CONNECTED, DISCONNECTED
from tests.sip.kamailio import Kamailio


@pytest.fixture
def kamailio(tmp_path):
    k = Kamailio(workdir=tmp_path, user="alice", password="s3cret")
    k.start()
    yield k
    k.stop()


def _account(k: Kamailio, password: str, expires: int = 300) -> SipAccount:
    # expires below the config's minimum is the driver's business: tests want refreshes every few seconds.
    return SipAccount(name="pbx", registrar=f"{k.host}:{k.port}", username="alice", password=password,
                      expires=expires)


def test_a_registered_account_is_connected_and_calls_through_the_registrar_reach_it(gateway, kamailio,
                                                                                   peer_factory):
    offered: queue.Queue = queue.Queue()
    changes: list[str] = []

    def on_incoming(call):
        offered.put(call)
        call.answer()

    gw = gateway(accounts=[_account(kamailio, "s3cret")], on_incoming=on_incoming,
                 on_account_change=lambda a: changes.append(a.state))
    account = gw.accounts["pbx"]
    assert account.wait(lambda a: a.connected, 10), (account.code, account.reason)
    assert gw.connected("pbx") and account.code == 200
    # A caller on 127.0.0.1 reaches the box through the registrar (127.0.0.2), the only address allowed in.
    caller = peer_factory(gateway_port=gw.endpoint.port)
    caller.command("dial", target=f"sip:alice@{kamailio.host}:{kamailio.port}", caller_id="+15557654321")
    call = offered.get(timeout=10)
    assert (call.trunk, call.caller, call.source.split(":")[0]) == ("pbx", "+15557654321", kamailio.host)
    caller.expect("Answered")
    caller.command("hangup")
    caller.expect("Ended")
    assert changes[:1] == [CONNECTED]


def test_registration_comes_back_after_kamailio_restarts(gateway, kamailio, peer_factory):
    offered: queue.Queue = queue.Queue()

    def on_incoming(call):
        offered.put(call)
        call.answer()

    gw = gateway(accounts=[_account(kamailio, "s3cret", expires=8)], on_incoming=on_incoming, retry_interval=1)
    account = gw.accounts["pbx"]
    assert account.wait(lambda a: a.connected, 10)
    kamailio.restart()  # a fresh Kamailio: its location table (in memory) is empty
    caller = peer_factory(gateway_port=gw.endpoint.port)
    target = f"sip:alice@{kamailio.host}:{kamailio.port}"
    before = account.registrations
    assert account.wait(lambda a: a.registrations > before, 15), (account.code, account.reason)
    assert account.connected
    caller.command("dial", target=target)
    assert offered.get(timeout=10).trunk == "pbx"
    caller.expect("Answered")


def test_a_wrong_password_fails_clearly(gateway, kamailio, caplog):
    with caplog.at_level(logging.INFO, logger="pigate.sip"):
        gw = gateway(accounts=[_account(kamailio, "not-the-password")])
        account = gw.accounts["pbx"]
        assert account.wait(lambda a: a.code in (401, 403, 407), 10), (account.code, account.reason)
    assert account.state == DISCONNECTED and not gw.connected("pbx")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("'pbx'" in m and "wrong username or password" in m and "alice" in m for m in errors), errors
