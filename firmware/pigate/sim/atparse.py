"""Pure AT command-line parsing for the simulator: split `AT...` into commands and their arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pigate.errors import ModemError


class AtSyntaxError(ModemError):
    """The command line is not valid AT syntax (the modem answers ERROR)."""


@dataclass(frozen=True)
class Command:
    """One command of a command line.

    `name` is upper case: `+CMGS`, `E`, `&F`, `S0`, `D`. `kind` is `exec`, `set`, `read` or `test`.
    `raw` is the argument text as written (for `D`, the dial string); `args` the comma-split values.
    """

    name: str
    kind: str = "exec"
    raw: str = ""
    args: list[str | None] = field(default_factory=list)

    def arg(self, i: int, default: str | None = None) -> str | None:
        if i < len(self.args) and self.args[i] not in (None, ""):
            return self.args[i]
        return default

    def int_arg(self, i: int, default: int | None = None) -> int | None:
        value = self.arg(i)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise AtSyntaxError(f"{self.name}: argument {i + 1} is not a number: {value!r}") from exc


_EXT_NAME = re.compile(r"[+^$#%*][A-Za-z][A-Za-z0-9_]*")
_BASIC = re.compile(r"(&[A-Za-z]|[A-CE-RT-Za-ce-rt-z\\])(\d*)")
_SREG = re.compile(r"[Ss](\d+)(=\d*|\?)?")


def split_args(text: str) -> list[str | None]:
    """Comma-separated values; quoted strings lose their quotes (commas inside them are kept); empty -> None."""
    out: list[str | None] = []
    cur, quoted, was_quoted = "", False, False
    for ch in text:
        if ch == '"':
            if not quoted and not was_quoted:
                cur = ""  # blanks between a comma and an opening quote are not part of the value
            quoted, was_quoted = not quoted, True
        elif ch == "," and not quoted:
            out.append(cur if was_quoted else (cur.strip() or None))
            cur, was_quoted = "", False
        else:
            cur += ch
    if quoted:
        raise AtSyntaxError(f"unterminated string in {text!r}")
    out.append(cur if was_quoted else (cur.strip() or None))
    return out


def _until_semicolon(text: str, start: int) -> int:
    quoted = False
    for i in range(start, len(text)):
        if text[i] == '"':
            quoted = not quoted
        elif text[i] == ";" and not quoted:
            return i
    return len(text)


def parse_line(line: str) -> list[Command]:
    """The commands of one command line, `AT` prefix included (`AT+CMGF=1;+CNMI=2,1`, `ATE0V1`)."""
    text = line.strip()
    if text[:2].upper() != "AT":
        raise AtSyntaxError(f"not a command line: {line!r}")
    body = text[2:]
    commands: list[Command] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch in " ;":
            i += 1
            continue
        m = _EXT_NAME.match(body, i)
        if m:
            name = m.group(0).upper()
            i = m.end()
            end = _until_semicolon(body, i)
            rest = body[i:end]
            i = end + 1
            if rest == "=?":
                commands.append(Command(name, "test"))
            elif rest == "?":
                commands.append(Command(name, "read"))
            elif rest.startswith("="):
                commands.append(Command(name, "set", rest[1:], split_args(rest[1:])))
            elif rest == "":
                commands.append(Command(name, "exec"))
            else:
                raise AtSyntaxError(f"bad suffix {rest!r} after {name}")
            continue
        if ch in "Dd":
            # The dial string runs to the end of the line, its ';' (voice call) included.
            commands.append(Command("D", "exec", body[i + 1:].strip()))
            break
        m = _SREG.match(body, i)
        if m:
            reg, suffix = m.group(1), m.group(2) or ""
            kind = "read" if suffix == "?" else ("set" if suffix.startswith("=") else "exec")
            value = suffix[1:] if kind == "set" else ""
            commands.append(Command(f"S{int(reg)}", kind, value, [value]))
            i = m.end()
            continue
        m = _BASIC.match(body, i)
        if m:
            name, value = m.group(1).upper(), m.group(2)
            i = m.end()
            if body[i:i + 2] == "=?":
                commands.append(Command(name, "test"))
                i += 2
            elif body[i:i + 1] == "?":
                commands.append(Command(name, "read"))
                i += 1
            else:
                commands.append(Command(name, "exec", value, [value] if value else []))
            continue
        raise AtSyntaxError(f"cannot parse {body[i:]!r}")
    return commands


def quote(value: str) -> str:
    return f'"{value}"'
