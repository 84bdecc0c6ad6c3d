"""A command's parameters: case-insensitive names, typed accessors that raise 302 naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlsplit

from pigate.errors import InvalidParameter

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass
class Params:
    """The parameters of one API request (the first value of a repeated name wins)."""

    command: str
    values: dict[str, str] = field(default_factory=dict)  # lower-cased name -> value
    names: dict[str, str] = field(default_factory=dict)  # lower-cased name -> name as sent

    @classmethod
    def from_pairs(cls, command: str, pairs: Iterable[tuple[str, str]]) -> "Params":
        params = cls(command)
        for name, value in pairs:
            key = name.lower()
            if key not in params.values:
                params.values[key] = value
                params.names[key] = name
        return params

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.values

    def get(self, name: str, default: str = "", *aliases: str) -> str:
        """The value, stripped; `aliases` are other spellings (DelivaryReportURL)."""
        for key in (name, *aliases):
            if key.lower() in self.values:
                return self.values[key.lower()].strip()
        return default

    def require(self, name: str, *aliases: str) -> str:
        value = self.get(name, "", *aliases)
        if not value:
            raise InvalidParameter(name, self.command)
        return value

    def int(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        value = self._number(name, int, low, high)
        return default if value is None else value

    def float(self, name: str, *, low: float = 0.0, high: float = 86400.0) -> float | None:
        """A number of seconds (or the like) within [low, high]; None when absent."""
        return self._number(name, float, low, high)

    def _number(self, name: str, kind: type, low: object, high: object):
        raw = self.get(name)
        if not raw:
            return None
        try:
            value = kind(raw)
        except ValueError as exc:
            raise InvalidParameter(name, self.command) from exc
        # `not low <= value` (rather than `value < low`) also refuses nan
        if (low is not None and not low <= value) or (high is not None and not value <= high):
            raise InvalidParameter(name, self.command)
        return value

    def url(self, name: str, *aliases: str) -> str | None:
        """An absolute http(s) URL; None when absent."""
        value = self.get(name, "", *aliases)
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise InvalidParameter(name, self.command)
        return value

    def bool(self, name: str, default: bool) -> bool:
        raw = self.get(name).lower()
        if not raw:
            return default
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise InvalidParameter(name, self.command)

    def choice(self, name: str, options: Iterable[str], default: str = "") -> str:
        """One of `options`, matched case-insensitively and returned in its canonical spelling."""
        raw = self.get(name)
        if not raw:
            return default
        for option in options:
            if option.lower() == raw.lower():
                return option
        raise InvalidParameter(name, self.command)
