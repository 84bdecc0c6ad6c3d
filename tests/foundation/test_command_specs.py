"""Every command of the list beyond SMS and calls (e-mail, SendMessage, the address book, alarms, configuration)
is declared: /v1/openapi.json lists its parameters, and the declaration is what the handler checks with."""

from __future__ import annotations

import json
import urllib.request

import pytest

DECLARED = {
    "SendEmail": {"ApiExtension", "Recipient", "Subject", "Message", "Sender", "Reference"},
    "GetEmail": {"EmailId"},
    "ListEmail": {"State", "PageNumber", "RowsPerPage"},
    "SendMessage": {"Recipient", "MessageData", "MessageType", "Originator", "ApiExtension", "ReportUrl",
                    "Reference"},
    "ListAddressbookContacts": {"Addressbook", "Name", "Number", "PageNumber", "RowsPerPage"},
    "AddAddressbookContact": {"Name", "Number", "Addressbook", "Email", "Organization", "Note"},
    "DeleteAddressbookContact": {"ContactId"},
    "ImportAddressbook": {"Format", "Data", "Addressbook"},
    "ExportAddressbook": {"Format", "Addressbook"},
    "SendAlarmNotification": {"Dialed", "ApiExtension", "Account", "EventCode", "Qualifier", "Partition", "Zone",
                              "FinishedUrl", "ErrorUrl", "RingTime"},
    "GetConfig": {"Type", "Id"},
    "AddConfig": {"Type", "Id", "Position"},
    "ModifyConfig": {"Type", "Id", "Unset", "Position"},
    "RemoveConfig": {"Type", "Id"},
}


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    from tests.support import Daemon

    d = Daemon(workdir=tmp_path_factory.mktemp("specs") / "d")
    d.start()
    with urllib.request.urlopen(f"{d.base}/v1/openapi.json", timeout=10) as resp:
        doc = json.load(resp)
    yield d, doc
    d.stop()


def test_the_document_lists_each_commands_parameters(box):
    _, doc = box
    for command, names in DECLARED.items():
        op = doc["paths"][f"/api/{command}"]["get"]
        assert {p["name"] for p in op["parameters"]} - {"Username", "Password"} == names, command
        assert op["summary"], command
    required = lambda c: {p["name"] for p in doc["paths"][f"/api/{c}"]["get"]["parameters"] if p["required"]}
    assert required("SendEmail") == {"ApiExtension", "Recipient"}
    assert required("SendAlarmNotification") == {"Dialed", "ApiExtension", "Account", "EventCode"}
    qualifier = next(p for p in doc["paths"]["/api/SendAlarmNotification"]["get"]["parameters"]
                     if p["name"] == "Qualifier")
    assert qualifier["schema"]["enum"] == ["1", "3", "6"]
    upload = doc["paths"]["/api/ImportAddressbook"]["post"]["requestBody"]["content"]
    assert {"application/x-www-form-urlencoded", "text/vcard", "text/csv"} <= set(upload)
    assert upload["text/vcard"]["schema"]["maxLength"] == 8 * 1024 * 1024


@pytest.mark.parametrize("command, params, named", [
    ("ListEmail", {"RowsPerPage": "501"}, "RowsPerPage"),
    ("SendMessage", {"Recipient": "+15551230001", "MessageData": "hi", "ReportUrl": "ftp://x"}, "ReportUrl"),
    ("SendMessage", {"Recipient": "+15551230001", "MessageData": "x", "MessageType": "SMS:BINARY"}, "MessageType"),
    ("ListAddressbookContacts", {"PageNumber": "-1"}, "PageNumber"),
    ("ExportAddressbook", {"Format": "ldif"}, "Format"),
    ("SendAlarmNotification", {"Dialed": "+15551230002", "ApiExtension": "9999", "Account": "1234",
                               "EventCode": "130", "Qualifier": "2"}, "Qualifier"),
    ("SendAlarmNotification", {"Dialed": "+15551230002", "ApiExtension": "9999", "Account": "1234",
                               "EventCode": "130", "RingTime": "0"}, "RingTime"),
    ("ModifyConfig", {"Type": "Route", "Id": "1", "Position": "0"}, "Position"),
])
def test_a_value_outside_its_declaration_is_302_naming_it(box, command, params, named):
    d, _ = box
    got = d.call(command, **params)
    assert (got.code, got.message) == (302, f"Missing or invalid parameter '{named}' for command '{command}'"), got.raw
