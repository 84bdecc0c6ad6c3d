"""A session's variables: Var values and Arrays, `$name` substitution, and ForEach's `$item` binding."""

from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from typing import Iterator, TypeVar

from pigate.ozml import grammar
from pigate.ozml.verbs import VAR_NAME, Verb

_REFERENCE = re.compile(r"\$(" + VAR_NAME + ")")
# Fields that name a variable rather than use one.
_NAMES = frozenset({"id", "source", "var"})

V = TypeVar("V", bound=Verb)


class Scope:
    """Variables live for the whole session (GoTo'd scripts see them); `$item` only inside a ForEach body."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.arrays: dict[str, tuple[str, ...]] = {}

    def substitute(self, text: str) -> str:
        """`$name` -> its value; a name that is not defined is left as written."""
        return _REFERENCE.sub(lambda m: self.values.get(m.group(1), m.group(0)), text)

    def expand(self, verb: V) -> V:
        """The verb with every text attribute substituted (children are expanded when they run)."""
        changes = {}
        for p in grammar.PARAMS[type(verb)]:
            value = getattr(verb, p.field)
            if isinstance(value, str) and p.field not in _NAMES and "$" in value:
                changes[p.field] = self.substitute(value)
        return dataclasses.replace(verb, **changes) if changes else verb

    @contextmanager
    def binding(self, name: str, value: str) -> Iterator[None]:
        """`$name` = value inside the block, the previous value (or none) after it."""
        had, old = name in self.values, self.values.get(name)
        self.values[name] = value
        try:
            yield
        finally:
            if had:
                self.values[name] = old  # type: ignore[assignment]
            else:
                del self.values[name]
