"""OzML text -> typed verbs, validated up front; every problem is an OzmlError located at a line and column."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from pigate.errors import OzmlError
from pigate.ozml import grammar
from pigate.ozml import verbs as v
from pigate.ozml.params import ConversionError, Param, children_of, convert
from pigate.ozml.xmltree import Limits, Node, read

Script = tuple[v.Verb, ...]


def parse(text: str | bytes, *, context: str | None = None, limits: Limits = Limits()) -> Script:
    """The verbs of an OzML answer to the notification `context` (None: any verb); raises the first problem.

    Element and attribute names are case-insensitive; a command's main parameter may be an attribute or
    its text. 300 malformed or unsafe XML, 301 unknown element, 302 bad or misplaced attribute value,
    303 a verb the context does not allow (Reject not first, Route outside RoutingInterception, ...).
    """
    problems: list[OzmlError] = []
    script = _Builder(_canonical(context), problems).document(read(text, limits))
    if problems:
        raise problems[0]
    return script


def check(text: str | bytes, *, context: str | None = None, limits: Limits = Limits()) -> list[OzmlError]:
    """Every problem of a document, in document order (an XML syntax error stops at itself)."""
    try:
        root = read(text, limits)
    except OzmlError as exc:
        return [exc]
    problems: list[OzmlError] = []
    _Builder(_canonical(context), problems).document(root)
    return problems


def route_of(text: str | bytes) -> v.Route | None:
    """The routing decision of a RoutingInterception answer (None: blank answer, use the dial plan)."""
    if not (text.strip() if isinstance(text, str) else text.strip()):
        return None
    script = parse(text, context="RoutingInterception")
    return next((verb for verb in script if isinstance(verb, v.Route)), None)


def _canonical(context: str | None) -> str | None:
    if context is None:
        return None
    try:
        return grammar.context_name(context)
    except KeyError as exc:
        raise ValueError(f"unknown notification {context!r}; known: {', '.join(grammar.CONTEXTS)}") from exc


class _Builder:
    """Turns one element tree into verbs, recording problems instead of stopping at the first."""

    def __init__(self, context: str | None, problems: list[OzmlError]) -> None:
        self.context = context
        self.problems = problems

    def problem(self, node: Node, code: int, *args: object) -> None:
        self.problems.append(OzmlError(code, *args, line=node.line, column=node.column))

    def document(self, root: Node) -> Script:
        if root.key != "response":
            self.problem(root, 300, f"the root element must be Response, not {root.name}")
            return ()
        for name in root.attrs:
            if not _is_namespace(name):
                self.problem(root, 302, name, "Response")
        if root.own_text:
            self.problem(root, 300, "text outside any command")
        return self.block(root, top=True)

    def block(self, node: Node, *, top: bool = False) -> Script:
        built = (self.verb(child, first=top and i == 0) for i, child in enumerate(node.children))
        return tuple(verb for verb in built if verb is not None)

    def verb(self, node: Node, *, first: bool) -> v.Verb | None:
        cls = grammar.VERBS.get(node.key)
        if cls is None:
            self.problem(node, 303 if node.key in grammar.STRUCTURE_PARENTS else 301, node.name)
            return None
        before = len(self.problems)
        if not grammar.allowed(self.context, cls) or (cls is v.Reject and not first):
            self.problem(node, 303, cls.TAG)
        values = self.attributes(node, cls, cls.TAG)
        kids = children_of(cls)
        if kids is None:
            self.no_children(node)
        elif kids[1] == "verbs":
            values[kids[0]] = self.block(node)
        elif kids[1] == "items":
            values[kids[0]] = self.items(node)
        elif kids[1] == "handlers":
            values.update(self.handlers(node))
        else:
            values.update(self.menu(node))
        if len(self.problems) > before:
            return None
        verb = cls(**values, line=node.line, column=node.column)
        if isinstance(verb, v.UserInput) and verb.fewest > verb.most:
            self.problem(node, 302, "MinDigits", cls.TAG)
            return None
        return verb

    def attributes(self, node: Node, cls: type, tag: str) -> dict[str, Any]:
        params = grammar.PARAMS[cls]
        by_name: dict[str, Param] = {name: p for p in params for name in p.spellings()}
        values: dict[str, Any] = {}
        for name, raw in node.attrs.items():
            p = by_name.get(name.lower())
            if p is None:
                if not _is_namespace(name):
                    self.problem(node, 302, name, tag)
            elif p.field in values:
                self.problem(node, 302, name, tag)  # the same attribute twice, in different case
            else:
                self.value(node, p, raw, tag, values)
        main = next((p for p in params if p.main), None)
        text = node.own_text
        if main is not None and text:
            if main.field in values:
                self.problem(node, 302, main.name, tag)  # given both as attribute and as text
            else:
                self.value(node, main, text, tag, values)
        elif text:
            self.problem(node, 300, f"unexpected text in {tag}")
        reported = {(e.line, e.column, e.args_) for e in self.problems}
        for p in params:
            missing = p.required and values.get(p.field) in (None, "")
            if missing and (node.line, node.column, (p.name, tag)) not in reported:  # a bad value is one problem
                self.problem(node, 302, p.name, tag)
        return values

    def value(self, node: Node, p: Param, raw: str, tag: str, values: dict[str, Any]) -> None:
        try:
            values[p.field] = convert(p, raw)
        except ConversionError:
            self.problem(node, 302, p.name, tag)

    def no_children(self, node: Node) -> None:
        for child in node.children:
            known = child.key in grammar.VERBS or child.key in grammar.STRUCTURE_PARENTS
            self.problem(child, 303 if known else 301, child.name)

    def items(self, node: Node) -> tuple[str, ...]:
        out = []
        for child in node.children:
            if child.key != "item":
                self.problem(child, 303 if child.key in grammar.VERBS else 301, child.name)
                continue
            for name in child.attrs:
                self.problem(child, 302, name, "Item")
            self.no_children(child)
            out.append(child.own_text)
        return tuple(out)

    def menu(self, node: Node) -> dict[str, Any]:
        initial: Script = ()
        inputs: list[v.Input] = []
        seen: set[str] = set()
        for child in node.children:
            if child.key not in ("initialcommands", "inputs") or child.key in seen:
                known = child.key in grammar.VERBS or child.key in grammar.STRUCTURE_PARENTS
                self.problem(child, 303 if known else 301, child.name)
                continue
            seen.add(child.key)
            self.bare(child)
            if child.key == "initialcommands":
                initial = self.block(child)
            else:
                inputs = self.inputs(child)
        return {"initial_commands": initial, "inputs": tuple(inputs)}

    def inputs(self, node: Node) -> list[v.Input]:
        out: list[v.Input] = []
        keys: set[str] = set()
        for child in node.children:
            if child.key != "input":
                known = child.key in grammar.VERBS or child.key in grammar.STRUCTURE_PARENTS
                self.problem(child, 303 if known else 301, child.name)
                continue
            before = len(self.problems)
            values = self.attributes(child, v.Input, "Input")
            commands = self.block(child)
            key = values.get("key", "")
            if key in keys:
                self.problem(child, 302, "Key", "Input")  # two Inputs for the same digits
            keys.add(key)
            if len(self.problems) == before:
                out.append(v.Input(key=key, commands=commands, line=child.line, column=child.column))
        return out

    def handlers(self, node: Node) -> dict[str, Any]:
        """Request's On... children: each a block of verbs, at most once; OnAnswered also kept as OzML text
        (it runs as the answered call's own script)."""
        names = {h.lower(): h for h in v.REQUEST_HANDLERS}
        out: list[tuple[str, Script]] = []
        answered = ""
        for child in node.children:
            name = names.get(child.key)
            if name is None or any(key == name for key, _ in out):
                known = child.key in grammar.VERBS or child.key in grammar.STRUCTURE_PARENTS
                self.problem(child, 303 if known else 301, child.name)
                continue
            self.bare(child)
            out.append((name, self.block(child)))
            if name == "OnAnswered":
                answered = "".join(to_xml(c) for c in child.children)
        return {"handlers": tuple(out), "answered_ozml": answered}

    def bare(self, node: Node) -> None:
        """InitialCommands and Inputs are plain containers: no attributes, no text."""
        for name in node.attrs:
            self.problem(node, 302, name, node.name)
        if node.own_text:
            self.problem(node, 300, f"unexpected text in {node.name}")


def to_xml(node: Node) -> str:
    """An element written back as XML (its own text, then its children: OzML has no meaningful mixed content)."""
    attrs = "".join(f' {k}="{escape(val, {chr(34): "&quot;"})}"' for k, val in node.attrs.items())
    inner = escape(node.own_text) + "".join(to_xml(c) for c in node.children)
    return f"<{node.name}{attrs}>{inner}</{node.name}>"


def _is_namespace(name: str) -> bool:
    low = name.lower()
    return low == "xmlns" or low.startswith("xmlns:")
