"""What a script reaches beyond its own leg: SMS, e-mail, new calls, and other calls (third-party control)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

from pigate.errors import ApiError
from pigate.ozml.files import ScriptFiles
from pigate.ozml.leg import Leg
from pigate.ozml.mailbox import Mailboxes

# Posts a notification (form fields) to a URL and returns the answer body (OzML or empty).
# The daemon's is pigate.notify's Notifier.post; it raises NotifyError or ForbiddenAddress.
Fetch = Callable[[str, dict[str, str]], str]

# Reports an error to the app (the Error notification); the second argument is the call id ("" if none).
OnError = Callable[[ApiError, str], None]


@dataclass(frozen=True)
class CallFate:
    """Where a call placed by a script stands: its call state, how it ended (a ListCallHistory State such as
    Busy or CalleeHungUp; "" while live), whether it was answered, whether it is over."""

    state: str
    result: str = ""
    answered: bool = False
    ended: bool = False


@runtime_checkable
class ScriptServices(Protocol):
    """Implemented by the daemon's services; every method may raise an ApiError (reported, script goes on)."""

    def send_sms(self, recipient: str, text: str, *, sender: str | None, api_extension: str,
                 delivery_report_url: str | None) -> str:
        """Queue an SMS; returns its id."""

    def call(self, dialed: str, *, api_extension: str, caller_id: str | None, caller_display_name: str | None,
             url: str | None, error_url: str | None, response_ozml: str | None, finished_url: str | None,
             ring_time: int) -> str:
        """Start a new outbound call from `api_extension` (it runs its own session); returns its call id."""

    def call_fate(self, call_id: str) -> CallFate | None:
        """How a call placed with `call` is doing (None: no such call)."""

    def call_setup(self, caller: str, callee: str, *, error_url: str | None, api_extension: str = "") -> str:
        """Connect two numbers to each other (for the script's API extension); returns the call id."""

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None: ...

    def find_leg(self, call_id: str, *, party: str | None) -> Leg:
        """The leg of another call (third-party control); raises CallNotFound (601)."""


class EmailSender(Protocol):
    """pigate.mail.MailService's accepting face: commits the mail and returns its id (sending is its worker's)."""

    def submit(self, recipients: str, text: str, *, api_extension: str, sender: str | None = None,
               subject: str | None = None, attachments: Sequence[Path] = (), reference: str | None = None,
               command: str = "SendEmail") -> str: ...


class NotificationQueue(Protocol):
    """pigate.sms.SmsService's durable webhook queue: a notification committed now, posted (with retries, across
    restarts) by its worker; (kind, subject) is posted once."""

    def queue_notification(self, kind: str, subject: str, url: str, fields: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class ScriptExtras:
    """What a script reaches that is neither telephony nor SMS; None = the box has no such part (the verb
    answers 701, not configured)."""

    email: EmailSender | None = None
    files: ScriptFiles | None = None
    mailboxes: Mailboxes | None = None
    notifications: NotificationQueue | None = None  # None: posted directly, once (the notifier's retries only)
