"""The board's output pins: a tiny interface, an in-memory recorder (the default) and the RPi.GPIO backend."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Literal, Protocol

from pigate.errors import ConfigError


class Pins(Protocol):
    """Output pins by BCM number. Implementations are safe to call from any thread."""

    def setup_output(self, pin: int) -> None: ...

    def write(self, pin: int, value: bool) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PinWrite:
    """One write: when (time.monotonic()), which pin, which level."""

    at: float
    pin: int
    value: bool


Watcher = Callable[[PinWrite], None]


class MemoryPins:
    """Pins that only remember: every write is recorded with its time, and watchers see each write as it happens.

    The default backend off a Pi (the simulator, tests, a box without LEDs). Watchers let the simulator
    connect a pin to a simulated part, e.g. a modem's power key; they run on the writer's thread.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # Re-entrant: wait_for's predicate reads back through the methods that take this lock.
        self._cond = threading.Condition(threading.RLock())
        self._outputs: set[int] = set()
        self._levels: dict[int, bool] = {}
        self._writes: list[PinWrite] = []
        self._watchers: list[Watcher] = []
        self.closed = False

    def setup_output(self, pin: int) -> None:
        with self._cond:
            self._outputs.add(pin)
            self._levels.setdefault(pin, False)

    def write(self, pin: int, value: bool) -> None:
        with self._cond:
            if pin not in self._outputs:
                # The same mistake RPi.GPIO refuses: writing a pin never set up as an output.
                raise ConfigError(f"pin {pin} was not set up as an output")
            record = PinWrite(self._clock(), pin, bool(value))
            self._writes.append(record)
            self._levels[pin] = record.value
            watchers = list(self._watchers)
            self._cond.notify_all()
        for watch in watchers:
            watch(record)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    # -- reading back (the simulator, tests and the status page) ---------------------------------
    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher(write)` after every write; returns a function that stops watching."""
        with self._cond:
            self._watchers.append(watcher)

        def unwatch() -> None:
            with self._cond:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return unwatch

    def level(self, pin: int) -> bool:
        with self._cond:
            return self._levels.get(pin, False)

    def is_output(self, pin: int) -> bool:
        with self._cond:
            return pin in self._outputs

    def writes(self, pin: int | None = None, *, since: float = float("-inf")) -> list[PinWrite]:
        with self._cond:
            return [w for w in self._writes if (pin is None or w.pin == pin) and w.at >= since]

    def edges(self, pin: int, *, since: float = float("-inf")) -> list[PinWrite]:
        """The writes of `pin` that changed its level (a repeated write of the same level is not an edge)."""
        out: list[PinWrite] = []
        level = False
        with self._cond:
            for w in self._writes:
                if w.pin != pin:
                    continue
                if w.value != level and w.at >= since:
                    out.append(w)
                level = w.value
        return out

    def wait_for(self, predicate: Callable[["MemoryPins"], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate(self)` holds after some write (or now); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate(self):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))


class RpiGpioPins:
    """The Raspberry Pi's GPIO through RPi.GPIO, BCM numbering. Imported here, only when chosen:
    RPi.GPIO refuses to import anywhere but on a Pi."""

    def __init__(self) -> None:
        try:
            import RPi.GPIO as gpio  # noqa: N813 (the module's own spelling)
        except (ImportError, RuntimeError) as exc:
            raise ConfigError(f"[leds] backend = \"gpio\": RPi.GPIO cannot be used here ({exc}); "
                              "it needs a Raspberry Pi and the RPi.GPIO package; use backend = \"memory\" "
                              "elsewhere") from exc
        self._gpio = gpio
        self._lock = threading.Lock()
        self._pins: set[int] = set()
        gpio.setwarnings(False)  # a pin left as an output by a previous run is expected, not a problem
        gpio.setmode(gpio.BCM)

    def setup_output(self, pin: int) -> None:
        with self._lock:
            self._gpio.setup(pin, self._gpio.OUT, initial=self._gpio.LOW)
            self._pins.add(pin)

    def write(self, pin: int, value: bool) -> None:
        self._gpio.output(pin, self._gpio.HIGH if value else self._gpio.LOW)

    def close(self) -> None:
        with self._lock:
            pins, self._pins = sorted(self._pins), set()
        if pins:
            # Only our pins: cleanup() without arguments would also reset pins other programs use.
            self._gpio.cleanup(pins)


def make_pins(backend: Literal["memory", "gpio"]) -> MemoryPins | RpiGpioPins:
    """The pins backend the configuration names."""
    if backend == "gpio":
        return RpiGpioPins()
    if backend == "memory":
        return MemoryPins()
    raise ConfigError(f"'leds.backend' must be 'memory' or 'gpio', got {backend!r}")
