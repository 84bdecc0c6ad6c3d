"""The SIP trunk's pure rules: a final SIP status as the contract's end reason, and the status a bridged caller
is refused with when its far end failed."""

from __future__ import annotations

import pytest

from pigate.calls.trunks.sip import end_reason
from pigate.calls.trunks.sipleg import REFUSAL_CODES


@pytest.mark.parametrize("code,reason,answered,expected", [
    (200, "Normal call clearing", True, "hangup"),
    (486, "Busy Here", False, "busy"), (600, "Busy Everywhere", False, "busy"),
    (408, "Request Timeout", False, "no-answer"), (480, "", False, "no-answer"), (487, "", False, "no-answer"),
    (403, "Forbidden", False, "rejected"), (603, "Decline", False, "rejected"),
    (404, "Not Found", False, "failed"), (500, "", False, "failed"), (503, "Service Unavailable", False, "failed"),
    (503, "endpoint stopped", True, "line-down"), (503, "endpoint stopped", False, "line-down"),
    (487, "", True, "hangup"),
])
def test_final_sip_status_as_end_reason(code, reason, answered, expected):
    assert end_reason(code, reason, answered=answered) == expected


def test_refusal_codes_round_trip_through_end_reason():
    for reason in ("busy", "no-answer", "rejected"):
        assert end_reason(REFUSAL_CODES[reason]) == reason
