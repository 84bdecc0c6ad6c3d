"""Pure e-mail building: recipient lists checked into addresses, and the MIME message of a stored mail."""

from __future__ import annotations

import email.policy
import email.utils
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from pigate.store.email import Email

# A pragmatic address check (local@domain.tld, no spaces, no display-name tricks): the relay decides the rest.
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MAX_RECIPIENTS = 50


class AddressError(ValueError):
    """A recipient or sender is not an e-mail address (the API answers 302 naming the parameter)."""


def check_address(text: str) -> str:
    address = text.strip()
    if not _ADDRESS.match(address) or len(address) > 254:
        raise AddressError(f"not an e-mail address: {text!r}")
    return address


def parse_addresses(text: str) -> tuple[str, ...]:
    """`a@x.org, b@y.org` (comma or semicolon separated) -> the addresses, duplicates dropped, order kept."""
    out: list[str] = []
    for item in re.split(r"[,;]", text):
        if item.strip():
            address = check_address(item)
            if address.lower() not in (a.lower() for a in out):
                out.append(address)
    if not out:
        raise AddressError("no recipient")
    if len(out) > MAX_RECIPIENTS:
        raise AddressError(f"more than {MAX_RECIPIENTS} recipients")
    return tuple(out)


def message_id(email_id: str, sender: str) -> str:
    """The Message-ID of a mail, fixed when it is accepted (every attempt sends the same one)."""
    domain = sender.rpartition("@")[2] or "pigate.invalid"
    return f"<{email_id}@{domain}>"


def build_message(mail: Email, *, read: Callable[[str], bytes]) -> bytes:
    """The mail as RFC 5322 bytes with CRLF line ends; `read(path)` gives an attachment's bytes."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = mail.sender
    msg["To"] = ", ".join(mail.recipients)
    msg["Subject"] = mail.subject
    msg["Date"] = email.utils.formatdate(mail.created, localtime=True)
    msg["Message-ID"] = mail.message_id
    msg["X-Pigate-Email-Id"] = mail.id
    msg.set_content(mail.body or "", charset="utf-8")
    for att in mail.attachments:
        maintype, _, subtype = att.type.partition("/")
        msg.add_attachment(read(att.path), maintype=maintype, subtype=subtype or "octet-stream",
                           filename=Path(att.name).name)
    return msg.as_bytes()
