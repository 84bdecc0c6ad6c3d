"""The mail service: accept a mail durably (with its attachments spooled), send it on one worker thread through
the relay, retry temporary failures with backoff, and never send one twice.

Exactly once: a mail is committed (`queued`) before SendEmail answers, marked `sending` before the relay is
called and `transferring` right before the message text goes out. A failure before that is retried; a
connection lost after it, or a daemon that stopped meanwhile, leaves the mail `unknown` (the relay may have
taken it), which is never resent. Attachments are hard-linked (else copied) into the spool when the mail is
accepted, so a recording deleted or moved by a script afterwards is still sent.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from pigate import errors
from pigate.config import ApiExtension, Config, EmailConfig
from pigate.mail import message as mime
from pigate.mail.smtp import IN_DOUBT, PERMANENT, SENT, Relay
from pigate.retry import RetryPolicy
from pigate.workers import WakeableLoop
from pigate.store import Database
from pigate.store.email import Attachment, Email, EmailStore, NewEmail

log = logging.getLogger(__name__)


class MailService:
    """SendEmail's face (`submit`, `get`, `list`) and the sending worker (`start`/`stop`).

    `relay` None means no `[email] host`: submit answers 701 (no e-mail configuration).
    """

    def __init__(self, *, store: EmailStore, relay: Relay | None, spool: Path, default_sender: str,
                 extensions: Sequence[ApiExtension], retry: RetryPolicy = RetryPolicy(10, 30.0, 3600.0),
                 max_attachment_bytes: int = 10 << 20, clock: Callable[[], float] = time.time) -> None:
        self.store, self._relay, self._spool = store, relay, Path(spool)
        self._sender, self._retry, self._clock = default_sender, retry, clock
        self._extensions = {e.id for e in extensions}
        self._max_attachment = max_attachment_bytes
        self._loop = WakeableLoop(name="mail", step=self._step)
        self._lock = threading.Lock()
        self._started = self._stopped = False

    def set_extensions(self, extensions: Sequence[ApiExtension]) -> None:
        self._extensions = {e.id for e in extensions}

    def reconfigure(self, email: EmailConfig) -> None:
        """`[email]` changed over the API: the next attempt goes through the new relay with the new settings. A
        relay removed (no host) leaves queued mail queued, sent once a relay is configured again."""
        with self._lock:
            self._relay, self._sender = relay_of(email), email.sender
            self._retry, self._max_attachment = retry_of(email), email.max_attachment_bytes
            self._start_worker()
        self._loop.wake()

    @property
    def configured(self) -> bool:
        return self._relay is not None

    # ---- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        requeued, doubt = self.store.settle_at_start(now=self._clock())
        if doubt:
            log.warning("%d mail(s) were being transferred when the daemon stopped; their outcome is unknown", doubt)
        if requeued:
            log.info("%d mail(s) claimed before the stop are queued again (nothing of them was sent)", requeued)
        self._drop_orphans()
        with self._lock:
            self._started = True
            self._start_worker()

    def _start_worker(self) -> None:
        """The worker runs once a relay exists (a box without e-mail has no mail thread)."""
        if self._started and not self._stopped and self._relay is not None and not self._loop.running:
            self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopped = True
        self._loop.stop(timeout)

    # ---- accepting -------------------------------------------------------------------------------------
    def submit(self, recipients: str, text: str, *, api_extension: str, sender: str | None = None,
               subject: str | None = None, attachments: Sequence[Path] = (), reference: str | None = None,
               command: str = "SendEmail") -> str:
        """Validate, store durably (attachments spooled first) and return the EmailId; ApiErrors name the problem:
        701 no relay configured, 401 unknown API extension, 302 a bad Recipient, Sender or attachment."""
        if self._relay is None:
            raise errors.ConfigNotFound("email")
        if api_extension not in self._extensions:
            raise errors.ApiExtensionUnavailable(api_extension)
        try:
            to = mime.parse_addresses(recipients)
        except mime.AddressError as exc:
            raise errors.InvalidParameter("Recipient", command, detail=str(exc)) from exc
        try:
            frm = mime.check_address(sender) if sender else self._sender
        except mime.AddressError as exc:
            raise errors.InvalidParameter("Sender", command, detail=str(exc)) from exc
        files = [Path(p) for p in attachments]
        for path in files:
            if not path.is_file() or path.stat().st_size > self._max_attachment:
                raise errors.InvalidParameter("Attach", command, detail=f"{path.name}: missing or too large")
        new = NewEmail(api_extension=api_extension, sender=frm, recipients=to,
                       subject=(subject or "").replace("\r", " ").replace("\n", " "), body=text,
                       client_ref=reference or "")
        email_id, created = self.store.add(new, lambda eid: self._spool_files(eid, files),
                                           message_id=lambda eid: mime.message_id(eid, frm), now=self._clock())
        if created:
            self._loop.wake()
        return email_id

    def _spool_files(self, email_id: str, files: Sequence[Path]) -> list[Attachment]:
        if not files:
            return []
        folder = self._spool / email_id
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for i, src in enumerate(files):
            name = f"{i}-{src.name}"
            dest = folder / name
            try:
                os.link(src, dest)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(src, dest)
                with open(dest, "rb+") as fh:
                    os.fsync(fh.fileno())
            kind = mimetypes.guess_type(src.name)[0] or "application/octet-stream"
            out.append(Attachment(name=src.name, path=f"{email_id}/{name}", type=kind))
        _fsync_dir(folder)
        _fsync_dir(self._spool)
        return out

    def _drop_orphans(self) -> None:
        """Spool folders of mails whose transaction never committed (a crash while accepting)."""
        if not self._spool.is_dir():
            return
        known = self.store.ids()
        for folder in self._spool.iterdir():
            if folder.is_dir() and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    # ---- reading ---------------------------------------------------------------------------------------
    def get(self, email_id: str) -> Email | None:
        return self.store.get(email_id)

    def list(self, *, states: Sequence[str] = (), offset: int = 0, limit: int = 20) -> tuple[int, list[Email]]:
        return self.store.list(states=states, offset=offset, limit=limit)

    # ---- sending (the worker thread) ---------------------------------------------------------------------
    def _step(self) -> float:
        relay, retry = self._relay, self._retry  # one mail, one set of settings (they may change between mails)
        if relay is None:
            return 30.0
        mail = self.store.claim(now=self._clock())
        if mail is None:
            due = self.store.next_due()
            return 30.0 if due is None else max(0.01, min(30.0, due - self._clock()))
        self._send(mail, relay, retry)
        return 0.0

    def _send(self, mail: Email, relay: Relay, retry: RetryPolicy) -> None:
        try:
            data = mime.build_message(mail, read=lambda rel: (self._spool / rel).read_bytes())
        except OSError as exc:
            self._finish_failed(mail, f"attachment unreadable: {exc}")
            return
        result = relay.deliver(data, sender=mail.sender, recipients=mail.recipients,
                                     on_transfer=lambda: self.store.mark_transferring(mail.id, now=self._clock()))
        now = self._clock()
        if result.outcome == SENT:
            reason = ("refused: " + "; ".join(result.refused)) if result.refused else ""
            self.store.mark_sent(mail.id, now=now, reason=reason)
            log.info("mail %s sent to %s", mail.id, ", ".join(mail.recipients))
            self._drop_spool(mail)
        elif result.outcome == IN_DOUBT:
            log.warning("mail %s: %s", mail.id, result.reason)
            self.store.mark_unknown(mail.id, now=now, reason=result.reason)
        elif result.outcome == PERMANENT:
            self._finish_failed(mail, result.reason)
        elif retry.exhausted(mail.attempts):
            self._finish_failed(mail, f"gave up after {mail.attempts} attempts: {result.reason}")
        else:
            delay = retry.delay(mail.attempts)
            log.info("mail %s: %s; retry in %.1f s", mail.id, result.reason, delay)
            self.store.mark_retry(mail.id, at=now + delay, now=now, reason=result.reason)

    def _finish_failed(self, mail: Email, reason: str) -> None:
        log.warning("mail %s failed: %s", mail.id, reason)
        self.store.mark_failed(mail.id, now=self._clock(), reason=reason)
        self._drop_spool(mail)

    def _drop_spool(self, mail: Email) -> None:
        if mail.attachments:
            shutil.rmtree(self._spool / mail.id, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def relay_of(cfg: EmailConfig) -> Relay | None:
    if not cfg.host:
        return None
    return Relay(host=cfg.host, port=cfg.port, starttls=cfg.starttls, tls=cfg.tls, username=cfg.username,
                 password=cfg.password, ca_file=cfg.ca_file, timeout=cfg.timeout)


def retry_of(cfg: EmailConfig) -> RetryPolicy:
    return RetryPolicy(cfg.max_attempts, cfg.retry_base, cfg.retry_cap)


def from_config(*, config: Config, db: Database) -> MailService:
    e = config.email
    return MailService(store=EmailStore(db=db), relay=relay_of(e), spool=Path(config.data_dir) / "mail",
                       default_sender=e.sender, extensions=config.api_extensions, retry=retry_of(e),
                       max_attachment_bytes=e.max_attachment_bytes)
