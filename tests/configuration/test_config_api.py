"""Configuration over the API on the real daemon: each command round-trips through the file, API extensions
apply live, other sections say a restart is needed, and a bad value is 702 naming the key with the file untouched."""

from __future__ import annotations

import tomllib

import pytest

from pigate.api.configuration import ConfigCommands
from pigate.api.ozeki import ApiRequest
from pigate.api.params import Params
from pigate.errors import ForbiddenAddress

BASE = """# the box's settings (this comment must survive edits)
[[api_extensions]]
id = "9999"   # the default extension

[[modems]]
name = "gsm1"
port = "sim"
number = "+15550000001"
pin = "1234"
"""


def settings(answer, i: int = 0) -> dict[str, str]:
    config = answer.root.findall(".//Config")[i]
    return {s.findtext("Key"): s.findtext("Value") for s in config.findall("Settings/Setting")}


def test_api_extensions_round_trip_and_apply_live(daemon_factory):
    d = daemon_factory(BASE)
    added = d.call("AddConfig", Type="ApiExtension", Id="1234", incoming_sms_url="http://127.0.0.1:9/sms",
                   lines="gsm1")
    assert added.code == 200, added.raw
    assert (added.find("Applied"), added.find("RestartRequired")) == ("live", "false")
    assert settings(added)["incoming_sms_url"] == "http://127.0.0.1:9/sms" and settings(added)["lines"] == "gsm1"
    ids = [e.findtext("Id") for e in d.call("ListExtensions", Type="ApiExtension").root.iter("ExtensionSummary")]
    assert ids == ["9999", "1234"]
    assert d.call("SendSms", ApiExtension="1234", Recipient="+15551230001", Message="live").code == 200

    got = d.call("GetConfig", Type="apiextension", Id="1234")
    assert got.code == 200 and settings(got)["id"] == "1234"
    modified = d.call("ModifyConfig", Type="ApiExtension", Id="1234", error_url="http://127.0.0.1:9/err",
                      Unset="lines")
    assert modified.code == 200 and settings(modified)["error_url"] == "http://127.0.0.1:9/err"
    assert settings(modified)["lines"] == ""

    text = d.config_path.read_text()
    assert "# the box's settings (this comment must survive edits)" in text and "# the default extension" in text
    on_disk = tomllib.loads(text)["api_extensions"]
    assert on_disk[1] == {"id": "1234", "incoming_sms_url": "http://127.0.0.1:9/sms", "error_url": "http://127.0.0.1:9/err"}
    assert "error_url" not in d.config_path.with_name("pigate.toml.bak").read_text()   # the version before

    assert d.call("RemoveConfig", Type="ApiExtension", Id="1234").find("Applied") == "live"
    assert d.call("SendSms", ApiExtension="1234", Recipient="+15551230001", Message="gone").code == 401
    assert [e["id"] for e in tomllib.loads(d.config_path.read_text())["api_extensions"]] == ["9999"]


def test_a_file_without_the_section_keeps_the_default_entry(daemon_factory):
    d = daemon_factory("")           # no [[api_extensions]]: the daemon runs with the built-in 9999
    assert d.call("AddConfig", Type="ApiExtension", id="5000").code == 200
    assert [e["id"] for e in tomllib.loads(d.config_path.read_text())["api_extensions"]] == ["9999", "5000"]
    assert d.call("SendSms", ApiExtension="9999", Recipient="+15551230001", Message="still here").code == 200


@pytest.mark.parametrize("params, named", [
    ({"Type": "ApiExtension", "Id": "9999", "lines": "gsm9"}, "'api_extensions[0].lines': no modem named 'gsm9'"),
    ({"Type": "ApiExtension", "Id": "9999", "incoming_cal_url": "x"},
     "unknown key 'api_extensions[0].incoming_cal_url'; did you mean 'incoming_call_url'?"),
    ({"Type": "GsmLine", "Id": "gsm1", "baudrate": "fast"}, "'baudrate' must be an integer"),
    ({"Type": "GsmLine", "Id": "gsm1", "pin": "12"}, "'modems[0].pin' must be 4-8 digits"),
    ({"Type": "GsmLine", "Id": "gsm1", "vendor": "nokia"}, "'modems[0].vendor' must be one of"),
])
def test_a_bad_value_is_702_naming_the_key_and_changes_nothing(daemon_factory, params, named):
    d = daemon_factory(BASE)
    before = d.config_path.read_text()
    got = d.call("ModifyConfig", **params)
    assert got.code == 702 and got.message.startswith(f"Invalid configuration for type '{params['Type']}': ")
    assert named in got.message, got.message
    assert d.config_path.read_text() == before


