"""All SQL of the e-mail outbox: accepted mails, their delivery state, claims and the start-up settling."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Callable, Sequence

from pigate.store.db import Database

# queued (waiting, maybe after a temporary error) -> sending (claimed, nothing sent yet) -> transferring (the
# message text is going out) -> sent | failed | unknown (the connection broke after the text went out).
STATES = ("queued", "sending", "transferring", "sent", "failed", "unknown")


@dataclass(frozen=True)
class Attachment:
    name: str        # the file name the recipient sees
    path: str        # relative to the mail spool directory
    type: str        # MIME type, e.g. audio/mpeg


@dataclass(frozen=True)
class NewEmail:
    api_extension: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    client_ref: str = ""


@dataclass(frozen=True)
class Email:
    id: str
    api_extension: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    message_id: str
    state: str
    attempts: int
    next_attempt: float
    reason: str
    created: float
    updated: float
    sent: float | None


def _email(row: sqlite3.Row) -> Email:
    return Email(id=row["id"], api_extension=row["api_extension"], sender=row["sender"],
                 recipients=tuple(json.loads(row["recipients"])), subject=row["subject"], body=row["body"],
                 attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
                 message_id=row["message_id"], state=row["state"], attempts=row["attempts"],
                 next_attempt=row["next_attempt"], reason=row["reason"], created=row["created"],
                 updated=row["updated"], sent=row["sent"])


class EmailStore:
    def __init__(self, *, db: Database) -> None:
        self.db = db

    def add(self, new: NewEmail, attach: Callable[[str], Sequence[Attachment]], *, message_id: Callable[[str], str],
            now: float) -> tuple[str, bool]:
        """Store a mail in one transaction; `attach(id)` puts its files in the spool (before the commit) and
        returns them. (id, created); with a client reference already known for the extension, the earlier
        mail's id and False."""
        with self.db.transaction() as cur:
            if new.client_ref:
                row = cur.execute("SELECT id FROM email_out WHERE api_extension=? AND client_ref=?",
                                  (new.api_extension, new.client_ref)).fetchone()
                if row is not None:
                    return row["id"], False
            email_id = str(uuid.uuid4())
            files = [a.__dict__ for a in attach(email_id)]
            cur.execute(
                "INSERT INTO email_out(id, client_ref, api_extension, sender, recipients, subject, body, attachments, "
                "message_id, state, next_attempt, created, updated) VALUES(?,?,?,?,?,?,?,?,?,'queued',?,?,?)",
                (email_id, new.client_ref or None, new.api_extension, new.sender, json.dumps(list(new.recipients)),
                 new.subject, new.body, json.dumps(files), message_id(email_id), now, now, now))
            return email_id, True

    def get(self, email_id: str) -> Email | None:
        rows = self.db.query("SELECT * FROM email_out WHERE id=?", (email_id,))
        return _email(rows[0]) if rows else None

    def list(self, *, states: Sequence[str] = (), offset: int = 0, limit: int = 20) -> tuple[int, list[Email]]:
        where, args = "", []
        if states:
            where = f"WHERE state IN ({','.join('?' * len(states))})"
            args = list(states)
        total = self.db.query(f"SELECT count(*) FROM email_out {where}", args)[0][0]
        rows = self.db.query(f"SELECT * FROM email_out {where} ORDER BY created DESC, id LIMIT ? OFFSET ?",
                             [*args, limit, offset])
        return int(total), [_email(r) for r in rows]

    def ids(self) -> set[str]:
        return {r["id"] for r in self.db.query("SELECT id FROM email_out")}

    # ---- the worker's side -------------------------------------------------------------------------

    def settle_at_start(self, *, now: float) -> tuple[int, int]:
        """After a restart: mails claimed but not yet transferring go back to the queue (nothing was sent);
        mails whose text was going out are in doubt and never resent. (requeued, in doubt)."""
        with self.db.transaction() as cur:
            requeued = cur.execute("UPDATE email_out SET state='queued', updated=? WHERE state='sending'",
                                   (now,)).rowcount
            doubt = cur.execute(
                "UPDATE email_out SET state='unknown', updated=?, reason='outcome unknown: the daemon stopped while "
                "the message was being transferred' WHERE state='transferring'", (now,)).rowcount
        return requeued, doubt

    def claim(self, *, now: float) -> Email | None:
        """The oldest due mail, marked `sending` with one more attempt (committed before the relay is called)."""
        with self.db.transaction() as cur:
            row = cur.execute("SELECT id FROM email_out WHERE state='queued' AND next_attempt <= ? "
                              "ORDER BY next_attempt, created LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            cur.execute("UPDATE email_out SET state='sending', attempts=attempts+1, updated=? WHERE id=?",
                        (now, row["id"]))
            return _email(cur.execute("SELECT * FROM email_out WHERE id=?", (row["id"],)).fetchone())

    def next_due(self) -> float | None:
        row = self.db.query("SELECT min(next_attempt) FROM email_out WHERE state='queued'")[0]
        return row[0]

    def _set(self, email_id: str, state: str, *, now: float, reason: str | None = None, **extra: object) -> None:
        cols = ["state=?", "updated=?"]
        args: list[object] = [state, now]
        if reason is not None:
            cols.append("reason=?")
            args.append(reason)
        for key, value in extra.items():
            cols.append(f"{key}=?")
            args.append(value)
        self.db.execute(f"UPDATE email_out SET {', '.join(cols)} WHERE id=?", [*args, email_id])

    def mark_transferring(self, email_id: str, *, now: float) -> None:
        self._set(email_id, "transferring", now=now)

    def mark_sent(self, email_id: str, *, now: float, reason: str = "") -> None:
        self._set(email_id, "sent", now=now, reason=reason, sent=now)

    def mark_failed(self, email_id: str, *, now: float, reason: str) -> None:
        self._set(email_id, "failed", now=now, reason=reason)

    def mark_unknown(self, email_id: str, *, now: float, reason: str) -> None:
        self._set(email_id, "unknown", now=now, reason=reason)

    def mark_retry(self, email_id: str, *, at: float, now: float, reason: str) -> None:
        self._set(email_id, "queued", now=now, reason=reason, next_attempt=at)
