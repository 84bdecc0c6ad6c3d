"""Renders every API answer: the Ozeki Response document, its code and message, then command elements."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Iterable, Union
from xml.sax.saxutils import escape

from pigate.errors import ApiError, status_message

# A command's extra answer: (tag, text) or (tag, [children]) pairs, in document order.
Element = tuple[str, Union[str, int, float, "list[Element]", None]]

_HEAD = (
    '<?xml version="1.0"?><Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
)
CONTENT_TYPE = "application/xml; charset=utf-8"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # every time in an answer, in the box's local time (Ozeki's `2019-04-09 10:34:07`)


def api_time(when: float | str | None) -> str:
    """A time as answers show it (TIME_FORMAT, local time): from epoch seconds, or from an ISO 8601 text with
    its offset (an SMS's service-centre time); '' for none. Text that is not ISO 8601 is shown as it is."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        try:
            parsed = datetime.fromisoformat(when)
        except ValueError:
            return when
        if parsed.tzinfo is None:
            return parsed.strftime(TIME_FORMAT)
        when = parsed.timestamp()
    return time.strftime(TIME_FORMAT, time.localtime(when))


def render(code: int = 200, message: str | None = None, elements: Iterable[Element] = ()) -> bytes:
    """The Response document for `code` (message from the table unless given) and `elements`."""
    text = status_message(code) if message is None else message
    parts = [_HEAD, f"<Code>{code}</Code><Message>{escape(text)}</Message>"]
    for element in elements:
        _render(element, parts)
    parts.append("</Response>")
    return "".join(parts).encode("utf-8")


def render_error(error: ApiError) -> bytes:
    return render(error.code, error.message)


def _render(element: Element, out: list[str]) -> None:
    tag, value = element
    if value is None:
        out.append(f"<{tag} />")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        for child in value:
            _render(child, out)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{escape(_clean(str(value)))}</{tag}>")


def _clean(text: str) -> str:
    # XML 1.0 cannot carry most control characters; an SMS body may contain them.
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)
