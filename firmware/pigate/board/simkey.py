"""The simulated module's side of PWRKEY: presses on a MemoryPins pin switch a simulated modem off and on."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from .gpio import MemoryPins, PinWrite

if TYPE_CHECKING:
    from pigate.sim import SimModem

log = logging.getLogger(__name__)


class PwrkeyModule:
    """Models a module's PWRKEY input: released after being held at least `on_press` s switches an off module
    on, at least `off_press` s switches an on module off; shorter presses do nothing, as on the real parts.
    `switch(on)` is called on the writer's thread."""

    def __init__(self, *, pins: MemoryPins, pin: int, switch: Callable[[bool], None], powered: bool = True,
                 on_press: float = 0.5, off_press: float = 2.5) -> None:
        self.pin, self.on_press, self.off_press = pin, on_press, off_press
        self._switch = switch
        self._lock = threading.Lock()
        self._pressed_at: float | None = None
        self.powered = powered
        self.presses: list[tuple[float, bool]] = []  # (held seconds, whether it switched the module)
        self._unwatch = pins.watch(self._on_write)

    def close(self) -> None:
        self._unwatch()

    def _on_write(self, write: PinWrite) -> None:
        if write.pin != self.pin:
            return
        with self._lock:
            if write.value:
                if self._pressed_at is None:
                    self._pressed_at = write.at
                return
            if self._pressed_at is None:
                return
            held, self._pressed_at = write.at - self._pressed_at, None
            needed = self.off_press if self.powered else self.on_press
            switched = held >= needed
            self.presses.append((held, switched))
            if switched:
                self.powered = not self.powered
            powered = self.powered
        if switched:
            log.info("simulated PWRKEY (pin %d) held %.2f s: module %s", self.pin, held, "on" if powered else "off")
            self._switch(powered)


def sim_modem_switch(modem: "SimModem") -> Callable[[bool], None]:
    """Power a simulated modem off (its ports vanish) and on (a clean boot: a frozen firmware is cured)."""

    def switch(on: bool) -> None:
        if on:
            modem.faults.resume()
            modem.reappear()
        else:
            modem.vanish()

    return switch
