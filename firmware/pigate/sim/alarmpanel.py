"""Contact ID in the simulator: an alarm panel (a handset that calls the gateway's receiver and reports events)
and an alarm receiver (a handset that takes the gateway's SendAlarmNotification calls).

It waits for the receiver's handshake (1400 Hz then 2300 Hz) in the audio it hears, sends each block as DTMF,
and waits for the 1400 Hz kissoff; a block without a kissoff is sent again (at most `attempts` times), as real
panels do. `corrupt` lists blocks whose first attempt goes out with a wrong checksum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from pigate.alarm.contactid import (BLOCK_LENGTH, HANDSHAKE_HZ, KISSOFF_HZ, WEIGHTS, checksum_ok, handshake_pcm,
                                    kissoff_pcm)
from pigate.alarm.tones import ToneListener
from pigate.sim.handset import SimTimeout


@dataclass
class PanelReport:
    handshake: bool = False
    sent: list[str] = field(default_factory=list)        # every attempt, in order
    acknowledged: list[str] = field(default_factory=list)


def heard_since_last(call) -> Callable[[], bytes]:
    """A read() for ToneListener over a HandsetCall: what it heard since the previous read."""
    offset = [len(call.heard_pcm)]

    def read() -> bytes:
        pcm = call.heard_pcm
        new, offset[0] = pcm[offset[0]:], len(pcm)
        return new

    return read


def corrupted(block: str) -> str:
    """The block with its last digit replaced so that the checksum fails."""
    last = next(d for d in WEIGHTS if d != block[-1])
    return block[:-1] + last


class AlarmPanel:
    def __init__(self, *, call, blocks: Sequence[str], corrupt: Sequence[int] = (), attempts: int = 4) -> None:
        """`call` is a HandsetCall to the receiver (pigate.sim.handset)."""
        self._call, self._blocks, self._corrupt, self._attempts = call, list(blocks), set(corrupt), attempts

    def run(self, *, answer_timeout: float = 10.0) -> PanelReport:
        report = PanelReport()
        call = self._call
        call.wait_state("active", timeout=answer_timeout)
        ear = ToneListener(heard_since_last(call))
        report.handshake = (ear.wait_tone(HANDSHAKE_HZ[0], min_ms=60, timeout=5.0)
                            and ear.wait_tone(HANDSHAKE_HZ[1], min_ms=60, timeout=1.0))
        if not report.handshake:
            call.hangup()
            return report
        for i, block in enumerate(self._blocks):
            for attempt in range(self._attempts):
                digits = corrupted(block) if attempt == 0 and i in self._corrupt else block
                time.sleep(0.25)                     # the pause before a block
                call.press(digits)
                report.sent.append(digits)
                if ear.wait_tone(KISSOFF_HZ, min_ms=400, timeout=2.5):
                    report.acknowledged.append(digits)
                    ear.wait_end(KISSOFF_HZ, timeout=2.0)
                    break
        call.hangup()
        return report


class AlarmReceiver:
    """A handset acting as a central station's receiver for a call the gateway places to it: it sends the
    handshake, and a kissoff for each valid 16-digit block it hears (none for a bad one)."""

    def __init__(self, *, call) -> None:
        """`call` is the HandsetCall of the gateway's call to this handset (answered by its behaviour)."""
        self._call = call

    def run(self, *, answer_timeout: float = 10.0, block_timeout: float = 10.0) -> list[str]:
        """The valid blocks received, until the gateway hangs up or no block comes within `block_timeout`."""
        call = self._call
        call.wait_state("active", timeout=answer_timeout)
        time.sleep(0.5)
        call.play_pcm(handshake_pcm())
        got: list[str] = []
        seen = len(call.dtmf_received)
        while call.state == "active":
            try:
                digits = call.wait_dtmf(seen + BLOCK_LENGTH, timeout=block_timeout)
            except SimTimeout:
                break
            block, seen = digits[seen:seen + BLOCK_LENGTH], seen + BLOCK_LENGTH
            if checksum_ok(block):
                got.append(block)
                call.play_pcm(kissoff_pcm())
        return got
