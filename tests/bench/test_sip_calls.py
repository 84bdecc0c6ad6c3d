"""Benchmarks of the gateway's SIP side, on the simulator (the daemon as a subprocess; its simulated network in the
benchmark's process, tests/bench/box.py), with a pjsua2 peer (tests/sip/peer.py) or sipp as the SIP far end:

- call setup SIP->GSM: the peer's INVITE to the handset ringing; baseline: the API's Call command to the same
  ringing (the GSM side alone). GSM->SIP: the handset dialling to the INVITE at the peer; baseline: the same
  dialling to the IncomingCall webhook at an app (the GSM side alone);
- audio latency through the gateway, each direction: a tone burst's first voiced frame written at one end to its
  first voiced frame at the other (handset <-> peer); baseline: the same between two pjsua2 peers calling each
  other directly, so the difference is what the gateway adds (its pjsua2 endpoint, the bridge and the pumps);
- PCM frame lateness with 8 concurrent bridged calls (sipp playing speech into each, each handset talking back)
  as the pumps log it; baseline: one bridged call the same way;
- concurrent SIP calls running the Basic IVR at max_calls = 32, in steps of 8, held with 0 failures; baseline:
  max_calls.

Timestamps on both sides are time.monotonic(), one clock for every process on Linux. Figures go to the table
of `make bench` (tests/bench/report.py).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from pigate.sim import LatencyProfile
from tests.bench.box import PACING, Box, number, wait_for
from tests.bench.report import record
from tests.ozml.loopback_app import Answer, LoopbackApp
from tests.sip.conftest import PeerProcess, Sipp, free_sip_port

REPS = 5
BOB = "+15551230002"
CALLER = "+15551230009"
PCAPS = Path("/usr/share/sip-tester")
IVR = (Path(__file__).resolve().parents[1] / "ozml" / "data" / "basic_ivr.xml").read_bytes()


def _sip_config(port: int, peer: str, *, max_calls: int = 32, routes: str = "") -> str:
    return f"""
[sip]
enabled = true
listen = "127.0.0.1"
port = {port}
max_calls = {max_calls}

[[sip.peers]]
name = "lab"
address = "{peer}"

[[routes]]
source = "lab"
match = "9[0-9]+"
to = "gsm"
strip = 1
prepend = "+"
{routes}"""


def _pause() -> None:
    time.sleep(0.3)  # people do not redial within a third of a second (see test_voice.first_voiced)


def _no_calls(box: Box, timeout: float = 10) -> None:
    wait_for(lambda: not box.api("ListActiveCalls").root.findall(".//CallId"), timeout,
             f"the calls to end\n{box.daemon.log()[-3000:]}")


# ---- call setup and audio latency: one box, one pjsua2 peer -----------------------------------------------------
def test_sip_call_setup_and_audio_latency(tmp_path):
    app = LoopbackApp().start()
    webhooks: list[float] = []

    def incoming(fields: dict) -> Answer:
        webhooks.append(time.monotonic())
        return Answer(b"<Response><Delay>10</Delay></Response>")

    app.routes["/call"] = incoming
    sip_port = free_sip_port()
    peer = PeerProcess(gateway_port=sip_port)
    box = None
    try:
        routes = ('\n[[routes]]\nsource = "gsm0"\nto = "lab"\nstrip = 1\nprepend = "00"\n'
                  '\n[[routes]]\nsource = "gsm1"\nto = "9999"\n'
                  f'\n[notifications]\nincoming_call_url = "{app.url("/call")}"\n')
        box = Box(tmp_path / "box", lines=2, latency=LatencyProfile(),
                  extra_config=_sip_config(sip_port, f"127.0.0.1:{peer.port}", routes=routes))
        _setup(box, peer, webhooks)
        _latency(box, peer, tmp_path)
    finally:
        peer.close()
        if box is not None:
            box.stop()
        app.close()


def _ringing(handset, n: int):
    """The handset's call numbered `n` once it rings."""
    return wait_for(lambda: len(handset.calls) > n and handset.calls[n].alerted_at and handset.calls[n], 10,
                    "the handset ringing")


