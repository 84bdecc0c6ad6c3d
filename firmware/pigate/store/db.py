"""The SQLite connection: pragmas, one writer lock, versioned forward migrations."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from pigate.errors import StoreError
from pigate.store.schema import MIGRATIONS

log = logging.getLogger(__name__)


class Database:
    """One SQLite database file shared by the services.

    A single connection guarded by a lock: writes are serialised anyway in SQLite, and one
    connection keeps `synchronous=FULL` commits simple to reason about (a commit that returned is on disk).
    """

    def __init__(self, *, path: Path | str, migrations: Sequence[tuple[int, str]] = MIGRATIONS) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._migrate(migrations)

    @property
    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, migrations: Sequence[tuple[int, str]]) -> None:
        current = self.version
        known = max((v for v, _ in migrations), default=0)
        if current > known:
            raise StoreError(f"database {self.path} has schema {current}, newer than this firmware ({known})")
        for version, script in sorted(migrations):
            if version <= current:
                continue
            log.info("migrating %s to schema %d", self.path.name, version)
            with self.transaction() as cur:
                for statement in _statements(script):
                    cur.execute(statement)
                cur.execute(f"PRAGMA user_version={int(version)}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """BEGIN IMMEDIATE ... COMMIT under the lock; rolled back on any exception."""
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """One statement in its own transaction; returns lastrowid."""
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.lastrowid or 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
