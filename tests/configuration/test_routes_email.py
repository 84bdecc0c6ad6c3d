"""The dial plan ([[routes]]) and the mail relay ([email]) over the config API on the real daemon: rules are
named by their position, checked like the file, and used by the next call at once; [email] takes effect for the
next mail (queued mail waits for a relay), and its password is written but never shown."""

from __future__ import annotations

import json
import tomllib
import urllib.parse
import urllib.request

import pytest

from pigate.sim.handset import TERMINAL
from tests.calls.test_daemon import wait_for
from tests.calls.world import WebApp
from tests.configuration.test_config_api import BASE, settings
from tests.mail.relay import Relay
from tests.support import free_port

ALICE = "+15551230001"
LINE = "+15550000001"


@pytest.fixture
def app():
    web = WebApp()
    web.routes["/call"] = "<Response><Hangup/></Response>"
    yield web
    web.close()


def _ring(d, caller: str = ALICE) -> None:
    q = urllib.parse.quote(caller)
    urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim/handsets/{q}/call",
                                                  data=urllib.parse.urlencode({"to": LINE}).encode()), timeout=5).read()


def _last_call(d, caller: str = ALICE) -> dict:
    with urllib.request.urlopen(f"{d.base}/sim/handsets/{urllib.parse.quote(caller)}/calls", timeout=5) as resp:
        return json.load(resp)[-1]


def _ended(d) -> dict:
    return wait_for(lambda: (lambda c: c if c["state"] in TERMINAL else None)(_last_call(d)), 20, "the call's end",
                    d.log)


def test_routes_round_trip_and_the_next_call_follows_them(daemon_factory, app):
    d = daemon_factory(BASE + f'\n[notifications]\nincoming_call_url = "{app.url("/call")}"\n')
    wait_for(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
             == "Connected", 15, "the line", d.log)
    assert d.call("GetConfig", Type="Route").root.findall("Configs/Config") == []

    added = d.call("AddConfig", Type="Route", source="gsm1", to="reject")
    assert (added.code, added.find("Config/Id"), added.find("Applied"), added.find("RestartRequired")) == (
        200, "1", "live", "false"), added.raw
    assert settings(added) == {"to": "reject", "source": "gsm1", "match": "", "strip": "0", "prepend": ""}
    _ring(d)
    wait_for(lambda: "no route takes it (rule 1); refused" in d.log(), 15, "the refusal", d.log)
    assert app.of("/call") == []                            # the rule decided: no IncomingCall
    assert _ended(d)["state"] == "rejected"   # the box hung up the refused call: the caller does not ring on

    first = d.call("AddConfig", Type="Route", Position="1", source="gsm1", match=r"\+1555.*", to="9999")
    assert (first.code, first.find("Config/Id"), first.find("Applied")) == (200, "1", "live"), first.raw
    ids = [(c.findtext("Id"), c.findtext("Settings/Setting[Key='to']/Value"))
           for c in d.call("GetConfig", Type="Route").root.iter("Config")]
    assert ids == [("1", "9999"), ("2", "reject")]
    _ring(d)
    assert app.wait("/call", timeout=20)[0]["Caller"] == ALICE   # the new first rule hands it to the extension
    _ended(d)

    moved = d.call("ModifyConfig", Type="Route", Id="1", Position="2", strip="1", prepend="+45")
    assert (moved.code, moved.find("Config/Id"), settings(moved)["strip"], settings(moved)["prepend"]) == (
        200, "2", "1", "+45"), moved.raw
    assert [r["to"] for r in tomllib.loads(d.config_path.read_text())["routes"]] == ["reject", "9999"]
    assert "# the box's settings (this comment must survive edits)" in d.config_path.read_text()

    assert d.call("RemoveConfig", Type="Route", Id="1").find("Applied") == "live"
    assert d.call("RemoveConfig", Type="Route", Id="1").code == 200
    assert "routes" not in tomllib.loads(d.config_path.read_text()) or \
        tomllib.loads(d.config_path.read_text())["routes"] == []
    assert d.call("RemoveConfig", Type="Route", Id="1").code == 701
    assert d.call("AddConfig", Type="Route", Id="1", to="gsm").code == 302        # a new rule's place: Position


