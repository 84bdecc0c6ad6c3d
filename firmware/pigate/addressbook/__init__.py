"""The address book: contacts in SQLite, vCard and CSV import/export, caller names for notifications and history."""

from pigate.addressbook.book import DEFAULT_BOOK, FORMATS, AddressBook, CallerNames, ContactError
from pigate.addressbook.formats import FormatError, NewContact
from pigate.addressbook.numbers import NumberPlan

__all__ = ["AddressBook", "CallerNames", "ContactError", "DEFAULT_BOOK", "FORMATS", "FormatError", "NewContact",
           "NumberPlan"]
