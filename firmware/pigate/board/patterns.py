"""What the status LEDs should show: pure functions from line and SIP account states and time to pin levels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Literal

LEDS = ("power", "network", "activity")

Pattern = Literal["off", "fast", "slow", "on"]

BUSY_STATES = frozenset({"initializing", "searching", "recovering", "down"})
SIM_STATES = frozenset({"sim_missing", "sim_locked"})
TRUNK_REFUSED = "refused"        # a SIP account whose registrar refused its credentials (pigate.sip.status)
TRUNK_REGISTERED = "registered"


@dataclass(frozen=True)
class LedTimings:
    """Blink timings in seconds. Fast means "working on it", slow means "a person is needed"; the two
    rates are far enough apart (5 Hz against 0.5 Hz) to tell apart at a glance."""

    fast_period: float = 0.2
    slow_period: float = 2.0
    activity_on: float = 0.08   # one blink per SMS or call event
    activity_gap: float = 0.08  # dark time between two blinks, so a burst shows as separate blinks
    activity_backlog: int = 3   # at most this many blinks owed: a burst never keeps the LED busy for long

    def __post_init__(self) -> None:
        if min(self.fast_period, self.slow_period, self.activity_on, self.activity_gap) <= 0:
            raise ValueError("LED timings must be > 0")


def network_pattern(states: Iterable[str], trunks: Iterable[str] = ()) -> Pattern:
    """The network LED for these line states and registered SIP accounts' states (a SIP account counts as a
    line does, its registration as the line's): off when nothing is up at all (no line, or every line down,
    and no SIP account), slow blink when any SIM or SIP account needs a person (the registrar refused the
    account's credentials), fast blink when any line is coming up, searching, recovering or down or any account
    is registering or not registered (it retries), steady when all are registered. A mix shows the worst, so
    one good line never hides another's problem."""
    states, trunks = list(states), list(trunks)
    if all(s == "down" for s in states) and not trunks:
        return "off"
    if any(s in SIM_STATES for s in states) or TRUNK_REFUSED in trunks:
        return "slow"
    if any(s != "registered" for s in states) or any(t != TRUNK_REGISTERED for t in trunks):
        return "fast"
    return "on"


def blink_level(pattern: Pattern, since: float, now: float, timings: LedTimings) -> tuple[bool, float]:
    """The level of a pattern that began at `since`, at `now`, and when it next changes (inf: never).
    A blink starts lit, so a new state shows at once."""
    if pattern == "off":
        return False, math.inf
    if pattern == "on":
        return True, math.inf
    half = (timings.fast_period if pattern == "fast" else timings.slow_period) / 2
    # The epsilon keeps an edge computed as due from landing a rounding error short of it.
    n = math.floor(max(0.0, now - since) / half + 1e-9)
    return n % 2 == 0, since + (n + 1) * half
