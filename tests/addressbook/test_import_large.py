"""Address books bigger than a form: thousands of vCards or CSV rows sent as the POST body of ImportAddressbook,
read as they are parsed, all or nothing, with a clear limit ([addressbook] max_import_bytes)."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

from tests.support import Answer, parse_answer

N_CARDS, N_ROWS = 3000, 5000


def vcards(n: int, *, broken_at: int | None = None) -> str:
    out = []
    for i in range(n):
        tel = "" if i == broken_at else f"TEL;TYPE=CELL:+1555{i:07d}\r\n"
        out.append(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i:05d}\r\nN:{i:05d};Person;;;\r\n{tel}"
                   f"EMAIL:p{i}@example.org\r\nNOTE:imported in bulk\\, card {i}\r\nEND:VCARD\r\n")
    return "".join(out)


def csv_rows(n: int) -> str:
    return "name,numbers,organization\r\n" + "".join(
        f"Row {i:05d},+1666{i:07d};0666 {i:07d},Shift {i % 7}\r\n" for i in range(n))


def upload(d, body: bytes, ctype: str, **params: str) -> Answer:
    query = urllib.parse.urlencode({"command": "ImportAddressbook", **params})
    req = urllib.request.Request(f"{d.base}/api?{query}", data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return parse_answer(resp.read())


def total(d, **params: str) -> int:
    return int(d.call("ListAddressbookContacts", RowsPerPage="1", **params).find("TotalRecords"))


def test_thousands_of_vcards_and_csv_rows_import_as_a_body(daemon_factory):
    d = daemon_factory()
    cards = vcards(N_CARDS).encode()
    rows = csv_rows(N_ROWS).encode()
    assert len(cards) > 7 * 65536 and len(rows) > 2 * 65536       # far more than a form may carry

    t0 = time.monotonic()
    got = upload(d, cards, "text/vcard", Addressbook="Bulk")
    vcard_seconds = time.monotonic() - t0
    assert (got.code, got.find("Imported")) == (200, str(N_CARDS)), got.raw
    t0 = time.monotonic()
    got = upload(d, rows, "text/csv; charset=utf-8", Addressbook="Shifts")
    csv_seconds = time.monotonic() - t0
    assert (got.code, got.find("Imported")) == (200, str(N_ROWS)), got.raw
    print(f"\nimported {N_CARDS} vCards ({len(cards)} bytes) in {vcard_seconds:.2f} s, "
          f"{N_ROWS} CSV rows ({len(rows)} bytes) in {csv_seconds:.2f} s")

    assert total(d, Addressbook="Bulk") == N_CARDS and total(d, Addressbook="Shifts") == N_ROWS
    last = d.call("ListAddressbookContacts", Number=f"555 {N_CARDS - 1:07d}")       # the very last card, national
    assert last.find("Contacts/Contact/Name") == f"Person {N_CARDS - 1:05d}", last.raw
    assert last.find("Contacts/Contact/Note") == f"imported in bulk, card {N_CARDS - 1}"
    row = d.call("ListAddressbookContacts", Name=f"Row {N_ROWS - 1:05d}")
    assert [n.text for n in row.root.iter("Number")] == [f"+1666{N_ROWS - 1:07d}", f"0666 {N_ROWS - 1:07d}"]


def test_a_broken_card_deep_in_a_big_file_adds_nothing_and_says_which(daemon_factory):
    d = daemon_factory()
    got = upload(d, vcards(N_CARDS, broken_at=2500).encode(), "text/vcard", Addressbook="Bulk")
    assert got.code == 302 and "'Data: contact 2501: Person 02500: no phone number'" in got.message, got.raw
    assert total(d) == 0
    bad_utf8 = vcards(10).encode() + b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Caf\xe9\r\nTEL:+15550001\r\nEND:VCARD\r\n"
    got = upload(d, bad_utf8, "text/vcard")
    assert got.code == 302 and "not UTF-8 text" in got.message, got.raw
    got = upload(d, csv_rows(10).encode(), "text/csv", Format="vcard")
    assert got.code == 302 and got.message.endswith("'Format' for command 'ImportAddressbook': the body is csv")
    assert total(d) == 0


def test_over_the_limit_is_refused_before_reading_and_a_big_form_says_how(daemon_factory):
    d = daemon_factory("[addressbook]\nmax_import_bytes = 100000\n")
    big = vcards(1000).encode()
    got = upload(d, big, "text/vcard")
    assert got.code == 302 and got.message == (
        f"Missing or invalid parameter 'Data' for command 'ImportAddressbook': {len(big)} bytes, over the limit of "
        "100000 bytes"), got.raw
    assert total(d) == 0
    assert upload(d, vcards(200).encode(), "text/vcard").find("Imported") == "200"   # under it: fine
    form = urllib.parse.urlencode({"Format": "vcard", "Data": vcards(1000)}).encode()
    req = urllib.request.Request(f"{d.base}/api/ImportAddressbook", data=form, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        got = parse_answer(resp.read())
    assert got.code == 300 and "body over 65536 bytes; send the file as the body (text/vcard" in got.message, got.raw
