"""Who may call in: IP trunks (peers) by address, registrars of registered accounts, and the refusal log.

The rule (docs/sip.md): an INVITE whose source address is neither a configured peer's nor the registrar of a
registered account is refused with 403 before anything else looks at it. Addresses are compared by IP only
(providers send from several ports); host names are resolved when the driver starts and on `refresh()`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

log = logging.getLogger(__name__)

Resolver = Callable[[str], set[str]]


def resolve(host: str) -> set[str]:
    """The IP addresses of `host` (itself when it is one); empty when it does not resolve."""
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    try:
        return {str(ipaddress.ip_address(info[4][0])) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return set()


def source_ip(src: str) -> str:
    """The IP of a pjsip source address as `1.2.3.4:5060` or `[::1]:5060` (normalised; '' when unparsable)."""
    text = src.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


@dataclass(frozen=True)
class Peer:
    """An IP trunk: `name`, where it is (`host`:`port`, `transport`), the addresses it may call from."""

    name: str
    host: str
    port: int = 5060
    transport: str = "udp"

    @property
    def uri_host(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"{host}:{self.port}{suffix}"


class Admission:
    """Maps a call's source address to the trunks it comes from, or to none (a stranger: refuse 403).
    Nobody is admitted until `refresh()` has resolved the trunks' hosts (the driver does it when it starts)."""

    def __init__(self, *, peers: Iterable[Peer], registrars: Iterable[tuple[str, str]] = (),
                 resolver: Resolver = resolve) -> None:
        self._peers = list(peers)
        self._registrars = list(registrars)  # (account name, registrar host)
        self._resolver = resolver
        self._lock = threading.Lock()
        self._by_ip: dict[str, list[str]] = {}

    def refresh(self) -> None:
        """Resolve every trunk's host again (host names may move)."""
        table: dict[str, list[str]] = {}
        for name, host in [*((p.name, p.host) for p in self._peers), *self._registrars]:
            ips = self._resolver(host)
            if not ips:
                log.warning("sip: trunk %r: %r does not resolve; calls from it are refused", name, host)
            for ip in ips:
                table.setdefault(ip, []).append(name)
        with self._lock:
            self._by_ip = table

    def trunks_for(self, src: str) -> list[str]:
        """Every trunk whose address `src` (ip or ip:port) is; empty for a stranger."""
        ip = source_ip(src)
        with self._lock:
            return list(self._by_ip.get(ip, ()))

    def peer(self, name: str) -> Peer | None:
        return next((p for p in self._peers if p.name == name), None)


class RefusalLog:
    """Logs refused calls without letting a scanner flood the log: per source, the first refusal at once,
    then at most one line per `interval` seconds counting what was refused meanwhile."""

    def __init__(self, *, interval: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 logger: logging.Logger = log, max_sources: int = 4096) -> None:
        self.interval, self._clock, self._log, self._max = interval, clock, logger, max_sources
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}  # source ip -> (last line at, refused since)
        self.total = 0

    def refused(self, src: str, code: int, why: str, detail: str = "") -> None:
        ip = source_ip(src) or src
        now = self._clock()
        with self._lock:
            self.total += 1
            last, pending = self._seen.get(ip, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[ip] = (last, pending + 1)
                return
            if len(self._seen) >= self._max:
                self._seen.clear()  # bounded memory under a sweep from many addresses
            self._seen[ip] = (now, 0)
        more = f" (and {pending} more since the last line)" if pending else ""
        self._log.warning("sip: refused a call from %s with %d: %s%s%s", src, code, why,
                          f" [{detail}]" if detail else "", more)
