"""The modem's power key (PWRKEY): the last rung of the recovery ladder switches the module off and on again.

Timings, from the vendors' hardware-design manuals (PWRKEY pulled low for the given time):

| module            | switch on      | switch off        | off takes                           |
|-------------------|----------------|-------------------|-------------------------------------|
| SIM800 / SIM868   | >= 1 s         | 1.5 s .. 33 s     | ~2 s (logs off the network)         |
| SIM7600           | >= 0.1 s (0.5) | 2.5 s .. 5 s      | up to ~26 s until USB/STATUS go off |
| Quectel EC25      | >= 0.5 s       | >= 0.65 s         | up to ~30 s (network detach)        |

So one press length cannot serve both directions: 1.2 s switches every one of them on, but only a
3 s press switches all of them off (SIM7600 needs 2.5 s, SIM800 must stay under 33 s). A press is
idempotent only while the module is in the expected state: PWRKEY toggles. Where the host can see
the module (a USB modem's port exists only while it is on), `is_on` lets the cycle skip the off
press for a module that is already off and end the wait as soon as the module is gone.

The HATs drive PWRKEY through a transistor: the GPIO pin high pulls PWRKEY low, so "pressed" is high.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Callable

from pigate.errors import ModemError

from .gpio import Pins

if TYPE_CHECKING:
    from pigate.config import BoardConfig

log = logging.getLogger(__name__)


class PowerKey:
    """`cycle()` presses PWRKEY for `off_press` s (off), waits until the module is off (at most `off_wait` s,
    then `settle` s more so it is fully down), and presses it for `press` s (on). The recovery ladder then
    waits for the module to boot and reopens its port. The pin is set up, released, when constructed."""

    def __init__(self, *, pins: Pins, pin: int, press: float = 1.2, off_press: float = 3.0,
                 off_wait: float = 30.0, settle: float = 2.0, is_on: Callable[[], bool] | None = None,
                 poll: float = 0.1) -> None:
        if min(press, off_press) <= 0 or min(off_wait, settle) < 0:
            raise ValueError("power key timings: presses must be > 0 and waits >= 0")
        self.pin, self.press, self.off_press = pin, press, off_press
        self.off_wait, self.settle, self.poll = off_wait, settle, poll
        self._pins, self._is_on = pins, is_on
        self._lock = threading.Lock()  # one cycle at a time: interleaved presses would toggle at random
        self._closed = threading.Event()
        pins.setup_output(pin)
        pins.write(pin, False)

    def cycle(self) -> None:
        """Switch the module off and on; raises ModemError when closed meanwhile (the key is released)."""
        with self._lock:
            if self._is_on is not None and not self._is_on():
                log.warning("power key (pin %d): module looks off; pressing once to switch it on", self.pin)
            else:
                log.warning("power key (pin %d): switching the module off", self.pin)
                self._hold(self.off_press)
                self._wait_off()
            log.warning("power key (pin %d): switching the module on", self.pin)
            self._hold(self.press)

    def close(self) -> None:
        """Cut a cycle in progress short (daemon stopping); the key is always left released."""
        self._closed.set()

    # -- steps -----------------------------------------------------------------------------------
    def _hold(self, seconds: float) -> None:
        if self._closed.is_set():
            raise ModemError(f"power key (pin {self.pin}): not pressed, the daemon is stopping")
        self._pins.write(self.pin, True)
        try:
            self._sleep(seconds)
        finally:
            # Never leave the key pressed: a key held past ~33 s makes a SIM800 switch itself on again.
            self._pins.write(self.pin, False)

    def _wait_off(self) -> None:
        if self._is_on is None:
            self._sleep(self.off_wait)
            return
        deadline = time.monotonic() + self.off_wait
        while self._is_on():
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("power key (pin %d): module still on after %g s; pressing on anyway",
                            self.pin, self.off_wait)
                return
            self._sleep(min(self.poll, left))
        self._sleep(self.settle)

    def _sleep(self, seconds: float) -> None:
        if self._closed.wait(seconds):
            raise ModemError(f"power key (pin {self.pin}): cycle cut short, the daemon is stopping")


def no_power_key() -> None:
    """The recovery hook when no power key is configured: the rung fails at once, saying why."""
    raise ModemError("no power key configured ([board] power_key_pin = 0)")


def build_power_key(*, pins: Pins, config: "BoardConfig", port: str) -> PowerKey | None:
    """The configured power key for the modem on `port` (None when `power_key_pin` is 0). A device path
    doubles as the module's status: a USB modem's port exists only while the module is on (for a UART
    it always exists, so the cycle then waits out `off_wait_seconds`)."""
    if not config.power_key_pin:
        return None
    is_on = (lambda: os.path.exists(port)) if port.startswith("/") else None
    return PowerKey(pins=pins, pin=config.power_key_pin, press=config.press_seconds,
                    off_press=config.off_press_seconds, off_wait=config.off_wait_seconds, is_on=is_on)
