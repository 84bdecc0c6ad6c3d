"""ListExtensions and ListExtensionTypes: the API extensions, GSM lines and SIP accounts with live state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.responses import Element
from pigate.errors import ConfigNotFound

TYPES = ("ApiExtension", "GsmLine", "SipAccount")


@dataclass(frozen=True)
class Extension:
    id: str
    type: str
    phone_number: str
    connected: Callable[[], bool]


class ExtensionCommands:
    """Answers from a list of extensions whose state is read live on each request; the list is the caller's
    (the composition root replaces its contents when API extensions change over the API)."""

    def __init__(self, *, extensions: Sequence[Extension]) -> None:
        self._extensions = extensions

    def register(self, table: CommandTable) -> None:
        table.add("ListExtensions", self.list_extensions)
        table.add("ListExtensionTypes", self.list_types)

    def list_extensions(self, request: ApiRequest) -> list[Element]:
        wanted = request.params.get("Type")
        if wanted:
            match = [t for t in TYPES if t.lower() == wanted.lower()]
            if not match:
                raise ConfigNotFound(wanted)
            wanted = match[0]
        rows: list[Element] = []
        for ext in list(self._extensions):
            if wanted and ext.type != wanted:
                continue
            state = "Connected" if ext.connected() else "Disconnected"
            rows.append(("ExtensionSummary", [("Id", ext.id), ("Type", ext.type),
                                              ("PhoneNumber", ext.phone_number), ("State", state)]))
        return [("Extensions", rows)]

    def list_types(self, request: ApiRequest) -> list[Element]:
        return [("ExtensionTypes", [("Type", t) for t in TYPES])]
