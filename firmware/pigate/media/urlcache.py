"""Play's http(s) sources: downloaded once through the address policy, kept on disk, revalidated by ETag.

Freshness follows the answer's Cache-Control: max-age (else Expires - Date, else `default_ttl`);
no-cache stores but revalidates before every use; no-store keeps nothing on disk. A stale entry is
revalidated with If-None-Match / If-Modified-Since, so an unchanged file costs a 304, not a download.
If revalidation fails because the server is unreachable or answers 5xx, the stale copy is played
(a prompt a little out of date beats silence on a live call) and a warning logged.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from pigate.errors import MediaError, NotifyError
from pigate.media.diskcache import DiskCache
from pigate.notify.http import BadResponse, ConnectFailed, HttpClient, HttpResponse, ResponseTimeout
from pigate.notify.policy import AddressPolicy, ResolveFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheRules:
    no_store: bool = False
    no_cache: bool = False
    max_age: float | None = None


def parse_cache_control(value: str) -> CacheRules:
    """The directives of a Cache-Control header that matter to a private cache."""
    no_store = no_cache = False
    max_age: float | None = None
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name == "no-store":
            no_store = True
        elif name == "no-cache":
            no_cache = True
        elif name == "max-age":
            try:
                max_age = max(0.0, float(arg.strip().strip('"')))
            except ValueError:
                max_age = 0.0  # a malformed max-age means stale (RFC 9111 4.2.1)
    return CacheRules(no_store, no_cache, max_age)


def lifetime(headers: Mapping[str, str], default_ttl: float) -> tuple[CacheRules, float]:
    """(rules, seconds the answer stays fresh) from response headers."""
    rules = parse_cache_control(headers.get("Cache-Control", ""))
    if rules.no_cache or rules.no_store:
        return rules, 0.0
    if rules.max_age is not None:
        return rules, rules.max_age
    expires, date = headers.get("Expires"), headers.get("Date")
    if expires:
        try:
            exp = email.utils.parsedate_to_datetime(expires).timestamp()
            now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
            return rules, max(0.0, exp - now)
        except (TypeError, ValueError, IndexError):
            return rules, 0.0  # an invalid Expires means already expired
    return rules, default_ttl


@dataclass
class Entry:
    url: str
    stored_at: float
    fresh_for: float
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    no_cache: bool = False

    def fresh(self, now: float) -> bool:
        return not self.no_cache and now - self.stored_at < self.fresh_for


@dataclass(frozen=True)
class Download:
    """A fetched body; `path` is None when the server said no-store (nothing was kept)."""

    url: str
    data: bytes
    content_type: str
    path: Path | None
    from_cache: bool


@dataclass(kw_only=True)
class UrlCache:
    directory: Path
    policy: AddressPolicy
    max_bytes: int = 64 * 1024 * 1024
    max_file: int = 16 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    default_ttl: float = 3600.0
    clock: Callable[[], float] = time.time
    user_agent: str = "pigate"
    _disk: DiskCache = field(init=False, repr=False)
    _http: HttpClient = field(init=False, repr=False)
    _locks: dict[str, threading.Lock] = field(init=False, repr=False, default_factory=dict)
    _locks_guard: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._disk = DiskCache(directory=Path(self.directory), max_bytes=self.max_bytes)
        self._http = HttpClient(policy=self.policy, connect_timeout=self.connect_timeout,
                                read_timeout=self.read_timeout, max_body=self.max_file)

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def get(self, url: str) -> Download:
        """The body of `url`, from the cache when fresh, revalidated or downloaded otherwise."""
        key = self.key(url)
        with self._lock_for(key):
            entry = self._load(key)
            now = self.clock()
            if entry is not None and entry.fresh(now):
                body = self._disk.hit(key, "body")
                if body is not None:
                    return Download(url, body.read_bytes(), entry.content_type, body, True)
            return self._fetch(url, key, entry)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _load(self, key: str) -> Entry | None:
        meta = self._disk.path(key, "json")
        try:
            entry = Entry(**json.loads(meta.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:  # a torn or foreign file: drop it and download again
            log.warning("media cache: discarding unreadable %s: %s", meta, exc)
            self._disk.remove(key)
            return None
        return entry if self._disk.path(key, "body").exists() else None

    def _fetch(self, url: str, key: str, entry: Entry | None) -> Download:
        headers = {"User-Agent": self.user_agent, "Accept": "audio/*, */*;q=0.5"}
        if entry is not None:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        try:
            response = self._http.request("GET", url, headers=headers)
        except (ConnectFailed, ResolveFailed, ResponseTimeout, BadResponse) as exc:
            return self._stale_or_raise(url, key, entry, exc)
        except NotifyError as exc:  # policy refusal (307), bad URL, oversized
            raise MediaError(f"cannot download {url}: {exc}") from exc
        if response.status == 304 and entry is not None:
            return self._revalidated(url, key, entry, response)
        if response.status >= 500:
            return self._stale_or_raise(url, key, entry, MediaError(f"{url} answered {response.status}"))
        if response.status != 200:
            raise MediaError(f"cannot download {url}: {response.status} {response.reason}")
        return self._store(url, key, response)

    def _stale_or_raise(self, url: str, key: str, entry: Entry | None, exc: Exception) -> Download:
        body = self._disk.hit(key, "body") if entry is not None else None
        if body is None:
            raise MediaError(f"cannot download {url}: {exc}") from exc
        log.warning("media cache: %s not revalidated (%s); playing the cached copy", url, exc)
        return Download(url, body.read_bytes(), entry.content_type if entry else "", body, True)

    def _revalidated(self, url: str, key: str, entry: Entry, response: HttpResponse) -> Download:
        rules, fresh_for = lifetime(response.headers, self.default_ttl)
        entry.stored_at, entry.fresh_for, entry.no_cache = self.clock(), fresh_for, rules.no_cache
        entry.etag = response.header("ETag", entry.etag)
        entry.last_modified = response.header("Last-Modified", entry.last_modified)
        self._disk.put(key, "json", json.dumps(asdict(entry)).encode())
        body = self._disk.hit(key, "body")
        if body is None:
            raise MediaError(f"cached copy of {url} vanished during revalidation")
        return Download(url, body.read_bytes(), entry.content_type, body, True)

    def _store(self, url: str, key: str, response: HttpResponse) -> Download:
        rules, fresh_for = lifetime(response.headers, self.default_ttl)
        ctype = response.header("Content-Type")
        if rules.no_store:
            self._disk.remove(key)
            return Download(url, response.body, ctype, None, False)
        entry = Entry(url, self.clock(), fresh_for, response.header("ETag"), response.header("Last-Modified"),
                      ctype, rules.no_cache)
        # Body first: a metadata file without its body is treated as a miss, never the other way round.
        path = self._disk.put(key, "body", response.body)
        self._disk.put(key, "json", json.dumps(asdict(entry)).encode())
        return Download(url, response.body, ctype, path, False)
