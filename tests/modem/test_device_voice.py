"""Voice primitives against the simulator, per dialect: ring with caller id, answer, DTMF both ways, hang up."""

from __future__ import annotations

import pytest

from pigate.errors import ModemError
from pigate.modem import events as ev
from tests.modem.world import GATEWAY, HANDSET

DIALECTS = ["sim800", "sim7600", "ec25"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_incoming_call_rings_with_the_caller_and_reports_keys(world, dialect):
    w = world(dialect)
    call = w.handset().call(GATEWAY)
    assert w.events.wait(ev.CallRing).number == HANDSET
    w.modem.answer()
    call.wait_state("active")
    w.modem.start_audio()
    assert [c.state for c in w.modem.list_calls()] == ["active"]
    assert w.modem.list_calls()[0].direction == "in" and w.modem.list_calls()[0].number == HANDSET
    mark = w.events.mark()
    call.press("1#9")
    w.events.wait(ev.CallDtmf, lambda d: d.digit == "9", since=mark)
    assert [d.digit for d in w.events.of(ev.CallDtmf)] == ["1", "#", "9"]  # one normalised form
    call.hangup()
    assert w.events.wait(ev.CallEnded).reason == "NO CARRIER"
    assert w.modem.list_calls() == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_outgoing_call_sends_keys_and_hangs_up(world, dialect):
    w = world(dialect)
    w.modem.dial(HANDSET)
    far = w.events.wait(ev.CallStateReport, lambda d: d.call.state == "active")
    assert far.call.direction == "out" and far.call.number == HANDSET
    w.modem.send_dtmf("42*")
    call = w.handset().last_call
    assert call.wait_dtmf(3) == "42*"
    w.modem.hangup()
    call.wait_state("ended")


def test_a_busy_far_end_ends_the_call_with_busy(world):
    w = world("sim800")
    w.handset().incoming_behaviour = "busy"
    w.modem.dial(HANDSET)
    assert w.events.wait(ev.CallEnded).reason == "BUSY"


def test_dial_strings_cannot_smuggle_commands(world):
    w = world("ec25")
    for bad in ("123;+CFUN=0", "12\r34", ""):
        with pytest.raises(ModemError):
            w.modem.dial(bad)
    with pytest.raises(ModemError):
        w.modem.send_dtmf('1";+CFUN=0')
    with pytest.raises(ModemError):
        w.modem.ussd('*100#";+CFUN=0')
    with pytest.raises(ModemError):
        w.modem.command("AT\rAT+CFUN=0")
    assert not any("CFUN=0" in line for line in w.sim.trace)
