"""A size-capped directory of cache entries with least-recently-used eviction (shared by TTS, downloads, decoding).

An entry is every file named `<key>.<suffix>` for one key (a body and its metadata, or a prompt at two
sample rates); entries are evicted whole. Recency is the newest mtime among an entry's files: a hit
touches them, so the cache needs no index file that a power cut could corrupt. Writes go to a temporary
file and are renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class DiskCache:
    directory: Path
    max_bytes: int
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, key: str, suffix: str) -> Path:
        return self.directory / f"{key}.{suffix}"

    def hit(self, key: str, suffix: str) -> Path | None:
        """The file if it is cached (marking its entry as just used), else None."""
        p = self.path(key, suffix)
        try:
            self.touch(key)
            p.stat()
        except FileNotFoundError:
            return None
        return p

    def touch(self, key: str) -> None:
        now = time.time()
        found = False
        for p in self.directory.glob(f"{key}.*"):
            try:
                os.utime(p, (now, now))
                found = True
            except FileNotFoundError:
                continue
        if not found:
            raise FileNotFoundError(key)

    def put(self, key: str, suffix: str, data: bytes) -> Path:
        """Store `data` atomically, then evict older entries until the cache fits its cap."""
        target = self.path(key, suffix)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.evict(keep=key)
        return target

    def remove(self, key: str) -> None:
        for p in self.directory.glob(f"{key}.*"):
            p.unlink(missing_ok=True)

    def usage(self) -> int:
        return sum(size for size, _ in self._entries().values())

    def _entries(self) -> dict[str, tuple[int, float]]:
        """key -> (total bytes, last use)."""
        entries: dict[str, tuple[int, float]] = {}
        stale_tmp = time.time() - 3600  # left by a crash or power cut mid-write
        for p in self.directory.iterdir():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if p.name.startswith(".tmp-"):
                if st.st_mtime < stale_tmp:
                    p.unlink(missing_ok=True)
                continue
            key = p.name.split(".", 1)[0]
            size, used = entries.get(key, (0, 0.0))
            entries[key] = (size + st.st_size, max(used, st.st_mtime))
        return entries

    def evict(self, *, keep: str = "") -> list[str]:
        """Remove least recently used entries (never `keep`) until the total fits; the keys removed."""
        removed: list[str] = []
        with self._lock:
            entries = self._entries()
            total = sum(size for size, _ in entries.values())
            for key, (size, _used) in sorted(entries.items(), key=lambda kv: kv[1][1]):
                if total <= self.max_bytes:
                    break
                if key == keep:
                    continue
                self.remove(key)
                total -= size
                removed.append(key)
        if removed:
            log.debug("cache %s: evicted %d entries", self.directory, len(removed))
        return removed
