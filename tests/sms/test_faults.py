"""Each injected fault ends with every accepted message sent exactly once or failed with a reason."""

from __future__ import annotations

import collections
import time

import pytest

from pigate.sim import LatencyProfile

HANDSET = "+15551230001"
FINAL = ("sent", "delivered", "undelivered", "failed")


def _settle(g, ids, timeout=30.0) -> dict[str, tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        states = {i: (m.state, m.reason) for i in ids for m in [g.store.get_outgoing(i)[0]]}
        if all(s in FINAL for s, _ in states.values()) or time.monotonic() > deadline:
            return states


def _check_exactly_once(g, texts: dict[str, str]) -> dict[str, tuple[str, str]]:
    """texts: sms id -> its (single-part) text. Returns the final states."""
    # One more message after the fault: its message reference settles any part left in doubt.
    flush = g.send(HANDSET, "flush")
    states = _settle(g, [*texts, flush])
    seen = collections.Counter(s.text for s in g.net.submissions)
    for sms_id, text in texts.items():
        state, reason = states[sms_id]
        assert state in FINAL, f"{text}: still {state} ({reason})"
        if state == "failed":
            assert reason and seen[text] <= 1, f"{text}: failed without reason or sent {seen[text]} times"
        else:
            assert seen[text] == 1, f"{text}: {state} but in the network {seen[text]} times"
    return states


def _batch(g, n, tag):
    return {g.send(HANDSET, f"{tag} {i}"): f"{tag} {i}" for i in range(n)}


@pytest.mark.parametrize("code, permanent", [(500, False), (330, False), (304, True)])
def test_cms_errors(gateway, code, permanent):
    gateway.sims[0].faults.cms_error(code=code, command="CMGS", times=2)
    texts = _batch(gateway, 3, f"cms{code}")
    states = _check_exactly_once(gateway, texts)
    first = next(iter(texts))
    if permanent:
        assert states[first][0] == "failed" and str(code) in states[first][1]
    else:
        assert all(s == "delivered" or s == "sent" for s, _ in states.values())
        attempts = sum(p.attempts for i in texts for p in gateway.store.get_outgoing(i)[1])
        assert attempts == len(texts) + 2, "each refusal was retried, nothing else"


def test_registration_lost_and_regained(gateway):
    sim = gateway.sims[0]
    sim.faults.registration_lost()
    time.sleep(0.3)
    texts = _batch(gateway, 3, "noreg")
    time.sleep(1.0)
    assert all(gateway.state(i) == "queued" for i in texts), "nothing is tried without a network"
    sim.faults.registration_regained()
    states = _check_exactly_once(gateway, texts)
    assert all(s in ("sent", "delivered") for s, _ in states.values())


def test_modem_stops_answering_mid_submission(gateway):
    """The modem freezes while the PDU is being submitted: the outcome is unknown, nothing is resent blindly,
    and the next message reference settles it."""
    sim = gateway.sims[0]
    gateway.net.latency = LatencyProfile(sms_submit=0.5)
    texts = _batch(gateway, 4, "freeze")
    deadline = time.monotonic() + 5
    while not gateway.net.submissions and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the second submission is in its 0.5 s
    sim.faults.stop_answering()
    time.sleep(4.0)  # AT+CMGS times out (3 s), recovery starts
    sim.faults.resume()
    gateway.net.latency = LatencyProfile()
    states = _check_exactly_once(gateway, texts)
    assert sum(s in ("sent", "delivered") for s, _ in states.values()) >= 3


def test_port_vanishes_mid_submission(gateway):
    sim = gateway.sims[0]
    gateway.net.latency = LatencyProfile(sms_submit=0.5)
    texts = _batch(gateway, 4, "vanish")
    deadline = time.monotonic() + 5
    while not gateway.net.submissions and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    sim.faults.vanish(seconds=1.0)
    time.sleep(1.5)
    gateway.net.latency = LatencyProfile()
    states = _check_exactly_once(gateway, texts)
    assert sum(s in ("sent", "delivered") for s, _ in states.values()) >= 3


def test_garbage_on_the_line(gateway):
    sim = gateway.sims[0]
    texts = {}
    for i in range(5):
        sim.faults.garbage(3)
        texts.update(_batch(gateway, 1, f"noise{i}"))
    sim.faults.garbage(2, replace_answer=True)
    texts.update(_batch(gateway, 2, "noisy-answer"))
    states = _check_exactly_once(gateway, texts)
    assert sum(s in ("sent", "delivered") for s, _ in states.values()) >= 6


def test_network_drops_a_message(gateway):
    gateway.net.faults.drop_next_sms()
    sms_id = gateway.send(HANDSET, "lost in the network", DeliveryReportURL=gateway.app.url("/dr"))
    ok = gateway.send(HANDSET, "arrives", DeliveryReportURL=gateway.app.url("/dr"))
    assert gateway.app.wait(1, "/dr")[0]["ID"] == ok
    assert gateway.state(sms_id) == "sent", "accepted by the network, never reported: sent, not delivered"


def test_incoming_while_storage_is_full_arrives_once_there_is_room(gateway):
    sim = gateway.sims[0]
    sim.faults.storage_full()
    gateway.net.handset(HANDSET).send_sms("+15550000001", "knock knock")
    gateway.service.stop()
    gateway.service.start()  # a sweep (as after any restart or re-registration) empties the storage
    posts = gateway.app.wait(1, "/incoming", timeout=10)
    deadline = time.monotonic() + 10
    while not any(p["Message"] == "knock knock" for p in gateway.app.posts and [f for _, f in gateway.app.posts]):
        assert time.monotonic() < deadline, posts
        time.sleep(0.05)
