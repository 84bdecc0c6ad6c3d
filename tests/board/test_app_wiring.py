"""The daemon's composition root wires the board: LEDs on the bus, the power key on the configured line."""

from __future__ import annotations

import time

import pytest

from pigate.app import App
from pigate.board.gpio import MemoryPins
from pigate.config import parse
from pigate.modem.events import StateChanged
from tests.board.conftest import wait_until


@pytest.fixture
def app(tmp_path):
    made: list[App] = []

    def start(extra: str = "") -> App:
        text = (f'[http]\nlisten = "127.0.0.1"\nport = 0\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
                f'[leds]\npins = {{power = 17, network = 27, activity = 22}}\n{extra}')
        a = App(config=parse(text))
        made.append(a)
        a.start()
        return a

    yield start
    for a in made:
        a.stop()


def test_the_daemon_lights_its_leds_and_turns_them_off_when_it_stops(app):
    a = app()
    pins = a.pins
    assert isinstance(pins, MemoryPins)  # the default backend
    wait_until(lambda: a.lines.connected("gsm1"), timeout=10)
    wait_until(lambda: pins.level(17) and pins.level(27), timeout=5)
    assert a.leds.network == "on" and a.lines.power_key is None
    a.stop()
    assert not any(pins.level(p) for p in (17, 27, 22)) and pins.closed


@pytest.mark.slow
def test_the_configured_power_key_switches_the_simulated_module_off_and_on(app):
    # The simulated module needs a SIM7600's presses (>= 0.5 s on, >= 2.5 s off).
    a = app("[board]\npower_key_pin = 6\npress_seconds = 0.6\noff_press_seconds = 2.6\n")
    wait_until(lambda: a.lines.connected("gsm1"), timeout=10)
    states: list[str] = []
    a.bus.subscribe(StateChanged, lambda e: states.append(e.state))
    assert a.lines.power_key is not None and a.lines.power_key.pin == 6
    t0 = time.monotonic()
    a.lines.power_key.cycle()
    took = time.monotonic() - t0
    assert [w.value for w in a.pins.edges(6)] == [True, False, True, False]
    assert took < 8.0  # ~5.2 s (2.6 + 2 s settle + 0.6): the vanished port ended the 30 s off_wait early
    wait_until(lambda: a.lines.connected("gsm1") and states[-1:] == ["registered"], timeout=15)
    assert "recovering" in states  # the module really went away and the driver brought the line back
