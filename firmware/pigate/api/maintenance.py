"""Maintenance commands for the operator's `pigate at`: one raw AT command on a line, from this machine only.

ModemCommand (Line, AtCommand*; not "Command": parameter names are case-insensitive and `command` names the
API command): answers `<Modem>` with `<Line>`, the `<Response>` lines, then `<Result>` (OK, ERROR,
+CME ERROR: n, +CMS ERROR: n, or why the line could not take it). Raw AT can change a PIN or switch a
radio off, so it is refused (307) from anywhere but the loopback interface, whatever the address lists allow.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from pigate.api.auth import client_ip
from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.responses import Element
from pigate.errors import ForbiddenAddress, InvalidParameter, ModemCommandError, ModemError


class RawLines(Protocol):
    """The box's lines as the operator's raw AT reaches them (pigate.lines.Lines)."""

    @property
    def names(self) -> Sequence[str]: ...

    def at_command(self, line: str, command: str) -> list[str]:
        """The answer lines of one AT command on `line`; ModemCommandError on ERROR, ModemError if not sent."""


class MaintenanceCommands:
    def __init__(self, *, lines: RawLines) -> None:
        self._lines = lines

    def register(self, table: CommandTable) -> None:
        table.add("ModemCommand", self.modem_command)

    def modem_command(self, request: ApiRequest) -> list[Element]:
        ip = client_ip(request.remote_addr)
        if ip is None or not ip.is_loopback:
            raise ForbiddenAddress()
        p = request.params
        names = list(self._lines.names)
        name = p.get("Line") or next(iter(names), "")
        if name not in names:
            raise InvalidParameter("Line", p.command)
        command = p.require("AtCommand")
        try:
            lines, result = self._lines.at_command(name, command), "OK"
        except ModemCommandError as exc:
            lines = []
            result = exc.kind if exc.code is None else f"+{exc.kind} ERROR: {exc.code}"
        except ModemError as exc:
            lines, result = [], f"not sent: {exc}"
        return [("Modem", [("Line", name), *[("Response", line) for line in lines], ("Result", result)])]

