"""The address book on the real daemon: vCard and CSV import/export, the list commands with filters and paging,
and the caller's name in IncomingSMS, IncomingCall and the call history."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

from tests.calls.test_daemon import wait_for
from tests.calls.world import WebApp

ALICE, BOB = "+15551230001", "+15551230002"

VCARDS = """BEGIN:VCARD
VERSION:3.0
FN:Alice Example
N:Example;Alice;;;
TEL;TYPE=CELL:(555) 123-0001
EMAIL:alice@example.org
ORG:Example Inc.
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Bob Sample
N:Sample;Bob;;;
TEL;TYPE=WORK:+1 555 123 0002
TEL;TYPE=HOME:+1 555 999 0000
END:VCARD
"""

CSV = "name,numbers,email,organization,note\r\nCarol Test,+15557770001;555 777 0002,,Night shift,\r\nDan Demo,0015558880001,,,\r\n"


def post(d, command: str, **params: str):
    from tests.support import api_call
    return api_call(d.base, command, method="POST", **params)


def names(answer) -> list[str]:
    return [c.findtext("Name") for c in answer.root.findall("Contacts/Contact")]


def test_import_list_filter_page_and_export(daemon_factory):
    d = daemon_factory('[addressbook]\ncountry_code = "1"\nnational_prefix = "1"\n')
    assert post(d, "ImportAddressbook", Format="vcard", Data=VCARDS, Addressbook="Staff").find("Imported") == "2"
    assert post(d, "ImportAddressbook", Format="csv", Data=CSV, Addressbook="Shifts").find("Imported") == "2"
    books = d.call("ListAddressbookNames").root.findall("Addressbooks/Addressbook")
    assert [(b.findtext("Name"), b.findtext("Contacts")) for b in books] == [("Shifts", "2"), ("Staff", "2")]

    everyone = d.call("ListAddressbookContacts")
    assert everyone.find("TotalRecords") == "4"
    assert names(everyone) == ["Alice Example", "Bob Sample", "Carol Test", "Dan Demo"]
    assert names(d.call("ListAddressbookContacts", Addressbook="staff")) == ["Alice Example", "Bob Sample"]
    assert names(d.call("ListAddressbookContacts", Name="sam")) == ["Bob Sample"]
    # The number in another form than the one stored: E.164 finds a national entry and back.
    assert names(d.call("ListAddressbookContacts", Number=ALICE)) == ["Alice Example"]
    assert names(d.call("ListAddressbookContacts", Number="1-555-999-0000")) == ["Bob Sample"]
    assert names(d.call("ListAddressbookContacts", Number="(555) 777-0002")) == ["Carol Test"]
    assert names(d.call("ListAddressbookContacts", Number="+15558880001")) == ["Dan Demo"]
    assert names(d.call("ListAddressbookContacts", Number="+15550000000")) == []
    page = d.call("ListAddressbookContacts", RowsPerPage="3", PageNumber="1")
    assert page.find("TotalRecords") == "4" and names(page) == ["Dan Demo"]
    alice = d.call("ListAddressbookContacts", Name="alice").root.find("Contacts/Contact")
    assert (alice.findtext("Email"), alice.findtext("Organization"), alice.findtext("Addressbook")) == (
        "alice@example.org", "Example Inc.", "Staff")

    exported = d.call("ExportAddressbook", Format="vcard", Addressbook="Staff").find("Data")
    assert exported.count("BEGIN:VCARD") == 2 and "FN:Bob Sample" in exported
    assert post(d, "ImportAddressbook", Format="vcard", Data=exported, Addressbook="Copy").find("Imported") == "2"
    copy = d.call("ListAddressbookContacts", Addressbook="Copy").root.findall("Contacts/Contact")
    assert [[n.text for n in c.findall("Numbers/Number")] for c in copy] == [
        ["(555) 123-0001"], ["+1 555 123 0002", "+1 555 999 0000"]]
    csv_out = d.call("ExportAddressbook", Format="csv", Addressbook="Shifts").find("Data")
    assert csv_out.splitlines()[1] == "Carol Test,+15557770001;555 777 0002,,Night shift,"


def test_bad_imports_are_refused_whole(daemon_factory):
    d = daemon_factory()
    bad = post(d, "ImportAddressbook", Format="csv", Data="name,numbers\r\nEve,+15551110000\r\n,+1555\r\n")
    assert bad.code == 302 and "line 3: no name" in bad.message
    assert post(d, "ImportAddressbook", Format="vcard", Data="BEGIN:VCARD\nFN:x\n").code == 302
    nobody = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Number\r\nEND:VCARD\r\n"
    assert "no phone number" in post(d, "ImportAddressbook", Format="vcard", Data=nobody).message
    assert post(d, "ImportAddressbook", Format="xml", Data="x").code == 302
    assert d.call("ListAddressbookContacts").find("TotalRecords") == "0"       # nothing half-imported
    added = d.call("AddAddressbookContact", Name="Eve", Number="+15551110000, 555 111 0001")
    assert added.code == 200
    assert d.call("AddAddressbookContact", Name="Nobody", Number="call me").code == 302
    assert d.call("DeleteAddressbookContact", ContactId=added.find("ContactId")).code == 200
    assert d.call("DeleteAddressbookContact", ContactId=added.find("ContactId")).code == 302


@pytest.fixture
def app():
    web = WebApp()
    web.routes["/call"] = "<Response><Speak>Hello</Speak></Response>"
    yield web
    web.close()


def test_the_callers_name_is_in_notifications_and_history(daemon_factory, app):
    d = daemon_factory(f'[addressbook]\ncountry_code = "1"\nnational_prefix = "1"\n\n[notifications]\n'
                       f'incoming_sms_url = "{app.url("/sms")}"\nincoming_call_url = "{app.url("/call")}"\n')
    d.call("AddAddressbookContact", Name="Alice Example", Number="555-123-0001")   # stored in national form
    wait_for(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
             == "Connected", 15, "the line", d.log)
    quoted = urllib.parse.quote(ALICE)
    urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim/handsets/{quoted}/sms", data=b"text=hi"),
                           timeout=5).read()
    sms = app.wait("/sms", timeout=15)[0]
    assert (sms["Sender"], sms["CallerName"]) == (ALICE, "Alice Example")
    urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim/handsets/{urllib.parse.quote(BOB)}/sms",
                                                  data=b"text=who"), timeout=5).read()
    assert "CallerName" not in app.wait("/sms", 2, timeout=15)[1]                 # unknown: Ozeki's fields only

    urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim/handsets/{quoted}/call", data=b""), timeout=5).read()
    call = app.wait("/call", timeout=15)[0]
    assert (call["Caller"], call["CallerName"]) == (ALICE, "Alice Example")
    history = wait_for(lambda: (lambda a: a if a.find("TotalRecords") == "1" else None)(d.call("ListCallHistory")),
                       20, "the history row", d.log)
    assert (history.find("CallHistory/Call/Source"), history.find("CallHistory/Call/CallerName")) == (
        ALICE, "Alice Example")
