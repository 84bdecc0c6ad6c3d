"""StatusLeds on a real event bus and MemoryPins: what a person looking at the box would see."""

from __future__ import annotations

import threading
import time

import pytest

from pigate.board.leds import StatusLeds
from pigate.board.gpio import MemoryPins
from pigate.errors import ConfigError
from pigate.modem import events as ev
from pigate.sip import TrunkChanged
from tests.board.conftest import ACTIVITY, NETWORK, POWER, intervals, wait_until


def state(bus, name: str, new: str) -> None:
    bus.publish(ev.StateChanged(name, new, ""))
    bus.wait_idle()


def test_power_is_lit_while_running_and_network_dark_with_no_line(leds_factory):
    leds, pins = leds_factory()
    wait_until(lambda: pins.level(POWER))
    time.sleep(0.15)
    assert pins.level(NETWORK) is False and pins.edges(NETWORK) == []
    assert leds.network == "off"


def test_network_blinks_fast_while_a_line_comes_up_then_stays_lit(leds_factory, bus):
    leds, pins = leds_factory()
    t0 = time.monotonic()
    state(bus, "gsm1", "initializing")
    time.sleep(0.6)
    fast = sorted(intervals(pins, NETWORK, t0))
    # Fast, not slow: half periods of 0.05 s against 0.2 s. The blink is phase-locked, so a late wake-up on a
    # busy machine skips an edge (one interval of 0.1 s or 0.15 s) but never shifts the rest: the median tells.
    assert len(fast) >= 4 and fast[0] >= 0.01 and fast[len(fast) // 2] < 0.125, fast
    state(bus, "gsm1", "registered")
    wait_until(lambda: pins.level(NETWORK))
    t1 = time.monotonic()
    time.sleep(0.3)
    assert pins.level(NETWORK) is True and pins.edges(NETWORK, since=t1) == []


def test_a_sip_account_shows_on_the_network_led_as_a_line_does(leds_factory, bus):
    leds, pins = leds_factory()
    state(bus, "gsm1", "registered")
    assert leds.network == "on"
    bus.publish(TrunkChanged(name="pbx", state="registering"))
    bus.wait_idle()
    assert leds.network == "fast" and leds.trunks() == {"pbx": "registering"}
    bus.publish(TrunkChanged(name="pbx", state="registered"))
    bus.wait_idle()
    assert leds.network == "on"
    bus.publish(TrunkChanged(name="pbx", state="refused", last_error="403 Forbidden: wrong username or password"))
    bus.wait_idle()
    assert leds.network == "slow"  # a person is needed, as for a SIM
    t0 = time.monotonic()
    wait_until(lambda: len(pins.edges(NETWORK, since=t0)) >= 2)
    bus.publish(TrunkChanged(name="pbx", state="not registered", last_error="408 Request Timeout"))
    bus.wait_idle()
    assert leds.network == "fast"
    state(bus, "gsm1", "down")
    assert leds.network == "fast"  # the line is down, the account retries: not dark, someone is working on it


def test_a_sim_problem_blinks_slowly_and_a_mix_shows_the_worst(leds_factory, bus):
    leds, pins = leds_factory()
    state(bus, "gsm1", "registered")
    state(bus, "gsm2", "sim_missing")
    t0 = time.monotonic()
    time.sleep(0.7)
    slow = intervals(pins, NETWORK, t0)
    assert leds.network == "slow"
    assert len(slow) >= 2 and all(0.12 <= d <= 0.35 for d in slow), slow
    state(bus, "gsm2", "searching")
    assert leds.network == "fast"
    state(bus, "gsm2", "registered")
    assert leds.network == "on"
    state(bus, "gsm1", "down")
    assert leds.network == "fast"  # one line down while another is up: not all is well
    state(bus, "gsm2", "down")
    wait_until(lambda: not pins.level(NETWORK))
    assert leds.network == "off"


def test_activity_blinks_once_per_sms_or_call_event_and_bursts_are_capped(leds_factory, bus):
    leds, pins = leds_factory()
    bus.publish(ev.SmsStored("gsm1", "ME", 1))
    bus.publish(ev.CallRing("gsm1", "+1555", 145))
    wait_until(lambda: len(pins.edges(ACTIVITY)) >= 4)
    time.sleep(0.15)
    assert [w.value for w in pins.edges(ACTIVITY)] == [True, False, True, False]
    t1 = time.monotonic()
    for i in range(20):
        bus.publish(ev.SmsDelivered("gsm1", "00"))
    time.sleep(0.5)
    lit = [w for w in pins.edges(ACTIVITY, since=t1) if w.value]
    assert len(lit) == 3  # the backlog is capped: a burst does not keep the LED busy for seconds
    # Other events (signal, registration) are not activity.
    t2 = time.monotonic()
    bus.publish(ev.SignalChanged("gsm1", 20, 64))
    bus.wait_idle()
    time.sleep(0.1)
    assert pins.edges(ACTIVITY, since=t2) == []


def test_stop_turns_every_led_off_and_leaves_no_thread(leds_factory, bus):
    leds, pins = leds_factory()
    state(bus, "gsm1", "searching")
    bus.publish(ev.SmsStored("gsm1", "ME", 1))
    time.sleep(0.1)
    assert [t.name for t in threading.enumerate()].count("status-leds") == 1  # one thread for all LEDs
    leds.stop()
    assert not any(pins.level(p) for p in (POWER, NETWORK, ACTIVITY))
    assert "status-leds" not in [t.name for t in threading.enumerate()]
    t1 = time.monotonic()
    state(bus, "gsm1", "registered")  # unsubscribed: events no longer reach the pins
    time.sleep(0.1)
    assert pins.writes(since=t1) == []


def test_leds_missing_from_the_layout_are_skipped(leds_factory, bus):
    leds, pins = leds_factory(layout={"network": NETWORK})
    state(bus, "gsm1", "registered")
    bus.publish(ev.SmsStored("gsm1", "ME", 1))
    wait_until(lambda: pins.level(NETWORK))
    time.sleep(0.1)
    assert {w.pin for w in pins.writes()} == {NETWORK}
    assert not pins.is_output(POWER) and not pins.is_output(ACTIVITY)


def test_an_unknown_led_name_is_refused(bus):
    with pytest.raises(ConfigError, match="'netwrok'"):
        StatusLeds(pins=MemoryPins(), layout={"netwrok": 27}, bus=bus)


def test_an_idle_box_does_not_rewrite_its_pins(leds_factory, bus):
    leds, pins = leds_factory()
    state(bus, "gsm1", "registered")
    wait_until(lambda: pins.level(NETWORK))
    n = len(pins.writes())
    time.sleep(0.3)
    assert len(pins.writes()) == n  # steady LEDs: nothing written, the thread sleeps
