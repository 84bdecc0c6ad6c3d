"""A simulated alarm panel: a handset that calls an alarm receiver and reports events in Contact ID.

It waits for the receiver's handshake (1400 Hz then 2300 Hz) in the audio it hears, sends each block as DTMF,
and waits for the 1400 Hz kissoff; a block without a kissoff is sent again (at most `attempts` times), as real
panels do. `corrupt` lists blocks whose first attempt goes out with a wrong checksum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from pigate.alarm.contactid import HANDSHAKE_HZ, KISSOFF_HZ, WEIGHTS
from pigate.media.dtmf import tone_share

FRAME = 320          # 20 ms of 8 kHz s16le
PRESENT = 0.5        # a frame carries the tone when at least half its energy is that tone


@dataclass
class PanelReport:
    handshake: bool = False
    sent: list[str] = field(default_factory=list)        # every attempt, in order
    acknowledged: list[str] = field(default_factory=list)


class _Listener:
    """Reads what the handset hears, 20 ms at a time, from where it last stopped."""

    def __init__(self, heard: Callable[[], bytes]) -> None:
        self._heard, self._offset = heard, len(heard())

    def wait_tone(self, freq: float, *, min_ms: int, timeout: float) -> bool:
        """True once `freq` was heard for `min_ms` in a row within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        run = 0
        while time.monotonic() < deadline:
            pcm = self._heard()
            while self._offset + FRAME <= len(pcm):
                frame = pcm[self._offset:self._offset + FRAME]
                self._offset += FRAME
                run = run + 20 if tone_share(frame, freq) >= PRESENT else 0
                if run >= min_ms:
                    return True
            time.sleep(0.02)
        return False

    def wait_end(self, freq: float, *, timeout: float) -> None:
        """Until a frame without `freq` was heard (the rest of a tone must not count as the next one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pcm = self._heard()
            while self._offset + FRAME <= len(pcm):
                frame = pcm[self._offset:self._offset + FRAME]
                self._offset += FRAME
                if tone_share(frame, freq) < PRESENT:
                    return
            time.sleep(0.02)


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
        ear = _Listener(lambda: call.heard_pcm)
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
