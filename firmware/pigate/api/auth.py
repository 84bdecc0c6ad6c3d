"""API guards: salted password hashes checked in constant time behind the login throttle, and allow/deny
address lists in CIDR."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import os
import threading
from typing import Iterable

from pigate.api.throttle import LoginThrottle
from pigate.config import User
from pigate.errors import AuthenticationFailed, AuthenticationRequired, ForbiddenAddress, ForbiddenUser
from pigate.priority import in_background

ITERATIONS = 200_000


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$<iterations>$<salt>$<hash>`, the form the config's password_hash takes."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return "pbkdf2_sha256${}${}${}".format(
        iterations, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    )


def verify_password(password: str, encoded: str) -> bool:
    try:
        _, iterations, salt, expected = encoded.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def client_key(address: str) -> str:
    """The unit the login throttle counts: an IPv4 address (IPv4-mapped too), an IPv6 /64 (one host's share)."""
    ip = client_ip(address)
    if ip is None:
        return address or "?"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address as an IP (an IPv4-mapped IPv6 address as IPv4, a zone id dropped); None if unparsable."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


class AddressGuard:
    """Allow/deny lists of networks; an empty allow list allows all; deny wins."""

    def __init__(self, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> None:
        self._allow = [ipaddress.ip_network(n, strict=False) for n in allow]
        self._deny = [ipaddress.ip_network(n, strict=False) for n in deny]

    def allowed(self, address: str) -> bool:
        ip = client_ip(address)
        if ip is None:
            return False
        if any(ip in net for net in self._deny if net.version == ip.version):
            return False
        return not self._allow or any(ip in net for net in self._allow if net.version == ip.version)

    def check(self, address: str) -> None:
        if not self.allowed(address):
            raise ForbiddenAddress()


class UserGuard:
    """Username/Password checking for every way in (the Ozeki /api, the JSON API, the dashboard login, /sim/);
    a no-op when no users are configured.

    PBKDF2 is slow on purpose, so it runs behind the one LoginThrottle of the daemon (failures per client
    address, a cap on verifications at a time). A successful check is remembered as an HMAC under a
    per-process key, so a busy client does not pay it on every request and nothing reversible stays in memory.
    """

    def __init__(self, *, users: Iterable[User], throttle: LoginThrottle | None = None) -> None:
        users = list(users)
        self._users = {u.name: u.password_hash for u in users}
        self._acl = {u.name: {c.lower() for c in u.commands} for u in users if u.commands}
        self._key = os.urandom(32)
        self._verified: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.throttle = throttle or LoginThrottle()

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def authorize(self, username: str | None, command: str) -> None:
        """306 when the user's ACL does not list `command`."""
        acl = self._acl.get(username or "")
        if acl is not None and command.lower() not in acl:
            raise ForbiddenUser()

    def check(self, username: str, password: str, *, address: str) -> str | None:
        """The authenticated user name (None when auth is off); raises 304, or 305 for a wrong password and
        (LoginRefused, without verifying) for a client `address` that is locked out or finds no free slot."""
        if not self._users:
            return None
        if not username and not password:
            raise AuthenticationRequired()
        token = hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        with self.throttle.attempt(client_key(address)) as attempt:
            if self._remembered(username, token):
                attempt.succeeded()
                return username
            with attempt.verification():
                if self._remembered(username, token):  # verified by a parallel request while this one waited
                    attempt.succeeded()
                    return username
                encoded = self._users.get(username)
                # Compare against a dummy hash for unknown users so timing does not reveal which names exist.
                ok = in_background(lambda: verify_password(password, encoded or _dummy_hash()),
                                   name="login-verify") and encoded is not None
                if not ok:
                    attempt.failed()
            if not ok:
                raise AuthenticationFailed()
            with self._lock:
                self._verified[username] = token
            attempt.succeeded()
        return username

    def stats(self) -> dict[str, int]:
        """The login counters for /metrics (see LoginThrottle.stats)."""
        return self.throttle.stats()

    def _remembered(self, username: str, token: bytes) -> bool:
        with self._lock:
            known = self._verified.get(username)
        return known is not None and hmac.compare_digest(known, token)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("pigate-dummy", salt=b"\0" * 16)
