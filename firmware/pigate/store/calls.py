"""All SQL of the call service: the call history (one row per ended call) and the recordings index."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pigate.store.db import Database


@dataclass(frozen=True)
class HistoryRow:
    """One ended call. `state` is its final call state (Completed, Busy, ...), `result` how it ended
    (CallerHangUp, CalleeHungUp, TransferCompleted, Rejected, NoAnswer, Busy, Cancelled, Failed)."""

    call_id: str
    direction: str
    source: str
    destination: str
    dialed: str
    caller_id: str
    state: str
    result: str
    start_time: float
    ring_duration: float
    talk_duration: float
    line: str
    api_extension: str
    end_time: float


@dataclass(frozen=True)
class HistoryFilter:
    """ListCallHistory's filters; empty fields do not filter. Text filters match exactly, case-insensitively;
    `state` matches either the final call state or the result."""

    since: float | None = None
    direction: str = ""
    source: str = ""
    destination: str = ""
    state: str = ""
    dialed: str = ""
    caller_id: str = ""
    call_id: str = ""


_COLUMNS = ("call_id", "direction", "source", "destination", "dialed", "caller_id", "state", "result", "start_time",
            "ring_duration", "talk_duration", "line", "api_extension", "end_time")


class CallStore:
    def __init__(self, *, db: Database) -> None:
        self.db = db

    # -- history ----------------------------------------------------------------------------------
    def add_history(self, row: HistoryRow) -> None:
        values = [getattr(row, c) for c in _COLUMNS]
        self.db.execute(f"INSERT OR REPLACE INTO call_history ({', '.join(_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in _COLUMNS)})", values)

    def call_id_used(self, call_id: str) -> bool:
        return bool(self.db.query("SELECT 1 FROM call_history WHERE call_id = ?", (call_id,)))

    def history(self, flt: HistoryFilter, *, offset: int, limit: int) -> tuple[int, list[HistoryRow]]:
        """(how many rows match, the page of them), newest first."""
        where, params = _where(flt)
        total = int(self.db.query(f"SELECT COUNT(*) FROM call_history{where}", params)[0][0])
        rows = self.db.query(f"SELECT {', '.join(_COLUMNS)} FROM call_history{where} "
                             "ORDER BY start_time DESC, id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
        return total, [_row(r) for r in rows]

    def get_history(self, call_id: str) -> HistoryRow | None:
        rows = self.db.query(f"SELECT {', '.join(_COLUMNS)} FROM call_history WHERE call_id = ?", (call_id,))
        return _row(rows[0]) if rows else None

    # -- recordings -------------------------------------------------------------------------------
    def add_recording(self, *, id: str, call_id: str, path: str, duration: float, created: float) -> None:
        fmt = PurePath(path).suffix.lstrip(".").lower() or "wav"
        self.db.execute("INSERT INTO recordings (id, call_id, path, duration, created, format) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (id, call_id, path, duration, created, fmt))

    def recordings(self, call_id: str) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT id, call_id, path, duration, created, format FROM recordings "
                             "WHERE call_id = ? ORDER BY created", (call_id,))
        return [dict(r) for r in rows]


def _where(flt: HistoryFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        clauses.append("start_time >= ?")
        params.append(flt.since)
    for column, value in (("direction", flt.direction), ("source", flt.source), ("destination", flt.destination),
                          ("dialed", flt.dialed), ("caller_id", flt.caller_id), ("call_id", flt.call_id)):
        if value:
            clauses.append(f"{column} = ? COLLATE NOCASE")
            params.append(value)
    if flt.state:
        clauses.append("(state = ? COLLATE NOCASE OR result = ? COLLATE NOCASE)")
        params += [flt.state, flt.state]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _row(r: sqlite3.Row) -> HistoryRow:
    return HistoryRow(**{c: r[c] for c in _COLUMNS})
