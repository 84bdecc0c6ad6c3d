"""The address book: contacts in books, number lookup in E.164 and national forms, import and export."""

from __future__ import annotations

import io
import time
from typing import Callable, Mapping, Sequence, TextIO

from pigate.addressbook import formats
from pigate.addressbook.formats import FormatError, NewContact
from pigate.addressbook.numbers import NumberPlan, clean, e164, tail
from pigate.notify import messages
from pigate.store.addressbook import AddressBookStore, Contact, ContactFilter, StoredNumber

DEFAULT_BOOK = "default"
FORMATS = ("vcard", "csv")
MAX_NAME = 200


class ContactError(ValueError):
    """A contact the book cannot take (no name, no usable number); the message says which."""


class AddressBook:
    def __init__(self, *, store: AddressBookStore, plan: NumberPlan = NumberPlan(),
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.plan, self._clock = store, plan, clock

    def _stored(self, numbers: Sequence[str]) -> list[StoredNumber]:
        out = []
        for number in numbers:
            if not clean(number).lstrip("+"):
                raise ContactError(f"not a phone number: {number!r}")
            out.append(StoredNumber(number.strip(), e164(number, self.plan), tail(number, self.plan)))
        return out

    def _check(self, c: NewContact) -> tuple[str, list[StoredNumber], str, str, str]:
        name = c.name.strip()
        if not name or len(name) > MAX_NAME:
            raise ContactError(f"a contact needs a name of 1-{MAX_NAME} characters, got {c.name!r}")
        if not c.numbers:
            raise ContactError(f"{name}: no phone number")
        return name, self._stored(c.numbers), c.email.strip(), c.organization.strip(), c.note.strip()

    def add(self, contact: NewContact, *, book: str = DEFAULT_BOOK) -> str:
        return self.store.add_many(book or DEFAULT_BOOK, [self._check(contact)], now=self._clock())[0]

    def delete(self, contact_id: str) -> bool:
        return self.store.delete(contact_id)

    def books(self) -> list[tuple[str, int]]:
        return self.store.books()

    def find(self, *, book: str = "", name: str = "", number: str = "", offset: int = 0,
             limit: int = 20) -> tuple[int, list[Contact]]:
        flt = ContactFilter(book=book, name=name)
        if number:
            keys = e164(number, self.plan), tail(number, self.plan)
            flt = ContactFilter(book=book, name=name, e164=keys[0], tail=keys[1],
                                number_text="" if any(keys) else number.strip())
        return self.store.find(flt, offset=offset, limit=limit)

    def lookup(self, number: str) -> Contact | None:
        """The contact a caller's number belongs to, in whatever form the network shows it."""
        if not number:
            return None
        return self.store.by_number(e164(number, self.plan), tail(number, self.plan))

    def import_text(self, text: str, *, format: str, book: str = DEFAULT_BOOK) -> int:
        """Every contact of a vCard or CSV text into `book`, all or none; FormatError or ContactError otherwise."""
        return self.import_stream(io.StringIO(text, newline=""), format=format, book=book)

    def import_stream(self, stream: TextIO, *, format: str, book: str = DEFAULT_BOOK) -> int:
        """Like import_text, reading the text as it is parsed (an upload of megabytes is never held whole): the
        contacts are checked as they come, then stored in one transaction, so the database is held only briefly."""
        parsed = formats.iter_vcards(stream) if format == "vcard" else formats.iter_csv(stream)
        checked = []
        for i, contact in enumerate(parsed):
            try:
                checked.append(self._check(contact))
            except ContactError as exc:
                raise ContactError(f"contact {i + 1}: {exc}") from exc
        self.store.add_many(book or DEFAULT_BOOK, checked, now=self._clock())
        return len(checked)

    def export_text(self, *, format: str, book: str = "") -> str:
        contacts: list[NewContact] = []
        offset = 0
        while True:
            total, page = self.store.find(ContactFilter(book=book), offset=offset, limit=500)
            contacts += [NewContact(name=c.name, numbers=c.numbers, email=c.email, organization=c.organization,
                                    note=c.note, id=c.id, book=c.book) for c in page]
            offset += len(page)
            if not page or offset >= total:
                break
        return formats.to_vcards(contacts) if format == "vcard" else formats.to_csv(contacts)


# Which field of a notification holds the other party's number.
_NUMBER_FIELD = {messages.INCOMING_CALL: "Caller", messages.CALL_CHANGED: "Caller",
                 messages.INCOMING_SMS: "Sender"}


class CallerNames:
    """A Poster in front of the notifier: IncomingCall, CallChanged and IncomingSMS get a `CallerName` field
    (ours, beside Ozeki's) when the number is in the address book; other notifications pass unchanged."""

    def __init__(self, *, poster, book: AddressBook) -> None:
        self._poster, self._book = poster, book

    def post(self, url: str, fields: Mapping[str, str]) -> str:
        return self._poster.post(url, self.enrich(fields))

    def enrich(self, fields: Mapping[str, str]) -> Mapping[str, str]:
        key = _NUMBER_FIELD.get(fields.get("NotificationName", ""))
        if key is None or "CallerName" in fields:
            return fields
        contact = self._book.lookup(fields.get(key, ""))
        return {**fields, "CallerName": contact.name} if contact is not None else fields


