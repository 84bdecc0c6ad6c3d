"""The Ozeki API frame in process: routes, encodings, guards, codes and the exact Response document."""

from __future__ import annotations

import io
import urllib.parse
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import bottle
import pytest

from pigate.api.auth import AddressGuard, UserGuard, hash_password
from pigate.api.extensions import Extension, ExtensionCommands
from pigate.api.ozeki import CommandTable, OzekiApi
from pigate.config import User
from pigate.errors import STATUS_CODES, status_message
from tests.support import parse_answer

HEAD = ('<?xml version="1.0"?><Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">')


def make_app(*, users=(), allow=(), deny=(), max_bytes=65536, connected=True):
    table = CommandTable()
    ExtensionCommands(extensions=[
        Extension("9999", "ApiExtension", "9999", lambda: True),
        Extension("gsm1", "GsmLine", "+15550000001", lambda: connected),
    ]).register(table)
    web = bottle.Bottle()
    OzekiApi(commands=table, users=UserGuard(users=users), addresses=AddressGuard(allow=allow, deny=deny),
             max_request_bytes=max_bytes).install(web)
    return web


def wsgi(app, path="/api", query="", *, method="GET", body=b"", ctype="application/x-www-form-urlencoded",
         remote="127.0.0.1", extra=None):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": remote,
               "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": ctype, "wsgi.input": io.BytesIO(body)}
    environ.update(extra or {})
    setup_testing_defaults(environ)
    status = {}

    def start_response(s, headers, exc_info=None):
        status["status"], status["headers"] = s, dict(headers)

    raw = b"".join(app(environ, start_response))
    assert status["status"].startswith("200"), status
    assert status["headers"]["Content-Type"].startswith("application/xml")
    return parse_answer(raw)


def q(**params):
    return urllib.parse.urlencode(params)


def test_answer_is_exactly_the_ozeki_response_document():
    ans = wsgi(make_app(), query=q(command="ListExtensionTypes"))
    assert ans.raw.decode().startswith(HEAD + "<Code>200</Code><Message>Command successfully executed</Message>")
    assert ans.raw.decode().endswith("</Response>")
    assert [t.text for t in ans.root.iter("Type")] == ["ApiExtension", "GsmLine", "SipAccount"]


