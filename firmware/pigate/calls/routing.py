"""The dial plan ([[routes]]): which way a call goes by where it came from and the number it called (pure).

Rules are tried in order; the first whose `source` (empty: any) is the call's line, SIP trunk or API extension
and whose `match` (empty: any) matches the whole called number decides. Its number is rewritten (strip, then
prepend) and the call goes to a GSM line ("gsm": any free one), a SIP account or peer, an API extension, or is
rejected. With rules configured, a call no rule matches is rejected; without any, every incoming call goes to
its line's API extension (pigate.routing) as before. Calls the box places for an app use only the rules that
name its API extension as `source` (route_from; calls/targets.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from pigate.config import ANY_GSM, REJECT, RouteRule

GSM, SIP, API, REFUSE = "gsm", "sip", "api", "reject"


@dataclass(frozen=True)
class Route:
    """Where a call goes: `kind` GSM (`name` a line, "" = any free one), SIP (an account or peer), API (an API
    extension) or REFUSE; `number` the rewritten called number; `rule` the index of the rule that decided (-1:
    none matched)."""

    kind: str
    name: str = ""
    number: str = ""
    rule: int = -1

    @property
    def decided_by(self) -> str:
        """For logs and errors: the deciding rule as the config API numbers it (from 1), or that none matched."""
        return f"rule {self.rule + 1}" if self.rule >= 0 else "no rule matches"


class DialPlan:
    def __init__(self, *, rules: Sequence[RouteRule], gsm_lines: Iterable[str], sip_trunks: Iterable[str],
                 extensions: Iterable[str]) -> None:
        self._rules = [(rule, re.compile(rule.match) if rule.match else None) for rule in rules]
        self._gsm, self._sip, self._api = list(gsm_lines), set(sip_trunks), set(extensions)

    @property
    def empty(self) -> bool:
        return not self._rules

    @property
    def sip_trunks(self) -> frozenset[str]:
        return frozenset(self._sip)

    def replaced(self, *, rules: Sequence[RouteRule], extensions: Iterable[str]) -> "DialPlan":
        """The same lines and trunks with other rules and API extensions (both can change over the API, live)."""
        return DialPlan(rules=rules, gsm_lines=self._gsm, sip_trunks=self._sip, extensions=extensions)

    def reaches(self, name: str) -> bool:
        """Whether a rule naming `name` works in this plan: a line or trunk added to the file but not yet
        started (at the next restart) is not reached."""
        return name in ("", ANY_GSM, REJECT) or name in self._gsm or name in self._sip or name in self._api

    def route(self, *, source: str, called: str) -> Route:
        for i, (rule, pattern) in enumerate(self._rules):
            if rule.source and rule.source != source:
                continue
            if pattern is not None and not pattern.fullmatch(called):
                continue
            return self._decide(i, rule, called)
        return Route(REFUSE, number=called)

    def route_from(self, source: str, called: str) -> Route | None:
        """The first rule that names `source` itself (an API extension) and matches `called`; None when none does.
        Rules without a `source` are left out: they were written for incoming calls (targets.py)."""
        for i, (rule, pattern) in enumerate(self._rules):
            if rule.source != source or (pattern is not None and not pattern.fullmatch(called)):
                continue
            return self._decide(i, rule, called)
        return None

    def _decide(self, i: int, rule: RouteRule, called: str) -> Route:
        number = rule.prepend + called[rule.strip:]
        return Route(self._kind(rule.to), "" if rule.to in (ANY_GSM, REJECT) else rule.to, number, i)

    def lines_for(self, route: Route) -> list[str]:
        """The lines a GSM or SIP route may use, in the order to try them."""
        if route.kind == GSM and not route.name:
            return list(self._gsm)
        return [route.name] if route.kind in (GSM, SIP) else []

    def _kind(self, to: str) -> str:
        if to == REJECT:
            return REFUSE
        if to == ANY_GSM or to in self._gsm:
            return GSM
        if to in self._sip:
            return SIP
        if to in self._api:
            return API
        return REFUSE  # config validation names every target; a stale one refuses rather than guesses
