"""The pin backends: the in-memory recorder, and RPi.GPIO refusing clearly off a Pi."""

from __future__ import annotations

from pathlib import Path

import pytest

from pigate.board.gpio import MemoryPins, make_pins
from pigate.errors import ConfigError


def on_a_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.exists() and b"Raspberry Pi" in model.read_bytes()


def test_memory_pins_record_every_write_with_its_time():
    ticks = iter([1.0, 2.0, 3.0])
    pins = MemoryPins(clock=lambda: next(ticks))
    pins.setup_output(17)
    pins.write(17, True)
    pins.write(17, True)
    pins.write(17, False)
    assert [(w.at, w.pin, w.value) for w in pins.writes(17)] == [(1.0, 17, True), (2.0, 17, True), (3.0, 17, False)]
    assert [(w.at, w.value) for w in pins.edges(17)] == [(1.0, True), (3.0, False)]
    assert pins.level(17) is False


def test_writing_a_pin_never_set_up_is_refused_like_on_the_pi():
    pins = MemoryPins()
    with pytest.raises(ConfigError, match="pin 5"):
        pins.write(5, True)


def test_watchers_see_each_write_until_unwatched():
    pins = MemoryPins()
    pins.setup_output(4)
    seen = []
    unwatch = pins.watch(lambda w: seen.append(w.value))
    pins.write(4, True)
    unwatch()
    pins.write(4, False)
    assert seen == [True]


def test_make_pins_defaults_to_memory():
    assert isinstance(make_pins("memory"), MemoryPins)


@pytest.mark.skipif(on_a_pi(), reason="on a Pi the gpio backend works")
def test_the_gpio_backend_off_a_pi_is_a_config_error_naming_the_backend():
    with pytest.raises(ConfigError) as err:
        make_pins("gpio")
    assert 'backend = "gpio"' in str(err.value) and "memory" in str(err.value)
    assert err.value.__cause__ is not None  # the ImportError/RuntimeError it came from is kept
