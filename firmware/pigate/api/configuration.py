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
from pigate.api.params import Param, Spec
from pigate.configedit import LIST, ORDERED, SECTIONS, SINGLE, Change, ConfigEditor, Section, entry_fields, section
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


_TYPES = ", ".join(f"{s.type} ({'.'.join(s.path)})" for s in SECTIONS)
_KEYS = (" The entry's settings are further parameters named by their keys in the file (incoming_sms_url=..., "
         "lines=gsm1,gsm2); a key named like an API parameter is written Set.KEY (Set.password=...).")
_TYPE = Param("Type", required=True, doc=f"one of {_TYPES}")
_POSITION = Param("Position", "int", low=1, high=100000, doc="Route only: the rule's place in the dial plan, from 1")
GET_CONFIG = Spec((Param("Type", doc=f"one of {_TYPES}; all when absent"), Param("Id", doc="needs Type")),
                  doc="The configured entries of one type, or of all; secrets masked.")
ADD_CONFIG = Spec((_TYPE, Param("Id", doc="the entry's id (or its key field itself, e.g. name=gsm2); not for Route"),
                   _POSITION), doc="Add an entry to the config file, checked like `pigate config check`." + _KEYS)
MODIFY_CONFIG = Spec((_TYPE, Param("Id", doc="the entry (a Route's position; none for Email)"),
                      Param("Unset", doc="keys back to their defaults, comma separated"), _POSITION),
                     doc="Change keys of an entry, checked like `pigate config check`." + _KEYS)
REMOVE_CONFIG = Spec((_TYPE, Param("Id", doc="the entry (a Route's position; none for Email: back to defaults)")),
                     doc="Remove an entry from the config file.")


class ConfigCommands:
    def __init__(self, *, editor: ConfigEditor | None, authenticated: bool) -> None:
        self._editor = editor
        self._authenticated = authenticated

    def register(self, table: CommandTable) -> None:
        table.add("GetConfig", self.get_config, spec=GET_CONFIG)
        table.add("AddConfig", self.add_config, spec=ADD_CONFIG)
        table.add("ModifyConfig", self.modify_config, spec=MODIFY_CONFIG)
        table.add("RemoveConfig", self.remove_config, spec=REMOVE_CONFIG)

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
        a = GET_CONFIG.bind(request.params)
        if a["Id"] and not a["Type"]:
            raise InvalidParameter("Type", request.params.command)
        types = [a["Type"]] if a["Type"] else [s.type for s in SECTIONS]
        out: list[Element] = []
        for name in types:
            sec, entries = editor.get(name, a["Id"])
            out += [_config(sec, i, e) for i, e in entries]
        return [("Configs", out)]

    def add_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        a = ADD_CONFIG.bind(request.params)
        sec = section(a["Type"])
        values = self._values(request)
        if sec.shape == LIST and a["Id"] and sec.key not in values:
            values[sec.key] = a["Id"]
        elif sec.shape == ORDERED and a["Id"]:  # a new rule's place is Position; an Id here would be ignored
            raise InvalidParameter("Id", request.params.command, detail="a new route's place is given by Position")
        return self._answer(editor.add(sec.type, values, position=a["Position"]))

    def modify_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        p = request.params
        a = MODIFY_CONFIG.bind(p)
        sec = section(a["Type"])
        key = a["Id"] if sec.shape == SINGLE else p.require("Id")
        unset = tuple(k.strip().lower() for k in a["Unset"].split(",") if k.strip())
        return self._answer(editor.modify(sec.type, key, self._values(request), unset, position=a["Position"]))

    def remove_config(self, request: ApiRequest) -> list[Element]:
        editor = self._edit(request, write=True)
        p = request.params
        a = REMOVE_CONFIG.bind(p)
        sec = section(a["Type"])
        return self._answer(editor.remove(sec.type, a["Id"] if sec.shape == SINGLE else p.require("Id")))

    @staticmethod
    def _answer(change: Change) -> list[Element]:
        out: list[Element] = [_config(change.section, change.id, change.entry)] if change.entry is not None else []
        return out + [("Applied", "live" if change.live else "restart"),
                      ("RestartRequired", "false" if change.live else "true")]
