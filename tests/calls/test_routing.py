"""The dial plan: rules in order, source and number matching, rewriting, no match rejects; config checks names."""

from __future__ import annotations

import pytest

from pigate.calls.routing import API, GSM, REFUSE, SIP, DialPlan, Route
from pigate.config import RouteRule, parse
from pigate.errors import ConfigError


def plan(*rules: RouteRule) -> DialPlan:
    return DialPlan(rules=rules, gsm_lines=["gsm1", "gsm2"], sip_trunks=["pbx", "lab"], extensions=["9999"])


def test_first_matching_rule_wins_and_rewrites_the_number():
    p = plan(RouteRule(source="pbx", match=r"9\d+", to="gsm", strip=1, prepend="+45"),
             RouteRule(source="pbx", to="9999"),
             RouteRule(source="gsm1", match=r"\+?4512.*", to="lab"),
             RouteRule(to="reject"))
    assert p.route(source="pbx", called="926467") == Route(GSM, "", "+4526467", 0)
    assert p.route(source="pbx", called="100") == Route(API, "9999", "100", 1)
    assert p.route(source="gsm1", called="+4512345") == Route(SIP, "lab", "+4512345", 2)
    assert p.route(source="gsm2", called="+4512345").kind == REFUSE
    assert p.route(source="lab", called="1").rule == 3


def test_no_matching_rule_rejects_and_the_match_is_on_the_whole_number():
    p = plan(RouteRule(source="pbx", match="12", to="gsm1"))
    assert p.route(source="pbx", called="12") == Route(GSM, "gsm1", "12", 0)
    assert p.route(source="pbx", called="123") == Route(REFUSE, number="123")
    assert p.route(source="lab", called="12").kind == REFUSE
    assert plan().empty and not p.empty
    # Logs and errors name rules as the config API numbers them (Id 1 is the first rule).
    assert p.route(source="pbx", called="12").decided_by == "rule 1"
    assert p.route(source="pbx", called="123").decided_by == "no rule matches"


BASE = '[[sip.peers]]\nname = "lab"\naddress = "127.0.0.1"\n'


def test_routes_in_the_config_name_known_ends_with_a_did_you_mean():
    cfg = parse(BASE + '[[routes]]\nsource = "lab"\nmatch = "9.*"\nto = "gsm"\nstrip = 1\n')
    assert cfg.routes == [RouteRule(source="lab", match="9.*", to="gsm", strip=1)]
    with pytest.raises(ConfigError, match=r"routes\[0\].to.*'labb'.*did you mean 'lab'"):
        parse(BASE + '[[routes]]\nto = "labb"\n')
    with pytest.raises(ConfigError, match=r"routes\[0\].source.*did you mean 'gsm1'"):
        parse(BASE + '[[routes]]\nsource = "gsm11"\nto = "reject"\n')
    with pytest.raises(ConfigError, match=r"routes\[0\].match.*regular expression"):
        parse(BASE + '[[routes]]\nmatch = "(9"\nto = "reject"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'routes\[0\].prepnd'.*did you mean 'prepend'"):
        parse(BASE + '[[routes]]\nprepnd = "+45"\nto = "reject"\n')
