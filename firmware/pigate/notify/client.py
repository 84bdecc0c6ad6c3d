"""The webhook client: posts a notification form to an app and returns its answer (OzML), with retries.

Retry policy: a post is repeated (up to `retries` more times, waiting backoff, 2*backoff, 4*backoff ...)
only when the app certainly did not process it: no connection could be made (refused, unreachable,
connect timeout, DNS failure), or the answer was 502, 503 or 504 (a proxy or server saying the app did
not handle it). It is never repeated after a read timeout, a 500 or any other answer, because the app
may already have acted on it (an IncomingSMS stored twice, an SMS sent twice).
"""

from __future__ import annotations

import logging
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from pigate.errors import NotifyError
from pigate.notify.http import ConnectFailed, HttpClient, HttpResponse
from pigate.notify.policy import AddressPolicy, ResolveFailed, Resolver
from pigate.notify.signing import signature_headers
from pigate.retry import RetryPolicy

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})


class HttpStatusError(NotifyError):
    """The app answered with a status other than 2xx; `status` is it."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        self.url, self.status, self.reason = url, status, reason
        super().__init__(f"{url} answered {status} {reason}".rstrip())


def _text(value: object) -> str:
    """A field value as Ozeki writes it (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class NotifyConfig:
    """How notifications are posted; config.py builds it from the `[notifications]` TOML section."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    retries: int = 2
    backoff: float = 0.5
    max_body: int = 1024 * 1024
    allow: Sequence[str] = ()
    deny: Sequence[str] = ()
    secret: str = ""
    user_agent: str = "pigate"
    max_redirects: int = 3


@dataclass(kw_only=True)
class Notifier:
    """Posts notifications; thread-safe (no shared mutable state, one connection per post)."""

    config: NotifyConfig
    resolver: Resolver | None = None  # getaddrinfo by default; tests point names at loopback
    ssl_context: ssl.SSLContext | None = None  # the system's trust store by default
    sleep: Callable[[float], None] = time.sleep
    _http: HttpClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cfg = self.config
        policy = AddressPolicy(allow=cfg.allow, deny=cfg.deny,
                               **({"resolver": self.resolver} if self.resolver else {}))
        self._http = HttpClient(policy=policy, connect_timeout=cfg.connect_timeout, read_timeout=cfg.read_timeout,
                                max_body=cfg.max_body, max_redirects=cfg.max_redirects,
                                ssl_context=self.ssl_context)

    @property
    def http(self) -> HttpClient:
        """The policy-checked HTTP client, for other fetchers that must obey the same rules (media)."""
        return self._http

    def post(self, url: str, fields: Mapping[str, str]) -> str:
        """Post `fields` form-encoded to `url`; the answer's text (maybe empty).

        Raises NotifyError (HttpStatusError for a non-2xx answer, ForbiddenTarget, code 307, for an address
        the policy refuses, ResponseTooLarge, ResponseTimeout, ConnectFailed, BadResponse, BadUrl).
        """
        return self.post_response(url, fields).text()

    def post_response(self, url: str, fields: Mapping[str, str]) -> HttpResponse:
        """Like post, but the whole answer (status, headers, raw body)."""
        fields = {name: _text(value) for name, value in fields.items()}
        body = urllib.parse.urlencode(list(fields.items())).encode("ascii")
        attempts = 1 + max(0, self.config.retries)
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = self._http.request("POST", url, body=body, headers=self._headers_for(fields))
            except (ConnectFailed, ResolveFailed) as exc:
                if attempt == attempts:
                    raise
                log.warning("notify %s: %s; retry %d of %d", url, exc, attempt, attempts - 1)
            else:
                log.debug("notify %s %s: %d, %d bytes in %.0f ms", fields.get("NotificationName", "?"), url,
                          response.status, len(response.body), (time.monotonic() - started) * 1000)
                if 200 <= response.status < 300:
                    return response
                error = HttpStatusError(response.url, response.status, response.reason)
                if response.status not in RETRY_STATUSES or attempt == attempts:
                    raise error
                log.warning("notify %s: %s; retry %d of %d", url, error, attempt, attempts - 1)
            self.sleep(RetryPolicy(attempts=attempts, base=self.config.backoff).delay(attempt))
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _headers_for(self, fields: Mapping[str, str]) -> Callable[[str, str, bytes], dict[str, str]]:
        def headers(method: str, url: str, body: bytes) -> dict[str, str]:
            h = {
                "User-Agent": self.config.user_agent,
                "Accept": "application/xml, text/xml, */*;q=0.5",
                # Ozeki's notifications carry these; some PHP stacks cache otherwise.
                "Cache-Control": "no-store,no-cache",
                "Pragma": "no-cache",
            }
            if body:
                h["Content-Type"] = "application/x-www-form-urlencoded"
            if self.config.secret:
                # After a 303 the fields are gone from the request, so the signature covers none.
                h.update(signature_headers(self.config.secret, url, fields if body else {}))
            return h

        return headers
