"""Where a call the box places for an app goes (Call, OzML Call, BlindTransfer of a GSM call, CallSetup) (pure).

In this order (docs/sip.md, "Calls the box places"):
1. `sip:USER@TRUNK`, where TRUNK is the name of a SIP account or peer: USER is dialled through that trunk.
   A SIP URI naming any other host is refused: the box sends INVITEs to its configured trunks only.
2. The [[routes]] whose `source` is the API extension, top to bottom: the first that matches decides (its
   number rewritten); `to = "reject"` (or an API extension, which is no call destination) refuses the call.
3. Otherwise a number goes out on the API extension's GSM lines, as before routes existed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Sequence

from pigate.numbers import is_dialable

from .routing import GSM, SIP, DialPlan

_SIP_USER = re.compile(r"^\+?[0-9A-Za-z*#._\-]{1,64}$")


@dataclass(frozen=True)
class Target:
    """The lines to try, in order, and the number to dial on them; `refused` (with `why`) when the box will not
    place the call at all (a rule rejects it, an unknown SIP host, an undialable number)."""

    lines: tuple[str, ...] = ()
    number: str = ""
    refused: bool = False
    invalid: bool = False   # not a number or SIP target at all (the command's 302)
    why: str = ""


def resolve(dialed: str, *, source: str, own_lines: Sequence[str], plan: DialPlan | None,
            sip_trunks: Collection[str]) -> Target:
    """Where `dialed` goes for API extension `source`, whose GSM lines are `own_lines`."""
    dialed = dialed.strip()
    if dialed.lower().startswith("sip:"):
        user, at, host = dialed[4:].partition("@")
        host = host.split(";", 1)[0]
        if not at or not _SIP_USER.match(user):
            return Target(invalid=True, why=f"{dialed!r} is not sip:USER@TRUNK")
        if host not in sip_trunks:
            return Target(refused=True, why=f"{host!r} is not a SIP account or peer of this box")
        return Target((host,), user)
    if not is_dialable(dialed):
        return Target(invalid=True, why=f"{dialed!r} is not a dialable number")
    route = plan.route_from(source, dialed) if plan is not None else None
    if route is None:
        return Target(tuple(own_lines), dialed)
    if route.kind == GSM:
        lines = (route.name,) if route.name else tuple(own_lines)
        return Target(lines, route.number)
    if route.kind == SIP:
        return Target((route.name,), route.number)
    return Target(refused=True, why=f"the dial plan ({route.decided_by}) does not send calls from {source} to {dialed}")
