"""The config file edited over the API: entries of the list sections by type and id, checked exactly like
`pigate config check` (the whole edited file is parsed), written atomically with a backup, comments kept.

Writing: the new text goes to a temporary file in the same folder, is fsynced, the current file is copied to
`<name>.bak` (also through a temporary file), and the temporary file is renamed over the config; then the folder
is fsynced. A crash or SIGKILL at any moment leaves either the old or the new file, complete.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, get_args, get_origin

from pigate import config as config_mod
from pigate.errors import ConfigAlreadyExists, ConfigError, ConfigNotFound, InvalidConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """One editable list section: the API's type name, where it is in the file, its dataclass and key field,
    and whether a change takes effect without a restart."""

    type: str
    path: tuple[str, ...]
    cls: type
    key: str
    live: bool
    secrets: tuple[str, ...] = ()

    def entries(self, cfg: config_mod.Config) -> list[Any]:
        value: Any = cfg
        for part in self.path:
            value = getattr(value, part)
        return list(value)


SECTIONS: tuple[Section, ...] = (
    Section("ApiExtension", ("api_extensions",), config_mod.ApiExtension, "id", live=True),
    Section("GsmLine", ("modems",), config_mod.ModemConfig, "name", live=False, secrets=("pin",)),
    Section("SipAccount", ("sip", "accounts"), config_mod.SipAccount, "name", live=False, secrets=("password",)),
    Section("SipPeer", ("sip", "peers"), config_mod.SipPeer, "name", live=False),
)
MASK = "********"


def _tomlkit():
    # Imported on first use (an edit over the API), not at every start of the daemon.
    import tomlkit

    return tomlkit


def section(type_name: str) -> Section:
    for s in SECTIONS:
        if s.type.lower() == type_name.strip().lower():
            return s
    raise ConfigNotFound(type_name)


def to_value(cls: type, key: str, raw: str) -> Any:
    """The TOML value of a parameter's text for field `key` of `cls` (unknown keys stay text: the check names them)."""
    hints = typing.get_type_hints(cls)
    tp = hints.get(key, str)
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
        origin = get_origin(tp)
    text = raw.strip()
    try:
        if tp is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if tp is int:
            return int(text)
        if tp is float:
            return float(text)
        if origin is list:
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError as exc:
        raise ConfigError(f"'{key}' must be {_kind(tp)}, got {raw!r}") from exc
    if origin is dict:
        raise ConfigError(f"'{key}' is a table: edit it in the file")
    return raw


