"""The config file edited over the API: entries of the list sections by type and id, the dial plan's rules by
position, and the `[email]` table, checked exactly like `pigate config check` (the whole edited file is parsed),
written atomically with a backup, comments kept.

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


LIST, ORDERED, SINGLE = "list", "ordered", "single"


@dataclass(frozen=True)
class Section:
    """One editable section: the API's type name, where it is in the file, its dataclass, how an entry is named,
    and whether a change takes effect without a restart.

    `shape`: LIST, an array of tables whose entries are named by their `key` field; ORDERED, an array of tables
    whose order is their meaning (the dial plan), named by position from 1; SINGLE, one table (named by its own
    name, `email`), always present with its defaults: it is modified or reset (removed), never added."""

    type: str
    path: tuple[str, ...]
    cls: type
    key: str
    live: bool
    secrets: tuple[str, ...] = ()
    shape: str = LIST

    def entries(self, cfg: config_mod.Config) -> list[tuple[str, Any]]:
        """(id, entry) of every entry, in the file's order."""
        value: Any = cfg
        for part in self.path:
            value = getattr(value, part)
        if self.shape == SINGLE:
            return [(self.path[-1], value)]
        if self.shape == ORDERED:
            return [(str(i), e) for i, e in enumerate(value, start=1)]
        return [(str(getattr(e, self.key)), e) for e in value]


