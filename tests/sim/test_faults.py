"""Every fault the simulator injects, seen from the host side of the pty."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import serial

from tests.sim.atclient import AtClient


def test_stop_answering_then_resume(net, modem, at):
    modem.faults.stop_answering()
    with pytest.raises(TimeoutError):
        at.command("AT", timeout=0.5)
    assert at.buffer == b""  # not even an echo
    modem.faults.resume()
    at.ok("AT")


def test_garbage_lines_then_normal_answers(net, modem, at):
    modem.faults.garbage(n_lines=3)
    junk = at.lines(0.3)
    assert len(junk) == 3 and not any(j.startswith(("OK", "+", "AT")) for j in junk)
    at.ok("AT")


def test_garbage_instead_of_an_answer(net, modem, at):
    modem.faults.garbage(n_lines=2, replace_answer=True)
    with pytest.raises(TimeoutError):
        at.command("AT+CSQ", timeout=0.5)
    at.buffer = b""
    assert at.ok("AT+CSQ") == [f"+CSQ: {modem.rssi},99"]


def test_port_vanishes_and_comes_back_under_a_new_name(net, modem, dialect):
    link = Path(modem.at_link)
    old = modem.at_path
    assert os.readlink(link) == old
    client = AtClient(str(link))
    client.ok("ATE0")
    modem.faults.vanish(seconds=0.3)
    assert not link.exists() and not Path(modem.audio_link).exists()
    with pytest.raises((serial.SerialException, OSError, TimeoutError)):
        client.command("AT", timeout=0.5)
    client.close()
    deadline = time.monotonic() + 3
    while not link.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert modem.at_path != old and os.readlink(link) == modem.at_path
    assert os.readlink(modem.audio_link) == modem.audio_path
    client = AtClient(str(link))
    try:
        assert client.command("AT")[1] == "OK"  # settings were reset: echo is on again
        assert client.ok("ATE0") is not None
    finally:
        client.close()


def test_vanish_until_told(net, modem):
    modem.faults.vanish(seconds=None)
    time.sleep(0.3)
    assert not modem.present and not Path(modem.at_link).exists()
    modem.faults.reappear()
    assert modem.present and Path(modem.at_link).exists()


def test_incoming_sms_waits_while_the_port_is_gone(net, modem):
    modem.faults.vanish(seconds=None)
    net.handset("+15551230001").send_sms(modem.number, "while away")
    net.scheduler.wait_idle()
    assert len(modem.pending) == 1
    modem.faults.reappear()
    net.scheduler.wait_idle()
    assert modem.pending == [] and modem.storages[modem.settings.cpms[2]].used == 1


@pytest.mark.parametrize("cmee,expected", [(0, "ERROR"), (1, "+CME ERROR: 100"), (2, "+CME ERROR: unknown")])
def test_injected_cme_error_in_each_error_mode(net, modem, at, cmee, expected):
    at.ok(f"AT+CMEE={cmee}")
    modem.faults.cme_error(code=100, command="CSQ", times=2)
    assert at.command("AT+CSQ") == ([], expected)
    assert at.command("AT+CSQ") == ([], expected)
    at.ok("AT+CSQ")


def test_injected_cms_error_on_any_command(net, modem, at):
    modem.faults.cms_error(code=304, command="AT+CMGL")
    assert at.command("AT+CMGL=4") == ([], "+CMS ERROR: 304")
    at.ok("AT+CMGL=4")


def test_clear_undoes_every_fault(net, modem, at):
    modem.faults.registration_lost()
    modem.faults.sim_missing()
    modem.faults.cme_error(code=10, command="CSQ", times=5)
    modem.faults.late_final_word(0.5)
    modem.faults.audio_stuck()
    modem.faults.clear()
    at.ok("AT+CSQ")
    assert at.ok("AT+CREG?") == ["+CREG: 0,1"]
    assert modem.faults.describe() == {"deaf": False, "errors": {}, "final_word_delay": 0.0, "audio_stuck": False,
                                       "registered": True, "sim": "ready", "present": True}


def test_signal_level(net, modem, at):
    modem.faults.signal(5)
    assert at.ok("AT+CSQ") == ["+CSQ: 5,99"]


def test_reset_by_cfun_reboots_like_a_usb_modem(net, modem, at):
    old = modem.at_path
    at.ok("AT+CFUN=1,1")
    deadline = time.monotonic() + 3
    while (modem.at_path == old or not modem.present) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert modem.present and modem.at_path != old
