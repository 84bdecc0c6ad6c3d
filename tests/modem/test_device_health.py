"""SIM, PIN, registration and every recovery rung the simulator's faults can reach."""

from __future__ import annotations

import os
import time

import pytest
import serial
from gsmmodem.pdu import encodeSmsSubmitPdu

from pigate.errors import ModemError, ModemTimeout
from pigate.modem import LineUnavailable, SimProblem
from pigate.modem import events as ev
from tests.modem.world import HANDSET


def send(modem, text: str) -> int:
    (pdu,) = encodeSmsSubmitPdu(HANDSET, text)
    return modem.send_sms_pdu(str(pdu), pdu.tpduLength)


def recovered(w, timeout: float = 10.0) -> None:
    """Wait for the ladder's successful rung and the line's return to service."""
    w.events.wait(ev.RecoveryStep, lambda d: d.step != "start" and d.ok, timeout=timeout)
    w.wait_state("registered")


def steps(w) -> list[tuple[str, bool]]:
    w.bus.wait_idle()
    return [(d.step, d.ok) for d in w.events.of(ev.RecoveryStep) if d.step != "start"]


def test_the_configured_pin_unlocks_the_sim(world):
    w = world("sim800", sim_pin="4321", pin="4321")
    assert w.modem.state == "registered"
    assert 'AT+CPIN="4321"' in w.sim.trace


def test_a_wrong_pin_is_tried_once_and_never_again(world):
    w = world("ec25", sim_pin="4321", pin="1111", start=False, poll_interval=0.2)
    with pytest.raises(SimProblem):
        w.modem.start()
    assert w.modem.state == "sim_locked"
    time.sleep(1.0)  # the supervisor retries bring-up meanwhile
    assert [line for line in w.sim.trace if line.startswith("AT+CPIN=")] == ['AT+CPIN="1111"']
    assert w.modem.state == "sim_locked" and "rejected" in w.modem.status()["last_error"]


def test_a_locked_sim_without_a_configured_pin(world):
    w = world("sim7600", sim_pin="4321", start=False)
    with pytest.raises(SimProblem):
        w.modem.start()
    assert w.modem.state == "sim_locked"


def test_sim_removed_and_inserted(world):
    w = world("sim7600", poll_interval=0.3)
    w.sim.faults.sim_missing()
    w.wait_state("sim_missing")
    with pytest.raises(ModemError):
        send(w.modem, "no sim")
    w.sim.faults.sim_inserted()
    w.wait_state("registered")
    send(w.modem, "sim is back")
    assert w.handset().wait_inbox(1)[0].text == "sim is back"


def test_registration_lost_regained_and_roaming_counts(world):
    w = world("ec25")
    w.sim.faults.registration_lost()
    assert w.events.wait(ev.Registration, lambda d: not d.registered).stat == 2
    w.wait_state("searching")
    mark = w.events.mark()
    w.sim.faults.registration_regained(roaming=True)
    assert w.events.wait(ev.Registration, lambda d: d.registered, since=mark).stat == 5
    w.wait_state("registered")
    assert w.modem.status()["registration"] == 5


def test_a_frozen_modem_that_wakes_up_is_recovered_by_the_probe(world):
    w = world("sim7600", probe_timeout=3.0)  # it wakes within the probe's window
    w.sim.faults.stop_answering()
    t0 = time.monotonic()
    with pytest.raises(ModemTimeout):
        send(w.modem, "lost in the freeze")
    assert time.monotonic() - t0 < 2.5
    w.events.wait(ev.StateChanged, lambda d: d.state == "recovering")
    with pytest.raises(ModemError) as fast:
        t1 = time.monotonic()
        send(w.modem, "while recovering")
    assert isinstance(fast.value, LineUnavailable) and time.monotonic() - t1 < 0.2  # fails fast, sends nothing
    w.sim.faults.resume()
    recovered(w)
    assert steps(w) == [("probe", True)]
    send(w.modem, "after the freeze")
    assert [m.text for m in w.handset().wait_inbox(1)] == ["after the freeze"]


