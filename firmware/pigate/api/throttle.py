"""Login throttling: failed attempts per client address with a doubling lockout, and the cap on PBKDF2 work.

A password guess costs the box one PBKDF2 verification (tens of milliseconds of a core; several times that
on a Pi). `LoginThrottle` keeps that cost bounded whoever is guessing:

- per client (the caller's key: an IPv4 address, an IPv6 /64): once `failures` attempts failed within
  `window` seconds, the client is refused at once, without any verification, for `lockout` seconds; each
  failure after a lockout doubles it, up to `lockout_max`. A success forgets the client. Other clients are
  not affected. The lockout is checked again once a verification slot is won, so a burst of parallel
  guesses gets at most `failures + concurrency - 1` verifications.
- over all clients: at most `concurrency` verifications run at a time (and they run below every other
  thread's priority, see pigate.priority), so guesses from any number of addresses use at most that many
  cores, and only what the rest of the box leaves idle. A clean client waits up to `wait` seconds for a
  turn; a client that already failed does not wait for a slot, and that refusal counts as one more failure.
  Whoever does not get a turn is refused, and the HTTP worker is free again.

The settings are `[http.login]` (config.LoginConfig). The counters (`stats()`) are what /metrics shows; a lockout is logged once, with what the previous one refused.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from pigate.config import LoginConfig
from pigate.errors import AuthenticationFailed

log = logging.getLogger(__name__)


class LoginRefused(AuthenticationFailed):
    """305 without verifying: the address is locked out, or no verification slot was free in time."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__()


@dataclass
class _Address:
    failed_at: collections.deque = field(default_factory=collections.deque)
    in_flight: int = 0
    until: float = 0.0         # locked out until then
    next_lockout: float = 0.0  # 0: not locked out yet in this episode
    refused: int = 0           # refused during the current lockout (for the log)
    seen: float = 0.0


class LoginThrottle:
    """Shared by every way of logging in (the Ozeki /api, the JSON API, the dashboard): one per daemon."""

    def __init__(self, *, settings: LoginConfig = LoginConfig(), clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses: dict[str, _Address] = {}
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._counts = collections.Counter({k: 0 for k in (
            "verified", "failed", "refused_locked", "refused_busy", "lockouts")})

    # -- the public face ------------------------------------------------------------------------
    @contextlib.contextmanager
    def attempt(self, key: str) -> Iterator["Attempt"]:
        """One login attempt by client `key`: raises LoginRefused at once when it is locked out; the caller
        marks the attempt `succeeded()` or `failed()` (an attempt left unmarked, e.g. 304, counts as neither)."""
        now = self._clock()
        with self._lock:
            st = self._state(key, now)
            self._refuse_if_locked(st, now)
            st.in_flight += 1
            clean = not st.failed_at and not st.next_lockout
        attempt = Attempt(self, key, clean)
        try:
            yield attempt
        finally:
            self._settle(key, attempt.outcome)

    @contextlib.contextmanager
    def verification(self, attempt: "Attempt") -> Iterator[None]:
        """A slot for one PBKDF2 verification; LoginRefused when none is free in time (not counted as a failure)
        or when the client was locked out while it waited."""
        if not self._slots.acquire(timeout=self.settings.wait if attempt.clean else 0.0):
            self._busy(attempt)
        try:
            with self._lock:
                st = self._addresses.get(attempt.key)
                if st is not None:
                    self._refuse_if_locked(st, self._clock())
            yield
        finally:
            self._slots.release()

    def _busy(self, attempt: "Attempt") -> None:
        with self._lock:
            self._counts["refused_busy"] += 1
        if not attempt.clean:  # a client that failed and keeps trying while the box is busy: a guess like another
            attempt.failed()
        raise LoginRefused("busy")

    def locked_out(self, key: str) -> float:
        """Seconds until client `key` may try again (0: it may now)."""
        now = self._clock()
        with self._lock:
            st = self._addresses.get(key)
            return max(0.0, st.until - now) if st else 0.0

    def stats(self) -> dict[str, int]:
        """Counters since the start: verified, failed (wrong passwords, and busy refusals of failing clients),
        refused_locked, refused_busy, lockouts; and locked_addresses now."""
        now = self._clock()
        with self._lock:
            out = dict(self._counts)
            out["locked_addresses"] = sum(1 for st in self._addresses.values() if st.until > now)
        return out

    # -- bookkeeping ----------------------------------------------------------------------------
    def _refuse_if_locked(self, st: _Address, now: float) -> None:
        if now < st.until:
            st.refused += 1
            self._counts["refused_locked"] += 1
            raise LoginRefused("locked out")

    def _state(self, key: str, now: float) -> _Address:
        st = self._addresses.get(key)
        if st is None:
            if len(self._addresses) >= self.settings.max_addresses:
                self._forget_quietest(now)
            st = self._addresses[key] = _Address()
        st.seen = now
        self._expire(st, now)
        return st

    def _expire(self, st: _Address, now: float) -> None:
        while st.failed_at and st.failed_at[0] <= now - self.settings.window:
            st.failed_at.popleft()
        # A whole quiet window after the last lockout ended starts a new episode at the first lockout.
        if st.next_lockout and now >= st.until + self.settings.window and not st.failed_at:
            st.next_lockout = 0.0

    def _forget_quietest(self, now: float) -> None:
        idle = [k for k, st in self._addresses.items() if st.in_flight == 0 and st.until <= now]
        victims = sorted(idle or self._addresses, key=lambda k: self._addresses[k].seen)
        for k in victims[:max(1, len(victims) // 8)]:
            del self._addresses[k]

    def _settle(self, key: str, outcome: str | None) -> None:
        now = self._clock()
        with self._lock:
            st = self._addresses.get(key)
            if st is None:  # forgotten meanwhile (table full): nothing to settle
                return
            st.in_flight = max(0, st.in_flight - 1)
            if outcome == "ok":
                self._counts["verified"] += 1
                if st.in_flight == 0:
                    del self._addresses[key]
                else:
                    st.failed_at.clear()
                    st.until = st.next_lockout = 0.0
                return
            if outcome != "failed":
                return
            self._counts["failed"] += 1
            self._expire(st, now)
            st.failed_at.append(now)
            if st.next_lockout or len(st.failed_at) >= self.settings.failures:
                self._lock_out(key, st, now)

    def _lock_out(self, key: str, st: _Address, now: float) -> None:
        seconds = st.next_lockout or self.settings.lockout
        st.until = now + seconds
        st.next_lockout = min(seconds * 2, self.settings.lockout_max)
        st.failed_at.clear()
        self._counts["lockouts"] += 1
        refused, st.refused = st.refused, 0
        log.warning("login: %s locked out for %.0f s after failed attempts (%d refused since the last lockout)",
                    key, seconds, refused)


class Attempt:
    """What the caller tells the throttle about one attempt."""

    def __init__(self, throttle: LoginThrottle, key: str, clean: bool) -> None:
        self._throttle, self.key, self.clean = throttle, key, clean
        self.outcome: str | None = None

    def succeeded(self) -> None:
        self.outcome = "ok"

    def failed(self) -> None:
        self.outcome = "failed"

    def verification(self) -> contextlib.AbstractContextManager[None]:
        return self._throttle.verification(self)

