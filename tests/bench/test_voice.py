"""Benchmark of the voice path on the simulator (8 simulated lines, the daemon as a subprocess):

- answer -> first voiced frame at the handset for Speak (uncached, cached), Play of a local file and Play of a
  cached URL; the baseline is the first frame of any kind (the pump's start), measured on the same calls;
- PCM pacing with 1, 4 and 8 concurrent calls, each speaking, then recording while its handset plays: the PCM
  pump's frame lateness (when each frame's write returned, after its 20 ms slot began) as the pump logs it;
  the 1-call figures are the baseline of the 4- and 8-call ones, and of the first call, whose prompt is being
  synthesized while it plays; and CPU seconds per minute of call audio;
- Record: the recording's voiced duration against the tone the handset played;
- barge-in: from the key press to the first silent frame at the handset (the prompt is a steady tone).

Each call is placed the moment the gateway lists the one before as over (no pause: a redial must work).
Timings at the handset are taken within a millisecond: the simulated modem reads its audio port as frames
arrive. Run under PIGATE_BENCH_BUDGET=pi4 for the Pi-sized figures (tests/bench/budget.py).
"""

from __future__ import annotations

import statistics
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pigate.sim import LatencyProfile
from pigate.sim import audio as simaudio
from tests.bench.box import Box, handset_number, wait_for
from tests.bench.report import record

REPS = 3
SPEECH = ("Thank you for calling. This is a long announcement, read by the gateway while it records what you say, "
          "so that both directions of the audio port carry sound for several seconds.")


def write_tone_wav(path: Path, seconds: float, freq: float = 440.0) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(simaudio.tone(freq, seconds))


class WavServer:
    """A loopback web server handing out one WAV file (Play's URL source)."""

    def __init__(self, path: Path) -> None:
        body = path.read_bytes()
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/prompt.wav"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def first_voiced(box: Box, who: str, ozml: str) -> tuple[float, float]:
    """(answer -> first voiced frame, answer -> first frame) in ms for one call, which then ends."""
    n = len(box.net.handset(who).calls)
    box.call(who, ozml)
    hc = box.handset_call(who, after=n)
    wait_for(lambda: hc.first_voiced_at, 15, "a voiced frame")
    hc.hangup()
    box.idle()  # and the next call is placed the moment this one is over
    return (hc.first_voiced_at - hc.answered_at) * 1000, (hc.first_heard_at - hc.answered_at) * 1000


def test_voice_path(tmp_path):
    box = Box(tmp_path, lines=8, latency=LatencyProfile(call_setup=0.05, answer=0.1))
    try:
        _first_voiced_frame(box, tmp_path)
        _pacing(box)
        _record(box)
        _barge_in(box)
    finally:
        box.stop()


def _first_voiced_frame(box: Box, tmp_path: Path) -> None:
    who = handset_number(0)
    prompt = tmp_path / "prompt.wav"
    write_tone_wav(prompt, 1.0)
    (box.data / "content" / "prompt.wav").write_bytes(prompt.read_bytes())
    web = WavServer(prompt)
    try:
        cases: dict[str, list[tuple[float, float]]] = {k: [] for k in ("uncached", "cached", "file", "url")}
        cached_text = "Your call is important to us."
        first_voiced(box, who, f"<Response><Speak>{cached_text}</Speak></Response>")  # into the TTS cache
        first_voiced(box, who, f"<Response><Play>{web.url}</Play></Response>")         # into the URL cache
        for rep in range(REPS):
            cases["uncached"].append(first_voiced(
                box, who, f"<Response><Speak>Hello, order {rep}{int(time.time()) % 97} has shipped.</Speak></Response>"))
            cases["cached"].append(first_voiced(box, who, f"<Response><Speak>{cached_text}</Speak></Response>"))
            cases["file"].append(first_voiced(box, who, "<Response><Play>prompt.wav</Play></Response>"))
            cases["url"].append(first_voiced(box, who, f"<Response><Play>{web.url}</Play></Response>"))
        assert web.hits == 1, "Play of a cached URL fetched it again"
    finally:
        web.close()
    goals = {"uncached": 100.0, "cached": 30.0, "file": 30.0, "url": 30.0}
    names = {"uncached": "Speak uncached", "cached": "Speak cached", "file": "Play local file",
             "url": "Play cached URL"}
    for key, samples in cases.items():
        voiced = statistics.median(v for v, _ in samples)
        start = statistics.median(s for _, s in samples)
        record(f"answer -> first voiced frame, {names[key]} (median of {REPS})", voiced, unit="ms", baseline=start,
               against="first frame", goal=f"<= {goals[key]:.0f} ms", met=voiced <= goals[key])