def _setup(box: Box, peer: PeerProcess, webhooks: list[float]) -> None:
    bob = box.net.handset(BOB)
    sip_gsm, api_gsm, gsm_sip, gsm_api = [], [], [], []
    for _ in range(REPS):
        # SIP -> GSM: INVITE to ringing at the handset.
        n = len(bob.calls)
        peer.send("dial", target="9" + BOB[1:])
        sent = peer.expect("Dialing")["at"]
        hc = _ringing(bob, n)
        sip_gsm.append(hc.alerted_at - sent)
        peer.expect("Answered", timeout=10)
        hc.hangup()
        peer.expect("Ended", timeout=10)
        _no_calls(box)
        _pause()
        # The API's Call command to ringing at the same handset.
        n = len(bob.calls)
        t0 = time.monotonic()
        box.call(BOB, "<Response><Delay>10</Delay></Response>")
        hc = _ringing(bob, n)
        api_gsm.append(hc.alerted_at - t0)
        hc.wait_state("active", timeout=10)
        hc.hangup()
        _no_calls(box)
        _pause()
        # GSM -> SIP: the handset dials the line routed to the peer; the INVITE arrives there.
        hc = box.net.handset(CALLER).call(number(0))
        incoming = peer.expect("Incoming", timeout=10)
        gsm_sip.append(incoming["at"] - hc.started)
        peer.expect("Answered", timeout=10)
        hc.wait_state("active", timeout=10)
        hc.hangup()
        peer.expect("Ended", timeout=10)
        _no_calls(box)
        _pause()
        # The same dialling to the line whose calls go to the API extension: the IncomingCall webhook.
        n = len(webhooks)
        hc = box.net.handset(CALLER).call(number(1))
        wait_for(lambda: len(webhooks) > n, 10, "the IncomingCall webhook")
        gsm_api.append(webhooks[n] - hc.started)
        hc.wait_state("active", timeout=10)
        hc.hangup()
        _no_calls(box)
        _pause()
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    record(f"call setup SIP->GSM: INVITE -> handset ringing (median of {REPS})", ms(sip_gsm), unit="ms",
           baseline=ms(api_gsm), against="API Call -> ringing")
    record(f"call setup GSM->SIP: handset dials -> INVITE at the peer (median of {REPS})", ms(gsm_sip), unit="ms",
           baseline=ms(gsm_api), against="dials -> IncomingCall webhook")


def _bursts(send, heard) -> list[float]:
    """REPS tone bursts: `send()` returns when the first voiced frame left, `heard(t)` when it arrived (None: not
    yet); the latencies in ms."""
    out = []
    for _ in range(REPS):
        sent = send()
        arrived = wait_for(lambda: heard(sent), 5, "the burst at the far end")
        out.append((arrived - sent) * 1000)
        time.sleep(0.6)  # silence between bursts
    return out


def _peer_burst(peer: PeerProcess) -> float:
    peer.send("burst", hz=1000, ms=300)
    return peer.expect("Burst")["sent"]


def _peer_onset(peer: PeerProcess, after: float) -> float | None:
    peer.send("onset", after=after)
    return peer.expect("Onset")["heard"]


def _latency(box: Box, peer: PeerProcess, tmp_path: Path) -> None:
    bob = box.net.handset(BOB)
    n = len(bob.calls)
    peer.send("dial", target="9" + BOB[1:])
    peer.expect("Answered", timeout=10)
    hc = box.handset_call(BOB, after=n)
    time.sleep(0.5)

    def handset_burst() -> float:
        t = time.monotonic()
        hc.play_tone(1000.0, 0.3)
        return wait_for(lambda: hc.voiced_played_since(t), 2, "the handset's burst to leave")

    to_gsm = _bursts(lambda: _peer_burst(peer), hc.voiced_heard_since)
    to_sip = _bursts(handset_burst, lambda t: _peer_onset(peer, t))
    hc.hangup()
    peer.expect("Ended", timeout=10)

    # The baseline: two pjsua2 peers calling each other directly, bursts both ways.
    pa, pb = free_sip_port(), free_sip_port()
    a = PeerProcess(gateway_port=pb, port=pa)
    b = PeerProcess(gateway_port=pa, port=pb)
    try:
        a.send("dial", target="200")
        a.expect("Answered", timeout=10)
        b.expect("Answered", timeout=10)
        time.sleep(0.5)
        direct = _bursts(lambda: _peer_burst(a), lambda t: _peer_onset(b, t))
        direct += _bursts(lambda: _peer_burst(b), lambda t: _peer_onset(a, t))
        a.command("hangup")
    finally:
        a.close()
        b.close()
    print(f"\nlatency samples, ms: SIP->GSM {[round(x) for x in to_gsm]}, GSM->SIP {[round(x) for x in to_sip]}, "
          f"direct {[round(x) for x in direct]}")
    base = statistics.median(direct)
    for label, samples in (("SIP->GSM (peer -> handset)", to_gsm), ("GSM->SIP (handset -> peer)", to_sip)):
        value = statistics.median(samples)
        record(f"audio latency {label}, median of {REPS}", value, unit="ms", baseline=base,
               against=f"direct pjsua2 call; the gateway adds {value - base:.0f} ms")