def _kind(tp: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number"}.get(tp, "a value")


class ConfigFile:
    """The TOML file: read (comments kept), written atomically with a `.bak` of the previous version."""

    def __init__(self, *, path: Path, write_chunk: Callable[[int, bytes], None] | None = None) -> None:
        self.path = Path(path)
        # How bytes reach the temporary file (a test slows it down to kill a write half-way).
        self._write_chunk = write_chunk or (lambda fd, data: _write_all(fd, data))

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def read(self) -> Any:
        """The file as a tomlkit document (comments and layout kept)."""
        tomlkit = _tomlkit()
        try:
            return tomlkit.parse(self.path.read_text(encoding="utf-8")) if self.path.exists() else tomlkit.document()
        except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
            raise ConfigError(f"cannot read {self.path}: {exc}") from exc

    def write(self, text: str) -> None:
        folder = self.path.parent
        for stale in folder.glob(f".{self.path.name}*.tmp"):  # left by a write that was killed
            stale.unlink(missing_ok=True)
        if self.path.exists():
            _replace(self.backup, self.path.read_bytes(), self._write_chunk)
        _replace(self.path, text.encode("utf-8"), self._write_chunk)
        _fsync_dir(folder)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _replace(path: Path, data: bytes, write: Callable[[int, bytes], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Change:
    """The outcome of an edit: the entry as now configured (None when removed), the new config, and whether the
    daemon applied it live (else it takes effect at the next restart)."""

    section: Section
    entry: Any | None
    config: config_mod.Config
    live: bool


class ConfigEditor:
    """Get, add, modify and remove entries of the list sections; `apply(new_config, section)` makes a live
    section's change take effect (the composition root's)."""

    def __init__(self, *, file: ConfigFile, apply: Callable[[config_mod.Config, Section], bool]) -> None:
        self.file = file
        self._apply = apply
        self._lock = threading.Lock()

    def current(self) -> config_mod.Config:
        return self._parse(_tomlkit().dumps(self.file.read()), None)

    def get(self, type_name: str, key: str = "") -> tuple[Section, list[Any]]:
        sec = section(type_name)
        entries = sec.entries(self.current())
        if key:
            entries = [e for e in entries if getattr(e, sec.key) == key]
            if not entries:
                raise ConfigNotFound(f"{sec.type} {key}")
        return sec, entries

    def add(self, type_name: str, values: Mapping[str, str]) -> Change:
        sec = section(type_name)
        key = values.get(sec.key, "").strip()
        if not key:
            raise InvalidConfig(sec.type, detail=f"'{sec.key}' is required")
        with self._lock:
            doc = self.file.read()
            items = self._items(doc, sec)
            if any(str(t.get(sec.key, "")) == key for t in items):
                raise ConfigAlreadyExists()
            table = _tomlkit().table()
            for name, raw in values.items():
                table[name] = self._value(sec, name, raw)
            items.append(table)
            return self._commit(doc, sec, key)

    def modify(self, type_name: str, key: str, values: Mapping[str, str], unset: tuple[str, ...] = ()) -> Change:
        sec = section(type_name)
        with self._lock:
            doc = self.file.read()
            table = self._find(self._items(doc, sec), sec, key)
            for name, raw in values.items():
                table[name] = self._value(sec, name, raw)
            for name in unset:
                if name == sec.key:
                    raise InvalidConfig(sec.type, detail=f"'{sec.key}' cannot be unset")
                if name in table:
                    del table[name]
            return self._commit(doc, sec, str(table.get(sec.key, key)))

    def remove(self, type_name: str, key: str) -> Change:
        sec = section(type_name)
        with self._lock:
            doc = self.file.read()
            items = self._items(doc, sec)
            table = self._find(items, sec, key)
            items.remove(table)
            return self._commit(doc, sec, None)

    # ---- internals -----------------------------------------------------------------------------------
    def _value(self, sec: Section, name: str, raw: str) -> Any:
        try:
            return to_value(sec.cls, name, raw)
        except ConfigError as exc:
            raise InvalidConfig(sec.type, detail=f"{'.'.join(sec.path)}: {exc}") from exc

    def _items(self, doc: Any, sec: Section) -> Any:
        """The section's array of tables; when the file has none, the built-in defaults written out first (an
        added entry must not silently replace the default one the daemon runs with)."""
        tomlkit = _tomlkit()
        parent: Any = doc
        for part in sec.path[:-1]:
            if part not in parent:
                parent[part] = tomlkit.table()
            parent = parent[part]
        name = sec.path[-1]
        if name not in parent:
            aot = tomlkit.aot()
            for entry in sec.entries(config_mod.Config()):
                t = tomlkit.table()
                t[sec.key] = getattr(entry, sec.key)
                aot.append(t)
            parent[name] = aot
        return parent[name]

    def _find(self, items: Any, sec: Section, key: str) -> Any:
        for table in items:
            if str(table.get(sec.key, "")) == key:
                return table
        raise ConfigNotFound(f"{sec.type} {key}")

    def _parse(self, text: str, sec: Section | None) -> config_mod.Config:
        try:
            return config_mod.parse(text)
        except ConfigError as exc:
            raise InvalidConfig(sec.type if sec else "config", detail=str(exc)) from exc

    def _commit(self, doc: Any, sec: Section, key: str | None) -> Change:
        text = _tomlkit().dumps(doc)
        new = self._parse(text, sec)       # exactly what `pigate config check` would say of the new file
        self.file.write(text)
        log.info("config: %s %s changed in %s", sec.type, key or "(removed)", self.file.path)
        live = sec.live and self._apply(new, sec)
        entry = next((e for e in sec.entries(new) if key is not None and getattr(e, sec.key) == key), None)
        return Change(sec, entry, new, live)


def entry_fields(sec: Section, entry: Any) -> list[tuple[str, Any]]:
    """(key, value) of every field of an entry, secrets masked."""
    out = []
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        if f.name in sec.secrets and value:
            value = MASK
        out.append((f.name, value))
    return out
