"""Pure SIP text helpers: the user part and display name of a URI, the Request-URI of a message, URI building."""

from __future__ import annotations

import re

_NAME_ADDR = re.compile(r'^\s*(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<t>[^<"]*?))\s*<(?P<uri>[^>]*)>')
_DIALABLE = re.compile(r"^\+?[0-9A-Za-z*#._~!$&'()\-]{1,64}$")


def uri_of(value: str) -> str:
    """`"Bob" <sip:bob@h>;tag=1` -> `sip:bob@h`; a bare URI is returned without header parameters."""
    m = _NAME_ADDR.match(value)
    if m:
        return m.group("uri").strip()
    return value.strip().split(";tag=", 1)[0].strip()


def display_name(value: str) -> str:
    m = _NAME_ADDR.match(value)
    if not m:
        return ""
    if m.group("q") is not None:
        return re.sub(r"\\(.)", r"\1", m.group("q"))
    return (m.group("t") or "").strip()


def user_of(value: str) -> str:
    """The user part of a SIP URI or name-addr (`sip:+4912@h;user=phone` -> `+4912`); '' when there is none."""
    uri = uri_of(value)
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme.lower() not in ("sip", "sips", "tel"):
        return ""
    if scheme.lower() == "tel":
        return rest.split(";", 1)[0]
    user, at, _ = rest.partition("@")
    return user.split(";", 1)[0] if at else ""


def request_uri(message: str) -> str:
    """The Request-URI of a SIP request's first line (`INVITE sip:x@h SIP/2.0`); '' for a response."""
    first = message.split("\r\n", 1)[0].split("\n", 1)[0]
    parts = first.split(" ")
    if len(parts) == 3 and parts[2].upper().startswith("SIP/"):
        return parts[1]
    return ""


def header(message: str, name: str, compact: str = "") -> str:
    """The first value of header `name` (or its compact form) in a SIP message; '' when absent."""
    names = {name.lower(), compact.lower()} - {""}
    head = message.split("\r\n\r\n", 1)[0]
    for line in head.replace("\r\n", "\n").split("\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in names:
            return value.strip()
    return ""


def is_uri(target: str) -> bool:
    return target.lower().startswith(("sip:", "sips:", "tel:"))


def dial_uri(target: str, host: str) -> str:
    """A number or user dialled at `host` (host[:port][;params]) as a SIP URI; a full URI is kept."""
    if is_uri(target):
        return target
    if not _DIALABLE.match(target):
        raise ValueError(f"not a dialable number or SIP user: {target!r}")
    return f"sip:{target}@{host}"


def caller_number(from_value: str, asserted: str = "") -> str:
    """The caller's number of an incoming INVITE: the P-Asserted-Identity's user when the trunk sent one (it
    carries the real number when From is anonymised), else From's; '' when withheld (RFC 3323 anonymous)."""
    for value in (asserted, from_value):
        user = user_of(value)
        if not value or not user:
            continue
        host = uri_of(value).partition("@")[2].split(";", 1)[0].lower()
        if user.lower() == "anonymous" or host == "anonymous.invalid":
            continue
        return user
    return ""
