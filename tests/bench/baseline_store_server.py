"""The durable-accept baseline: a bare bottle app on waitress that does one SQLite INSERT per request in its own
transaction (WAL, synchronous=FULL, so each commit is fsynced) and returns a constant Response document.

One connection behind a lock, as the daemon's store has: connections of their own per thread would fight over
SQLite's write lock with its busy-wait sleeps and make the baseline slower than it needs to be."""

import sqlite3
import sys
import threading

import bottle
from waitress import serve

BODY = (b'<?xml version="1.0"?><Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><Code>200</Code>'
        b'<Message>Command successfully executed</Message><SmsId>1</SmsId></Response>')

app = bottle.Bottle()
lock = threading.Lock()
PATH = sys.argv[3] if len(sys.argv) > 3 else "baseline.db"
conn: sqlite3.Connection | None = None


@app.route("/api")
def api():
    q = bottle.request.query
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO sms(recipient, text) VALUES (?, ?)",
                     (q.get("Recipient", ""), q.getunicode("Message", "")))
        conn.execute("COMMIT")
    bottle.response.content_type = "application/xml; charset=utf-8"
    return BODY


if __name__ == "__main__":
    conn = sqlite3.connect(PATH, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS sms(id INTEGER PRIMARY KEY, recipient TEXT, text TEXT)")
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
