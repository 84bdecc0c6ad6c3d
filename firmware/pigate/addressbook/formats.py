"""Pure contact formats: vCard (through vobject) and CSV, both ways. A contact here is a NewContact."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Iterable, Iterator, TextIO

CSV_COLUMNS = ("name", "numbers", "email", "organization", "note")


class FormatError(ValueError):
    """The data is not vCard or CSV as expected; the message says where."""


@dataclass(frozen=True)
class NewContact:
    name: str
    numbers: tuple[str, ...] = ()
    email: str = ""
    organization: str = ""
    note: str = ""
    id: str = ""                         # when exported from the book
    book: str = field(default="", compare=False)


def _vobject():
    # Imported on first use: vobject (and dateutil under it) costs the daemon's start-up ~40 ms, a Pi's more.
    import vobject

    return vobject


def from_vcards(text: str) -> list[NewContact]:
    return list(iter_vcards(io.StringIO(text)))


def iter_vcards(stream: TextIO) -> Iterator[NewContact]:
    """The contacts of a vCard stream, one card at a time (the text is read as the cards are)."""
    vobject = _vobject()
    cards = vobject.readComponents(stream, ignoreUnreadable=False)
    i = 0
    while True:
        try:
            card = next(cards)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise FormatError(f"after card {i}: not UTF-8 text") from exc
        except Exception as exc:  # vobject raises ParseError and plain ValueErrors alike
            raise FormatError(f"not vCard{f' after card {i}' if i else ''}: {exc}") from exc
        i += 1
        if card.name.upper() != "VCARD":
            raise FormatError(f"item {i} is a {card.name}, not a VCARD")
        contents = card.contents
        name = _first(contents, "fn") or " ".join(
            p for p in (getattr(_value(contents, "n"), "given", ""), getattr(_value(contents, "n"), "family", "")) if p)
        numbers = tuple(str(t.value).strip() for t in contents.get("tel", []) if str(t.value).strip())
        org = _value(contents, "org")
        org_text = ";".join(org) if isinstance(org, (list, tuple)) else (org or "")
        yield NewContact(name=(name or "").strip(), numbers=numbers, email=_first(contents, "email"),
                         organization=str(org_text), note=_first(contents, "note"))


def _value(contents: dict, key: str):
    items = contents.get(key)
    return items[0].value if items else None


def _first(contents: dict, key: str) -> str:
    value = _value(contents, key)
    return str(value).strip() if value is not None else ""


def to_vcards(contacts: Iterable[NewContact]) -> str:
    vobject = _vobject()
    parts = []
    for c in contacts:
        card = vobject.vCard()
        card.add("fn").value = c.name
        given, _, family = c.name.rpartition(" ") if " " in c.name else ("", "", c.name)
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
        for number in c.numbers:
            tel = card.add("tel")
            tel.value = number
            tel.type_param = "CELL"
        if c.email:
            card.add("email").value = c.email
        if c.organization:
            card.add("org").value = [c.organization]
        if c.note:
            card.add("note").value = c.note
        if c.id:
            card.add("uid").value = c.id
        parts.append(card.serialize())
    return "".join(parts)


def from_csv(text: str) -> list[NewContact]:
    return list(iter_csv(io.StringIO(text, newline="")))


def iter_csv(stream: TextIO) -> Iterator[NewContact]:
    """A header row naming some of CSV_COLUMNS (case-insensitive, any order); numbers separated by `;`. Read
    row by row."""
    reader = csv.DictReader(stream)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "name" not in header or "numbers" not in header and "number" not in header:
            raise FormatError("the header must name the columns name and numbers")
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
            numbers = row.get("numbers") or row.get("number") or ""
            if not row.get("name") and not numbers:
                continue
            if not row.get("name"):
                raise FormatError(f"line {line}: no name")
            yield NewContact(name=row["name"], numbers=tuple(n.strip() for n in numbers.split(";") if n.strip()),
                             email=row.get("email", ""), organization=row.get("organization", ""),
                             note=row.get("note", ""))
    except UnicodeDecodeError as exc:
        raise FormatError(f"after line {reader.line_num}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise FormatError(f"line {reader.line_num}: {exc}") from exc


def to_csv(contacts: Iterable[NewContact]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in contacts:
        writer.writerow([c.name, ";".join(c.numbers), c.email, c.organization, c.note])
    return buf.getvalue()
