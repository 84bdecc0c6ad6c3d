"""The panel's side of a Contact ID call, on any Leg: wait for the receiver's handshake, send each block as DTMF,
and wait for its kissoff; a block that gets none is sent again, at most `attempts` times."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

from pigate.alarm.contactid import HANDSHAKE_HZ, KISSOFF_HZ
from pigate.alarm.tones import ToneListener
from pigate.ozml.leg import Leg

log = logging.getLogger(__name__)

LISTEN = 0.1  # seconds of call audio read at a time


@dataclass
class SenderReport:
    handshake: bool = False
    attempts: int = 0
    acknowledged: list[str] = field(default_factory=list)


def send(leg: Leg, blocks: Sequence[str], *, attempts: int = 4, handshake_timeout: float = 10.0,
         kissoff_timeout: float = 2.5) -> SenderReport:
    report = SenderReport()
    ear = ToneListener(lambda: leg.hear(LISTEN), idle=0)
    report.handshake = (ear.wait_tone(HANDSHAKE_HZ[0], min_ms=60, timeout=handshake_timeout)
                        and ear.wait_tone(HANDSHAKE_HZ[1], min_ms=60, timeout=1.5))
    if not report.handshake:
        log.warning("alarm call %s: no Contact ID handshake from the receiver", leg.id)
        return report
    for block in blocks:
        for _ in range(attempts):
            if leg.keypad.closed:
                return report
            leg.send_dtmf(block)
            report.attempts += 1
            if ear.wait_tone(KISSOFF_HZ, min_ms=400, timeout=kissoff_timeout):
                report.acknowledged.append(block)
                ear.wait_end(KISSOFF_HZ, timeout=2.0)
                break
            log.info("alarm call %s: no kissoff for %s, sending it again", leg.id, block)
    return report
