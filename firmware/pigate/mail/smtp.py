"""One SMTP conversation with the relay, step by step, so the caller knows whether the text may have gone out.

smtplib's sendmail cannot say whether a failure happened before or after the message text was sent; here
every step before DATA's 354 is "nothing sent" (safe to retry), and a failure after it is "in doubt" (the
relay may have accepted the message: resending could deliver it twice).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from typing import Callable, Sequence

SENT, TEMPORARY, PERMANENT, IN_DOUBT = "sent", "temporary", "permanent", "in_doubt"


@dataclass(frozen=True)
class Delivery:
    """How one attempt ended: `outcome` is sent, temporary (retry later), permanent (never retry) or in_doubt;
    `refused` lists recipients the relay refused when it took the rest."""

    outcome: str
    reason: str = ""
    refused: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Relay:
    host: str
    port: int = 587
    starttls: bool = True
    tls: bool = False
    username: str = ""
    password: str = ""
    ca_file: str = ""
    timeout: float = 30.0

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)

    def deliver(self, data: bytes, *, sender: str, recipients: Sequence[str],
                on_transfer: Callable[[], None]) -> Delivery:
        """Send `data`; `on_transfer()` is called (and must have made that durable) right before the text goes out."""
        try:
            conn = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return Delivery(TEMPORARY, f"relay {self.host}:{self.port} unreachable: {_why(exc)}")
        try:
            return self._converse(conn, data, sender, recipients, on_transfer)
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=self._context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password)
        except BaseException:
            conn.close()
            raise
        return conn

    def _converse(self, conn: smtplib.SMTP, data: bytes, sender: str, recipients: Sequence[str],
                  on_transfer: Callable[[], None]) -> Delivery:
        try:
            code, text = conn.mail(sender)
            if code != 250:
                return _refusal(code, f"sender refused: {code} {_text(text)}")
            accepted, refused, temporary = [], [], False
            for rcpt in recipients:
                code, text = conn.rcpt(rcpt)
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    refused.append(f"{rcpt} ({code} {_text(text)})")
                    temporary = temporary or 400 <= code < 500
            if not accepted:
                kind = TEMPORARY if temporary else PERMANENT
                return Delivery(kind, "every recipient refused: " + "; ".join(refused))
            code, text = conn.docmd("DATA")
            if code != 354:
                return _refusal(code, f"DATA refused: {code} {_text(text)}")
        except (OSError, smtplib.SMTPException) as exc:  # nothing of the text was sent yet
            return Delivery(TEMPORARY, f"relay conversation failed: {_why(exc)}")
        on_transfer()
        try:
            conn.send(_dot_stuffed(data))
            code, text = conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            return Delivery(IN_DOUBT, f"outcome unknown: the connection failed after the text was sent: {_why(exc)}")
        if code != 250:
            return _refusal(code, f"message refused: {code} {_text(text)}")
        return Delivery(SENT, "", tuple(refused))


def _refusal(code: int, reason: str) -> Delivery:
    return Delivery(TEMPORARY if code < 500 else PERMANENT, reason)


def _dot_stuffed(data: bytes) -> bytes:
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__
