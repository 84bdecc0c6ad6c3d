"""A command's parameters: case-insensitive names, typed accessors that raise 302 naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator
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


# ---- declared parameters: what the handlers validate with, and what the OpenAPI document is made from ----

KINDS = ("string", "text", "int", "float", "bool", "choice", "url")


@dataclass(frozen=True)
class Param:
    """One declared parameter of a command or JSON endpoint.

    `kind`: string (stripped), text (kept as sent: an SMS body), int, float, bool, choice (one of `choices`,
    canonical spelling returned), url (absolute http/https). Reading goes through Params' accessors, so a
    command validated by its declaration answers exactly as one that calls them by hand.
    """

    name: str
    kind: str = "string"
    required: bool = False
    default: object = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    doc: str = ""
    many: bool = False  # a list of values (a JSON array; at most `high_items`)
    high_items: int = 100

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}")

    def read(self, params: Params) -> object:
        """The typed value (or the default); InvalidParameter naming it when it is missing or invalid."""
        if self.required:
            if self.kind == "text":
                if not params.get(self.name, "", *self.aliases):
                    raise InvalidParameter(self.name, params.command)
            else:
                params.require(self.name, *self.aliases)
        kind = self.kind
        if kind == "string":
            return params.get(self.name, "" if self.default is None else str(self.default), *self.aliases)
        if kind == "text":
            for key in (self.name, *self.aliases):
                if key.lower() in params.values:
                    return params.values[key.lower()]
            return "" if self.default is None else str(self.default)
        if kind == "int":
            return params.int(self.name, self.default, low=self._bound(self.low), high=self._bound(self.high))
        if kind == "float":
            value = params.float(self.name, low=self.low if self.low is not None else float("-inf"),
                                 high=self.high if self.high is not None else float("inf"))
            return self.default if value is None else value
        if kind == "bool":
            return params.bool(self.name, bool(self.default))
        if kind == "choice":
            return params.choice(self.name, self.choices, "" if self.default is None else str(self.default))
        return params.url(self.name, *self.aliases)

    @staticmethod
    def _bound(value: float | None) -> int | None:
        return None if value is None else int(value)

    def schema(self) -> dict:
        """The JSON schema of the value as it travels in a query or form (OpenAPI)."""
        out: dict = {}
        if self.kind == "int":
            out["type"] = "integer"
        elif self.kind == "float":
            out["type"] = "number"
        elif self.kind == "bool":
            out["type"] = "boolean"
        else:
            out["type"] = "string"
        if self.kind == "choice":
            out["enum"] = list(self.choices)
        if self.kind == "url":
            if self.required:
                out["format"] = "uri"
            else:  # an empty value is no value (Ozeki's rule for every parameter), so "" is valid too
                out["anyOf"] = [{"format": "uri"}, {"maxLength": 0}]
        if self.low is not None:
            out["minimum"] = self.low
        if self.high is not None:
            out["maximum"] = self.high
        if self.required and self.kind in ("string", "text"):
            out["minLength"] = 1
        if self.default is not None:
            out["default"] = self.default
        if self.doc:
            out["description"] = self.doc
        return out


@dataclass(frozen=True)
class Spec:
    """A command's (or endpoint's) declared parameters, read in one go into a dict by canonical name."""

    params: tuple[Param, ...] = ()
    doc: str = ""

    def bind(self, params: Params) -> dict[str, object]:
        return {p.name: p.read(params) for p in self.params}

    def bind_json(self, body: object, command: str) -> dict[str, object]:
        """A JSON object read by the same rules: each value must have its schema's JSON type, then it is
        checked exactly as the same text in a query would be. Unknown members are refused."""
        if not isinstance(body, dict):
            raise InvalidParameter("body", command)
        known = {p.name for p in self.params}
        for name in body:
            if name not in known:
                raise InvalidParameter(str(name), command)
        out: dict[str, object] = {}
        for param in self.params:
            value = body.get(param.name)
            if value is None and param.name in body:
                raise InvalidParameter(param.name, command)  # null is not a value of any declared type
            if param.many:
                items = [] if value is None else value
                if not isinstance(items, list) or len(items) > param.high_items or \
                        (param.required and not items):
                    raise InvalidParameter(param.name, command)
                single = Param(param.name, param.kind, True, None, param.low, param.high, param.choices)
                out[param.name] = [single.read(Params.from_pairs(command, [(param.name, _as_text(i, param, command))]))
                                   for i in items]
                continue
            pairs = [] if value is None else [(param.name, _as_text(value, param, command))]
            out[param.name] = param.read(Params.from_pairs(command, pairs))
        return out

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def json_schema(self) -> dict:
        """The JSON object this spec reads (a request body)."""
        props = {}
        for p in self.params:
            item = p.schema()
            props[p.name] = {"type": "array", "items": {k: v for k, v in item.items() if k != "description"},
                             "minItems": 1 if p.required else 0, "maxItems": p.high_items,
                             **({"description": p.doc} if p.doc else {})} if p.many else item
        schema: dict = {"type": "object", "properties": props, "additionalProperties": False}
        required = [p.name for p in self.params if p.required]
        if required:
            schema["required"] = required
        return schema


def _as_text(value: object, param: Param, command: str) -> str:
    """A JSON value as the text a query would carry, if its JSON type is the one the schema names."""
    kind = param.kind
    if kind == "bool":
        ok = isinstance(value, bool)
        return ("true" if value else "false") if ok else _refuse(param, command)
    if kind == "int":
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else _refuse(param, command)
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return repr(float(value)) if ok else _refuse(param, command)
    return value if isinstance(value, str) else _refuse(param, command)


def _refuse(param: Param, command: str) -> str:
    raise InvalidParameter(param.name, command)
