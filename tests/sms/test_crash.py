"""The crash test: 200 messages accepted over HTTP while the daemon is SIGKILLed at random points 20 times and
restarted. Afterwards every accepted message is in the simulated network exactly once, or recorded as failed
with a reason (and then at most once); none lost, none duplicated.

The simulated modem lives in this test process (its pty and network outlive the daemon, as a real modem
outlives a crashed daemon); the daemon is a real `python -m pigate run` reaching it through its stable link.
"""

from __future__ import annotations

import collections
import http.client
import random
import threading
import time
import urllib.error

import pytest

from pigate.sim import Network
from tests.support import Daemon, api_call

N_MESSAGES = 200
N_KILLS = 20
GW = "+15550000001"
HANDSET = "+15551230001"


def _config(link: str) -> str:
    return f"""
[[modems]]
name = "gsm1"
port = "{link}"
number = "{GW}"
command_timeout = 2.0
sms_timeout = 5.0

[[api_extensions]]
id = "9999"

[sms]
doubt_timeout = 5.0
retry_base = 0.1
retry_cap = 1.0
"""


class Submitter(threading.Thread):
    """Submits every message until the daemon accepts it; the Reference makes a retry after a kill (which
    may come after the commit but before the answer) idempotent."""

    def __init__(self, daemon: Daemon) -> None:
        super().__init__(daemon=True)
        self.d = daemon
        self.accepted: dict[int, str] = {}
        self.errors = 0
        self.rng = random.Random(7)

    def run(self) -> None:
        for i in range(N_MESSAGES):
            while True:
                try:
                    a = api_call(self.d.base, "SendSms", timeout=3, ApiExtension="9999", Recipient=HANDSET,
                                 Message=f"crash {i:03d}", Reference=f"crash-{i}")
                except (OSError, urllib.error.URLError, http.client.HTTPException):
                    # No answer, or part of one (a kill between the answer's header and its body): unknown
                    # whether it was accepted, so it is submitted again with the same Reference.
                    self.errors += 1
                    time.sleep(0.02)
                    continue
                assert a.code == 200, a.raw
                sms_id = a.find("SmsId")
                assert self.accepted.setdefault(i, sms_id) == sms_id, "a resubmission made a second message"
                break
            time.sleep(self.rng.uniform(0.0, 0.12))  # spread the batch over the daemon's many lives


@pytest.mark.slow
def test_sigkill_twenty_times_loses_and_duplicates_nothing(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    net = Network(link_dir=links)
    sim = net.add_modem(number=GW, dialect="sim7600")
    sim.start()
    d = Daemon(workdir=tmp_path / "d", config_text=_config(str(sim.at_link)))
    rng = random.Random(20240501)
    try:
        d.start(timeout=20)
        sub = Submitter(d)
        sub.start()
        for _ in range(N_KILLS):
            time.sleep(rng.uniform(0.05, 1.0))
            d.kill()
            d.start(timeout=20)
        sub.join(120)
        assert not sub.is_alive() and len(sub.accepted) == N_MESSAGES

        states: dict[str, tuple[str, str]] = {}
        settled: dict[str, list[str]] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for sms_id in sub.accepted.values():
                if states.get(sms_id, ("",))[0] in ("sent", "delivered", "failed", "undelivered"):
                    continue
                a = d.call("GetSms", SmsId=sms_id)
                states[sms_id] = (a.find("Sms/State"), a.find("Sms/Reason"))
                settled[sms_id] = [r for r in (p.findtext("Reason") for p in a.root.findall("Sms/Parts/Part")) if r]
            if all(s in ("sent", "delivered", "failed", "undelivered") for s, _ in states.values()):
                break
            time.sleep(0.2)
        log = d.log()
    finally:
        d.stop()
        net.stop()

    texts = collections.Counter(s.text for s in net.submissions)
    by_state = collections.Counter(s for s, _ in states.values())
    print(f"\ncrash test: {N_KILLS} kills, {len(sub.accepted)} accepted, {sub.errors} refused connections; "
          f"states {dict(by_state)}; {len(net.submissions)} submissions in the network; parts in doubt and how "
          f"they were settled: {dict(collections.Counter(r for rs in settled.values() for r in rs))}")
    unsettled = {i: states[s] for i, s in sub.accepted.items() if states[s][0] not in
                 ("sent", "delivered", "failed", "undelivered")}
    assert not unsettled, f"not settled: {unsettled}\n{log[-3000:]}"
    assert set(texts) <= {f"crash {i:03d}" for i in range(N_MESSAGES)}
    assert max(texts.values()) == 1, f"duplicated: {[t for t, n in texts.items() if n > 1]}"
    for i, sms_id in sub.accepted.items():
        state, reason = states[sms_id]
        n = texts.get(f"crash {i:03d}", 0)
        if state in ("sent", "delivered"):
            assert n == 1, f"message {i} is {state} but was submitted {n} times"
        else:
            assert reason and n <= 1, f"message {i} failed without a reason, or went out {n} times"
    assert by_state["failed"] <= N_KILLS, "at most one message in doubt per kill"
