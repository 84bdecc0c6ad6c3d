"""All SQL of the address book: books, contacts and their numbers with the match keys computed by the caller."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Sequence

from pigate.store.db import Database


@dataclass(frozen=True)
class StoredNumber:
    number: str   # as written
    e164: str     # "" when unknown
    tail: str     # "" for numbers too short to match loosely


@dataclass(frozen=True)
class Contact:
    id: str
    book: str
    name: str
    numbers: tuple[str, ...]
    email: str
    organization: str
    note: str


@dataclass(frozen=True)
class ContactFilter:
    book: str = ""
    name: str = ""                 # a part of the name, case-insensitive
    e164: str = ""                 # number filter: its keys (either matches)
    tail: str = ""
    number_text: str = ""          # a short number: matched as written


class AddressBookStore:
    def __init__(self, *, db: Database) -> None:
        self.db = db

    def books(self) -> list[tuple[str, int]]:
        rows = self.db.query("SELECT b.name, count(c.id) FROM ab_book b LEFT JOIN ab_contact c ON c.book_id = b.id "
                             "GROUP BY b.id ORDER BY b.name COLLATE NOCASE")
        return [(r[0], int(r[1])) for r in rows]

    def add(self, *, book: str, name: str, numbers: Sequence[StoredNumber], email: str = "", organization: str = "",
            note: str = "", now: float) -> str:
        return self.add_many(book, [(name, numbers, email, organization, note)], now=now)[0]

    def add_many(self, book: str, contacts: Sequence[tuple[str, Sequence[StoredNumber], str, str, str]], *,
                 now: float) -> list[str]:
        """Contacts into `book` (made if new) in one transaction: all or none."""
        with self.db.transaction() as cur:
            cur.execute("INSERT OR IGNORE INTO ab_book(name) VALUES(?)", (book,))
            book_id = cur.execute("SELECT id FROM ab_book WHERE name=?", (book,)).fetchone()[0]
            ids = []
            for name, numbers, email, organization, note in contacts:
                contact_id = str(uuid.uuid4())
                cur.execute("INSERT INTO ab_contact(id, book_id, name, email, organization, note, created) "
                            "VALUES(?,?,?,?,?,?,?)", (contact_id, book_id, name, email, organization, note, now))
                cur.executemany("INSERT INTO ab_number(contact_id, seq, number, e164, tail) VALUES(?,?,?,?,?)",
                                [(contact_id, i, n.number, n.e164, n.tail) for i, n in enumerate(numbers)])
                ids.append(contact_id)
            return ids

    def delete(self, contact_id: str) -> bool:
        with self.db.transaction() as cur:
            return cur.execute("DELETE FROM ab_contact WHERE id=?", (contact_id,)).rowcount > 0

    def delete_book(self, book: str) -> bool:
        with self.db.transaction() as cur:
            return cur.execute("DELETE FROM ab_book WHERE name=?", (book,)).rowcount > 0

    def find(self, flt: ContactFilter = ContactFilter(), *, offset: int = 0,
             limit: int = 20) -> tuple[int, list[Contact]]:
        where, args = ["1=1"], []
        if flt.book:
            where.append("b.name = ?")
            args.append(flt.book)
        if flt.name:
            where.append("instr(lower(c.name), lower(?)) > 0")
            args.append(flt.name)
        keys = []
        if flt.e164:
            keys.append("n.e164 = ?")
            args.append(flt.e164)
        if flt.tail:
            keys.append("n.tail = ?")
            args.append(flt.tail)
        if flt.number_text:
            keys.append("n.number = ?")
            args.append(flt.number_text)
        if keys:
            where.append(f"c.id IN (SELECT n.contact_id FROM ab_number n WHERE {' OR '.join(keys)})")
        cond = " AND ".join(where)
        base = f"FROM ab_contact c JOIN ab_book b ON b.id = c.book_id WHERE {cond}"
        total = self.db.query(f"SELECT count(*) {base}", args)[0][0]
        rows = self.db.query(f"SELECT c.*, b.name AS book {base} ORDER BY c.name COLLATE NOCASE, c.id "
                             "LIMIT ? OFFSET ?", [*args, limit, offset])
        return int(total), self._contacts(rows)

    def by_number(self, e164: str, tail: str) -> Contact | None:
        """The contact a number belongs to: an exact E.164 match first, then the tail key (oldest contact wins)."""
        for column, key in (("e164", e164), ("tail", tail)):
            if not key:
                continue
            rows = self.db.query(
                "SELECT c.*, b.name AS book FROM ab_number n JOIN ab_contact c ON c.id = n.contact_id "
                f"JOIN ab_book b ON b.id = c.book_id WHERE n.{column} = ? ORDER BY c.created, c.id LIMIT 1", (key,))
            if rows:
                return self._contacts(rows)[0]
        return None

    def _contacts(self, rows: list[sqlite3.Row]) -> list[Contact]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        numbers: dict[str, list[str]] = {i: [] for i in ids}
        for n in self.db.query(f"SELECT contact_id, number FROM ab_number WHERE contact_id IN "
                               f"({','.join('?' * len(ids))}) ORDER BY contact_id, seq", ids):
            numbers[n["contact_id"]].append(n["number"])
        return [Contact(id=r["id"], book=r["book"], name=r["name"], numbers=tuple(numbers[r["id"]]), email=r["email"],
                        organization=r["organization"], note=r["note"]) for r in rows]
