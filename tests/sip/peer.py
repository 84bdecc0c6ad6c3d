"""A second pjsua2 process for the SIP tests (one pjsua2 Endpoint per process), driven over stdin/stdout.

It runs pigate's SipDriver with the gateway under test as its peer `gw`, answers calls (or rejects them with 486,
or lets them ring: --answer), sends a tone from a frame port and reports the strongest of a few test frequencies
in what it receives.
Commands, one JSON object per line on stdin: {"cmd": "dial", "target": "123"}, {"cmd": "dtmf", "digits": "12",
"method": "info"}, {"cmd": "hold"}, {"cmd": "unhold"}, {"cmd": "hangup"}, {"cmd": "tone"} (report the received
tone), {"cmd": "level", "ms": 500} (the RMS of the last ms received), {"cmd": "burst", "hz": 1000, "ms": 300}
(send a tone burst now instead of the steady tone; answers Burst with when its first frame went to the port),
{"cmd": "onset", "after": T} (answers Onset with when the first voiced frame after monotonic time T arrived, or
null), {"cmd": "panel", "target": "100", "blocks": [...]} (a Contact ID panel's call: handshake, blocks,
kissoffs; reports PanelReport), {"cmd": "quit"}.
With --alarm receiver it is a Contact ID central station on the calls it answers (reports AlarmBlock).
Each event or answer is one JSON line on stdout, with `at`: the peer's time.monotonic() when it was written
(the same clock as the test's on Linux).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from array import array
from collections import deque

from pigate.alarm.contactid import BLOCK_LENGTH, HANDSHAKE_HZ, KISSOFF_HZ, checksum_ok, handshake_pcm, kissoff_pcm
from pigate.alarm.tones import ToneListener
from pigate.config import SipPeer
from pigate.media.dtmf import tone_pcm
from pigate.sip import FRAME_BYTES, Answered, Digit, Ended, SipCall, SipDriver

PROBE = (400, 600, 1000, 1400)


def goertzel(pcm: bytes, hz: float, rate: int = 8000) -> float:
    samples = array("h", pcm)
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples)) ** 2


def strongest(pcm: bytes) -> tuple[int, float]:
    powers = {hz: goertzel(pcm, hz) for hz in PROBE}
    best = max(powers, key=powers.get)
    rest = sorted(powers.values())[-2] or 1e-9
    return best, powers[best] / rest


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.lock = threading.Lock()
        self.call: SipCall | None = None
        self.answer = args.answer
        self.driver = SipDriver(listen=args.listen, port=args.port, max_calls=8,
                                peers=[SipPeer(name="gw", address=f"127.0.0.1:{args.gateway_port}")],
                                on_incoming=self.incoming)
        self.tone = tone_pcm((args.tone,), 20 * 1000, amplitude=0.3) if args.tone else b""
        self.received = bytearray()
        self.arrivals: deque[tuple[float, bool]] = deque(maxlen=3000)  # (arrival, voiced) per received frame
        self.burst: list[bytes] = []
        self.burst_at: float | None = None
        self.burst_sent = threading.Event()
        self.stop = threading.Event()
        self.alarm = args.alarm
        self.media_lock = threading.Lock()
        self.inject = bytearray()     # PCM to send before the tone (Contact ID handshake and kissoffs)
        self.ear = bytearray()        # everything received since the alarm code last read it
        self.digits = ""
        self.digit_times: list[float] = []
        self.answered = threading.Event()

    def out(self, **msg: object) -> None:
        with self.lock:
            sys.stdout.write(json.dumps({**msg, "at": time.monotonic()}) + "\n")
            sys.stdout.flush()

    def event(self, ev: object) -> None:
        name = type(ev).__name__
        extra = {k: v for k, v in vars(ev).items() if k != "call"} if hasattr(ev, "__dict__") else {}
        self.out(event=name, **extra)
        if isinstance(ev, Answered):
            ev.call.connect(self.port)  # not self.call: dial() may not have returned yet
            self.answered.set()
            if self.alarm == "receiver" and ev.call.direction == "in":
                threading.Thread(target=self.alarm_receiver, daemon=True).start()
        elif isinstance(ev, Digit):
            with self.media_lock:
                self.digits += ev.digit
                self.digit_times.append(time.monotonic())

    def play(self, pcm: bytes) -> None:
        with self.media_lock:
            self.inject += pcm

    def heard(self) -> bytes:
        with self.media_lock:
            data, self.ear = bytes(self.ear), bytearray()
        return data

    def alarm_receiver(self) -> None:
        """A Contact ID central station on the answered call: handshake, a kissoff for each valid block."""
        time.sleep(0.5)
        self.play(handshake_pcm())
        seen = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not self.stop.is_set():
            with self.media_lock:
                block = self.digits[seen:seen + BLOCK_LENGTH]
            if len(block) < BLOCK_LENGTH:
                time.sleep(0.02)
                continue
            seen += BLOCK_LENGTH
            ok = checksum_ok(block)
            if ok:
                self.play(kissoff_pcm())
            with self.media_lock:
                took = self.digit_times[seen - 1] - self.digit_times[seen - BLOCK_LENGTH]
            self.out(event="AlarmBlock", block=block, ok=ok, seconds=round(took, 3))

    def panel(self, target: str, blocks: list[str]) -> None:
        """A Contact ID panel: call `target`, wait for the handshake, send each block, wait for its kissoff."""
        self.answered.clear()
        call = self.driver.dial(target, trunk="gw", caller_id="alarmpanel", listener=self.event)
        report = {"handshake": False, "acknowledged": []}
        if self.answered.wait(10):
            self.heard()
            ear = ToneListener(self.heard)
            report["handshake"] = (ear.wait_tone(HANDSHAKE_HZ[0], min_ms=60, timeout=6.0)
                                   and ear.wait_tone(HANDSHAKE_HZ[1], min_ms=60, timeout=1.5))
            for block in blocks if report["handshake"] else ():
                time.sleep(0.25)
                call.send_dtmf(block)
                if ear.wait_tone(KISSOFF_HZ, min_ms=400, timeout=6.0):
                    report["acknowledged"].append(block)
                    ear.wait_end(KISSOFF_HZ, timeout=2.0)
        call.hangup()
        self.out(event="PanelReport", **report)

    def incoming(self, call: SipCall) -> None:
        self.out(event="Incoming", caller=call.caller, called=call.called, trunk=call.trunk)
        if self.answer == "reject":
            call.reject(486)
            return
        self.call = call
        call.listen(self.event)
        call.ringing()
        if self.answer == "answer":
            call.answer()  # "ring": it rings until the caller gives up

    def pump(self) -> None:
        """Feeds the tone (or a burst, then silence), paced at 20 ms."""
        i = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            with self.media_lock:
                injected, self.inject = bytes(self.inject[:FRAME_BYTES]), self.inject[FRAME_BYTES:]
            if injected:
                self.port.write(injected.ljust(FRAME_BYTES, b"\0"))
            elif self.burst:
                if self.burst_at is None:
                    self.burst_at = time.monotonic()
                    self.burst_sent.set()
                self.port.write(self.burst.pop(0))
            elif self.tone:
                self.port.write(self.tone[i:i + FRAME_BYTES])
                i = (i + FRAME_BYTES) % (len(self.tone) - FRAME_BYTES)
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))

    def listen(self) -> None:
        """Collects received audio, each frame timestamped as it arrives."""
        while not self.stop.is_set():
            frame = self.port.read(0.1)
            if frame is None:
                continue
            samples = array("h", frame)
            rms = math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))
            self.arrivals.append((time.monotonic(), rms > 300))
            self.received += frame
            del self.received[:-16000]
            with self.media_lock:
                self.ear += frame
                del self.ear[:-80000]

    def run(self) -> None:
        self.driver.start()
        self.port = self.driver.frame_port("peer")
        pump = threading.Thread(target=self.pump, daemon=True)
        pump.start()
        listener = threading.Thread(target=self.listen, daemon=True)
        listener.start()
        self.out(event="Ready")
        try:
            for line in sys.stdin:
                cmd = json.loads(line)
                try:
                    if not self.command(cmd):
                        break
                except Exception as exc:  # reported to the test, which decides
                    self.out(event="Error", error=str(exc))
        finally:
            self.stop.set()
            pump.join(2)
            listener.join(2)
            self.driver.stop()
            self.out(event="Stopped")

    def command(self, cmd: dict) -> bool:
        what = cmd["cmd"]
        if what == "quit":
            return False
        if what == "dial":
            self.out(event="Dialing")
            self.call = self.driver.dial(cmd["target"], trunk="gw", caller_id=cmd.get("caller_id", ""),
                                         listener=self.event)
        elif what == "dtmf":
            self.call.send_dtmf(cmd["digits"], method=cmd.get("method", "rfc2833"))
        elif what == "hold":
            self.call.hold()
        elif what == "unhold":
            self.call.unhold()
        elif what == "hangup":
            self.call.hangup()
        elif what == "panel":
            threading.Thread(target=self.panel, args=(cmd["target"], cmd["blocks"]), daemon=True).start()
        elif what == "level":
            tail = bytes(self.received[-16 * int(cmd.get("ms", 500)):])
            samples = array("h", tail[:len(tail) // 2 * 2])
            rms = math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))
            self.out(event="Level", rms=rms, bytes=len(tail))
        elif what == "burst":
            pcm = tone_pcm((cmd.get("hz", 1000),), int(cmd.get("ms", 300)), amplitude=0.3)
            self.burst_at = None
            self.burst_sent.clear()
            self.burst = [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)]
            self.burst_sent.wait(1)
            self.out(event="Burst", sent=self.burst_at)
        elif what == "onset":
            after = float(cmd["after"])
            self.out(event="Onset", heard=next((t for t, v in list(self.arrivals) if t >= after and v), None))
        elif what == "tone":
            hz, ratio = strongest(bytes(self.received[-8000:]))
            self.out(event="Tone", hz=hz, ratio=ratio, bytes=len(self.received))
        self.out(event="Ok", cmd=what)
        return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--gateway-port", type=int, required=True)
    ap.add_argument("--tone", type=int, default=0)
    ap.add_argument("--answer", choices=("answer", "reject", "ring"), default="answer")
    ap.add_argument("--alarm", choices=("", "receiver"), default="",
                    help="receiver: act as a Contact ID central station on the calls it answers")
    Peer(ap.parse_args()).run()


if __name__ == "__main__":
    main()
