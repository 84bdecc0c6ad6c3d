"""Who gets a line's traffic and where its notifications go: the two routing rules SMS and calls share.

- A line's API extension: the first extension that lists the line, else the first that lists no lines
  (it takes every line), else the first extension at all; "" on a box without extensions.
- A notification's URL: the API extension's own URL for it, else the [notifications] default.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Callable, Sequence

from pigate.config import ApiExtension, NotificationsConfig

# Which of the URLs a notification goes to (ApiExtension and NotificationsConfig both have each field).
Url = Callable[[object], str]
INCOMING_CALL: Url = attrgetter("incoming_call_url")
INCOMING_SMS: Url = attrgetter("incoming_sms_url")
CALL_CHANGED: Url = attrgetter("call_changed_url")
ERROR: Url = attrgetter("error_url")


class Routing:
    def __init__(self, *, extensions: Sequence[ApiExtension], defaults: NotificationsConfig) -> None:
        self._extensions = list(extensions)
        self._by_id = {e.id: e for e in extensions}
        self.defaults = defaults

    def set_extensions(self, extensions: Sequence[ApiExtension]) -> None:
        """API extensions changed over the API, applied live: new objects, so a reader sees the old or the new."""
        self._by_id = {e.id: e for e in extensions}
        self._extensions = list(extensions)

    def extension(self, api_extension: str) -> ApiExtension | None:
        return self._by_id.get(api_extension)

    def extension_for_line(self, line: str) -> str:
        exts = self._extensions
        ext = (next((e for e in exts if line in e.lines), None) or next((e for e in exts if not e.lines), None)
               or (exts[0] if exts else None))
        return ext.id if ext else ""

    def url(self, which: Url, api_extension: str) -> str:
        """The extension's own URL of kind `which` (INCOMING_CALL, ...), else the default one."""
        ext = self._by_id.get(api_extension)
        return (which(ext) if ext else "") or which(self.defaults)