SECTIONS: tuple[Section, ...] = (
    Section("ApiExtension", ("api_extensions",), config_mod.ApiExtension, "id", live=True),
    Section("GsmLine", ("modems",), config_mod.ModemConfig, "name", live=False, secrets=("pin",)),
    Section("SipAccount", ("sip", "accounts"), config_mod.SipAccount, "name", live=False, secrets=("password",)),
    Section("SipPeer", ("sip", "peers"), config_mod.SipPeer, "name", live=False),
    Section("Route", ("routes",), config_mod.RouteRule, "", live=True, shape=ORDERED),
    Section("Email", ("email",), config_mod.EmailConfig, "", live=True, secrets=("password",), shape=SINGLE),
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
    """The outcome of an edit: the entry as now configured and its id (None when removed), the new config, and
    whether the daemon applied it live (else it takes effect at the next restart)."""

    section: Section
    entry: Any | None
    config: config_mod.Config
    live: bool
    id: str = ""


class ConfigEditor:
    """Get, add, modify and remove entries of the editable sections; `apply(new_config, section)` makes a live
    section's change take effect and says whether it fully did (the composition root's)."""

    def __init__(self, *, file: ConfigFile, apply: Callable[[config_mod.Config, Section], bool]) -> None:
        self.file = file
        self._apply = apply
        self._lock = threading.Lock()

    def current(self) -> config_mod.Config:
        return self._parse(_tomlkit().dumps(self.file.read()), None)

    def get(self, type_name: str, key: str = "") -> tuple[Section, list[tuple[str, Any]]]:
        """The section and its (id, entry) pairs; with `key`, that entry only (701 when there is none)."""
        sec = section(type_name)
        entries = sec.entries(self.current())
        if key:
            entries = [(i, e) for i, e in entries if i == self._id(sec, key)]
            if not entries:
                raise ConfigNotFound(f"{sec.type} {key}")
        return sec, entries

    def add(self, type_name: str, values: Mapping[str, str], *, position: int | None = None) -> Change:
        """A new entry; for the dial plan, `position` (from 1) is where it goes (default: last)."""
        sec = section(type_name)
        if sec.shape == SINGLE:
            raise ConfigAlreadyExists()  # always there (with its defaults): ModifyConfig changes it
        key = values.get(sec.key, "").strip() if sec.shape == LIST else ""
        if sec.shape == LIST and not key:
            raise InvalidConfig(sec.type, detail=f"'{sec.key}' is required")
        with self._lock:
            doc = self.file.read()
            items = self._items(doc, sec)
            if sec.shape == LIST and any(str(t.get(sec.key, "")) == key for t in items):
                raise ConfigAlreadyExists()
            table = _tomlkit().table()
            for name, raw in values.items():
                table[name] = self._value(sec, name, raw)
            if sec.shape == ORDERED:
                at = self._position(sec, position, len(items) + 1)
                items.insert(at - 1, table)
                key = str(at)
            else:
                items.append(table)
            return self._commit(doc, sec, key)

    def modify(self, type_name: str, key: str, values: Mapping[str, str], unset: tuple[str, ...] = (), *,
               position: int | None = None) -> Change:
        """Change keys of an entry (`unset`: back to their defaults); a dial-plan rule may move to `position`.
        A secret sent back as it is shown (`********`) is left as it was."""
        sec = section(type_name)
        with self._lock:
            doc = self.file.read()
            table, items = self._find(doc, sec, key)
            for name, raw in values.items():
                if name in sec.secrets and raw == MASK:
                    continue
                table[name] = self._value(sec, name, raw)
            for name in unset:
                if sec.shape == LIST and name == sec.key:
                    raise InvalidConfig(sec.type, detail=f"'{sec.key}' cannot be unset")
                if name in table:
                    del table[name]
            if sec.shape == ORDERED:
                at = int(self._id(sec, key))
                if position is not None:
                    new_at = self._position(sec, position, len(items))
                    if new_at != at:
                        items.insert(new_at - 1, items.pop(at - 1))
                        at = new_at
                return self._commit(doc, sec, str(at))
            if sec.shape == SINGLE:
                return self._commit(doc, sec, sec.path[-1])
            return self._commit(doc, sec, str(table.get(sec.key, key)))

    def remove(self, type_name: str, key: str) -> Change:
        """Remove an entry; for a SINGLE section, the section (its keys back to their defaults)."""
        sec = section(type_name)
        with self._lock:
            doc = self.file.read()
            table, items = self._find(doc, sec, key)
            if sec.shape == SINGLE:
                parent = self._parent(doc, sec)
                if sec.path[-1] in parent:
                    del parent[sec.path[-1]]
            else:
                items.remove(table)
            return self._commit(doc, sec, None)

    # ---- internals -----------------------------------------------------------------------------------
    def _id(self, sec: Section, key: str) -> str:
        """An entry's id as the API may write it: a position of the dial plan as a plain number, the single
        section by its name (or no id at all)."""
        key = key.strip()
        if sec.shape == ORDERED:
            return str(int(key)) if key.isdigit() else key
        if sec.shape == SINGLE:
            return sec.path[-1] if key.lower() in ("", sec.path[-1]) else key
        return key

    def _position(self, sec: Section, position: int | None, last: int) -> int:
        if position is None:
            return last
        if not 1 <= position <= last:
            raise InvalidConfig(sec.type, detail=f"'position' must be 1-{last}, got {position}")
        return position

    def _value(self, sec: Section, name: str, raw: str) -> Any:
        try:
            return to_value(sec.cls, name, raw)
        except ConfigError as exc:
            raise InvalidConfig(sec.type, detail=f"{'.'.join(sec.path)}: {exc}") from exc

    def _parent(self, doc: Any, sec: Section) -> Any:
        tomlkit = _tomlkit()
        parent: Any = doc
        for part in sec.path[:-1]:
            if part not in parent:
                parent[part] = tomlkit.table()
            parent = parent[part]
        return parent

    def _items(self, doc: Any, sec: Section) -> Any:
        """A list section's array of tables; when the file has none, the built-in defaults written out first (an
        added entry must not silently replace the default one the daemon runs with)."""
        tomlkit = _tomlkit()
        parent = self._parent(doc, sec)
        name = sec.path[-1]
        if name not in parent:
            aot = tomlkit.aot()
            for _, entry in sec.entries(config_mod.Config()):
                t = tomlkit.table()
                t[sec.key] = getattr(entry, sec.key)
                aot.append(t)
            parent[name] = aot
        return parent[name]

    def _find(self, doc: Any, sec: Section, key: str) -> tuple[Any, Any]:
        """The entry's table and the array it is in (None for a SINGLE section, whose table is made if absent)."""
        want = self._id(sec, key)
        if sec.shape == SINGLE:
            if want != sec.path[-1]:
                raise ConfigNotFound(f"{sec.type} {key}")
            parent = self._parent(doc, sec)
            if sec.path[-1] not in parent:
                parent[sec.path[-1]] = _tomlkit().table()
            return parent[sec.path[-1]], None
        items = self._items(doc, sec)
        for i, table in enumerate(items, start=1):
            if (str(i) if sec.shape == ORDERED else str(table.get(sec.key, ""))) == want:
                return table, items
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
        entry = next((e for i, e in sec.entries(new) if key is not None and i == key), None)
        return Change(sec, entry, new, live, key or "")


def entry_fields(sec: Section, entry: Any) -> list[tuple[str, Any]]:
    """(key, value) of every field of an entry, secrets masked."""
    out = []
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        if f.name in sec.secrets and value:
            value = MASK
        out.append((f.name, value))
    return out