def test_a_vanished_port_is_reopened_on_its_new_pty(world):
    w = world("ec25")
    old = w.sim.at_path
    w.sim.faults.vanish(0.5)
    w.events.wait(ev.StateChanged, lambda d: d.state == "recovering")
    recovered(w)
    assert w.sim.at_path != old and os.readlink(w.sim.at_link) == w.sim.at_path
    assert ("reopen", True) in steps(w)
    send(w.modem, "after the vanish")
    assert w.handset().wait_inbox(1)[0].text == "after the vanish"
    assert (w.sim.settings.echo, w.sim.settings.cmgf) == (False, 0)  # a re-enumerated modem is set up again


def test_the_cfun_rung(world):
    w = world("sim800", probe_timeout=1.0)
    # The modem stays deaf through the probe and the reopen; it wakes as the radio cycle starts.
    w.bus.subscribe(ev.RecoveryStep, lambda e: w.sim.faults.resume() if e.step == "reopen" else None)
    w.sim.faults.stop_answering()
    with pytest.raises(ModemTimeout):
        w.modem.list_sms()
    w.events.wait(ev.RecoveryStep, lambda d: d.step == "cfun", timeout=10)
    w.wait_state("registered")
    assert steps(w) == [("probe", False), ("reopen", False), ("cfun", True)]
    assert {"AT+CFUN=0", "AT+CFUN=1"} <= set(w.sim.trace)


def test_the_ladder_climbs_to_the_power_cycle(world):
    def power_cycle(w) -> None:  # the board layer's hook: cuts power (the ports go at once), the module boots
        w.sim.faults.resume()
        w.sim.vanish()
        w.sim.network.scheduler.after(0.2, w.sim.reappear)

    w = world("sim7600", power_cycle=power_cycle)
    w.sim.faults.stop_answering()
    with pytest.raises(ModemTimeout):
        send(w.modem, "frozen")
    w.events.wait(ev.RecoveryStep, lambda d: d.step == "power", timeout=15)
    w.wait_state("registered")
    assert steps(w) == [("probe", False), ("reopen", False), ("cfun", False), ("reset", False), ("power", True)]
    assert len(w.power_cycles) == 1
    send(w.modem, "after the power cycle")
    assert w.handset().wait_inbox(1)[0].text == "after the power cycle"


def test_a_modem_that_reboots_by_itself_is_set_up_again(world):
    w = world("sim800")
    w.sim.reboot()
    recovered(w)
    assert (w.sim.settings.echo, w.sim.settings.cmgf) == (False, 0)
    send(w.modem, "after the reboot")
    assert w.handset().wait_inbox(1)[0].text == "after the reboot"


def test_a_noise_answer_times_out_and_the_line_recovers(world):
    w = world("ec25")
    w.sim.faults.garbage(3, replace_answer=True)
    with pytest.raises(ModemTimeout):
        w.modem.command("AT+CSQ")
    recovered(w)
    assert w.modem.command("AT+CSQ") == [f"+CSQ: {w.sim.rssi},99"]


def test_bring_up_after_a_crash_in_the_middle_of_a_submission(world):
    w = world("sim7600", start=False)
    # A previous daemon died after AT+CMGS's prompt: the modem is still waiting for PDU text.
    with serial.serial_for_url(str(w.sim.at_link), timeout=0.5) as port:
        port.write(b"ATE0\r")
        time.sleep(0.1)
        port.write(b"AT+CMGS=20\r")
        assert b">" in port.read(64)
    w.modem.start()
    assert w.modem.state == "registered"
    send(w.modem, "after the crash")
    assert w.handset().wait_inbox(1)[0].text == "after the crash"
    assert len(w.net.submissions) == 1


def test_stop_leaves_no_threads_behind(world):
    import threading
    before = {t.name for t in threading.enumerate()}
    w = world("sim800")
    w.modem.stop()
    leftovers = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not [n for n in leftovers if n.startswith(("at-gsm1", "modem-gsm1"))]
    assert w.modem.state == "down"


def test_a_boot_urc_on_a_live_line_makes_the_driver_set_the_modem_up_again(world):
    w = world("sim800")
    assert list(w.sim.trace).count("ATE0") == 1
    w.sim.settings.cmgf = 1  # what a UART modem that rebooted in place (no USB re-enumeration) would have
    w.sim.urc("RDY")
    deadline = time.monotonic() + 5
    while w.sim.settings.cmgf != 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.sim.settings.cmgf == 0 and list(w.sim.trace).count("ATE0") == 2
    w.wait_state("registered")
