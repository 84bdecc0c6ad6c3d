"""Property tests: whatever document the parser is fed, it returns verbs or raises a located OzmlError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pigate.errors import OzmlError
from pigate.ozml import check, parse
from pigate.ozml.fakes import FakeLeg, FakeServices, Press
from pigate.ozml.grammar import API_EXTENSION_VERBS, CONTEXTS, PARAMS, STRUCTURAL_VERBS, VERBS
from pigate.ozml.params import children_of
from pigate.ozml.runner import Runner
from pigate.ozml.xmltree import Limits

KNOWN = [*VERBS, "initialcommands", "inputs", "input", "item"]
NAMES = st.one_of(st.sampled_from(KNOWN), st.sampled_from([n.upper() for n in KNOWN]),
                  st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True))
ATTRS = st.one_of(st.sampled_from(["key", "Timeout", "repeat", "Digits", "id", "source", "Target", "Recipient",
                                   "url", "BackKey", "MinDigits", "ForwardToUrl", "Language", "CallId"]),
                  st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))
VALUES = st.one_of(st.sampled_from(["1", "true", "10", "-3", "x", "", "*", "$item", "1e999", "12#", "0.5"]),
                   st.text(max_size=12))
CONTEXT = st.sampled_from([None, *CONTEXTS])


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def legal_xml_text(text: str) -> str:
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))


@st.composite
def element(draw, depth: int = 0) -> str:
    name = draw(NAMES)
    attrs = draw(st.dictionaries(ATTRS, VALUES, max_size=3))
    attr_text = "".join(f' {k}="{escape(legal_xml_text(v))}"' for k, v in attrs.items())
    parts = []
    if depth < 4:
        for _ in range(draw(st.integers(0, 3))):
            parts.append(draw(st.one_of(element(depth + 1), st.text(max_size=10).map(legal_xml_text).map(escape))))
    return f"<{name}{attr_text}>{''.join(parts)}</{name}>"


@st.composite
def document(draw) -> str:
    root = draw(st.sampled_from(["Response", "response", "RESPONSE", "Other"]))
    body = "".join(draw(st.lists(element(), max_size=5)))
    return f"<{root}>{body}</{root}>"


CALL_SCRIPT_VERBS = sorted((API_EXTENSION_VERBS | STRUCTURAL_VERBS) - {"Reject"})


def valid_value(p) -> st.SearchStrategy[str]:
    if p.kind is bool:
        return st.sampled_from(["true", "false", "TRUE", "0"])
    if p.kind is int:
        return st.integers(1, 4).map(str)
    if p.kind is float:
        return st.sampled_from(["0", "0.5", "3", "12"])
    if p.choices:
        return st.sampled_from(p.choices)
    if p.pattern and "A-Za-z_" in p.pattern:
        return st.sampled_from(["a", "item", "n1"])
    if p.pattern:
        return st.sampled_from(["1", "2", "12", "#", "9*"]) if p.name != "BackKey" else st.sampled_from(["*", "#", ""])
    return st.sampled_from(["hello", "$a", "$item", "http://app/x", "101", "grüße & co"])


@st.composite
def valid_verb(draw, depth: int = 0) -> str:
    """A verb a call script may hold, with attributes of the right types (a real script, not noise)."""
    tag = draw(st.sampled_from(CALL_SCRIPT_VERBS if depth < 3 else ["Speak", "Beep", "Var", "Delay"]))
    cls = VERBS[tag.lower()]
    attrs = {}
    for p in PARAMS[cls]:
        if p.required or draw(st.booleans()):
            attrs[p.name] = draw(valid_value(p))
    inner = ""
    kids = children_of(cls)
    if kids and kids[1] == "verbs":
        inner = "".join(draw(st.lists(valid_verb(depth + 1), max_size=3)))
    elif kids and kids[1] == "items":
        inner = "".join(f"<Item>{x}</Item>" for x in draw(st.lists(st.sampled_from(["1", "b", "$a"]), max_size=3)))
    elif kids:
        keys = draw(st.lists(st.sampled_from(["1", "2", "3", "12", "#"]), unique=True, max_size=3))
        initial = "".join(draw(st.lists(valid_verb(depth + 1), max_size=2)))
        inputs = "".join(f'<Input key="{k}">{draw(valid_verb(depth + 1))}</Input>' for k in keys)
        inner = f"<InitialCommands>{initial}</InitialCommands><Inputs>{inputs}</Inputs>"
    attr_text = "".join(f' {k}="{escape(val)}"' for k, val in attrs.items())
    return f"<{tag}{attr_text}>{inner}</{tag}>"


@st.composite
def valid_script(draw) -> str:
    return "<Response>" + "".join(draw(st.lists(valid_verb(), max_size=6))) + "</Response>"


def located(error: OzmlError) -> None:
    assert error.code in (300, 301, 302, 303)
    assert error.line >= 1 and error.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document(), CONTEXT)
def test_generated_trees_parse_or_fail_with_a_located_error(text, context):
    try:
        script = parse(text, context=context)
    except OzmlError as exc:
        located(exc)
        problems = check(text, context=context)
        assert problems and (problems[0].code, problems[0].line, problems[0].column) == (exc.code, exc.line, exc.column)
    else:
        assert isinstance(script, tuple)
        assert check(text, context=context) == []


@settings(max_examples=200, deadline=None)
@given(document(), st.data())
def test_truncated_and_corrupted_documents(text, data):
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.text(max_size=5))
    for variant in (text[:cut], text[:cut] + noise + text[cut:], text.encode()[:cut]):
        try:
            parse(variant)
        except OzmlError as exc:
            located(exc)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_arbitrary_text_and_bytes(blob):
    try:
        parse(blob)
    except OzmlError as exc:
        located(exc)


@settings(max_examples=100, deadline=None)
@given(document())
def test_tight_limits_still_give_located_errors(text):
    try:
        parse(text, limits=Limits(max_bytes=200, max_depth=3, max_elements=6))
    except OzmlError as exc:
        located(exc)


@settings(max_examples=150, deadline=None)
@given(valid_script())
def test_valid_scripts_parse(text):
    parse(text, context="CallConnected")


@settings(max_examples=150, deadline=None)
@given(st.one_of(valid_script(), document()), st.lists(st.sampled_from("0123456789*#"), max_size=6),
       st.lists(st.floats(0, 60), max_size=6))
def test_whatever_is_sent_runs_to_an_end(text, keys, times):
    """The runner never raises and always leaves the leg ended (hung up, transferred or rejected)."""
    leg = FakeLeg(presses=[Press(k, at=t) for k, t in zip(keys, times)])
    runner = Runner(leg=leg, services=FakeServices(), fetch=lambda url, fields: "", on_error=lambda e, c: None,
                    max_menu_rounds=3)
    report = runner.run(context="CallConnected", ozml=text)
    assert report.ended in ("script", "exit", "hangup", "transferred", "rejected", "error")
    assert leg.state in ("Completed", "Transferred")
