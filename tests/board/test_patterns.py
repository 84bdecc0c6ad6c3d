"""The LED patterns as pure functions: what the network LED shows for a set of line and SIP account states,
and blink timing."""

from __future__ import annotations

import math

import pytest

from pigate.board.patterns import LedTimings, blink_level, network_pattern


@pytest.mark.parametrize("states, shown", [
    ([], "off"),
    (["down"], "off"),
    (["down", "down"], "off"),
    (["initializing"], "fast"),
    (["searching"], "fast"),
    (["recovering"], "fast"),
    (["sim_missing"], "slow"),
    (["sim_locked"], "slow"),
    (["registered"], "on"),
    (["registered", "registered"], "on"),
    # a mix shows the worst: one good line never hides another's problem
    (["registered", "down"], "fast"),
    (["registered", "searching"], "fast"),
    (["searching", "sim_missing", "registered"], "slow"),
])
def test_network_pattern(states, shown):
    assert network_pattern(states) == shown


@pytest.mark.parametrize("states, trunks, shown", [
    # a SIP account counts as a line does, its registration as the line's
    ([], ["registered"], "on"),
    (["registered"], ["registered"], "on"),
    ([], ["registering"], "fast"),
    (["registered"], ["not registered"], "fast"),
    (["down"], ["registered"], "fast"),  # the lines are down: not all is well, though SIP is up
    # the registrar refused the credentials: a person is needed, as for a SIM
    (["registered"], ["refused"], "slow"),
    (["searching"], ["registered", "refused"], "slow"),
    ([], [], "off"),
])
def test_network_pattern_with_sip_accounts(states, trunks, shown):
    assert network_pattern(states, trunks) == shown


def test_blinks_start_lit_and_alternate_at_their_rate():
    t = LedTimings(fast_period=0.2, slow_period=2.0)
    assert blink_level("fast", 10.0, 10.0, t) == (True, pytest.approx(10.1))
    assert blink_level("fast", 10.0, 10.15, t) == (False, pytest.approx(10.2))
    assert blink_level("fast", 10.0, 10.2, t)[0] is True
    assert blink_level("slow", 10.0, 10.9, t) == (True, pytest.approx(11.0))
    assert blink_level("slow", 10.0, 11.5, t) == (False, pytest.approx(12.0))


def test_steady_patterns_never_change():
    t = LedTimings()
    assert blink_level("on", 0.0, 123.0, t) == (True, math.inf)
    assert blink_level("off", 0.0, 123.0, t) == (False, math.inf)


def test_timings_must_be_positive():
    with pytest.raises(ValueError):
        LedTimings(fast_period=0)
