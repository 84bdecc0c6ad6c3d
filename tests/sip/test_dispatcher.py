"""Several boxes behind a SIP load balancer: Kamailio's dispatcher in front of two pigate daemons, each on its own
simulated GSM network. sipp (at 127.0.0.3, a stranger to the boxes) calls through Kamailio (127.0.0.2, the boxes'
only SIP peer); the calls go out on GSM on both boxes in turn. When one box is stopped, Kamailio's OPTIONS probes
mark it down and every new call goes to the other; only calls in flight on the stopped box are lost. A box whose
GSM lines are all taken answers 503, and Kamailio puts the call through on the other."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pigate.sim import LatencyProfile
from pigate.sim.handset import TERMINAL
from tests.bench.box import Box
from tests.sip.conftest import Sipp, free_sip_port
from tests.sip.kamailio import dispatcher

BOB = "+15551230002"
CALLER = "127.0.0.3"


def _box(workdir: Path, proxy: str, lines: int = 8) -> Box:
    port = free_sip_port()
    box = Box(workdir, lines=lines, latency=LatencyProfile(), extra_config=f"""
[sip]
enabled = true
listen = "127.0.0.1"
port = {port}

[[sip.peers]]
name = "proxy"
address = "{proxy}"

[[routes]]
source = "proxy"
match = "9[0-9]+"
to = "gsm"
strip = 1
prepend = "+"
""")
    box.sip_port = port
    return box


def _calls(box: Box) -> list:
    return list(box.net.handset(BOB).calls)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


@pytest.fixture
def boxes(tmp_path):
    made: list[Box] = []
    try:
        made.append(_box(tmp_path / "a", "127.0.0.2"))
        made.append(_box(tmp_path / "b", "127.0.0.2"))
        yield made
    finally:
        for box in made:
            box.stop()


def test_kamailio_spreads_calls_over_two_boxes_and_fails_over_when_one_stops(boxes, tmp_path):
    a, b = boxes
    k = dispatcher(workdir=tmp_path, boxes=[f"sip:127.0.0.1:{box.sip_port}" for box in (a, b)])
    k.start()
    runs: list[Sipp] = []

    def place(name: str, calls: int, **kw) -> Sipp:
        kw = {"rate": 2, "hold_ms": 500, "limit": 2, **kw}
        runs.append(Sipp(tmp_path / name, "uac_proxy.xml", f"{k.host}:{k.port}", service="9" + BOB[1:],
                         source=CALLER, calls=calls, **kw))
        return runs[-1]

    def spread(name: str, calls: int) -> tuple[int, int]:
        """Place `calls` calls, all of which must succeed; how many went out on a and on b."""
        na, nb = len(_calls(a)), len(_calls(b))
        run = place(name, calls)
        assert run.wait() == {"ok": calls, "failed": 0}, run.out[-3000:]
        new = _calls(a)[na:] + _calls(b)[nb:]
        assert len(new) == calls and all(c.answered_at for c in new)
        _wait(lambda: all(c.state == "ended" for c in new), 5, "sipp's hang-ups to end the GSM calls")
        return len(_calls(a)) - na, len(_calls(b)) - nb

    try:
        # 1. Calls are spread over both boxes (round robin: 3 and 3, unless a box too slow to answer within
        # fr_timer on this shared machine had one failed over), each going out on that box's GSM lines.
        assert min(spread("spread", 6)) >= 2, k.log.read_text()[-3000:]

        # 2. Box b stops while idle: Kamailio's OPTIONS probe finds it gone and marks it down; every new call
        # goes to a at once (no failover needed). Back up, the probe marks it up and it takes calls again.
        _wait(lambda: _last_mark(k, b) == "up", 10, "box b up (a call failed over in step 1 marks it down)")
        mark = len(k.log.read_text())
        assert b.daemon.stop() == 0, b.daemon.log()[-3000:]
        t0 = time.monotonic()
        _wait(lambda: _marked(k, "down", b, since=mark), 10, "the probe marking box b down")
        down_after = time.monotonic() - t0
        assert "failed over" not in k.log.read_text()[mark:]  # the probe did it, not a call
        assert spread("b-down", 4) == (4, 0)
        mark = len(k.log.read_text())
        b.daemon.start(timeout=30)
        b.wait_lines()
        t0 = time.monotonic()
        _wait(lambda: _marked(k, "up", b, since=mark), 10, "the probe marking box b up")
        up_after = time.monotonic() - t0
        assert min(spread("b-up", 4)) >= 1

        # 3. A steady stream of calls; box b stops in the middle of it. Its calls in flight are lost (b hangs them
        # up); every other call succeeds: those b refuses while stopping (503) Kamailio fails over to a.
        before_a, before_b = len(_calls(a)), len(_calls(b))
        run = place("midstream", 12, rate=2, hold_ms=2000, limit=12)
        _wait(lambda: any(not c.ended for c in _calls(b)[before_b:]), 10, "a call up on box b")
        alive = [c for c in _calls(b)[before_b:] if c.state not in TERMINAL]
        taken = len(_calls(b))
        assert b.daemon.stop() == 0, b.daemon.log()[-3000:]
        in_flight = len(alive) + len(_calls(b)) - taken  # and any call it took after the snapshot
        counts = run.wait()
        log = k.log.read_text()
        assert counts["ok"] + counts["failed"] == 12, run.out[-3000:]
        assert alive and counts["failed"] <= in_flight, (counts, in_flight, run.out[-3000:], log[-3000:])
        on_a = _calls(a)[before_a:]
        assert len(on_a) >= 12 - (len(_calls(b)) - before_b) and all(c.answered_at for c in on_a)
        assert not _marked(k, "down", a)  # a answered every probe and call
        print(f"\nprobe marked b down {down_after:.1f} s after it stopped, up {up_after:.1f} s after it was back; "
              f"stopped mid-stream with {in_flight} call(s) in flight: {counts['failed']} lost, "
              f"{counts['ok']} of 12 succeeded ({len(on_a)} on a)")
    finally:
        for run in runs:
            run.kill()
        k.stop()


def test_a_box_with_no_free_gsm_line_answers_503_and_kamailio_puts_the_call_through_on_the_other(tmp_path):
    made: list[Box] = []
    runs: list[Sipp] = []
    k = None
    try:
        made.append(_box(tmp_path / "a", "127.0.0.2", lines=1))
        made.append(_box(tmp_path / "b", "127.0.0.2", lines=2))
        a, b = made
        # An app holds box a's only line: a call it placed to another handset, answered and kept up.
        holder = "+15551230007"
        a.call(holder, "<Response><Delay>120</Delay></Response>")
        a.handset_call(holder, after=0)
        k = dispatcher(workdir=tmp_path, boxes=[f"sip:127.0.0.1:{box.sip_port}" for box in (a, b)])
        k.start()
        # Four calls one after another: round robin offers at least one of them to a, which is full. Its 503
        # sends the call on to b (a busy callee's 486 would have reached the caller as a failed call).
        runs.append(Sipp(tmp_path / "full", "uac_proxy.xml", f"{k.host}:{k.port}", service="9" + BOB[1:],
                         source=CALLER, calls=4, rate=2, hold_ms=300, limit=1))
        counts = runs[-1].wait()
        log = k.log.read_text()
        assert counts == {"ok": 4, "failed": 0}, (runs[-1].out[-3000:], log[-3000:])
        assert "got 503, failed over" in log, log[-3000:]  # a was offered a call and refused it 503
        assert _calls(a) == [] and len(_calls(b)) == 4 and all(c.answered_at for c in _calls(b))
        assert a.net.handset(holder).calls[0].state not in TERMINAL  # the app's call on a was never touched
    finally:
        for run in runs:
            run.kill()
        if k is not None:
            k.stop()
        for box in made:
            box.stop()


def _marked(k, how: str, box: Box, since: int = 0) -> bool:
    """Kamailio's dispatcher has marked `box` down or up (its dst-down/dst-up events: a probe or a failed call),
    after the first `since` characters of its log."""
    return any(f"box {how}:" in line and f"127.0.0.1:{box.sip_port}" in line
               for line in k.log.read_text()[since:].splitlines())


def _last_mark(k, box: Box) -> str:
    """"up" or "down": how Kamailio last marked `box` (up when it never marked it)."""
    marks = [line for line in k.log.read_text().splitlines()
             if line.rpartition("NOTICE: <script>: box ")[2].startswith(("up:", "down:"))
             and f"127.0.0.1:{box.sip_port}" in line]
    return "down" if marks and "box down:" in marks[-1] else "up"
