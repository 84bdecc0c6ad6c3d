"""A real SMTP relay for the tests: aiosmtpd on a loopback port, keeping every message it accepted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Relay:
    """Accepts mail on 127.0.0.1:`port`; `answer` is the reply to DATA, `delay` seconds pass before it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answer = "250 OK"
        self.delay = 0.0
        self.refuse_rcpt: set[str] = set()
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.answer.startswith("250"):  # taken at once; a delay only holds the reply back (a lost answer)
            msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
            with self._cond:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
                self._cond.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answer

    def start(self) -> "Relay":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait(self, n: int = 1, timeout: float = 10.0) -> list[tuple[str, list[str], EmailMessage]]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"{len(self.messages)} of {n} mails after {timeout}s")
            return list(self.messages)


def wait_for(predicate, timeout: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
