"""SQLite persistence: this package owns all SQL (WAL, synchronous=FULL, forward-only migrations)."""

from pigate.store.db import Database

__all__ = ["Database"]
