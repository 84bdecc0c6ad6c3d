"""The power key: the press sequence on the pin, as the module sees it, and how a cycle ends."""

from __future__ import annotations

import threading
import time

import pytest

from pigate.board.gpio import MemoryPins
from pigate.board.power import PowerKey, build_power_key, no_power_key
from pigate.board.simkey import PwrkeyModule
from pigate.config import BoardConfig, parse
from pigate.errors import ConfigError, ModemError

KEY = 4


def presses(pins: MemoryPins, pin: int = KEY) -> list[tuple[float, float]]:
    """(start, held seconds) of each press recorded on the pin."""
    edges = pins.edges(pin)
    return [(a.at, b.at - a.at) for a, b in zip(edges[::2], edges[1::2]) if a.value and not b.value]


def test_a_blind_cycle_presses_off_waits_and_presses_on_with_the_configured_timing():
    pins = MemoryPins()
    key = PowerKey(pins=pins, pin=KEY, press=0.1, off_press=0.25, off_wait=0.3)
    key.cycle()
    (off_at, off_held), (on_at, on_held) = presses(pins)
    assert 0.25 <= off_held < 0.35 and 0.1 <= on_held < 0.2
    assert on_at - (off_at + off_held) >= 0.3  # the whole off_wait: nothing tells it the module is off
    assert pins.level(KEY) is False


def test_a_module_that_shows_it_is_off_ends_the_wait_early_and_is_switched_on():
    pins = MemoryPins()
    module = PwrkeyModule(pins=pins, pin=KEY, switch=lambda on: None, on_press=0.08, off_press=0.2)
    key = PowerKey(pins=pins, pin=KEY, press=0.1, off_press=0.25, off_wait=5.0, settle=0.05,
                   is_on=lambda: module.powered)
    t0 = time.monotonic()
    key.cycle()
    assert time.monotonic() - t0 < 1.0  # not the 5 s off_wait
    assert [switched for _, switched in module.presses] == [True, True] and module.powered


def test_a_module_already_off_gets_one_press_not_two():
    pins = MemoryPins()
    module = PwrkeyModule(pins=pins, pin=KEY, switch=lambda on: None, powered=False, on_press=0.08, off_press=0.2)
    key = PowerKey(pins=pins, pin=KEY, press=0.1, off_press=0.25, off_wait=5.0, is_on=lambda: module.powered)
    key.cycle()
    assert len(presses(pins)) == 1 and module.powered


def test_a_press_shorter_than_the_module_needs_switches_nothing():
    pins = MemoryPins()
    module = PwrkeyModule(pins=pins, pin=KEY, switch=lambda on: None, on_press=0.08, off_press=0.2)
    key = PowerKey(pins=pins, pin=KEY, press=0.05, off_press=0.05, off_wait=0.0, settle=0.0)
    key.cycle()
    assert module.powered and [s for _, s in module.presses] == [False, False]


def test_closing_cuts_a_cycle_short_and_leaves_the_key_released():
    pins = MemoryPins()
    key = PowerKey(pins=pins, pin=KEY, press=0.1, off_press=5.0, off_wait=5.0)
    failed: list[Exception] = []

    def run() -> None:
        try:
            key.cycle()
        except ModemError as exc:
            failed.append(exc)

    t = threading.Thread(target=run)
    t.start()
    assert pins.wait_for(lambda p: p.level(KEY), timeout=2.0)
    t0 = time.monotonic()
    key.close()
    t.join(2.0)
    assert time.monotonic() - t0 < 0.5 and failed and "stopping" in str(failed[0])
    assert pins.level(KEY) is False and len(presses(pins)) == 1
    with pytest.raises(ModemError):
        key.cycle()  # closed: no new presses
    assert len(pins.edges(KEY)) == 2


def test_the_pin_is_released_as_soon_as_the_key_exists():
    pins = MemoryPins()
    PowerKey(pins=pins, pin=KEY)
    assert pins.is_output(KEY) and [w.value for w in pins.writes(KEY)] == [False]


def test_no_key_configured_means_the_rung_fails_saying_why():
    assert build_power_key(pins=MemoryPins(), config=BoardConfig(), port="/dev/ttyUSB2") is None
    with pytest.raises(ModemError, match="power_key_pin"):
        no_power_key()


def test_the_board_section_configures_the_key(tmp_path):
    cfg = parse("[board]\npower_key_pin = 6\npress_seconds = 0.6\noff_press_seconds = 2.6\n").board
    port = tmp_path / "ttyUSB2"
    port.touch()
    key = build_power_key(pins=MemoryPins(), config=cfg, port=str(port))
    assert (key.pin, key.press, key.off_press, key.off_wait) == (6, 0.6, 2.6, 30.0)


@pytest.mark.parametrize("text, message", [
    ("[board]\npower_key_pin = 28", "2-27"),
    ("[board]\npress_seconds = 0", "> 0"),
    ("[board]\noff_press_seconds = 40", "33"),
    ("[board]\npower_key_pin = 22", "already an LED"),
    ("[board]\npower_key_line = 'gsm9'", "no modem named 'gsm9'"),
    ("[leds]\npins = {netwrok = 27}", "did you mean 'network'"),
    ("[leds]\npins = {power = 1}", "2-27"),
    ("[leds]\npins = {power = 5, network = 5}", "both on pin 5"),
])
def test_bad_board_and_led_settings_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse(text)
