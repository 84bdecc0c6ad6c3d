"""Benchmark: a call's PCM pacing while the HTTP API is flooded, against the same call on a quiet box.

One GSM call speaks a cached prompt, then records while its handset talks (as in test_voice's pacing); during
every other such call wrk (or the Python client) sends ListExtensions over 50 keep-alive connections for as long
as the call lasts. The pump's frame lateness (its own log) of the quiet calls is the baseline. The HTTP workers
and the pump share one interpreter lock: this shows what a flood costs a call.
"""

from __future__ import annotations

import statistics
import threading

from tests.bench.box import Box, handset_number
from tests.bench.load import LoadResult, run_load
from tests.bench.report import record
from tests.bench.test_voice import SPEECH
from pigate.sim import LatencyProfile

CONNECTIONS = 50
FLOOD_SECONDS = 10.0
REPS = 3


def _one_call(box: Box, ozml: str, *, flood: bool) -> tuple[object, LoadResult | None]:
    who = handset_number(0)
    before = len(box.net.handset(who).calls)
    call_id = box.call(who, ozml)
    hc = box.handset_call(who, after=before)
    hc.play_tone(300.0, 12.0)
    load: list[LoadResult] = []
    worker = None
    if flood:
        port = int(box.base.rsplit(":", 1)[1])
        worker = threading.Thread(target=lambda: load.append(run_load(
            "127.0.0.1", port, "/api?command=ListExtensions", connections=CONNECTIONS, seconds=FLOOD_SECONDS)))
        worker.start()
    hc.wait_state("ended", timeout=40)
    if worker is not None:
        worker.join(FLOOD_SECONDS + 30)
    pacing = box.pacing(call_id)
    box.idle()
    assert hc.heard_voiced_seconds() > 3, "the handset heard too little of the speech"
    return pacing, (load[0] if load else None)


def test_pacing_under_http_flood(tmp_path):
    box = Box(tmp_path, lines=1, latency=LatencyProfile(call_setup=0.05, answer=0.1))
    quiet, flooded, loads = [], [], []
    try:
        ozml = f'<Response><Speak>{SPEECH}</Speak><Record Format="wav" Duration="3"/></Response>'
        _one_call(box, ozml, flood=False)  # the prompt into the cache
        for _ in range(REPS):  # alternating, so that the machine's other load falls on both alike
            quiet.append(_one_call(box, ozml, flood=False)[0])
            pacing, load = _one_call(box, ozml, flood=True)
            flooded.append(pacing)
            loads.append(load)
    finally:
        box.stop()
    assert all(load is not None and load.requests > 0 for load in loads)
    rps = statistics.median(load.rps for load in loads)
    record(f"HTTP flood during a call: ListExtensions req/s, {CONNECTIONS} connections (median of {REPS})", rps,
           unit="req/s", against=f"{loads[0].tool}, {sum(load.errors for load in loads)} errors")
    for what in ("p50", "p99", "max"):
        record(f"PCM lateness {what}, 1 call under the HTTP flood (median of {REPS})",
               statistics.median(getattr(p, what) for p in flooded), unit="ms",
               baseline=statistics.median(getattr(p, what) for p in quiet), against="1 call, quiet")