@pytest.mark.parametrize("params, named", [
    ({"to": "gsm", "match": "9[0-9+"}, "'routes[0].match' is not a valid regular expression"),
    ({"to": "gsm7"}, "'routes[0].to': no line, SIP trunk or API extension named 'gsm7'; did you mean"),
    ({"to": "gsm", "strip": "-1"}, "'routes[0].strip' must be 0 or more, got -1"),
    ({"to": "gsm", "strip": "one"}, "'strip' must be an integer"),
    ({"to": "gsm", "prepend": "+45x"}, "'routes[0].prepend' must be digits, +, * or #"),
    ({"to": "gsm", "Position": "3"}, "'position' must be 1-1, got 3"),
    ({"source": "gsm1"}, "'routes[0].to' is required"),
])
def test_a_bad_rule_is_702_naming_the_key_and_the_file_is_untouched(daemon_factory, params, named):
    d = daemon_factory(BASE)
    before = d.config_path.read_text()
    got = d.call("AddConfig", Type="Route", **params)
    assert got.code == 702 and got.message.startswith("Invalid configuration for type 'Route': "), got.raw
    assert named in got.message, got.message
    assert d.config_path.read_text() == before


def test_a_rule_naming_a_line_not_yet_started_says_restart(daemon_factory):
    d = daemon_factory(BASE)
    assert d.call("AddConfig", Type="GsmLine", name="gsm2", port="sim", number="+15550000002").code == 200
    got = d.call("AddConfig", Type="Route", source="gsm1", to="gsm2")
    assert (got.code, got.find("Applied"), got.find("RestartRequired")) == (200, "restart", "true"), got.raw
    assert d.call("AddConfig", Type="Route", source="gsm1", to="gsm1").find("Applied") == "restart"  # rule 1 still
    assert d.call("RemoveConfig", Type="Route", Id="1").find("Applied") == "live"


def test_email_settings_apply_to_queued_mail_and_the_password_is_never_shown(daemon_factory):
    port = free_port()
    d = daemon_factory(BASE)
    got = d.call("GetConfig", Type="Email")
    assert (got.code, got.find("Configs/Config/Id"), settings(got)["host"], settings(got)["password"]) == (
        200, "email", "", ""), got.raw
    assert d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org").code == 701   # no relay yet

    changed = d.call("ModifyConfig", Type="Email", host="127.0.0.1", port=str(port), starttls="false",
                     sender="gateway@box.example", retry_base="0.2", retry_cap="0.5",
                     **{"Set.username": "box", "Set.password": "s3cret pass", "Set.timeout": "2.0"})
    assert (changed.code, changed.find("Applied"), changed.find("RestartRequired")) == (200, "live", "false"), \
        changed.raw
    assert settings(changed)["password"] == "********" and settings(changed)["username"] == "box"
    assert "s3cret" not in changed.raw.decode() and "s3cret" not in d.call("GetConfig").raw.decode()
    assert tomllib.loads(d.config_path.read_text())["email"]["password"] == "s3cret pass"
    # A settings page posts the masked value back: the password stays as it was.
    assert d.call("ModifyConfig", Type="Email", **{"Set.password": "********"}).code == 200
    assert tomllib.loads(d.config_path.read_text())["email"]["password"] == "s3cret pass"
    assert "s3cret" not in d.log()

    # Without AUTH on the relay the login fails, so drop the username first; the mail is then queued while the
    # relay is down and sent once it is up.
    assert d.call("ModifyConfig", Type="Email", Unset="username,password").code == 200
    sent = d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org", Subject="live", Message="hi")
    assert sent.code == 200, sent.raw
    email_id = sent.find("EmailId")
    wait_for(lambda: "unreachable" in (d.call("GetEmail", EmailId=email_id).find("Email/Reason") or ""), 10,
             "a failed attempt", d.log)
    relay = Relay(port)
    try:
        relay.start()
        wait_for(lambda: d.call("GetEmail", EmailId=email_id).find("Email/State") == "sent", 15, "the mail sent",
                 d.log)
        assert relay.wait(1)[0][2]["Subject"] == "live"
        assert len(relay.messages) == 1
    finally:
        relay.stop()

    bad = d.call("ModifyConfig", Type="Email", starttls="true", tls="true")
    assert bad.code == 702 and "'email': starttls and tls cannot both be true" in bad.message, bad.raw
    assert d.call("RemoveConfig", Type="Email").find("Applied") == "live"      # back to no relay
    assert "email" not in tomllib.loads(d.config_path.read_text())
    assert d.call("SendEmail", ApiExtension="9999", Recipient="a@example.org").code == 701
