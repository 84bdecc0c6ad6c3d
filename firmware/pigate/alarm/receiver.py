"""The alarm receiver's side of a Contact ID call, on any Leg: handshake, blocks read from the keypad, a
kissoff for each valid block once it is handed on, silence for a bad one (the panel repeats it), until the panel
hangs up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from pigate.alarm.contactid import BLOCK_LENGTH, AlarmEvent, ContactIdError, handshake_pcm, kissoff_pcm, parse_block
from pigate.ozml.leg import Leg

log = logging.getLogger(__name__)

DIGIT_GAP = 1.0       # seconds between two digits of a block, at most (panels send 10 per second)
HANDSHAKE_DELAY = 0.5  # silence after answering before the handshake (the standard: 0.5-2 s)


@dataclass
class ReceiverReport:
    events: list[AlarmEvent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # blocks heard with a bad checksum (no kissoff)


def receive(leg: Leg, *, on_event: Callable[[AlarmEvent], None], wait: float = 10.0,
            stopped: Callable[[], bool] = lambda: False, handshakes: int = 2) -> ReceiverReport:
    """Run the receiver until the panel hangs up, or `wait` seconds pass without a digit (after sending the
    handshake up to `handshakes` times). `on_event` is called for each valid block before its kissoff (it
    should only commit the event, quickly: the panel waits for the kissoff)."""
    report = ReceiverReport()
    keypad = leg.keypad
    keypad.sleep(HANDSHAKE_DELAY)
    keypad.clear()
    leg.play_pcm(handshake_pcm())
    sent_handshakes = 1
    while not keypad.closed and not stopped():
        first = keypad.get(wait)
        if first is None:
            if keypad.closed or report.events or report.refused or sent_handshakes >= handshakes:
                break
            leg.play_pcm(handshake_pcm())  # the panel may have missed it
            sent_handshakes += 1
            continue
        block = first
        while len(block) < BLOCK_LENGTH:
            digit = keypad.get(DIGIT_GAP)
            if digit is None:
                break
            block += digit
        try:
            event = parse_block(block)
        except ContactIdError as exc:
            log.warning("alarm call %s: %s; no kissoff, the panel repeats", leg.id, exc)
            report.refused.append(block)
            continue
        report.events.append(event)
        log.info("alarm call %s: account %s event %s (%s) partition %s zone %s", leg.id, event.account,
                 event.event_code, event.kind, event.partition, event.zone)
        on_event(event)              # committed before the kissoff: what the panel sees acknowledged is on disk
        leg.play_pcm(kissoff_pcm())
    return report
