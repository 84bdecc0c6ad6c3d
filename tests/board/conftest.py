"""Fixtures for the board tests: a real event bus, MemoryPins, and StatusLeds on fast timings."""

from __future__ import annotations

import time

import pytest

from pigate.board.gpio import MemoryPins
from pigate.board.leds import StatusLeds
from pigate.board.patterns import LedTimings
from pigate.events import EventBus

POWER, NETWORK, ACTIVITY = 17, 27, 22
LAYOUT = {"power": POWER, "network": NETWORK, "activity": ACTIVITY}
# Ten times the product's rates, so a test sees several blinks in a fraction of a second.
FAST_TIMINGS = LedTimings(fast_period=0.1, slow_period=0.4, activity_on=0.03, activity_gap=0.03)


@pytest.fixture
def bus():
    b = EventBus()
    b.start()
    yield b
    b.stop()


@pytest.fixture
def leds_factory(bus):
    """`leds_factory(layout=..., timings=...)` -> (StatusLeds started, MemoryPins); stopped afterwards."""
    made: list[StatusLeds] = []

    def make(layout=None, timings=FAST_TIMINGS):
        pins = MemoryPins()
        leds = StatusLeds(pins=pins, layout=LAYOUT if layout is None else layout, bus=bus, timings=timings)
        leds.start()
        made.append(leds)
        return leds, pins

    yield make
    for leds in made:
        leds.stop()


def intervals(pins: MemoryPins, pin: int, since: float) -> list[float]:
    """Seconds between successive level changes of `pin` after `since`."""
    edges = [w.at for w in pins.edges(pin, since=since)]
    return [b - a for a, b in zip(edges, edges[1:])]


def wait_until(predicate, timeout: float = 5.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step)
