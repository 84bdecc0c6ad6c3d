"""Where a call the box places for an app goes (calls/targets.py): sip:USER@TRUNK, the API extension's own routes,
else its GSM lines; nothing else reaches a SIP host."""

from __future__ import annotations

from pigate.calls.routing import DialPlan
from pigate.calls.targets import resolve
from pigate.config import RouteRule

PLAN = DialPlan(rules=[RouteRule(source="9999", match="1[0-9]{2}", to="pbx", prepend="77"),
                       RouteRule(source="9999", match="666", to="reject"),
                       RouteRule(source="9999", match="0[0-9]+", to="gsm2", strip=1, prepend="+"),
                       RouteRule(source="pbx", to="gsm"),
                       RouteRule(to="reject")],
                gsm_lines=["gsm1", "gsm2"], sip_trunks=["pbx"], extensions=["9999", "8888"])


def where(dialed: str, source: str = "9999"):
    return resolve(dialed, source=source, own_lines=["gsm1"], plan=PLAN, sip_trunks=PLAN.sip_trunks)


def test_sip_targets_name_a_trunk_of_the_box():
    assert (where("sip:101@pbx").lines, where("sip:101@pbx").number) == (("pbx",), "101")
    assert (where("sip:alice@pbx;transport=tcp").lines, where("sip:alice@pbx").number) == (("pbx",), "alice")
    assert where("sip:101@198.51.100.7").refused       # no INVITE to a host that is no trunk of the box
    assert where("sip:101").invalid and where("sip:@pbx").invalid and where("sip:a b@pbx").invalid


def test_the_extensions_own_rules_decide_then_its_gsm_lines():
    t = where("123")
    assert (t.lines, t.number, t.refused) == (("pbx",), "77123", False)
    assert where("666").refused
    assert (where("0455").lines, where("0455").number) == (("gsm2",), "+455")
    # No rule of 9999 fits: its own GSM lines, even though the catch-all (no source) rule rejects.
    t = where("+4512345678")
    assert (t.lines, t.number, t.refused) == (("gsm1",), "+4512345678", False)
    # Another extension has no rules: its lines; rules for incoming calls (source pbx) play no part.
    assert where("123", source="8888").lines == ("gsm1",)
    assert where("not a number").invalid
