"""The one retry policy: how many attempts, and a capped exponential wait before each next one.

Used by SMS submissions, SMS webhooks, the webhook client's quick retries and the modem supervisor's
reopening of a line that is down.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int | None = 5    # None: no limit
    base: float = 5.0
    cap: float = float("inf")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: base, 2*base, 4*base, ... up to `cap`."""
        return min(self.cap, self.base * 2.0 ** min(max(0, attempts - 1), 64))

    def exhausted(self, attempts: int) -> bool:
        """True once `attempts` attempts were made: no other one."""
        return self.attempts is not None and attempts >= self.attempts
