"""Fixtures of the mail tests: an aiosmtpd relay on a free loopback port, stopped afterwards."""

from __future__ import annotations

import pytest

from tests.mail.relay import Relay
from tests.support import free_port


@pytest.fixture
def relay_port() -> int:
    return free_port()


@pytest.fixture
def relay(relay_port):
    """A relay object not yet listening (tests that need it up call .start())."""
    r = Relay(relay_port)
    yield r
    r.stop()


def email_config(port: int, **extra: object) -> str:
    lines = ["[email]", 'host = "127.0.0.1"', f"port = {port}", "starttls = false",
             'sender = "gateway@box.example"', "retry_base = 0.2", "retry_cap = 0.5", "timeout = 2.0"]
    lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
              for k, v in extra.items()]
    return "\n".join(lines).replace("'", '"') + "\n"
