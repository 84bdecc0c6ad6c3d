"""`pigate backup` / `pigate restore`: the config and the data directory as one .tar.gz, and back.

SQLite databases are copied with SQLite's online backup (consistent while the daemon writes); their -wal and
-shm files, sockets and the simulator's pty links are left out. A restore checks the whole archive before it
touches anything, refuses while the daemon answers, and swaps the data directory's contents in one step per
entry, keeping the previous contents until the new ones are all in place.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

from pigate import __version__
from pigate.errors import UpkeepError

FORMAT = "pigate-backup-1"
SKIP_SUFFIXES = ("-wal", "-shm", "-journal")
SKIP_NAMES = (".restore-new", ".restore-old")
SKIP_TOP = ("cache", "sim")  # regenerated: the TTS and audio caches, the simulator's ptys


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o640) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _sqlite_copy(src: Path, dst: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\0"
    except OSError:
        return False


def backup(*, config: Path | None, data_dir: Path, out: Path) -> dict:
    """Write the archive to `out` (atomically); the manifest it holds."""
    files: list[str] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(tmp, "w:gz") as tar:
        if config is not None and config.exists():
            tar.add(config, arcname="config/pigate.toml", recursive=False)
            files.append("config/pigate.toml")
        for path in sorted(data_dir.rglob("*")):
            rel = path.relative_to(data_dir)
            if rel.parts[0] in SKIP_NAMES + SKIP_TOP or path.name.endswith(SKIP_SUFFIXES) or path in (out, tmp):
                continue
            st = path.lstat()
            arc = f"data/{rel.as_posix()}"
            if stat.S_ISDIR(st.st_mode):
                tar.add(path, arcname=arc, recursive=False)
            elif stat.S_ISREG(st.st_mode):
                if _is_sqlite(path):
                    copy = Path(scratch) / "db"
                    copy.unlink(missing_ok=True)
                    _sqlite_copy(path, copy)
                    info = tar.gettarinfo(copy, arcname=arc)
                    info.mode, info.mtime = st.st_mode & 0o777, int(st.st_mtime)
                    with copy.open("rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.add(path, arcname=arc, recursive=False)
                files.append(arc)
            # sockets, fifos, devices and symlinks (the simulator's ptys) are not data
        manifest = {"format": FORMAT, "version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                    time.gmtime()), "host": os.uname().nodename, "files": files}
        _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
    os.replace(tmp, out)
    return manifest


def _check(tar: tarfile.TarFile) -> tuple[dict, list[tarfile.TarInfo]]:
    try:
        f = tar.extractfile("manifest.json")
        manifest = json.load(f) if f else {}
    except (KeyError, ValueError) as exc:
        raise UpkeepError("not a pigate backup (no manifest.json)") from exc
    if manifest.get("format") != FORMAT:
        raise UpkeepError(f"not a pigate backup of a known format: {manifest.get('format')!r}")
    members = []
    for m in tar.getmembers():
        p = PurePosixPath(m.name)
        if m.name == "manifest.json":
            continue
        if p.is_absolute() or ".." in p.parts or p.parts[0] not in ("config", "data") or \
                not (m.isfile() or m.isdir()):
            raise UpkeepError(f"backup holds an entry it should not: {m.name!r}")
        members.append(m)
    return manifest, members


def restore(*, archive: Path, config: Path | None, data_dir: Path) -> dict:
    """Replace the config and the data directory's contents with the archive's; its manifest."""
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise UpkeepError(f"cannot read {archive}: {exc}") from exc
    with tar:
        manifest, members = _check(tar)
        data_dir.mkdir(parents=True, exist_ok=True)
        owner = data_dir.stat()
        new, old = data_dir / ".restore-new", data_dir / ".restore-old"
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        new.mkdir(mode=0o700)
        for m in members:
            if not m.name.startswith("data/"):
                continue
            dest = new / PurePosixPath(m.name).relative_to("data")
            if m.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                dest.chmod(m.mode & 0o777)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(m) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                    out.flush()
                    os.fsync(out.fileno())
                dest.chmod(m.mode & 0o777)
                os.utime(dest, (m.mtime, m.mtime))
        for path in [new, *new.rglob("*")]:
            os.lchown(path, owner.st_uid, owner.st_gid)
        config_member = next((m for m in members if m.name == "config/pigate.toml"), None)
        if config_member is not None and config is not None:
            config.parent.mkdir(parents=True, exist_ok=True)
            tmp = config.with_name(f".{config.name}.restore")
            with tar.extractfile(config_member) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            if config.exists():
                cst = config.stat()
                os.chmod(tmp, cst.st_mode & 0o777)
                os.chown(tmp, cst.st_uid, cst.st_gid)
            else:
                os.chmod(tmp, config_member.mode & 0o777)
    # The swap: the old contents aside, the new ones in, the old ones dropped.
    old.mkdir(mode=0o700)
    for entry in list(data_dir.iterdir()):
        if entry.name not in SKIP_NAMES:
            os.replace(entry, old / entry.name)
    for entry in list(new.iterdir()):
        os.replace(entry, data_dir / entry.name)
    if config_member is not None and config is not None:
        os.replace(tmp, config)
    os.sync()
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return manifest
