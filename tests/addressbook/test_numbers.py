"""Number matching on literal strings: E.164 where derivable, the tail key otherwise."""

from __future__ import annotations

import pytest

from pigate.addressbook.numbers import NumberPlan, e164, tail

US = NumberPlan(country_code="1", national_prefix="1")
HU = NumberPlan(country_code="36", national_prefix="06")
NONE = NumberPlan()


@pytest.mark.parametrize("text, plan, expected", [
    ("+1 (555) 123-0001", NONE, "+15551230001"),
    ("0015551230001", NONE, "+15551230001"),
    ("555 123 0001", US, "+15551230001"),
    ("1-555-123-0001", US, "+15551230001"),
    ("06 20 111 2222", HU, "+36201112222"),
    ("20 111 2222", HU, "+36201112222"),
    ("555 123 0001", NONE, ""),          # no home country: not guessed
    ("112", US, ""),                     # short codes stay as they are
])
def test_e164(text, plan, expected):
    assert e164(text, plan) == expected


def test_national_and_international_forms_share_a_tail_even_without_a_country_code():
    assert tail("+15551230001") == tail("(555) 123-0001") == tail("1 555 123 0001") == "551230001"
    assert tail("+36201112222") == tail("06-20-111-2222") == "201112222"
    assert tail("+15551230001") != tail("+15551230002")
    assert tail("112") == "" and tail("") == ""
