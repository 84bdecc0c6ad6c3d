"""Test world for the modem driver: a simulated network, one simulated modem, our Modem on its pty, the events."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from pigate.events import EventBus
from pigate.modem import Modem, ModemConfig
from pigate.modem.events import MODEM, ModemEvent, StateChanged
from pigate.sim import LatencyProfile, Network, SimModem

GATEWAY = "+15550000001"
HANDSET = "+15551230001"

E = TypeVar("E", bound=ModemEvent)

# Short timeouts so that every fault resolves in seconds; the simulator answers instantly.
FAST = dict(command_timeout=1.0, sms_timeout=3.0, poll_interval=30.0, ready_timeout=2.0, reopen_timeout=4.0,
            probe_timeout=0.5, cfun_timeout=1.0)


class Recorder:
    """Every modem event, in order, with a way to wait for one (by event class)."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[ModemEvent] = []
        self._cond = threading.Condition()
        bus.subscribe(MODEM, self._on)

    def _on(self, event: ModemEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E]) -> list[E]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def mark(self) -> int:
        """A position in the event list: `wait(..., since=mark)` only looks at events after it."""
        with self._cond:
            return len(self.events)

    def wait(self, kind: type[E], pred: Callable[[E], bool] = lambda e: True,
             timeout: float = 5.0, since: int = 0) -> E:
        with self._cond:
            found: list[E] = []

            def ready() -> bool:
                found[:] = [e for e in self.events[since:] if isinstance(e, kind) and pred(e)]
                return bool(found)

            if not self._cond.wait_for(ready, timeout):
                seen = self.events[-15:]
                raise AssertionError(f"no {kind.__name__} event within {timeout}s; last events: {seen}")
            return found[0]

    def states(self) -> list[str]:
        return [e.state for e in self.of(StateChanged)]


@dataclass
class World:
    net: Network
    sim: SimModem
    bus: EventBus
    events: Recorder
    modem: Modem
    power_cycles: list[float] = field(default_factory=list)

    def handset(self, number: str = HANDSET):
        return self.net.handset(number)

    def wait_state(self, state: str, timeout: float = 8.0) -> None:
        deadline = time.monotonic() + timeout
        while self.modem.state != state:
            if time.monotonic() > deadline:
                raise AssertionError(f"state {self.modem.state!r}, wanted {state!r}; states: {self.events.states()}")
            time.sleep(0.02)


class WorldFactory:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.worlds: list[World] = []

    def __call__(self, dialect: str = "sim7600", *, sim_pin: str | None = None, start: bool = True,
                 latency: LatencyProfile | None = None, power_cycle: Callable[[World], None] | None = None,
                 **config: Any) -> World:
        net = Network(link_dir=self.tmp_path / f"links{len(self.worlds)}", latency=latency)
        (self.tmp_path / f"links{len(self.worlds)}").mkdir()
        sim = net.add_modem(number=GATEWAY, dialect=dialect, pin=sim_pin)
        net.start()
        bus = EventBus()
        bus.start()
        events = Recorder(bus)
        holder: list[World] = []

        def cycle() -> None:
            holder[0].power_cycles.append(time.monotonic())
            if power_cycle is not None:
                power_cycle(holder[0])

        cfg = ModemConfig(name="gsm1", port=str(sim.at_link), **{**FAST, **config})
        modem = Modem(config=cfg, bus=bus, power_cycle=cycle, reset_settle=0.1)
        world = World(net, sim, bus, events, modem)
        holder.append(world)
        self.worlds.append(world)
        if start:
            modem.start()
        return world

    def close(self) -> None:
        for w in self.worlds:
            w.modem.stop()
            w.bus.stop()
            w.net.stop()
