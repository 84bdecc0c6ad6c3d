"""Configuration over the API: GetConfig, AddConfig, ModifyConfig, RemoveConfig for the editable sections.

Types (ListExtensionTypes' names, and SipPeer, Route, Email): ApiExtension (`[[api_extensions]]`, key `id`), GsmLine
(`[[modems]]`, key `name`), SipAccount (`[[sip.accounts]]`, key `name`), SipPeer (`[[sip.peers]]`, key `name`),
Route (`[[routes]]`, the dial plan: Id is the rule's position from 1; Position on AddConfig/ModifyConfig puts it
there), Email (`[email]`, Id `email` or none: modified or reset by RemoveConfig, never added: 703). The other
parameters are config keys with their values (`incoming_sms_url=http://...`, `lines=gsm1,gsm2`); a key that clashes
with an API parameter (Username, Password, Type, Id, Position) is written `Set.username`. Secrets (a SIM PIN, a SIP
or SMTP password) are masked in answers, and the mask sent back leaves the secret as it was.

- GetConfig (Type, Id): `<Configs><Config>` with Type, Id, `<Settings><Setting>` Key and Value.
- AddConfig (Type*, the key field or Id*, keys): 703 when the id exists. ModifyConfig (Type*, Id*, keys; Unset:
  comma-separated keys back to their defaults). RemoveConfig (Type*, Id*). Each answers the entry as
  `<Config>` (not for RemoveConfig), then `<Applied>` `live` or `restart` (the change takes effect when the
  daemon restarts) and `<RestartRequired>`.
- 701 unknown Type or Id; 702 the edited file would not pass `pigate config check` (the message names the key
  and says what is wrong); 703 AddConfig of an id that exists.

Writing is refused (307) from anywhere but the box itself unless API users are configured: a box without
authentication must not be reconfigured from the LAN.
"""

from __future__ import annotations

from typing import Any

from pigate.api.auth import client_ip
from pigate.api.ozeki import ApiRequest, CommandTable
from pigate.api.responses import Element
from pigate.api.params import Params
from pigate.configedit import LIST, SECTIONS, SINGLE, Change, ConfigEditor, Section, entry_fields, section
from pigate.errors import ConfigNotFound, ForbiddenAddress, InvalidParameter

_RESERVED = {"command", "type", "id", "username", "password", "unset", "position"}
_PREFIX = "set."


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def _config(sec: Section, entry_id: str, entry: Any) -> Element:
    settings = [("Setting", [("Key", k), ("Value", _text(v))]) for k, v in entry_fields(sec, entry)]
    return ("Config", [("Type", sec.type), ("Id", entry_id), ("Settings", settings)])


class ConfigCommands:
    def __init__(self, *, editor: ConfigEditor | None, authenticated: bool) -> None:
        self._editor = editor
        self._authenticated = authenticated

    def register(self, table: CommandTable) -> None:
        table.add("GetConfig", self.get_config)
        table.add("AddConfig", self.add_config)
        table.add("ModifyConfig", self.modify_config)
        table.add("RemoveConfig", self.remove_config)

    def _edit(self, request: ApiRequest, *, write: bool) -> ConfigEditor:
        if self._editor is None:  # started on built-in defaults: there is no file to edit
            raise ConfigNotFound("file")
        if write and not self._authenticated:
            ip = client_ip(request.remote_addr)
            if ip is None or not ip.is_loopback:
                raise ForbiddenAddress()
        return self._editor

    @staticmethod
    def _values(request: ApiRequest) -> dict[str, str]:
        p = request.params
        out = {}
        for key, value in p.values.items():
            if key.startswith(_PREFIX):
                out[key[len(_PREFIX):]] = value
            elif key not in _RESERVED:
                out[key] = value
        return out

    def get_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=False)
        p = request.params
        types = [p.get("Type")] if p.get("Type") else [s.type for s in SECTIONS]
        if p.get("Id") and not p.get("Type"):
            raise InvalidParameter("Type", p.command)
        out: list[Element] = []
        for name in types:
            sec, entries = editor.get(name, p.get("Id"))
            out += [_config(sec, i, e) for i, e in entries]
        return [("Configs", out)]

    def add_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        p = request.params
        sec = section(p.require("Type"))
        values = self._values(request)
        if sec.shape == LIST and p.get("Id") and sec.key not in values:
            values[sec.key] = p.get("Id")
        return self._answer(editor.add(sec.type, values, position=self._position(p)))

    def modify_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        p = request.params
        unset = tuple(k.strip().lower() for k in p.get("Unset").split(",") if k.strip())
        sec = section(p.require("Type"))
        key = p.get("Id") if sec.shape == SINGLE else p.require("Id")
        return self._answer(editor.modify(sec.type, key, self._values(request), unset, position=self._position(p)))

    def remove_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        p = request.params
        sec = section(p.require("Type"))
        return self._answer(editor.remove(sec.type, p.get("Id") if sec.shape == SINGLE else p.require("Id")))

    @staticmethod
    def _position(p: Params) -> int | None:
        if not p.get("Position"):
            return None
        return p.int("Position", 0, low=1, high=100000)

    @staticmethod
    def _answer(change: Change) -> list[Element]:
        out: list[Element] = [_config(change.section, change.id, change.entry)] if change.entry is not None else []
        return out + [("Applied", "live" if change.live else "restart"),
                      ("RestartRequired", "false" if change.live else "true")]
