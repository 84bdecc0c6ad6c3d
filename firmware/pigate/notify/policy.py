"""Target address policy: which hosts webhook and media URLs may reach (allow/deny CIDR lists, checked per address)."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

from pigate.errors import ForbiddenAddress, NotifyError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list]  # socket.getaddrinfo's signature

DEFAULT_PORTS: Mapping[str, int] = MappingProxyType({"http": 80, "https": 443})


class ForbiddenTarget(ForbiddenAddress, NotifyError):
    """A URL whose host resolves to an address the policy refuses (Ozeki code 307).

    It is both a ForbiddenAddress (so it renders as code 307) and a NotifyError (so a caller that
    handles "the webhook could not be delivered" handles this case too).
    """

    def __init__(self, url: str, address: str, reason: str) -> None:
        self.url, self.address, self.reason = url, address, reason
        super().__init__()

    def __str__(self) -> str:
        return f"{super().__str__()}: {self.url} -> {self.address} ({self.reason})"


class ResolveFailed(NotifyError):
    """The host name could not be resolved (nothing was sent, so a retry is safe)."""


class BadUrl(NotifyError):
    """A URL that is not an absolute http(s) URL with a host."""


@dataclass(frozen=True)
class Target:
    """The parts of a URL an HTTP request needs."""

    url: str
    scheme: str
    host: str  # without brackets for IPv6 literals
    port: int
    path: str  # path and query, at least "/"
    userinfo: str = ""

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_url(url: str) -> Target:
    """Split an absolute http(s) URL; anything else raises BadUrl."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"invalid URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadUrl(f"only http and https URLs can be fetched, not {url!r}")
    if not parts.hostname:
        raise BadUrl(f"URL without a host: {url!r}")
    if any(c in url for c in "\r\n\x00 "):
        raise BadUrl(f"URL with control characters or spaces: {url!r}")
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadUrl(f"invalid host name in {url!r}: {exc}") from exc
    # Characters a request line cannot carry raw (non-ASCII) are percent-encoded; the rest is kept as written.
    path = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    if parts.query:
        path += "?" + urllib.parse.quote(parts.query, safe="/?%:@!$&'()*+,;=~-._")
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    return Target(url.strip(), scheme, host, port or DEFAULT_PORTS[scheme], path, urllib.parse.unquote(userinfo))


def _networks(cidrs: Sequence[str], what: str) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs)
    except ValueError as exc:
        raise NotifyError(f"invalid CIDR in the {what} list: {exc}") from exc


class AddressPolicy:
    """Allow/deny CIDR lists for outgoing requests: deny wins; an empty allow list allows everything else.

    Addresses that are never a legitimate web server (unspecified 0.0.0.0 and ::, which Linux routes to
    the box itself, and multicast) are always refused. An IPv4-mapped IPv6 address is judged as the IPv4
    address it carries, so `::ffff:127.0.0.1` cannot slip past a 127.0.0.0/8 entry.
    """

    def __init__(self, *, allow: Sequence[str] = (), deny: Sequence[str] = (),
                 resolver: Resolver = socket.getaddrinfo) -> None:
        self._allow = _networks(allow, "allow")
        self._deny = _networks(deny, "deny")
        self._resolver = resolver

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be contacted, or None if it may."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        for ip in candidates:
            if ip.is_unspecified or ip.is_multicast:
                return "unspecified or multicast address"
            for net in self._deny:
                if ip.version == net.version and ip in net:
                    return f"denied by {net}"
        if self._allow and not any(ip.version == net.version and ip in net
                                   for ip in candidates for net in self._allow):
            return "not in the allow list"
        return None

    def resolve(self, target: Target) -> list[tuple[int, tuple]]:
        """Every address of the target's host as (family, sockaddr), after checking each one.

        All addresses are checked before any is used, and the caller connects to exactly these, so a
        DNS answer that changes between check and connect (rebinding) cannot redirect the request.
        """
        try:
            infos = self._resolver(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveFailed(f"cannot resolve {target.host!r}: {exc}") from exc
        found: list[tuple[int, tuple]] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            reason = self.refusal(address)
            if reason is not None:
                raise ForbiddenTarget(target.url, str(address), reason)
            if (family, sockaddr) not in found:
                found.append((family, sockaddr))
        if not found:
            raise ResolveFailed(f"{target.host!r} has no IPv4 or IPv6 address")
        return found
