"""The GSM lines of the box: the built-in simulator when configured, and one modem driver per line."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pigate.board.gpio import MemoryPins, Pins
from pigate.board.power import PowerKey, build_power_key, no_power_key
from pigate.board.simkey import PwrkeyModule, sim_modem_switch
from pigate.config import SIMULATED, Config
from pigate.errors import ModemError
from pigate.events import EventBus
from pigate.modem import Modem, ModemConfig as DriverConfig

log = logging.getLogger(__name__)


class Lines:
    """Owns the simulator (if any modem's port is `sim`) and the Modem drivers, by line name.

    Bring-up runs on a thread per line so the daemon answers HTTP at once; a line that fails to come
    up is left to its driver's supervisor, which keeps retrying and recovering.
    """

    def __init__(self, *, config: Config, bus: EventBus, data_dir: Path, pins: Pins | None = None) -> None:
        self._config = config
        self._bus = bus
        self._data_dir = data_dir
        self._pins = pins if pins is not None else MemoryPins()
        self.power_key: PowerKey | None = None
        self._sim_keys: list[PwrkeyModule] = []
        self.network = None  # pigate.sim.Network when simulated lines exist
        self.modems: dict[str, Modem] = {}
        self._threads: list[threading.Thread] = []

    @property
    def simulated(self) -> bool:
        return any(m.port == SIMULATED for m in self._config.modems)

    def _start_simulator(self) -> dict[str, tuple[str, str]]:
        from pigate.sim import LatencyProfile, Network

        sim = self._config.simulator
        link_dir = self._data_dir / "sim"
        link_dir.mkdir(parents=True, exist_ok=True)
        self.network = Network(latency=LatencyProfile(command=sim.command_latency, sms_submit=sim.sms_latency),
                               link_dir=link_dir)
        ports: dict[str, tuple[str, str]] = {}
        for m in self._config.modems:
            if m.port == SIMULATED:
                sm = self.network.add_modem(number=m.number, dialect=sim.dialect, pin=m.pin or None)
                sm.start()
                ports[m.name] = (str(sm.at_link), str(sm.audio_link))
                if m.name == self._power_key_line() and isinstance(self._pins, MemoryPins) \
                        and self._config.board.power_key_pin:
                    # The simulated module listens on the power key pin like a real one (SIM7600 timings).
                    self._sim_keys.append(PwrkeyModule(pins=self._pins, pin=self._config.board.power_key_pin,
                                                       switch=sim_modem_switch(sm)))
                log.info("line %s: simulated %s modem %s on %s", m.name, sim.dialect, m.number, sm.at_path)
        return ports

    def _power_key_line(self) -> str:
        return self._config.board.power_key_line or self._config.modems[0].name

    def start(self) -> None:
        ports = self._start_simulator() if self.simulated else {}
        for m in self._config.modems:
            at_port, audio = ports.get(m.name, (m.port, m.audio_port))
            power_cycle = no_power_key
            if m.name == self._power_key_line():
                self.power_key = build_power_key(pins=self._pins, config=self._config.board, port=at_port)
                power_cycle = self.power_key.cycle if self.power_key else no_power_key
            modem = Modem(config=DriverConfig(
                name=m.name, port=at_port, audio_port=audio or None, pin=m.pin or None, vendor=m.vendor,
                baudrate=m.baudrate, command_timeout=m.command_timeout, sms_timeout=m.sms_timeout),
                bus=self._bus, power_cycle=power_cycle)
            self.modems[m.name] = modem
            t = threading.Thread(target=self._bring_up, args=(modem,), name=f"bring-up-{m.name}", daemon=True)
            self._threads.append(t)
            t.start()

    @staticmethod
    def _bring_up(modem: Modem) -> None:
        try:
            modem.start()
            log.info("line %s: %s", modem.name, modem.state)
        except ModemError as exc:
            log.warning("line %s: not up yet (%s); the supervisor keeps trying", modem.name, exc)

    @property
    def names(self) -> list[str]:
        return list(self.modems)

    def at_command(self, line: str, command: str) -> list[str]:
        """One raw AT command on `line`'s modem (the operator's `pigate at`); raises ModemError subclasses."""
        return self.modems[line].command(command)

    def connected(self, name: str) -> bool:
        modem = self.modems.get(name)
        return modem is not None and modem.state == "registered"

    def stop(self) -> None:
        if self.power_key is not None:
            self.power_key.close()  # a power cycle in progress ends now, so its modem stops at once
        for modem in self.modems.values():
            modem.stop()
        for t in self._threads:
            t.join(2.0)
        for key in self._sim_keys:
            key.close()
        self._sim_keys.clear()
        if self.network is not None:
            self.network.stop()
