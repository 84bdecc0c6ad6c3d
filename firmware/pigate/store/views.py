"""Read-only SQL for the JSON API and the dashboard: messages grouped by submission, keyset pages, recent rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pigate.store.db import Database
from pigate.store.smsrecords import InboundSms, OutboundPart, OutboundSms, _inbound, _outbound, _part

# A JSON API submission to several recipients stores one row per recipient whose client_ref is
# GROUP_PREFIX + group key + ":" + index; the row with index 0 is the message's head and its id the message's id.
GROUP_PREFIX = "v1:"


def group_ref(key: str, index: int) -> str:
    return f"{GROUP_PREFIX}{key}:{index}"


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last head's (created, id), newest first."""

    created: float
    id: str


_PART_COLUMNS = ("sms_id", "seq", "state", "attempts", "next_attempt", "line", "mr", "submitted", "sent", "report",
                 "report_status", "reason")  # OutboundPart's fields, in order
Message = list[tuple[OutboundSms, list[OutboundPart]]]  # a message's recipients, head first


class Views:
    """Read-only queries over the SMS and call tables (no writes: every change goes through the services)."""

    def __init__(self, *, db: Database) -> None:
        self.db = db

    def _with_parts(self, rows: list[OutboundSms]) -> list[tuple[OutboundSms, list[OutboundPart]]]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        parts: dict[str, list[OutboundPart]] = {i: [] for i in ids}
        for p in self.db.query(f"SELECT * FROM sms_out_part WHERE sms_id IN ({','.join('?' * len(ids))}) "
                               "ORDER BY sms_id, seq", ids):
            parts[p["sms_id"]].append(_part(p))
        return [(r, parts[r.id]) for r in rows]

    def group(self, api_extension: str, key: str) -> Message:
        """Every recipient of the submission `key` (as stored so far), by index."""
        # A range rather than LIKE, so the (api_extension, client_ref) index answers it (';' follows ':');
        # messages and parts in one query: one turn of the database lock, which the line workers contend for.
        part_cols = ", ".join(f"p.{c} AS p_{c}" for c in _PART_COLUMNS)
        rows = self.db.query(f"SELECT m.*, {part_cols} FROM sms_out m LEFT JOIN sms_out_part p ON p.sms_id = m.id "
                             "WHERE m.api_extension=? AND m.client_ref >= ? AND m.client_ref < ? ORDER BY p.seq",
                             (api_extension, f"{GROUP_PREFIX}{key}:", f"{GROUP_PREFIX}{key};"))
        messages: dict[str, tuple[OutboundSms, list[OutboundPart]]] = {}
        for r in rows:
            if r["id"] not in messages:
                messages[r["id"]] = (_outbound(r), [])
            if r["p_sms_id"] is not None:
                messages[r["id"]][1].append(OutboundPart(*(r[f"p_{c}"] for c in _PART_COLUMNS)))
        return sorted(messages.values(), key=lambda mp: int((mp[0].client_ref or ":0").rsplit(":", 1)[1]))

    def message(self, sms_id: str) -> Message:
        """The message whose head is `sms_id` (an SmsId from SendSms is a message of one recipient)."""
        rows = self.db.query("SELECT * FROM sms_out WHERE id=?", (sms_id,))
        if not rows:
            return []
        head = _outbound(rows[0])
        ref = head.client_ref or ""
        if ref.startswith(GROUP_PREFIX) and ref.endswith(":0"):
            return self.group(head.api_extension, ref[len(GROUP_PREFIX):-2])
        if ref.startswith(GROUP_PREFIX):
            return []  # another recipient's row: not a message id
        return self._with_parts([head])

    def messages(self, *, states: Iterable[str] = (), recipient: str = "", line: str = "",
                 after: Cursor | None = None, limit: int = 20) -> tuple[list[Message], Cursor | None]:
        """A page of messages, newest first, and the cursor of the next page (None at the end). A filter
        matches a message when any of its recipients matches it."""
        where = [f"(h.client_ref IS NULL OR h.client_ref NOT LIKE '{GROUP_PREFIX}%' "
                 f"OR h.client_ref LIKE '{GROUP_PREFIX}%:0')"]
        args: list[object] = []
        member = (f"(m.id = h.id OR (h.client_ref LIKE '{GROUP_PREFIX}%:0' AND m.api_extension = h.api_extension "
                  "AND m.client_ref LIKE substr(h.client_ref, 1, length(h.client_ref) - 1) || '%'))")
        states = list(states)
        filters = []
        if states:
            filters.append(f"m.state IN ({','.join('?' * len(states))})")
            args += states
        if recipient:
            filters.append("m.recipient = ?")
            args.append(recipient)
        if line:
            filters.append("m.line = ?")
            args.append(line)
        if filters:
            where.append(f"EXISTS (SELECT 1 FROM sms_out m WHERE {member} AND {' AND '.join(filters)})")
        if after is not None:
            where.append("(h.created < ? OR (h.created = ? AND h.id < ?))")
            args += [after.created, after.created, after.id]
        rows = self.db.query(f"SELECT * FROM sms_out h WHERE {' AND '.join(where)} "
                             "ORDER BY h.created DESC, h.id DESC LIMIT ?", [*args, limit + 1])
        heads = [_outbound(r) for r in rows[:limit]]
        out = [self.message(h.id) for h in heads]
        more = Cursor(heads[-1].created, heads[-1].id) if len(rows) > limit and heads else None
        return out, more

    def recent_outgoing(self, limit: int) -> list[tuple[OutboundSms, list[OutboundPart]]]:
        # rowid order is insertion order: the newest without sorting the whole outbox (no index on created)
        rows = self.db.query("SELECT * FROM sms_out ORDER BY rowid DESC LIMIT ?", (limit,))
        return self._with_parts([_outbound(r) for r in rows])

    def recent_incoming(self, limit: int) -> list[InboundSms]:
        rows = self.db.query("SELECT * FROM sms_in ORDER BY rowid DESC LIMIT ?", (limit,))
        return [_inbound(r) for r in rows]

    def recent_hooks(self, limit: int) -> list[dict]:
        """The SMS webhook queue, newest first: kind, url, state, attempts, last error."""
        rows = self.db.query("SELECT id, kind, subject, url, state, attempts, next_attempt, last_error, created "
                             "FROM sms_hook ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def marks(self) -> tuple[int, int, int, int, int]:
        """Cheap marks of change, in one query (O(1) each, so they can be polled): rows the database's one
        connection has changed so far (every writer shares it), and the newest received SMS, ended call,
        recording and SMS webhook."""
        row = self.db.query("SELECT total_changes(), (SELECT max(rowid) FROM sms_in), "
                            "(SELECT max(rowid) FROM call_history), (SELECT max(rowid) FROM recordings), "
                            "(SELECT max(rowid) FROM sms_hook)")[0]
        return tuple(int(v or 0) for v in row)  # type: ignore[return-value]

    def recordings(self, call_ids: Iterable[str]) -> dict[str, list[dict]]:
        """call id -> its recordings (file name, format, duration), oldest first."""
        ids = list(call_ids)
        out: dict[str, list[dict]] = {i: [] for i in ids}
        if ids:
            for r in self.db.query(f"SELECT call_id, path, format, duration FROM recordings WHERE call_id IN "
                                   f"({','.join('?' * len(ids))}) ORDER BY created", ids):
                out[r["call_id"]].append(dict(r))
        return out

    def call_counts(self) -> list[dict]:
        """Ended calls by final state and result."""
        return [dict(r) for r in self.db.query("SELECT state, result, count(*) AS n FROM call_history "
                                               "GROUP BY state, result")]

    def received_counts(self) -> dict[str, int]:
        return {r["line"]: r["n"] for r in self.db.query("SELECT line, count(*) AS n FROM sms_in GROUP BY line")}

    def part_latencies(self, buckets: Iterable[float]) -> tuple[list[int], float, int, list[int], float, int]:
        """Cumulative bucket counts, sum and count of submission latency (submitted -> sent) and of delivery
        latency (sent -> delivery report), over every part that has them: the histograms /metrics shows."""
        bs = list(buckets)
        sub = ", ".join(f"sum(CASE WHEN sent - submitted <= {float(b)} THEN 1 ELSE 0 END)" for b in bs)
        dlv = ", ".join(f"sum(CASE WHEN reported - sent <= {float(b)} THEN 1 ELSE 0 END)" for b in bs)
        a = self.db.query(f"SELECT {sub}, sum(sent - submitted), count(*) FROM sms_out_part "
                          "WHERE sent IS NOT NULL AND submitted IS NOT NULL")[0]
        d = self.db.query(f"SELECT {dlv}, sum(reported - sent), count(*) FROM sms_out_part "
                          "WHERE reported IS NOT NULL AND sent IS NOT NULL AND report = 'delivered'")[0]
        n = len(bs)
        return ([int(a[i] or 0) for i in range(n)], float(a[n] or 0), int(a[n + 1] or 0),
                [int(d[i] or 0) for i in range(n)], float(d[n] or 0), int(d[n + 1] or 0))

    def state_counts(self) -> dict[tuple[str | None, str], int]:
        rows = self.db.query("SELECT line, state, count(*) AS n FROM sms_out GROUP BY line, state")
        return {(r["line"], r["state"]): r["n"] for r in rows}
