"""The SQLite store's durability settings and migrations; the event bus's isolation of publishers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import pytest

from pigate.errors import StoreError
from pigate.events import ALL, Event, EventBus
from pigate.modem import events as ev
from pigate.store import Database


def test_store_is_wal_with_full_sync_and_migrates_once(tmp_path):
    db = Database(path=tmp_path / "p.db")
    assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    assert db.query("PRAGMA synchronous")[0][0] == 2  # FULL
    version = db.version
    db.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
    db.close()
    again = Database(path=tmp_path / "p.db")
    assert again.version == version
    assert again.query("SELECT value FROM meta WHERE key='k'")[0][0] == "v"
    again.close()


def test_newer_schema_is_refused_not_clobbered(tmp_path):
    Database(path=tmp_path / "p.db").close()
    with pytest.raises(StoreError, match="newer than this firmware"):
        Database(path=tmp_path / "p.db", migrations=[])


def test_failed_transaction_rolls_back(tmp_path):
    db = Database(path=tmp_path / "p.db")
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert db.query("SELECT count(*) FROM meta")[0][0] == 0
    db.close()


@dataclass(frozen=True)
class Other(Event):
    topic: ClassVar[str] = "test.other"


def test_slow_subscriber_never_blocks_publisher_and_errors_are_isolated():
    bus = EventBus()
    bus.start()
    seen: list[str] = []
    release = threading.Event()
    bus.subscribe(ev.MODEM, lambda e: release.wait(5))
    bus.subscribe(ev.SmsStored, lambda e: (_ for _ in ()).throw(ValueError("bad subscriber")))
    bus.subscribe(ALL, lambda e: seen.append(e.topic))
    t0 = time.monotonic()
    for i in range(1000):
        bus.publish(ev.SmsStored("gsm1", "SM", i))
    assert time.monotonic() - t0 < 0.5  # publishing 1000 events while a subscriber is stuck
    release.set()
    assert bus.wait_idle(5)
    assert len(seen) == 1000
    bus.publish(Other())
    assert bus.wait_idle(5) and seen[-1] == "test.other"
    bus.stop()