# ---- frame lateness with bridged calls, and IVR capacity: sipp as the far end ------------------------------------
def _pacing_since(box: Box, offset: int) -> list[tuple[float, float]]:
    """(p50, p99) of every PCM pump that logged its figures after `offset` characters of the daemon's log."""
    return [(float(m[6]), float(m[7])) for m in PACING.finditer(box.daemon.log()[offset:])]


def _sipp_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "pcap").exists():
        (path / "pcap").symlink_to(PCAPS)
    return path


def test_frame_lateness_with_8_bridged_calls(tmp_path):
    sip_port = free_sip_port()
    box = Box(tmp_path / "box", lines=8, latency=LatencyProfile(), extra_config=_sip_config(sip_port, "127.0.0.1"))
    runs: list[Sipp] = []
    try:
        bob = box.net.handset(BOB)
        figures = {}
        for n in (1, 8):
            offset = len(box.daemon.log())
            before = len(bob.calls)
            runs.append(Sipp(_sipp_dir(tmp_path / f"calls{n}"), "bridged_uac.xml", f"127.0.0.1:{sip_port}",
                             service="9" + BOB[1:], calls=n, rate=n, hold_ms=9000, limit=n))
            for i in range(n):
                box.handset_call(BOB, after=before + i).play_tone(300.0, 9.0)  # each handset talks back
            counts = runs[-1].wait()
            assert counts == {"ok": n, "failed": 0}, runs[-1].out
            _no_calls(box)
            pacing = wait_for(lambda: len(p := _pacing_since(box, offset)) >= 2 * n and p, 10, "every pump's figures")
            figures[n] = (statistics.median(p50 for p50, _ in pacing), max(p99 for _, p99 in pacing))
            _pause()
        record("PCM lateness p50, 8 bridged SIP<->GSM calls", figures[8][0], unit="ms", baseline=figures[1][0],
               against="1 bridged call")
        record("PCM lateness p99, 8 bridged SIP<->GSM calls", figures[8][1], unit="ms", baseline=figures[1][1],
               against="1 bridged call", goal="<= 20 ms", met=figures[8][1] <= 20.0)
    finally:
        for run in runs:
            run.kill()
        box.stop()


def test_concurrent_sip_ivr_calls_at_max_calls_32(tmp_path):
    app = LoopbackApp().start()
    app.routes["/call"] = Answer(IVR)
    sip_port = free_sip_port()
    box = None
    runs: list[Sipp] = []
    try:
        box = Box(tmp_path / "box", lines=1, latency=LatencyProfile(),
                  extra_config=_sip_config(sip_port, "127.0.0.1", routes='\n[[routes]]\nsource = "lab"\nto = "9999"\n'
                                           f'\n[notifications]\nincoming_call_url = "{app.url("/call")}"\n'))
        held, p99 = 0, None
        for n in (8, 16, 24, 32):
            offset = len(box.daemon.log())
            posts = len(app.posts)
            runs.append(Sipp(_sipp_dir(tmp_path / f"ivr{n}"), "uac_proxy.xml", f"127.0.0.1:{sip_port}",
                             service="100", calls=n, rate=n, hold_ms=8000, limit=n))
            counts = runs[-1].wait()
            _no_calls(box, timeout=30)  # 32 scripts winding down on a busy machine
            if counts != {"ok": n, "failed": 0} or len(app.posts) - posts != n:
                print(f"\n{n} IVR calls: {counts}, {len(app.posts) - posts} IncomingCall posts\n{runs[-1].out}")
                break
            held = n
            pacing = wait_for(lambda: len(p := _pacing_since(box, offset)) >= n and p, 10, "every pump's figures")
            p99 = max(x for _, x in pacing)
            _pause()
        record("concurrent SIP calls running the Basic IVR, 0 failures", held, unit="calls", baseline=32,
               against="max_calls", goal=">= 32", met=held >= 32)
        if p99 is not None:
            record(f"PCM lateness p99, {held} SIP IVR calls", p99, unit="ms", goal="<= 20 ms", met=p99 <= 20.0)
    finally:
        for run in runs:
            run.kill()
        if box is not None:
            box.stop()
        app.close()
