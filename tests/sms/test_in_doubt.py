"""Parts whose submission outcome is unknown: never resent blindly, settled by evidence, else failed."""

from __future__ import annotations

import collections
import time

from pigate.sim import LatencyProfile
from pigate.store import Database
from pigate.store.sms import NewSms, Pdu, SmsStore

HANDSET = "+15551230001"


def test_a_submission_that_times_out_is_settled_not_resent(gateway_factory):
    g = gateway_factory(sms_timeout=0.4)
    g.net.latency = LatencyProfile(sms_submit=1.0)  # the modem answers +CMGS after our timeout
    slow = g.send(HANDSET, "slow one")
    deadline = time.monotonic() + 5
    while not g.net.submissions and time.monotonic() < deadline:
        time.sleep(0.02)
    g.net.latency = LatencyProfile()
    after = g.send(HANDSET, "next one")
    g.wait_state(after, ("sent", "delivered"), timeout=15)
    g.wait_state(slow, ("sent", "delivered"), timeout=15)
    assert collections.Counter(s.text for s in g.net.submissions) == {"slow one": 1, "next one": 1}
    part = g.store.get_outgoing(slow)[1][0]
    assert part.attempts == 1 and ("settled" in part.reason or "late" in part.reason), part


def _store(tmp_path) -> SmsStore:
    return SmsStore(db=Database(path=tmp_path / "s.db"))


def _queue(store: SmsStore, text: str) -> str:
    sms_id, _ = store.add_outgoing(NewSms("9999", HANDSET, text, "gsm7"), lambda ref: [Pdu("00", 1)], now=1.0)
    return sms_id


def _no_hook(msg):
    return None


def _doubt_then_next(tmp_path, next_mr: int) -> tuple[str, str]:
    """MR 10 was the last seen; a part goes in doubt (crash); the next submission gets `next_mr`."""
    store = _store(tmp_path)
    _, doubt, probe = _queue(store, "a"), _queue(store, "b"), _queue(store, "c")
    store.mark_sent(store.claim("gsm1", now=2.0), "gsm1", 10, now=2.0, hook=_no_hook)
    store.claim("gsm1", now=3.0)                   # "b" is being submitted when the daemon dies
    assert store.in_doubt_at_start(now=4.0) == 1
    claim = store.claim("gsm1", now=5.0)
    assert claim.sms_id == probe, "the part in doubt is not resent"
    store.mark_sent(claim, "gsm1", next_mr, now=6.0, hook=_no_hook)
    msg, [part] = store.get_outgoing(doubt)
    return part.state, part.reason


def test_no_reference_taken_means_it_was_not_submitted_so_it_is_sent_again(tmp_path):
    assert _doubt_then_next(tmp_path, 11)[0] == "queued"


def test_one_reference_taken_means_it_was_submitted(tmp_path):
    state, reason = _doubt_then_next(tmp_path, 12)
    assert state == "sent" and "settled" in reason


def test_an_inconsistent_gap_fails_it_with_a_reason(tmp_path):
    state, reason = _doubt_then_next(tmp_path, 40)
    assert state == "failed" and "outcome unknown" in reason


def test_an_unsettled_part_fails_after_the_doubt_timeout(tmp_path):
    store = _store(tmp_path)
    sms_id = _queue(store, "lonely")
    store.claim("gsm1", now=2.0)
    store.in_doubt_at_start(now=3.0)
    assert store.expire_unknown(before=2.5, now=10.0, hook=_no_hook) == 1
    msg, [part] = store.get_outgoing(sms_id)
    assert msg.state == "failed" and "outcome unknown" in msg.reason
