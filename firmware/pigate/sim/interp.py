"""Runs parsed AT commands against a simulated modem: handler table, error modes (+CMEE), replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from pigate.errors import ModemError

from .atparse import AtSyntaxError, Command, parse_line
from .dialects import CME_TEXT, CMS_TEXT

if TYPE_CHECKING:
    from .modem import SimModem


class AtError(ModemError):
    """A command's failure as the modem reports it: plain ERROR, +CME ERROR or +CMS ERROR."""

    def __init__(self, kind: str = "ERROR", code: int | None = None) -> None:
        self.kind, self.code = kind, code
        super().__init__(f"{kind} {code}" if code is not None else kind)

    def render(self, cmee: int) -> str:
        if self.kind == "ERROR" or cmee == 0 or self.code is None:
            return "ERROR"
        if cmee == 1:
            return f"+{self.kind} ERROR: {self.code}"
        text = (CME_TEXT if self.kind == "CME" else CMS_TEXT).get(self.code, str(self.code))
        return f"+{self.kind} ERROR: {text}"


def cme(code: int) -> AtError:
    return AtError("CME", code)


def cms(code: int) -> AtError:
    return AtError("CMS", code)


@dataclass
class Reply:
    """What one command answers: information lines, a final result, and optionally text entry or trailing URCs."""

    lines: list[str] = field(default_factory=list)
    final: str = "OK"
    prompt: Callable[[str], "Reply"] | None = None  # `> ` then this runs on the text sent with Ctrl-Z
    after: list[str] = field(default_factory=list)   # URC lines right after the final result
    before: list[str] = field(default_factory=list)  # URC lines right before the final result


Handler = Callable[["SimModem", Command], Reply]

# Injected errors of these commands strike after the text is sent (a network rejection), not at the command.
DEFERRED_FAULTS = frozenset({"+CMGS"})


@dataclass
class Outcome:
    """The result of one command line, ready for framing."""

    lines: list[str]
    final: str | None
    prompt: Callable[[str], Reply] | None = None
    after: list[str] = field(default_factory=list)


def run_line(modem: "SimModem", table: dict[str, Handler], line: str) -> Outcome:
    """Run each command of `line` in order; the first failure ends the line with its error."""
    try:
        commands = parse_line(line)
    except AtSyntaxError:
        return Outcome([], "ERROR")
    lines: list[str] = []
    after: list[str] = []
    for cmd in commands:
        handler = table.get(cmd.name)
        try:
            if handler is None:
                raise AtError()
            if cmd.name not in DEFERRED_FAULTS:
                modem.faults.check(cmd.name)
            reply = handler(modem, cmd)
        except AtSyntaxError:
            return Outcome(lines, "ERROR", after=after)
        except AtError as err:
            return Outcome(lines, err.render(modem.settings.cmee), after=after)
        lines += reply.lines + reply.before
        after += reply.after
        if reply.prompt is not None:
            return Outcome(lines, None, reply.prompt, after)
        if reply.final != "OK":
            return Outcome(lines, reply.final, after=after)
    return Outcome(lines, "OK", after=after)


def run_text(modem: "SimModem", prompt: Callable[[str], Reply], text: str) -> Outcome:
    try:
        reply = prompt(text)
    except AtError as err:
        return Outcome([], err.render(modem.settings.cmee))
    return Outcome(reply.lines + reply.before, reply.final, after=reply.after)
