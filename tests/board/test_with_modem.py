"""The board against the real modem driver on the simulator: the LEDs follow a real line, and the recovery
ladder's last rung presses the power key, which switches the simulated module off and on."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from pigate.board.gpio import MemoryPins
from pigate.board.leds import StatusLeds
from pigate.board.power import PowerKey
from pigate.board.simkey import PwrkeyModule, sim_modem_switch
from pigate.errors import ModemTimeout
from pigate.events import EventBus
from pigate.modem import Modem, ModemConfig
from pigate.modem.events import RecoveryStep
from pigate.sim import Network, SimModem
from tests.board.conftest import ACTIVITY, FAST_TIMINGS, LAYOUT, NETWORK, POWER, intervals, wait_until

GATEWAY, HANDSET, KEY = "+15550000001", "+15551230001", 4
# Short driver timeouts so that each rung of the ladder gives up in about a second.
FAST = dict(command_timeout=1.0, sms_timeout=1.0, poll_interval=30.0, ready_timeout=2.0, reopen_timeout=4.0,
            probe_timeout=0.5, cfun_timeout=1.0)
# The key's timing, scaled down 10x from the product's (1.2 s on, 3 s off), against a module that needs
# the SIM7600's minimums scaled the same way (0.05 s on, 0.25 s off).
PRESS, OFF_PRESS = 0.12, 0.3


@dataclass
class Box:
    net: Network
    sim: SimModem
    bus: EventBus
    pins: MemoryPins
    leds: StatusLeds
    key: PowerKey
    module: PwrkeyModule
    modem: Modem

    def wait_state(self, state: str, timeout: float = 10.0) -> None:
        wait_until(lambda: self.modem.state == state, timeout)


@pytest.fixture
def box(tmp_path):
    net = Network(link_dir=tmp_path)
    sim = net.add_modem(number=GATEWAY, dialect="sim7600")
    net.start()
    bus = EventBus()
    bus.start()
    pins = MemoryPins()
    leds = StatusLeds(pins=pins, layout=LAYOUT, bus=bus, timings=FAST_TIMINGS)
    leds.start()
    module = PwrkeyModule(pins=pins, pin=KEY, switch=sim_modem_switch(sim), on_press=0.05, off_press=0.25)
    key = PowerKey(pins=pins, pin=KEY, press=PRESS, off_press=OFF_PRESS, off_wait=3.0, settle=0.05,
                   is_on=lambda: sim.at_link.exists())
    modem = Modem(config=ModemConfig(name="gsm1", port=str(sim.at_link), **FAST), bus=bus, power_cycle=key.cycle,
                  reset_settle=0.1)
    b = Box(net, sim, bus, pins, leds, key, module, modem)
    yield b
    key.close()
    modem.stop()
    leds.stop()
    module.close()
    bus.stop()
    net.stop()


def test_the_network_led_blinks_while_the_line_comes_up_and_is_steady_once_registered(box):
    t0 = time.monotonic()
    box.modem.start()
    box.wait_state("registered")
    box.bus.wait_idle()
    wait_until(lambda: box.pins.level(NETWORK))
    t1 = time.monotonic()
    time.sleep(0.25)
    # It lit as soon as bring-up began (a blink starts lit) and has been steady since registration.
    assert box.pins.edges(NETWORK, since=t0)[0].value is True
    assert box.pins.edges(NETWORK, since=t1) == [] and box.pins.level(NETWORK) and box.pins.level(POWER)


def test_losing_registration_blinks_fast_and_regaining_it_lights_steady(box):
    box.modem.start()
    box.wait_state("registered")
    t0 = time.monotonic()
    box.sim.faults.registration_lost()
    box.wait_state("searching")
    # Eight levels, however long a busy machine takes to let the LED thread draw them.
    wait_until(lambda: len(intervals(box.pins, NETWORK, t0)) >= 8, timeout=10)
    fast = intervals(box.pins, NETWORK, t0)
    # The fast pattern (0.05 s a level here), not the slow one (0.2 s): the blink is phase-locked to the clock,
    # so a late wake-up on a busy machine skips an edge (one long level) rather than stretching the pattern.
    assert sorted(fast)[len(fast) // 2] <= 0.06, fast
    box.sim.faults.registration_regained()
    box.wait_state("registered")
    box.bus.wait_idle()
    wait_until(lambda: box.pins.level(NETWORK))
    t1 = time.monotonic()
    time.sleep(0.2)
    assert box.pins.edges(NETWORK, since=t1) == []


def test_the_activity_led_blinks_when_a_handset_sends_an_sms(box):
    box.modem.start()
    box.wait_state("registered")
    time.sleep(0.1)
    assert box.pins.edges(ACTIVITY) == []
    box.net.handset(HANDSET).send_sms(GATEWAY, "hello box")
    wait_until(lambda: [w.value for w in box.pins.edges(ACTIVITY)][:2] == [True, False])


def test_the_last_rung_of_the_ladder_power_cycles_the_module_through_its_key(box):
    box.modem.start()
    box.wait_state("registered")
    recovery: list[RecoveryStep] = []
    box.bus.subscribe(RecoveryStep, recovery.append)
    t0 = time.monotonic()
    box.sim.faults.stop_answering()  # a firmware hang: only cutting its power cures it
    with pytest.raises(ModemTimeout):
        box.modem.command("AT+CSQ")
    wait_until(lambda: any(d.step == "power" for d in recovery), timeout=20)
    box.wait_state("registered")
    box.bus.wait_idle()
    first_run = [(d.step, d.ok) for d in recovery[1:]]
    first_run = first_run[:first_run.index(("power", True)) + 1]
    assert first_run == [("probe", False), ("reopen", False), ("cfun", False), ("reset", False), ("power", True)]
    # On the pin: an off press of the configured length, then, once the module's port was gone, an on press.
    edges = box.pins.edges(KEY)
    assert [w.value for w in edges] == [True, False, True, False]
    off_held, gap, on_held = (edges[1].at - edges[0].at, edges[2].at - edges[1].at, edges[3].at - edges[2].at)
    assert OFF_PRESS <= off_held < OFF_PRESS + 0.1 and PRESS <= on_held < PRESS + 0.1
    assert gap < 1.0  # it did not sit out off_wait: the vanished port said the module was off
    assert [switched for _, switched in box.module.presses] == [True, True]
    # While it recovered the network LED blinked fast; with the line back it is steady again.
    assert sum(1 for d in intervals(box.pins, NETWORK, t0) if d <= 0.15) >= 10
    wait_until(lambda: box.pins.level(NETWORK))
    assert box.leds.network == "on"
