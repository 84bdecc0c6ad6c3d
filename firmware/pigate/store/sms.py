"""All SQL of the SMS service: outbox parts and their submission states, inbox reassembly, the webhook queue.

Every state change that must survive a crash is one committed transaction here; a notification that a change
makes due is queued in the same transaction, so it is neither lost nor sent for a change that rolled back.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Callable, Iterable, Sequence

from pigate.store.db import Database

from pigate.store.smsrecords import (FINAL_STATES, Claim, Hook, InboundHook,  # noqa: F401 (re-exported)
                                     InboundSms, IncomingPart, Joiner, NewSms, OutboundHook, OutboundPart,
                                     OutboundSms, Pdu, _inbound, _outbound, _part)


class SmsStore:
    """The SMS tables of the one Database."""

    def __init__(self, *, db: Database) -> None:
        self.db = db

    # ---- accepting -----------------------------------------------------------------------------

    def add_outgoing(self, new: NewSms, encode: Callable[[int], list[Pdu]], *, now: float) -> tuple[str, bool]:
        """Store a message and its planned parts in one transaction; (id, created). With a client reference
        already known for the extension, the earlier message's id and False (nothing stored)."""
        with self.db.transaction() as cur:
            if new.client_ref:
                row = cur.execute("SELECT id FROM sms_out WHERE api_extension=? AND client_ref=?",
                                  (new.api_extension, new.client_ref)).fetchone()
                if row is not None:
                    return row["id"], False
            row = cur.execute("SELECT value FROM meta WHERE key='sms_concat_ref'").fetchone()
            ref = int(row["value"]) % 0xFFFF + 1 if row else 1  # 1..65535: unique per recipient for a long while
            cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('sms_concat_ref', ?)", (str(ref),))
            pdus = encode(ref)
            sms_id = str(uuid.uuid4())
            lines = "," + ",".join(new.lines) + "," if new.lines else ""
            cur.execute(
                "INSERT INTO sms_out(id, client_ref, api_extension, sender, recipient, text, encoding, lines, "
                "report_url, state, parts, created, updated) VALUES(?,?,?,?,?,?,?,?,?,'queued',?,?,?)",
                (sms_id, new.client_ref or None, new.api_extension, new.sender, new.recipient, new.text,
                 new.encoding, lines, new.report_url, len(pdus), now, now))
            cur.executemany(
                "INSERT INTO sms_out_part(sms_id, seq, pdu, tpdu_length, state, next_attempt) "
                "VALUES(?,?,?,?,'queued',?)",
                [(sms_id, i + 1, p.hex, p.tpdu_length, now) for i, p in enumerate(pdus)])
            return sms_id, True

    # ---- the line worker's side ------------------------------------------------------------------

    def claim(self, line: str, *, now: float) -> Claim | None:
        """The next due part for `line`, marked `submitting` (committed before the modem sees it). Parts of a
        message the line already started come first, so a message's parts go out back to back."""
        base = ("SELECT p.sms_id, p.seq, p.pdu, p.tpdu_length, p.attempts, m.recipient, m.parts "
                "FROM sms_out_part p JOIN sms_out m ON m.id = p.sms_id "
                "WHERE p.state IN ('queued','retry') AND p.next_attempt <= ? ")
        with self.db.transaction() as cur:
            row = cur.execute(base + "AND m.line = ? AND m.state = 'sending' ORDER BY m.created, p.seq LIMIT 1",
                              (now, line)).fetchone()
            if row is None:
                row = cur.execute(base + "AND m.state = 'queued' AND m.line IS NULL "
                                  "AND (m.lines = '' OR instr(m.lines, ?) > 0) ORDER BY m.created, p.seq LIMIT 1",
                                  (now, f",{line},")).fetchone()
            if row is None:
                return None
            last = cur.execute("SELECT last_mr FROM sms_line WHERE name=?", (line,)).fetchone()
            cur.execute("UPDATE sms_out_part SET state='submitting', attempts=attempts+1, line=?, mr_before=?, "
                        "submitted=?, reason='' WHERE sms_id=? AND seq=?",
                        (line, last["last_mr"] if last else None, now, row["sms_id"], row["seq"]))
            cur.execute("UPDATE sms_out SET line=?, state='sending', updated=? WHERE id=?", (line, now, row["sms_id"]))
            return Claim(row["sms_id"], row["seq"], row["parts"], row["pdu"], row["tpdu_length"], row["recipient"],
                         row["attempts"] + 1)

    def next_due(self, line: str) -> float | None:
        """When the earliest waiting part this line could take becomes due (None: nothing waits)."""
        row = self.db.query(
            "SELECT min(p.next_attempt) AS t FROM sms_out_part p JOIN sms_out m ON m.id = p.sms_id "
            "WHERE p.state IN ('queued','retry') AND ((m.line = ? AND m.state = 'sending') OR "
            "(m.line IS NULL AND m.state = 'queued' AND (m.lines = '' OR instr(m.lines, ?) > 0)))",
            (line, f",{line},"))
        return row[0]["t"] if row else None

    def mark_sent(self, claim: Claim, line: str, mr: int, *, now: float, hook: OutboundHook) -> None:
        """The modem answered +CMGS: the part is sent with TP-MR `mr`. The MR also settles in-doubt parts
        submitted on this line since the last known MR (see `_settle_in_doubt`)."""
        with self.db.transaction() as cur:
            row = cur.execute("SELECT mr_before FROM sms_out_part WHERE sms_id=? AND seq=?",
                              (claim.sms_id, claim.seq)).fetchone()
            cur.execute("UPDATE sms_out_part SET state='sent', mr=?, sent=?, report='pending', reason='' "
                        "WHERE sms_id=? AND seq=?", (mr, now, claim.sms_id, claim.seq))
            if row is not None and row["mr_before"] is not None:
                self._settle_in_doubt(cur, line, row["mr_before"], mr, now=now, hook=hook)
            cur.execute("INSERT INTO sms_line(name, last_mr, updated) VALUES(?,?,?) "
                        "ON CONFLICT(name) DO UPDATE SET last_mr=excluded.last_mr, updated=excluded.updated",
                        (line, mr, now))
            self._refresh(cur, claim.sms_id, now=now, hook=hook)

    def _settle_in_doubt(self, cur: sqlite3.Cursor, line: str, k: int, mr: int, *, now: float,
                         hook: OutboundHook) -> None:
        """Parts whose submission outcome is unknown and that started after MR `k` was seen: the modem numbers
        submissions consecutively, so the gap between `k` and this `mr` says how many of them reached the
        network. None of them: resend them. All of them: sent, with the MRs in between. Otherwise: failed."""
        doubt = cur.execute("SELECT sms_id, seq FROM sms_out_part WHERE line=? AND state='unknown' AND mr_before=? "
                            "ORDER BY submitted", (line, k)).fetchall()
        if not doubt:
            return
        taken = (mr - k - 1) % 256
        for i, d in enumerate(doubt):
            if taken == 0:
                cur.execute("UPDATE sms_out_part SET state='queued', next_attempt=?, mr_before=NULL, "
                            "reason='not submitted (settled by the next message reference)' "
                            "WHERE sms_id=? AND seq=?", (now, d["sms_id"], d["seq"]))
            elif taken == len(doubt):
                cur.execute("UPDATE sms_out_part SET state='sent', mr=?, sent=?, report='pending', "
                            "reason='submitted (settled by the next message reference)' WHERE sms_id=? AND seq=?",
                            ((k + 1 + i) % 256, now, d["sms_id"], d["seq"]))
            else:
                self._fail_part(cur, d["sms_id"], d["seq"], "outcome unknown: the submission was interrupted",
                                now=now)
            self._refresh(cur, d["sms_id"], now=now, hook=hook)

    def mark_retry(self, claim: Claim, *, at: float, reason: str, now: float, chain_broken: bool, line: str) -> None:
        """A temporary failure: try again at `at`. A message none of whose parts went out is released, so
        another line may take it."""
        with self.db.transaction() as cur:
            cur.execute("UPDATE sms_out_part SET state='retry', next_attempt=?, reason=?, mr_before=NULL "
                        "WHERE sms_id=? AND seq=?", (at, reason, claim.sms_id, claim.seq))
            if chain_broken:
                self._break_chain(cur, line, now)
            busy = cur.execute("SELECT count(*) AS n FROM sms_out_part WHERE sms_id=? AND state IN "
                               "('sent','unknown','submitting')", (claim.sms_id,)).fetchone()["n"]
            if not busy:
                cur.execute("UPDATE sms_out SET line=NULL, state='queued', updated=? WHERE id=?", (now, claim.sms_id))

    def mark_failed(self, claim: Claim, *, reason: str, now: float, hook: OutboundHook, chain_broken: bool,
                    line: str) -> None:
        with self.db.transaction() as cur:
            if chain_broken:
                self._break_chain(cur, line, now)
            self._fail_part(cur, claim.sms_id, claim.seq, reason, now=now)
            self._refresh(cur, claim.sms_id, now=now, hook=hook)

    def mark_unknown(self, claim: Claim, *, reason: str, now: float) -> None:
        """The modem may or may not have submitted the part: never resend it blindly."""
        with self.db.transaction() as cur:
            cur.execute("UPDATE sms_out_part SET state='unknown', reason=? WHERE sms_id=? AND seq=?",
                        (reason, claim.sms_id, claim.seq))

    def _break_chain(self, cur: sqlite3.Cursor, line: str, now: float) -> None:
        # After an error answer nobody knows whether the modem used up a message reference.
        cur.execute("INSERT INTO sms_line(name, last_mr, updated) VALUES(?,NULL,?) "
                    "ON CONFLICT(name) DO UPDATE SET last_mr=NULL, updated=excluded.updated", (line, now))

    def _fail_part(self, cur: sqlite3.Cursor, sms_id: str, seq: int, reason: str, *, now: float) -> None:
        cur.execute("UPDATE sms_out_part SET state='failed', reason=? WHERE sms_id=? AND seq=?", (reason, sms_id, seq))
        cur.execute("UPDATE sms_out_part SET state='failed', reason=? WHERE sms_id=? AND state IN ('queued','retry')",
                    (f"not sent: part {seq} failed", sms_id))
        cur.execute("UPDATE sms_out SET reason=? WHERE id=? AND reason=''", (f"part {seq}: {reason}", sms_id))

    def in_doubt_at_start(self, *, now: float) -> int:
        """Parts left `submitting` by a crash: the modem may have sent them. They become `unknown`."""
        with self.db.transaction() as cur:
            cur.execute("UPDATE sms_out_part SET state='unknown', reason='daemon stopped during the submission' "
                        "WHERE state='submitting'")
            return cur.rowcount

    def settle_late_answer(self, line: str, mr: int, *, now: float, hook: OutboundHook) -> bool:
        """A +CMGS that came after its command had timed out: the newest in-doubt part on `line` was sent."""
        with self.db.transaction() as cur:
            row = cur.execute("SELECT sms_id, seq FROM sms_out_part WHERE line=? AND state='unknown' "
                              "ORDER BY submitted DESC LIMIT 1", (line,)).fetchone()
            if row is None:
                return False
            cur.execute("UPDATE sms_out_part SET state='sent', mr=?, sent=?, report='pending', "
                        "reason='submitted (late +CMGS)' WHERE sms_id=? AND seq=?", (mr, now, row["sms_id"], row["seq"]))
            self._refresh(cur, row["sms_id"], now=now, hook=hook)
            return True

    def expire_unknown(self, *, before: float, now: float, hook: OutboundHook) -> int:
        """In-doubt parts nothing settled since `before`: failed, with the reason (never resent)."""
        with self.db.transaction() as cur:
            rows = cur.execute("SELECT sms_id, seq FROM sms_out_part WHERE state='unknown' AND submitted < ?",
                               (before,)).fetchall()
            for r in rows:
                self._fail_part(cur, r["sms_id"], r["seq"], "outcome unknown: the modem did not confirm the "
                                "submission and nothing settled it", now=now)
                self._refresh(cur, r["sms_id"], now=now, hook=hook)
            return len(rows)

    # ---- delivery reports --------------------------------------------------------------------------

    def apply_report(self, line: str, mr: int, recipient_matches: Callable[[str], bool], outcome: str,
                     status: int, *, since: float, now: float, hook: OutboundHook) -> str | None:
        """Match a status report to the newest part sent on `line` with TP-MR `mr` to that recipient since
        `since`; record it and settle the message. Returns the message id, or None when nothing matched."""
        with self.db.transaction() as cur:
            rows = cur.execute(
                "SELECT p.sms_id, p.seq, m.recipient FROM sms_out_part p JOIN sms_out m ON m.id=p.sms_id "
                "WHERE p.line=? AND p.mr=? AND p.state='sent' AND p.sent >= ? AND p.report IN ('pending','') "
                "ORDER BY p.sent DESC", (line, mr, since)).fetchall()
            match = next((r for r in rows if recipient_matches(r["recipient"])), None)
            if match is None:
                # An in-doubt part that was the first submission after MR k would have got k+1.
                rows = cur.execute(
                    "SELECT p.sms_id, p.seq, m.recipient FROM sms_out_part p JOIN sms_out m ON m.id=p.sms_id "
                    "WHERE p.line=? AND p.state='unknown' AND p.mr_before IS NOT NULL AND (p.mr_before+1)%256=? "
                    "AND p.submitted >= ? ORDER BY p.submitted", (line, mr, since)).fetchall()
                match = next((r for r in rows[:1] if recipient_matches(r["recipient"])), None)
                if match is None:
                    return None
                cur.execute("UPDATE sms_out_part SET state='sent', mr=?, sent=?, reason='submitted (settled by "
                            "its status report)' WHERE sms_id=? AND seq=?", (mr, now, match["sms_id"], match["seq"]))
            report = {"delivered": "delivered", "failed": "failed"}.get(outcome, "pending")
            cur.execute("UPDATE sms_out_part SET report=?, report_status=?, reported=? WHERE sms_id=? AND seq=?",
                        (report, status, now, match["sms_id"], match["seq"]))
            self._refresh(cur, match["sms_id"], now=now, hook=hook)
            return match["sms_id"]

    def _refresh(self, cur: sqlite3.Cursor, sms_id: str, *, now: float, hook: OutboundHook) -> None:
        """Derive the message's state from its parts; queue its final notification once."""
        msg = cur.execute("SELECT * FROM sms_out WHERE id=?", (sms_id,)).fetchone()
        if msg is None or msg["state"] in FINAL_STATES:
            return
        parts = cur.execute("SELECT state, report FROM sms_out_part WHERE sms_id=?", (sms_id,)).fetchall()
        states = [p["state"] for p in parts]
        reports = [p["report"] for p in parts]
        if "failed" in states:
            state = "failed"
        elif all(s == "sent" for s in states):
            state = ("undelivered" if "failed" in reports else
                     "delivered" if all(r == "delivered" for r in reports) else "sent")
        elif msg["line"] is not None:
            state = "sending"
        else:
            state = "queued"
        if state == msg["state"]:
            return
        cur.execute("UPDATE sms_out SET state=?, updated=? WHERE id=?", (state, now, sms_id))
        if state in FINAL_STATES:
            fresh = _outbound(cur.execute("SELECT * FROM sms_out WHERE id=?", (sms_id,)).fetchone())
            self._queue_hook(cur, hook(fresh), subject=sms_id, now=now)

    # ---- reading the outbox ------------------------------------------------------------------------

    def get_outgoing(self, sms_id: str) -> tuple[OutboundSms, list[OutboundPart]] | None:
        rows = self.db.query("SELECT * FROM sms_out WHERE id=?", (sms_id,))
        if not rows:
            return None
        parts = self.db.query("SELECT * FROM sms_out_part WHERE sms_id=? ORDER BY seq", (sms_id,))
        return _outbound(rows[0]), [_part(p) for p in parts]

    def list_outgoing(self, *, states: Iterable[str] = (), offset: int = 0, limit: int = 20
                      ) -> tuple[int, list[OutboundSms]]:
        states = list(states)
        where = f"WHERE state IN ({','.join('?' * len(states))})" if states else ""
        total = self.db.query(f"SELECT count(*) AS n FROM sms_out {where}", states)[0]["n"]
        rows = self.db.query(f"SELECT * FROM sms_out {where} ORDER BY created DESC, id LIMIT ? OFFSET ?",
                             [*states, limit, offset])
        return total, [_outbound(r) for r in rows]

    def counts(self) -> dict[tuple[str | None, str], int]:
        """(line, state) -> number of messages, for the status page."""
        rows = self.db.query("SELECT line, state, count(*) AS n FROM sms_out GROUP BY line, state")
        return {(r["line"], r["state"]): r["n"] for r in rows}

    # ---- the inbox -----------------------------------------------------------------------------------

    def add_incoming(self, part: IncomingPart, *, api_extension: str, recipient: str, join: Joiner, now: float,
                     hook: InboundHook) -> tuple[bool, InboundSms | None]:
        """Commit one received part; (stored, message): stored is False for a duplicate, message is set when
        this part completed a message (its notification is queued in the same transaction)."""
        with self.db.transaction() as cur:
            cur.execute("INSERT OR IGNORE INTO sms_in_part(line, sender, ref, total, seq, data, pdu, sent_time, "
                        "received) VALUES(?,?,?,?,?,?,?,?,?)",
                        (part.line, part.sender, part.reference, part.total, part.seq, part.data, part.pdu,
                         part.sent_time, now))
            if cur.rowcount == 0:
                return False, None
            if part.reference is None or part.total <= 1:
                ids = [cur.lastrowid]
                datas = [part.data]
            else:
                rows = cur.execute("SELECT id, data FROM sms_in_part WHERE line=? AND sender=? AND ref=? AND total=? "
                                   "AND message_id IS NULL ORDER BY seq",
                                   (part.line, part.sender, part.reference, part.total)).fetchall()
                if len(rows) < part.total:
                    return True, None
                ids, datas = [r["id"] for r in rows], [r["data"] for r in rows]
            msg = self._make_message(cur, ids, datas, part.total, api_extension=api_extension, recipient=recipient,
                                     join=join, now=now, hook=hook)
            return True, msg

    def expire_partial(self, *, before: float, api_extension_for: Callable[[str], tuple[str, str]], join: Joiner,
                       now: float, hook: InboundHook) -> list[InboundSms]:
        """Groups of parts still incomplete whose first part came before `before`: delivered as they are,
        flagged incomplete. `api_extension_for(line)` gives (extension, recipient number)."""
        out = []
        with self.db.transaction() as cur:
            groups = cur.execute("SELECT line, sender, ref, total FROM sms_in_part WHERE message_id IS NULL "
                                 "GROUP BY line, sender, ref, total HAVING min(received) < ?", (before,)).fetchall()
            for g in groups:
                rows = cur.execute("SELECT id, data FROM sms_in_part WHERE line=? AND sender=? AND ref IS ? AND "
                                   "total=? AND message_id IS NULL ORDER BY seq",
                                   (g["line"], g["sender"], g["ref"], g["total"])).fetchall()
                ext, recipient = api_extension_for(g["line"])
                out.append(self._make_message(cur, [r["id"] for r in rows], [r["data"] for r in rows], g["total"],
                                              api_extension=ext, recipient=recipient, join=join, now=now, hook=hook))
        return out

    def _make_message(self, cur: sqlite3.Cursor, ids: list[int], datas: list[bytes], total: int, *,
                      api_extension: str, recipient: str, join: Joiner, now: float, hook: InboundHook) -> InboundSms:
        first = cur.execute("SELECT line, sender, sent_time FROM sms_in_part WHERE id=?", (ids[0],)).fetchone()
        msg = InboundSms(str(uuid.uuid4()), first["line"], api_extension, first["sender"], recipient, join(datas),
                         len(ids) < total, total, len(ids), first["sent_time"], now, False)
        cur.execute("INSERT INTO sms_in(id, line, api_extension, sender, recipient, text, incomplete, parts, "
                    "parts_received, sent_time, received) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                    (msg.id, msg.line, msg.api_extension, msg.sender, msg.recipient, msg.text, int(msg.incomplete),
                     msg.parts, msg.parts_received, msg.sent_time, now))
        cur.executemany("UPDATE sms_in_part SET message_id=? WHERE id=?", [(msg.id, i) for i in ids])
        self._queue_hook(cur, hook(msg), subject=msg.id, now=now)
        return msg

    def next_partial_deadline(self) -> float | None:
        """The receive time of the oldest part still waiting for its siblings."""
        rows = self.db.query("SELECT min(received) AS t FROM sms_in_part WHERE message_id IS NULL")
        return rows[0]["t"] if rows else None

    def incoming(self, *, unread_only: bool, limit: int) -> list[InboundSms]:
        where = "WHERE read = 0" if unread_only else ""
        rows = self.db.query(f"SELECT * FROM sms_in {where} ORDER BY received, id LIMIT ?", (limit,))
        return [_inbound(r) for r in rows]

    def get_incoming(self, sms_id: str) -> InboundSms | None:
        rows = self.db.query("SELECT * FROM sms_in WHERE id=?", (sms_id,))
        return _inbound(rows[0]) if rows else None

    def mark_read(self, ids: Sequence[str]) -> None:
        with self.db.transaction() as cur:
            cur.executemany("UPDATE sms_in SET read=1 WHERE id=?", [(i,) for i in ids])

    def delete_incoming(self, ids: Sequence[str]) -> None:
        with self.db.transaction() as cur:
            cur.executemany("DELETE FROM sms_in WHERE id=?", [(i,) for i in ids])

    # ---- the webhook queue --------------------------------------------------------------------------

    def _queue_hook(self, cur: sqlite3.Cursor, spec: tuple[str, str, dict[str, str]] | None, *, subject: str,
                    now: float) -> None:
        if spec is None:
            return
        kind, url, fields = spec
        cur.execute("INSERT OR IGNORE INTO sms_hook(kind, subject, url, fields, state, next_attempt, created) "
                    "VALUES(?,?,?,?,'pending',?,?)", (kind, subject, url, json.dumps(fields), now, now))

    def queue_hook(self, kind: str, subject: str, url: str, fields: dict[str, str], *, now: float) -> bool:
        """A notification that belongs to no SMS (an AlarmNotification), committed before this returns; False
        when (kind, subject) was queued before (nothing is queued twice)."""
        with self.db.transaction() as cur:
            self._queue_hook(cur, (kind, url, fields), subject=subject, now=now)
            queued = cur.rowcount == 1
        return queued

    def due_hooks(self, *, now: float, limit: int = 20) -> list[Hook]:
        # In the order they were queued: after an outage or a restart, what waited goes out oldest first.
        rows = self.db.query("SELECT * FROM sms_hook WHERE state='pending' AND next_attempt <= ? "
                             "ORDER BY id LIMIT ?", (now, limit))
        return [Hook(r["id"], r["kind"], r["subject"], r["url"], json.loads(r["fields"]), r["attempts"]) for r in rows]

    def next_hook_due(self) -> float | None:
        rows = self.db.query("SELECT min(next_attempt) AS t FROM sms_hook WHERE state='pending'")
        return rows[0]["t"] if rows else None

    def hook_done(self, hook_id: int, *, answer: str) -> None:
        self.db.execute("UPDATE sms_hook SET state='done', attempts=attempts+1, answer=?, last_error='' WHERE id=?",
                        (answer[:65536], hook_id))

    def hook_retry(self, hook_id: int, *, at: float, error: str) -> None:
        self.db.execute("UPDATE sms_hook SET attempts=attempts+1, next_attempt=?, last_error=? WHERE id=?",
                        (at, error, hook_id))

    def hook_failed(self, hook_id: int, *, error: str) -> None:
        self.db.execute("UPDATE sms_hook SET state='failed', attempts=attempts+1, last_error=? WHERE id=?",
                        (error, hook_id))

    def hooks(self, *, subject: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM sms_hook", ()
        if subject is not None:
            sql, args = sql + " WHERE subject=?", (subject,)
        return [dict(r) for r in self.db.query(sql + " ORDER BY id", args)]
