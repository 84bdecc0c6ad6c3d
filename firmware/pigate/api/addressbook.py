"""The address-book HTTP commands.

- ListAddressbookNames: `<Addressbooks><Addressbook>` with Name and Contacts (how many).
- ListAddressbookContacts (Addressbook, Name: part of the name, Number: matched in E.164 and national forms,
  PageNumber from 0, RowsPerPage 1-500 default 20): `<TotalRecords>`, then `<Contacts><Contact>` with Id, Name,
  Addressbook, `<Numbers><Number>`, Email, Organization, Note.
- AddAddressbookContact (ours; Addressbook (default `default`), Name*, Number* (several: comma separated),
  Email, Organization, Note): `<ContactId>`. DeleteAddressbookContact (ContactId*).
- ImportAddressbook (ours; Format* vcard or csv, Data*, Addressbook): `<Imported>` the number of contacts; all or
  none (302 names what is wrong). A big file is the POST body instead of Data (text/vcard or text/csv, the other
  parameters in the URL), read as it is parsed, up to `[addressbook] max_import_bytes`. ExportAddressbook (Format*, Addressbook: all books when empty): `<Data>`.
"""

from __future__ import annotations

import io

from pigate.addressbook import FORMATS, AddressBook, ContactError, FormatError, NewContact
from pigate.api.ozeki import ApiRequest, CommandTable, Upload
from pigate.api.params import Param, Spec
from pigate.api.responses import Element
from pigate.errors import InvalidParameter
from pigate.store.addressbook import Contact


def _contact(c: Contact) -> Element:
    return ("Contact", [("Id", c.id), ("Name", c.name), ("Addressbook", c.book),
                        ("Numbers", [("Number", n) for n in c.numbers]), ("Email", c.email),
                        ("Organization", c.organization), ("Note", c.note)])


_PAGE = (Param("PageNumber", "int", default=0, low=0), Param("RowsPerPage", "int", default=20, low=1, high=500))
LIST_NAMES = Spec(doc="The address books and how many contacts each holds.")
LIST_CONTACTS = Spec((
    Param("Addressbook", doc="only this book"),
    Param("Name", doc="a part of the name, any case"),
    Param("Number", doc="any form: E.164 and national forms find each other"),
    *_PAGE,
), doc="Contacts by name, with filters and paging.")
ADD_CONTACT = Spec((
    Param("Name", required=True),
    Param("Number", required=True, doc="one phone number, or several separated by commas"),
    Param("Addressbook", doc="default: default"),
    Param("Email"), Param("Organization"), Param("Note"),
), doc="Add a contact; answers <ContactId>.")
DELETE_CONTACT = Spec((Param("ContactId", required=True, aliases=("Id",)),), doc="Delete a contact.")
IMPORT_BOOK = Spec((
    Param("Format", "choice", choices=FORMATS, doc="needed with Data; a file sent as the body (text/vcard, "
                                                   "text/csv) says its format"),
    Param("Data", "text", doc="the vCard or CSV text (or send the file itself as the POST body)"),
    Param("Addressbook", doc="default: default"),
), doc="Import vCard or CSV contacts, all or none; answers <Imported>.")
EXPORT_BOOK = Spec((
    Param("Format", "choice", required=True, choices=FORMATS),
    Param("Addressbook", doc="default: every book"),
), doc="Export contacts as vCard or CSV; answers <Data>.")

# The body types ImportAddressbook takes a file as, and the format each means.
UPLOAD_TYPES = {"text/vcard": "vcard", "text/x-vcard": "vcard", "text/directory": "vcard", "text/csv": "csv"}


class AddressBookCommands:
    def __init__(self, *, book: AddressBook, max_import_bytes: int = 8 << 20) -> None:
        self._book = book
        self._max_import = max_import_bytes

    def register(self, table: CommandTable) -> None:
        table.add("ListAddressbookNames", self.list_names, spec=LIST_NAMES)
        table.add("ListAddressbookContacts", self.list_contacts, spec=LIST_CONTACTS)
        table.add("AddAddressbookContact", self.add_contact, spec=ADD_CONTACT)
        table.add("DeleteAddressbookContact", self.delete_contact, spec=DELETE_CONTACT)
        table.add("ImportAddressbook", self.import_book, spec=IMPORT_BOOK,
                  upload=Upload(types=tuple(UPLOAD_TYPES), limit=self._max_import, parameter="Data"))
        table.add("ExportAddressbook", self.export_book, spec=EXPORT_BOOK)

    def list_names(self, request: ApiRequest) -> list[Element]:
        books = self._book.books()
        return [("Addressbooks", [("Addressbook", [("Name", name), ("Contacts", n)]) for name, n in books])]

    def list_contacts(self, request: ApiRequest) -> list[Element]:
        a = LIST_CONTACTS.bind(request.params)
        page, rows = a["PageNumber"], a["RowsPerPage"]
        total, found = self._book.find(book=a["Addressbook"], name=a["Name"], number=a["Number"],
                                       offset=page * rows, limit=rows)
        return [("TotalRecords", total), ("Contacts", [_contact(c) for c in found])]

    def add_contact(self, request: ApiRequest) -> list[Element]:
        p = request.params
        a = ADD_CONTACT.bind(p)
        contact = NewContact(name=a["Name"], numbers=tuple(n.strip() for n in a["Number"].split(",") if n.strip()),
                             email=a["Email"], organization=a["Organization"], note=a["Note"])
        try:
            return [("ContactId", self._book.add(contact, book=a["Addressbook"]))]
        except ContactError as exc:
            raise InvalidParameter("Number" if "number" in str(exc) else "Name", p.command) from exc

    def delete_contact(self, request: ApiRequest) -> list[Element]:
        p = request.params
        if not self._book.delete(DELETE_CONTACT.bind(p)["ContactId"]):
            raise InvalidParameter("ContactId", p.command)
        return []

    def import_book(self, request: ApiRequest) -> list[Element]:
        """Data in the form (up to [http] max_request_bytes), or the file as the POST body (text/vcard or text/csv,
        up to [addressbook] max_import_bytes), read as it is parsed."""
        p = request.params
        a = IMPORT_BOOK.bind(p)
        fmt = a["Format"]
        if request.body is not None:
            stream = io.TextIOWrapper(io.BufferedReader(request.body), encoding="utf-8", newline="")
            implied = UPLOAD_TYPES[request.body_type]
            if fmt and fmt != implied:
                raise InvalidParameter("Format", p.command, detail=f"the body is {implied}")
            fmt = implied
        else:
            if not fmt:
                raise InvalidParameter("Format", p.command)
            data = a["Data"]
            if not data.strip():
                raise InvalidParameter("Data", p.command)
            stream = io.StringIO(data, newline="")
        try:
            count = self._book.import_stream(stream, format=fmt, book=a["Addressbook"])
        except (FormatError, ContactError) as exc:
            raise InvalidParameter(f"Data: {exc}", p.command) from exc
        return [("Imported", count)]

    def export_book(self, request: ApiRequest) -> list[Element]:
        a = EXPORT_BOOK.bind(request.params)
        return [("Data", self._book.export_text(format=a["Format"], book=a["Addressbook"]))]
