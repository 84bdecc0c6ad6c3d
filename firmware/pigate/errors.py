"""One exception tree for pigate; API-facing errors carry their Ozeki status code."""

from __future__ import annotations

# The complete Ozeki status-code table: code -> (name, message template). "occured" is Ozeki's spelling.
STATUS_CODES: dict[int, tuple[str, str]] = {
    200: ("OK", "Command successfully executed"),
    300: ("ParseError", "Error occured during parsing message: '{0}'"),
    301: ("NotImplementedCommand", "Not implemented command: '{0}'"),
    302: ("InvalidParameter", "Missing or invalid parameter '{0}' for command '{1}'"),
    303: ("InappropriateCommand", "Command '{0}' cannot be used here"),
    304: ("AuthenticationRequired", "Authentication required"),
    305: ("AuthenticationFailed", "Authentication failed, bad username or password"),
    306: ("ForbiddenUser", "User is not allowed to use API in ACL"),
    307: ("ForbiddenAddress", "Use API from this address is forbidden"),
    401: ("ApiExtensionUnavailable", "API extension '{0}' unavailable, please check configuration or permissions"),
    402: ("CallConnectFailed", "Call connect to '{0}' failed with result state '{1}'"),
    501: ("SmsDestinationNotFound", "Destination of the SMS is not found"),
    601: ("CallNotFound", "Call not found with ID '{0}'"),
    701: ("ConfigNotFound", "Configuration for type '{0}' not found"),
    702: ("InvalidConfig", "Invalid configuration for type '{0}'"),
    703: ("ConfigAlreadyExists", "Extension configuration already exists"),
}


def status_message(code: int, *args: object) -> str:
    """The message of `code` with its placeholders filled from `args` (missing ones left empty)."""
    template = STATUS_CODES[code][1]
    need = template.count("{")
    filled = [str(a) for a in args[:need]] + [""] * max(0, need - len(args))
    return template.format(*filled)


class PigateError(Exception):
    """Root of every error pigate raises on purpose."""


class ListenError(PigateError):
    """The HTTP API's address cannot be bound (in use, not ours, no permission)."""


class ApiError(PigateError):
    """An error with an Ozeki status code; its message comes from the table above."""

    code: int = 300

    def __init__(self, *args: object, code: int | None = None) -> None:
        if code is not None:
            self.code = code
        self.args_ = args
        super().__init__(status_message(self.code, *args))

    @property
    def name(self) -> str:
        return STATUS_CODES[self.code][0]

    @property
    def message(self) -> str:
        return str(self)


class ParseError(ApiError):
    code = 300


class NotImplementedCommand(ApiError):
    code = 301


class InvalidParameter(ApiError):
    """302: `InvalidParameter(param, command)`."""

    code = 302

    def __init__(self, param: str, command: str = "", *, detail: str = "") -> None:
        self.param, self.command, self.detail = param, command, detail
        super().__init__(param, command)
        if detail:  # what exactly is wrong, after Ozeki's own wording (clients match on the code)
            self.args = (f"{self.args[0]}: {detail}",)


class InappropriateCommand(ApiError):
    code = 303


class AuthenticationRequired(ApiError):
    code = 304


class AuthenticationFailed(ApiError):
    code = 305


class ForbiddenUser(ApiError):
    code = 306


class ForbiddenAddress(ApiError):
    code = 307


class ApiExtensionUnavailable(ApiError):
    code = 401


class CallConnectFailed(ApiError):
    code = 402


class SmsDestinationNotFound(ApiError):
    code = 501


class CallNotFound(ApiError):
    code = 601


class ConfigNotFound(ApiError):
    code = 701


class InvalidConfig(ApiError):
    """702: `InvalidConfig(type, detail=...)`; the detail (the key and what is wrong with it) follows the message."""

    code = 702

    def __init__(self, type_name: str, *, detail: str = "") -> None:
        self.detail = detail
        super().__init__(type_name)

    @property
    def message(self) -> str:
        return f"{self}: {self.detail}" if self.detail else str(self)


class ConfigAlreadyExists(ApiError):
    code = 703


class OzmlError(ApiError):
    """An OzML problem (codes 300-303) located at a line and column of the document."""

    def __init__(self, code: int, *args: object, line: int = 0, column: int = 0) -> None:
        self.line, self.column = line, column
        super().__init__(*args, code=code)

    def __str__(self) -> str:
        base = status_message(self.code, *self.args_)
        return f"line {self.line}, column {self.column}: {base}" if self.line else base


class ConfigError(PigateError):
    """The configuration file is unreadable or invalid; the message names the key."""


class StoreError(PigateError):
    """The SQLite store could not do what was asked."""


class ModemError(PigateError):
    """The modem did not do what was asked."""


class ModemTimeout(ModemError):
    """The modem did not answer in time."""


class ModemCommandError(ModemError):
    """The modem answered ERROR, +CME ERROR or +CMS ERROR; `kind` is 'ERROR', 'CME' or 'CMS'."""

    def __init__(self, command: str, kind: str = "ERROR", code: int | None = None, text: str = "") -> None:
        self.command, self.kind, self.code, self.text = command, kind, code, text
        what = kind if code is None else f"+{kind} ERROR: {code}"
        super().__init__(f"{command!r} failed: {what}{(' ' + text) if text else ''}")


class PortGone(ModemError):
    """The serial port vanished (e.g. a USB modem re-enumerating)."""


class TrunkError(PigateError):
    """A trunk (GSM line, SIP account) could not do what the call service asked; `__cause__` says why."""


class DialFailed(TrunkError):
    """An outgoing call could not be placed or was refused; `reason` is one of calls.model's END_* reasons."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"dial failed: {reason}{(' (' + detail + ')') if detail else ''}")


class CallerGone(TrunkError):
    """Answering failed because the caller had already hung up."""


class NotifyError(PigateError):
    """A webhook could not be delivered or its answer could not be used."""


class MediaError(PigateError):
    """An audio source could not be found, fetched, decoded or synthesized."""


class SipError(PigateError):
    """The SIP driver could not do what was asked (pjsua2 missing or refusing, a call gone, a bad target)."""


class UpkeepError(PigateError):
    """An upkeep step failed: the control socket, first boot, backup/restore or an update."""
