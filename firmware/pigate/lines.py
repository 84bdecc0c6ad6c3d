"""The GSM lines of the box: the built-in simulator when configured, and one modem driver per line."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

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

    def __init__(self, *, config: Config, bus: EventBus, data_dir: Path) -> None:
        self._config = config
        self._bus = bus
        self._data_dir = data_dir
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
                log.info("line %s: simulated %s modem %s on %s", m.name, sim.dialect, m.number, sm.at_path)
        return ports

    def start(self) -> None:
        ports = self._start_simulator() if self.simulated else {}
        for m in self._config.modems:
            at_port, audio = ports.get(m.name, (m.port, m.audio_port))
            modem = Modem(config=DriverConfig(
                name=m.name, port=at_port, audio_port=audio or None, pin=m.pin or None, vendor=m.vendor,
                baudrate=m.baudrate, command_timeout=m.command_timeout, sms_timeout=m.sms_timeout,
                pacing=m.pacing), bus=self._bus)
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

    def connected(self, name: str) -> bool:
        modem = self.modems.get(name)
        return modem is not None and modem.state == "registered"

    def stop(self) -> None:
        for modem in self.modems.values():
            modem.stop()
        for t in self._threads:
            t.join(2.0)
        if self.network is not None:
            self.network.stop()
