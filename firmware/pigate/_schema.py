"""Typed loading of nested dicts into dataclasses: unknown keys get a did-you-mean, wrong types name the key."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, get_args, get_origin

from pigate.errors import ConfigError


def load(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass `cls` from `data` (a dict from TOML), checking every key and type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a table, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    names = {n: n for n in fields}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        name = names.get(key)
        where = f"{path}.{key}" if path else key
        if name is None:
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(sorted(names))}"
            raise ConfigError(f"unknown key '{where}'{hint}")
        kwargs[name] = _convert(hints[name], value, where)
    missing = [n for n, f in fields.items() if n not in kwargs and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        where = f"{path}.{missing[0]}" if path else missing[0]
        raise ConfigError(f"'{where}' is required")
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if check is not None:
        check(path)
    return obj


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(get_args(tp)):
            return None
        errors = []
        for option in options:
            try:
                return _convert(option, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0])
    if origin in (list, tuple):
        (item,) = get_args(tp)[:1]
        if not isinstance(value, list):
            raise ConfigError(f"'{where}' must be a list, got {_kind(value)}")
        items = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"'{where}' must be a table, got {_kind(value)}")
        _, vt = get_args(tp)
        return {str(k): _convert(vt, v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return load(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"'{where}' must be true or false, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{where}' must be an integer, got {_kind(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"'{where}' must be a number, got {_kind(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{where}' must be a string, got {_kind(value)}")
        return value
    if get_origin(tp) is typing.Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"'{where}' must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    raise ConfigError(f"'{where}': unsupported type {tp!r}")  # a bug in a dataclass, not in the file
