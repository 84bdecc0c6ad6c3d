"""What each configured SIP account and peer is doing, one rule for every view of it (the dashboard, /v1/status,
`pigate status`, /metrics, the network LED), and the bus event that tells of an account's change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pigate.config import SipConfig
from pigate.events import Event
from pigate.sip.accounts import AUTH_FAILURES, CONNECTED, Account

# An account's states. `refused` needs a person (the registrar turned the credentials down); `registering` and
# `not registered` are the box's to mend (no answer yet; the registrar unreachable or failing: it retries).
REGISTERED, REGISTERING, NOT_REGISTERED, REFUSED = "registered", "registering", "not registered", "refused"
# A peer's (no registration: it is up while the SIP side runs), and either's when `[sip] enabled` is false.
UP, DOWN, DISABLED = "up", "down", "disabled"

SIP_TRUNK = "sip.trunk"


@dataclass(frozen=True)
class TrunkChanged(Event):
    """A registered account's state (one of the account states above) changed."""

    topic: ClassVar[str] = SIP_TRUNK
    name: str
    state: str
    last_error: str | None = None


def account_state(account: Account | None) -> tuple[str, str | None]:
    """(state, last error) of a running account; None: the SIP side is not running (yet)."""
    if account is None:
        return NOT_REGISTERED, "SIP is not running"
    state, code, reason = account.snapshot()
    if state == CONNECTED:
        return REGISTERED, None
    if code in AUTH_FAILURES:
        return REFUSED, f"{code} {reason}: wrong username or password"
    if code == 0:
        return REGISTERING, None
    if code // 100 == 2:
        return NOT_REGISTERED, None  # unregistered on purpose (stopping)
    return NOT_REGISTERED, f"{code} {reason}".strip()


def trunks(config: SipConfig, driver: Any | None) -> list[dict[str, Any]]:
    """Every configured account, then every peer: name, kind, where, state, connected, last_error."""
    out = []
    for a in config.accounts:
        if config.enabled:
            state, error = account_state(driver.accounts.get(a.name) if driver is not None else None)
        else:
            state, error = DISABLED, None
        out.append({"name": a.name, "kind": "account", "where": f"{a.username}@{a.registrar}", "state": state,
                    "connected": state == REGISTERED, "last_error": error})
    for p in config.peers:
        up = config.enabled and driver is not None and driver.connected(p.name)
        out.append({"name": p.name, "kind": "peer", "where": p.address,
                    "state": UP if up else DOWN if config.enabled else DISABLED, "connected": up,
                    "last_error": None if up or not config.enabled else "SIP is not running"})
    return out
