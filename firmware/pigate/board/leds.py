"""The status LEDs: follows the lines' and SIP accounts' events and drives power, network and activity from one
thread."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Callable, Mapping

from pigate.errors import ConfigError
from pigate.events import Event, EventBus
from pigate.modem.events import MODEM_CALL, MODEM_SMS, StateChanged
from pigate.sip.status import TrunkChanged

from .gpio import Pins
from .patterns import LEDS, LedTimings, Pattern, blink_level, network_pattern

log = logging.getLogger(__name__)


class StatusLeds:
    """`power` is lit while the daemon runs; `network` shows the lines and the registered SIP accounts (see
    `network_pattern`); `activity`
    blinks once per SMS or call event. LEDs missing from `layout` are skipped.

    Event handlers only record state and wake the pattern thread; that one thread computes every LED's
    level and writes only the pins whose level changes.
    """

    def __init__(self, *, pins: Pins, layout: Mapping[str, int], bus: EventBus,
                 timings: LedTimings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        unknown = sorted(set(layout) - set(LEDS))
        if unknown:
            raise ConfigError(f"unknown LED {unknown[0]!r}; the LEDs are {', '.join(LEDS)}")
        self._pins, self._bus, self._clock = pins, bus, clock
        self._layout = {name: pin for name, pin in layout.items()}
        self._timings = timings or LedTimings()
        self._cond = threading.Condition()
        self._lines: dict[str, str] = {}
        self._trunks: dict[str, str] = {}
        self._pattern: Pattern = "off"
        self._pattern_since = 0.0
        self._owed = 0            # activity blinks still to show
        self._lit_until = -math.inf
        self._dark_until = -math.inf
        self._running = False
        self._dirty = False
        self._written: dict[str, bool] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None

    # -- state, for the status page and tests ------------------------------------------------------
    @property
    def network(self) -> Pattern:
        with self._cond:
            return self._pattern

    def lines(self) -> dict[str, str]:
        with self._cond:
            return dict(self._lines)

    def trunks(self) -> dict[str, str]:
        with self._cond:
            return dict(self._trunks)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        for name in LEDS:
            if name in self._layout:
                self._pins.setup_output(self._layout[name])
        with self._cond:
            self._running = True
            self._written.clear()
        self._unsubscribe = [self._bus.subscribe(StateChanged, self._on_state),
                             self._bus.subscribe(TrunkChanged, self._on_trunk),
                             self._bus.subscribe(MODEM_SMS, self._on_activity),
                             self._bus.subscribe(MODEM_CALL, self._on_activity)]
        self._thread = threading.Thread(target=self._run, name="status-leds", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following events and turn every LED off."""
        if self._thread is None:
            return
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        with self._cond:
            self._running = False
            self._cond.notify_all()
        self._thread.join(2.0)
        self._thread = None
        for pin in self._layout.values():
            self._pins.write(pin, False)

    # -- events (the bus's dispatcher thread) ----------------------------------------------------
    def _on_state(self, event: StateChanged) -> None:
        with self._cond:
            self._lines[event.name] = event.state
            self._repattern()

    def _on_trunk(self, event: TrunkChanged) -> None:
        with self._cond:
            self._trunks[event.name] = event.state
            self._repattern()

    def _repattern(self) -> None:
        """The network pattern again, after a line or account changed; called with the lock held."""
        pattern = network_pattern(self._lines.values(), self._trunks.values())
        if pattern != self._pattern:
            self._pattern, self._pattern_since = pattern, self._clock()
            self._dirty = True
            self._cond.notify_all()

    def _on_activity(self, event: Event) -> None:
        with self._cond:
            self._owed = min(self._owed + 1, self._timings.activity_backlog)
            self._dirty = True
            self._cond.notify_all()

    # -- the pattern thread ----------------------------------------------------------------------
    def _levels(self, now: float) -> tuple[dict[str, bool], float]:
        """Every LED's level at `now` and when the next change is due; called with the lock held."""
        t = self._timings
        network, next_change = blink_level(self._pattern, self._pattern_since, now, t)
        # Activity: each owed blink is lit for activity_on, then dark for activity_gap before the next one.
        if now >= self._dark_until and self._owed:
            self._owed -= 1
            self._lit_until = now + t.activity_on
            self._dark_until = self._lit_until + t.activity_gap
        if now < self._lit_until:
            activity, due = True, self._lit_until
        elif now < self._dark_until:
            activity, due = False, (self._dark_until if self._owed else math.inf)
        else:
            activity, due = False, math.inf
        return {"power": True, "network": network, "activity": activity}, min(next_change, due)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                self._dirty = False
                levels, due = self._levels(self._clock())
                changes = {n: v for n, v in levels.items() if n in self._layout and self._written.get(n) != v}
                self._written.update(changes)
            for name, value in changes.items():
                try:
                    self._pins.write(self._layout[name], value)
                except Exception:  # a failing LED must not stop the others, nor the daemon
                    log.exception("LED %s (pin %d) could not be set", name, self._layout[name])
            with self._cond:
                # Sleep until the next edge is due or an event changes the picture: an idle box does not poll.
                while self._running and not self._dirty:
                    wait = due - self._clock()
                    if wait <= 0:
                        break
                    self._cond.wait(min(wait, 60.0))