def test_701_and_703(daemon_factory):
    d = daemon_factory(BASE)
    assert (d.call("GetConfig", Type="Trunk").code, d.call("GetConfig", Type="Trunk").message) == (
        701, "Configuration for type 'Trunk' not found")
    assert d.call("ModifyConfig", Type="Route", Id="1", to="gsm").code == 701        # no rule 1 yet
    assert d.call("AddConfig", Type="Email").code == 703                            # always there: modify it
    assert d.call("ModifyConfig", Type="ApiExtension", Id="4321", error_url="x").code == 701
    assert d.call("RemoveConfig", Type="GsmLine", Id="gsm7").code == 701
    again = d.call("AddConfig", Type="ApiExtension", Id="9999")
    assert (again.code, again.message) == (703, "Extension configuration already exists")
    assert d.call("AddConfig", Type="ApiExtension").code == 702        # no id


def test_modems_need_a_restart_and_secrets_are_masked(daemon_factory):
    d = daemon_factory(BASE)
    line = d.call("GetConfig", Type="GsmLine", Id="gsm1")
    assert settings(line)["pin"] == "********" and settings(line)["number"] == "+15550000001"
    added = d.call("AddConfig", Type="GsmLine", name="gsm2", port="sim", number="+15550000002")
    assert (added.code, added.find("Applied"), added.find("RestartRequired")) == (200, "restart", "true")
    names = lambda: [e.findtext("Id") for e in d.call("ListExtensions", Type="GsmLine").root.iter("ExtensionSummary")]
    assert names() == ["gsm1"]                                           # not before the restart
    d.stop()
    d.config_text = d.config_path.read_text()   # restart on the edited file (the helper rewrites it on start)
    d.start()
    assert names() == ["gsm1", "gsm2"]


def test_writes_from_the_lan_need_authentication():
    from pigate.configedit import ConfigEditor, ConfigFile

    commands = ConfigCommands(editor=ConfigEditor(file=ConfigFile(path="/nonexistent/pigate.toml"),
                                                  apply=lambda *a: False), authenticated=False)
    request = ApiRequest(params=Params.from_pairs("AddConfig", [("Type", "ApiExtension"), ("Id", "1")]),
                         remote_addr="192.168.1.20", user=None)
    with pytest.raises(ForbiddenAddress):
        commands.add_config(request)


def test_sip_trunks_round_trip_with_the_password_masked(daemon_factory):
    d = daemon_factory(BASE)
    account = d.call("AddConfig", Type="SipAccount", name="itsp", registrar="127.0.0.1:5070",
                     **{"Set.username": "box1", "Set.password": "s3cret"})
    assert (account.code, account.find("Applied")) == (200, "restart"), account.raw
    assert settings(account)["username"] == "box1" and settings(account)["password"] == "********"
    assert tomllib.loads(d.config_path.read_text())["sip"]["accounts"][0]["password"] == "s3cret"
    peer = d.call("AddConfig", Type="SipPeer", name="pbx", address="127.0.0.1:5080")
    assert peer.code == 200 and settings(peer)["address"] == "127.0.0.1:5080"
    bad = d.call("ModifyConfig", Type="SipPeer", Id="pbx", address="127.0.0.1:5080;transport=sctp")
    assert bad.code == 702 and "'sip.peers[0].address': transport must be udp or tcp" in bad.message
    assert d.call("RemoveConfig", Type="SipPeer", Id="pbx").code == 200
    assert d.call("GetConfig", Type="SipPeer").root.findall("Configs/Config") == []
