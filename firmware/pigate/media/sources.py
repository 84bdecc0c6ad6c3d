"""Play's sources: a local file inside the content folder or an http(s) URL, as 8 kHz PCM, decoded once.

Local paths are relative to the content folder and may not leave it (no `..`, no absolute path
elsewhere, no symlink out). A Windows path, as in Ozeki's own example `c:\\testsound.wav`, cannot mean
anything on the box, so its last component is looked up in the content folder (`testsound.wav`):
scripts written for Ozeki work once their files are copied there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pigate.errors import MediaError
from pigate.media.audio import Decoders, decode_pcm8k, is_native_pcm8k
from pigate.media.diskcache import DiskCache
from pigate.media.urlcache import UrlCache
from pigate.notify.policy import AddressPolicy

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)|\\")


def is_url(source: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source.strip()))


def content_relative(source: str) -> PurePosixPath:
    """The path below the content folder that `source` names (pure; raises MediaError if it escapes)."""
    text = source.strip()
    if not text:
        raise MediaError("empty audio file name")
    if any(ord(c) < 32 for c in text):
        raise MediaError(f"control characters in audio file name {source!r}")
    if _WINDOWS_PATH.search(text):
        text = re.split(r"[\\/]", text)[-1]
        if not text:
            raise MediaError(f"no file name in {source!r}")
    rel = PurePosixPath(text)
    if rel.is_absolute():
        raise MediaError(f"absolute path {source!r} is outside the content folder")
    if ".." in rel.parts:
        raise MediaError(f"path {source!r} leaves the content folder")
    return rel


@dataclass(kw_only=True)
class MediaLibrary:
    """Resolves Play sources and turns them into call audio; decoded audio is cached by content hash."""

    content_dir: Path
    urls: UrlCache
    decoded: DiskCache
    decoders: Decoders = field(default_factory=Decoders)

    def local_path(self, source: str) -> Path:
        """The file in the content folder that `source` names; it must exist and stay inside the folder."""
        root = Path(self.content_dir).resolve()
        if Path(source.strip()).is_absolute() and not _WINDOWS_PATH.search(source):
            content_relative(source.strip().lstrip("/"))  # the same name checks as a relative path
            candidate = Path(source.strip())  # an absolute path is accepted only if it lies inside the folder
        else:
            candidate = root / content_relative(source)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise MediaError(f"audio file {source!r} not found in the content folder") from exc
        if not resolved.is_relative_to(root):
            raise MediaError(f"audio file {source!r} is outside the content folder")
        if not resolved.is_file():
            raise MediaError(f"audio file {source!r} is not a file")
        return resolved

    def read(self, source: str) -> tuple[bytes, str, bool]:
        """The raw bytes of the source, a name to guess its type from, and whether it may be cached."""
        if is_url(source):
            download = self.urls.get(source.strip())
            return download.data, source.strip().split("?", 1)[0], download.path is not None
        path = self.local_path(source)
        try:
            return path.read_bytes(), path.name, True
        except OSError as exc:
            raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def pcm8k(self, source: str) -> bytes:
        """8 kHz mono s16le PCM of a Play source (a local file or an http(s) URL)."""
        data, name, cacheable = self.read(source)
        if is_native_pcm8k(data):
            cacheable = False  # decoding is only stripping the header
        key = hashlib.sha256(data).hexdigest()[:32]
        cached = self.decoded.hit(key, "pcm") if cacheable else None
        if cached is not None:
            return cached.read_bytes()
        pcm = decode_pcm8k(data, name=name, decoders=self.decoders)
        if not pcm:
            raise MediaError(f"{source!r} holds no audio")
        if cacheable:
            self.decoded.put(key, "pcm", pcm)
        return pcm


def open_library(*, content_dir: Path, cache_dir: Path, policy: AddressPolicy,
                 max_bytes: int = 128 * 1024 * 1024, decoders: Decoders | None = None) -> MediaLibrary:
    """A MediaLibrary with its caches under `cache_dir` (downloads in http/, decoded audio in pcm/),
    sharing `max_bytes` between them; URLs obey `policy` (the notifier's allow/deny lists)."""
    cache_dir = Path(cache_dir)
    return MediaLibrary(
        content_dir=Path(content_dir),
        urls=UrlCache(directory=cache_dir / "http", policy=policy, max_bytes=max_bytes // 2),
        decoded=DiskCache(directory=cache_dir / "pcm", max_bytes=max_bytes // 2),
        decoders=decoders or Decoders(),
    )
