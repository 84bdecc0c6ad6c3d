"""How a verb declares its OzML attributes, and the pure conversion of attribute text into typed values."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

# Key under which a dataclass field's metadata carries its Param / children kind.
PARAM_KEY = "ozml.param"
CHILDREN_KEY = "ozml.children"


@dataclass(frozen=True)
class Param:
    """One attribute of an element: its OzML name, value type and rules.

    `main` marks the element's main parameter, which may also be written as the element's text
    (`<BlindTransfer>101</BlindTransfer>` = `<BlindTransfer Target="101"/>`).
    """

    name: str
    field: str = ""
    kind: type = str
    default: Any = None
    required: bool = False
    main: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    pattern: str | None = None  # a full-match regex the text value must satisfy

    def spellings(self) -> tuple[str, ...]:
        return (self.name.lower(), *(a.lower() for a in self.aliases))


def param(name: str, default: Any = None, *, required: bool = False, main: bool = False,
          aliases: tuple[str, ...] = (), choices: tuple[str, ...] = (), minimum: float | None = None,
          pattern: str | None = None) -> Any:
    """A dataclass field that is an OzML attribute (the value type comes from the field's annotation)."""
    meta = {PARAM_KEY: Param(name, default=default, required=required, main=main, aliases=aliases,
                             choices=choices, minimum=minimum, pattern=pattern)}
    return dataclasses.field(default=default, metadata=meta)


def children(kind: str) -> Any:
    """A dataclass field holding child elements: 'verbs', 'menu' (UserInput) or 'items' (Array)."""
    return dataclasses.field(default=(), metadata={CHILDREN_KEY: kind})


def _plain_type(hint: Any) -> type:
    """`float | None` -> float; `str` -> str."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def params_of(cls: type) -> tuple[Param, ...]:
    """The Params a verb class declares, with field name and value type filled in."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        p = f.metadata.get(PARAM_KEY)
        if p is not None:
            out.append(dataclasses.replace(p, field=f.name, kind=_plain_type(hints[f.name])))
    return tuple(out)


def children_of(cls: type) -> tuple[str, str] | None:
    """(field name, kind) of the verb's children field, or None if it takes no child elements."""
    for f in dataclasses.fields(cls):
        kind = f.metadata.get(CHILDREN_KEY)
        if kind is not None:
            return f.name, kind
    return None


class ConversionError(ValueError):
    """An attribute's text is not a value of its type (the parser turns it into a located 302)."""


def convert(p: Param, raw: str) -> Any:
    """The typed value of attribute text `raw` for `p`; raises ConversionError."""
    text = raw.strip()
    if p.kind is bool:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConversionError(f"{p.name} must be true or false, not {raw!r}")
    if p.kind is int or p.kind is float:
        try:
            value: float = int(text) if p.kind is int else float(text)
        except ValueError as exc:
            raise ConversionError(f"{p.name} must be a number, not {raw!r}") from exc
        if isinstance(value, float) and not math.isfinite(value):
            raise ConversionError(f"{p.name} must be a finite number, not {raw!r}")
        if p.minimum is not None and value < p.minimum:
            raise ConversionError(f"{p.name} must be at least {p.minimum:g}, not {raw!r}")
        return value
    if p.choices:
        low = text.lower()
        if low not in p.choices:
            raise ConversionError(f"{p.name} must be one of {', '.join(p.choices)}, not {raw!r}")
        return low
    if p.pattern is not None and text and not re.fullmatch(p.pattern, text):
        raise ConversionError(f"{p.name} has an invalid value {raw!r}")
    return text
