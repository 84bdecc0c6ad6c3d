"""The schema as forward-only migrations: (version, SQL script); append, never edit a released one."""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE call_history (
            id INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL UNIQUE,
            direction TEXT NOT NULL,
            source TEXT NOT NULL,
            destination TEXT NOT NULL,
            dialed TEXT NOT NULL DEFAULT '',
            caller_id TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL,
            start_time REAL NOT NULL,
            ring_duration REAL NOT NULL DEFAULT 0,
            talk_duration REAL NOT NULL DEFAULT 0,
            line TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX call_history_start ON call_history(start_time);
        CREATE TABLE recordings (
            id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            path TEXT NOT NULL,
            duration REAL NOT NULL DEFAULT 0,
            created REAL NOT NULL
        )
        """,
    ),
]