@pytest.mark.parametrize("path", ["/api", "/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_both_paths_and_methods_and_names_are_case_insensitive(path, method):
    params = q(COMMAND="listextensions", tYpE="gsmline")
    if method == "GET":
        ans = wsgi(make_app(), path, params)
    else:
        ans = wsgi(make_app(), path, method="POST", body=params.encode())
    assert ans.code == 200
    rows = ans.root.findall("Extensions/ExtensionSummary")
    assert [(r.findtext("Id"), r.findtext("Type"), r.findtext("State")) for r in rows] == [
        ("gsm1", "GsmLine", "Connected")]


def test_state_is_read_live_from_the_driver():
    ans = wsgi(make_app(connected=False), query=q(command="ListExtensions", Type="GsmLine"))
    assert ans.find("Extensions/ExtensionSummary/State") == "Disconnected"


def test_unknown_command_is_301_naming_it():
    ans = wsgi(make_app(), query=q(command="Teleport"))
    assert (ans.code, ans.message) == (301, "Not implemented command: 'Teleport'")


def test_missing_command_is_302():
    ans = wsgi(make_app(), query="")
    assert ans.code == 302 and "'command'" in ans.message


def test_unknown_extension_type_is_701_naming_it():
    ans = wsgi(make_app(), query=q(command="ListExtensions", Type="Fax"))
    assert (ans.code, ans.message) == (701, "Configuration for type 'Fax' not found")


@pytest.mark.parametrize("query", ["command=ListExtensions&x=%ff%fe", "command=List%E9"])
def test_bad_encoding_is_300(query):
    ans = wsgi(make_app(), query=query)
    assert ans.code == 300 and ans.message.startswith("Error occured during parsing message:")


def test_oversized_query_and_body_are_300():
    big = "command=ListExtensions&pad=" + "x" * 70000
    assert wsgi(make_app(), query=big).code == 300
    assert wsgi(make_app(), method="POST", body=big.encode()).code == 300


def test_non_form_body_is_300():
    ans = wsgi(make_app(), method="POST", body=b'{"command":"ListExtensions"}', ctype="application/json")
    assert ans.code == 300 and "content type" in ans.message


def test_special_characters_are_escaped_in_messages():
    ans = wsgi(make_app(), query=q(command="<b>&'"))
    assert ans.code == 301 and ans.message == "Not implemented command: '<b>&''"


def test_authentication_required_failed_and_ok():
    users = [User("admin", hash_password("s3cret", iterations=1000))]
    app = make_app(users=users)
    assert wsgi(app, query=q(command="ListExtensions")).code == 304
    assert wsgi(app, query=q(command="ListExtensions", Username="admin", Password="nope")).code == 305
    assert wsgi(app, query=q(command="ListExtensions", Username="eve", Password="s3cret")).code == 305
    ok = wsgi(app, query=q(command="ListExtensions", username="admin", password="s3cret"))
    assert ok.code == 200
    # the remembered verification must not let a wrong password through afterwards
    assert wsgi(app, query=q(command="ListExtensions", Username="admin", Password="s3cre")).code == 305


def test_user_acl_is_306_for_commands_not_listed():
    users = [User("ops", hash_password("pw", iterations=1000), commands=["ListExtensionTypes"])]
    app = make_app(users=users)
    assert wsgi(app, query=q(command="listextensiontypes", Username="ops", Password="pw")).code == 200
    ans = wsgi(app, query=q(command="ListExtensions", Username="ops", Password="pw"))
    assert (ans.code, ans.message) == (306, "User is not allowed to use API in ACL")


@pytest.mark.parametrize("allow,deny,remote,code", [
    (["10.0.0.0/8"], [], "127.0.0.1", 307),
    (["10.0.0.0/8"], [], "10.1.2.3", 200),
    ([], ["127.0.0.0/8"], "127.0.0.1", 307),
    (["127.0.0.0/8"], ["127.0.0.5/32"], "127.0.0.5", 307),
    (["::1/128"], [], "::1", 200),
    (["127.0.0.0/8"], [], "::ffff:127.0.0.1", 200),
])
def test_address_lists(allow, deny, remote, code):
    ans = wsgi(make_app(allow=allow, deny=deny), query=q(command="ListExtensionTypes"), remote=remote)
    assert ans.code == code
    if code == 307:
        assert ans.message == "Use API from this address is forbidden"


def test_address_check_comes_before_authentication():
    users = [User("admin", hash_password("s3cret", iterations=1000))]
    ans = wsgi(make_app(users=users, deny=["127.0.0.0/8"]), query=q(command="ListExtensions"))
    assert ans.code == 307


def test_status_table_is_complete_and_filled():
    assert sorted(STATUS_CODES) == [200, 300, 301, 302, 303, 304, 305, 306, 307,
                                    401, 402, 501, 601, 701, 702, 703]
    assert status_message(302, "Recipient", "SendSms") == \
        "Missing or invalid parameter 'Recipient' for command 'SendSms'"
    assert status_message(402, "+361") == "Call connect to '+361' failed with result state ''"


def test_raw_at_is_refused_from_anywhere_but_loopback():
    from pigate.api.maintenance import MaintenanceCommands
    from pigate.config import Config
    from pigate.events import EventBus
    from pigate.lines import Lines

    table = CommandTable()
    MaintenanceCommands(lines=Lines(config=Config(modems=[]), bus=EventBus(), data_dir=Path("."))).register(table)
    web = bottle.Bottle()
    OzekiApi(commands=table, users=UserGuard(users=[]), addresses=AddressGuard()).install(web)
    assert wsgi(web, query=q(command="ModemCommand", AtCommand="AT+CPIN=1234"), remote="192.168.1.20").code == 307
    assert wsgi(web, query=q(command="ModemCommand", AtCommand="AT"), remote="127.0.0.1").code == 302  # no line
