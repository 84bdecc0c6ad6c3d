"""Safe XML reading for OzML: expat with no DTD, no entities and bounded size, depth and element count."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from pigate.errors import OzmlError

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_ELEMENTS = 10_000


@dataclass
class Node:
    """One element as read: name as written, attributes as written, its own text, children, position."""

    name: str
    attrs: dict[str, str]
    line: int
    column: int
    text: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def own_text(self) -> str:
        return "".join(self.text).strip()


@dataclass(frozen=True)
class Limits:
    """Bounds on a document; the defaults are what the daemon uses."""

    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS


class _Refused(Exception):
    """Raised inside an expat handler to abort the parse; carries the located error."""

    def __init__(self, error: OzmlError) -> None:
        super().__init__(str(error))
        self.error = error


class _Reader:
    """Collects expat events into Nodes; a fresh one per document."""

    def __init__(self, limits: Limits, *, encoding: str | None) -> None:
        self.limits = limits
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.count = 0
        # Text that is already decoded is fed as UTF-8; its XML declaration must not re-decode it.
        self.p = expat.ParserCreate(encoding)
        self.p.buffer_text = True
        # No DTD means no entity can be declared; refusing the DOCTYPE outright also stops external
        # subsets and parameter entities before expat reads them.
        self.p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.p.StartDoctypeDeclHandler = self._doctype
        self.p.EntityDeclHandler = self._entity
        self.p.ExternalEntityRefHandler = self._external
        self.p.StartElementHandler = self._start
        self.p.EndElementHandler = self._end
        self.p.CharacterDataHandler = self._text

    def _where(self) -> tuple[int, int]:
        return self.p.CurrentLineNumber, self.p.CurrentColumnNumber + 1

    def _refuse(self, why: str) -> None:
        line, column = self._where()
        raise _Refused(OzmlError(300, why, line=line, column=column))

    def _doctype(self, *_: object) -> None:
        self._refuse("DOCTYPE declarations are not allowed")

    def _entity(self, *_: object) -> None:
        self._refuse("entity declarations are not allowed")

    def _external(self, *_: object) -> int:
        self._refuse("external entities are not allowed")
        return 0

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > self.limits.max_elements:
            self._refuse(f"more than {self.limits.max_elements} elements")
        if len(self.stack) >= self.limits.max_depth:
            self._refuse(f"elements nested deeper than {self.limits.max_depth}")
        line, column = self._where()
        node = Node(name, dict(attrs), line, column)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def _end(self, _name: str) -> None:
        self.stack.pop()

    def _text(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text.append(data)


def read(text: str | bytes, limits: Limits = Limits()) -> Node:
    """The element tree of an OzML document; raises a located OzmlError(300) for anything unsafe or malformed."""
    if isinstance(text, str) and len(text) > limits.max_bytes:  # each character is at least one byte
        raise OzmlError(300, f"document of {len(text)} characters exceeds {limits.max_bytes} bytes", line=1, column=1)
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(data) > limits.max_bytes:
        raise OzmlError(300, f"document of {len(data)} bytes exceeds {limits.max_bytes}", line=1, column=1)
    if not data.strip():
        raise OzmlError(300, "empty document", line=1, column=1)
    reader = _Reader(limits, encoding="UTF-8" if isinstance(text, str) else None)
    try:
        reader.p.Parse(data, True)
    except _Refused as exc:
        raise exc.error from None
    except expat.ExpatError as exc:
        raise OzmlError(300, expat.ErrorString(exc.code), line=exc.lineno, column=exc.offset + 1) from exc
    except ValueError as exc:  # e.g. an unknown encoding name in the XML declaration
        raise OzmlError(300, str(exc), line=1, column=1) from exc
    if reader.root is None:
        raise OzmlError(300, "no root element", line=1, column=1)
    return reader.root