def _pacing(box: Box) -> None:
    ozml = f'<Response><Speak>{SPEECH}</Speak><Record Format="wav" Duration="3"/></Response>'
    one: dict[str, float] = {}
    # The first call also synthesizes the speech (espeak-ng and sox stream it while it plays): its pacing is a
    # figure of its own; the 1, 4 and 8 calls after it play the cached prompt.
    who = handset_number(0)
    before = len(box.net.handset(who).calls)
    first = box.call(who, ozml)
    box.handset_call(who, after=before).wait_state("ended", timeout=40)
    synth = box.pacing(first)
    box.idle()
    for n in (1, 4, 8):
        whos = [handset_number(i) for i in range(n)]
        befores = [len(box.net.handset(w).calls) for w in whos]
        cpu0, t0 = box.cpu(), time.monotonic()
        ids = [box.call(w, ozml) for w in whos]
        calls = [box.handset_call(w, after=b) for w, b in zip(whos, befores)]
        for hc in calls:
            hc.play_tone(300.0, 12.0)  # the handset talks all the time: the pump reads as it writes
        for hc in calls:
            hc.wait_state("ended", timeout=40)
        pacing = [box.pacing(i) for i in ids]
        box.idle()
        cpu, wall = box.cpu() - cpu0, time.monotonic() - t0
        audio_minutes = sum(p.frames for p in pacing) * 0.02 / 60
        p50 = statistics.median(p.p50 for p in pacing)
        p99 = max(p.p99 for p in pacing)
        worst = max(p.max for p in pacing)
        assert all(hc.heard_voiced_seconds() > 3 for hc in calls), "a handset heard too little of the speech"
        if n == 1:
            one = {"p50": p50, "p99": p99, "max": worst}
            # the pump must not wait for the prompt's synthesis: against the same call with the prompt cached
            for what, value in (("p99", synth.p99), ("max", synth.max)):
                record(f"PCM lateness {what}, 1 call while its prompt is synthesized", value, unit="ms",
                       baseline=one[what], against="1 call, prompt cached")
        label = f"{n} call{'s' if n > 1 else ''}"
        record(f"PCM lateness p50, {label}", p50, unit="ms", baseline=one["p50"], against="1 call")
        record(f"PCM lateness p99, {label}", p99, unit="ms", baseline=one["p99"], against="1 call",
               goal="<= 20 ms" if n == 8 else "", met=(p99 <= 20.0) if n == 8 else None)
        record(f"PCM lateness max, {label}", worst, unit="ms", baseline=one["max"], against="1 call")
        if n == 8:
            record("CPU per minute of call audio, 8 calls", cpu / audio_minutes, unit="s",
                   against=f"{wall:.0f} s wall, priority {pacing[0].priority}")


def _record(box: Box) -> None:
    who = handset_number(1)
    n = len(box.net.handset(who).calls)
    recordings = box.data / "recordings"
    before = set(recordings.glob("*.wav")) if recordings.exists() else set()
    box.call(who, '<Response><Speak>Speak after this.</Speak><Record Format="wav" Inactivity="1" Duration="20"/>'
                  '</Response>')
    hc = box.handset_call(who, after=n)
    # espeak-ng ends a prompt with some silence; the recording starts once that has played too
    wait_for(lambda: hc.last_voiced_at and time.monotonic() - hc.last_voiced_at > 1.0, 15, "the prompt to end")
    played = hc.play_tone(440.0, 3.0)
    hc.wait_state("ended", timeout=20)
    box.idle()
    new = wait_for(lambda: set(recordings.glob("*.wav")) - before, 10, "the recording")
    recorded = simaudio.voiced_seconds(simaudio.load_wav(new.pop()))
    ratio = recorded / played
    record("Record: voiced seconds recorded / played", recorded, unit="s", baseline=played, against="played",
           goal="0.98-1.02", met=0.98 <= ratio <= 1.02)


def _barge_in(box: Box) -> None:
    who = handset_number(2)
    write_tone_wav(box.data / "content" / "long.wav", 10.0)
    samples = []
    for _ in range(REPS):
        n = len(box.net.handset(who).calls)
        # The prompt is a 10 s tone (speech has gaps a key press could fall into)
        box.call(who, '<Response><UserInput Timeout="20"><InitialCommands><Play>long.wav</Play>'
                      '</InitialCommands><Inputs><Input Key="1"><Delay>1</Delay><Hangup/></Input></Inputs>'
                      '</UserInput></Response>')
        hc = box.handset_call(who, after=n)
        wait_for(lambda: hc.first_voiced_at and time.monotonic() - hc.first_voiced_at > 1.0, 15, "the prompt")
        pressed = time.monotonic()
        hc.press("1")
        hc.wait_state("ended", timeout=15)
        samples.append((hc.silent_since(pressed) - pressed) * 1000)
        box.idle()
    value = statistics.median(samples)
    record(f"barge-in: key press -> end of prompt (median of {REPS})", value, unit="ms")
