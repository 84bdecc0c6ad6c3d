"""Pure parts of the SIP driver on literal inputs: URIs, the admission table, the refusal log, the [sip] config."""

from __future__ import annotations

import logging

import pytest

from pigate import config
from pigate.errors import ConfigError
from pigate.sip.peers import Admission, Peer, RefusalLog, source_ip
from pigate.sip.uris import caller_number, dial_uri, display_name, header, request_uri, user_of

INVITE = ("INVITE sip:+4930123@gw.example:5060;user=phone SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 192.0.2.1\r\nf: \"Bob \\\"B\\\"\" <sip:+1555@pbx.example>;tag=9\r\n"
          "To: <sip:+4930123@gw.example>\r\n\r\nv=0\r\n")


def test_uri_helpers():
    assert request_uri(INVITE) == "sip:+4930123@gw.example:5060;user=phone"
    assert user_of(request_uri(INVITE)) == "+4930123"
    assert header(INVITE, "From", "f") == "\"Bob \\\"B\\\"\" <sip:+1555@pbx.example>;tag=9"
    assert user_of(header(INVITE, "From", "f")) == "+1555"
    assert display_name(header(INVITE, "From", "f")) == 'Bob "B"'
    assert user_of("tel:+4912;phone-context=x") == "+4912"
    assert user_of("<sip:pbx.example>") == "" and request_uri("SIP/2.0 200 OK\r\n") == ""
    assert dial_uri("+4912", "10.0.0.1:5070;transport=tcp") == "sip:+4912@10.0.0.1:5070;transport=tcp"
    assert dial_uri("sip:x@y", "ignored") == "sip:x@y"
    with pytest.raises(ValueError):
        dial_uri("1 2", "h")


def test_caller_number_prefers_the_asserted_identity_and_is_empty_when_withheld():
    assert caller_number('"Bob" <sip:+1555@pbx>;tag=1') == "+1555"
    assert caller_number('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1') == ""
    assert caller_number("<sip:anonymous@pbx.example>") == ""
    assert caller_number("<sip:anonymous@anonymous.invalid>", "<sip:+4930123@carrier;user=phone>") == "+4930123"
    assert caller_number("<sip:+1555@pbx>", "<tel:+4930999>") == "+4930999"
    assert caller_number("<sip:pbx.example>") == ""


def test_source_ip_normalises_pjsip_addresses():
    assert source_ip("127.0.0.5:5061") == "127.0.0.5"
    assert source_ip("[::1]:5060") == "::1"
    assert source_ip("[0:0::1]:5060") == "::1"
    assert source_ip("garbage") == ""


def test_admission_maps_addresses_to_trunks_and_strangers_to_nothing():
    names = {"pbx.example": {"192.0.2.10", "192.0.2.11"}, "gone.example": set()}
    adm = Admission(peers=[Peer("pbx", "pbx.example"), Peer("asterisk", "127.0.0.1"), Peer("dead", "gone.example")],
                    registrars=[("provider", "127.0.0.1")],
                    resolver=lambda h: names.get(h, {h}))
    assert adm.trunks_for("127.0.0.1:5060") == []   # nothing resolved yet: nobody is let in
    adm.refresh()
    assert adm.trunks_for("192.0.2.11:5060") == ["pbx"]
    assert adm.trunks_for("127.0.0.1:40000") == ["asterisk", "provider"]
    assert adm.trunks_for("127.0.0.5:5060") == []   # another loopback address is still a stranger
    assert adm.trunks_for("192.0.2.12:5060") == []
    names["pbx.example"] = {"192.0.2.12"}
    adm.refresh()
    assert adm.trunks_for("192.0.2.12:5060") == ["pbx"] and adm.trunks_for("192.0.2.11:5060") == []


def test_refusal_log_is_one_line_per_source_per_interval_with_a_count(caplog):
    now = [0.0]
    rl = RefusalLog(interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            rl.refused("203.0.113.5:5060", 403, "stranger")
        rl.refused("203.0.113.6:5060", 403, "stranger")
        now[0] = 61
        rl.refused("203.0.113.5:5099", 403, "stranger", "From <sip:1@x>")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and rl.total == 102
    assert "and 99 more" in lines[2] and "From <sip:1@x>" in lines[2]


SIP = """
[sip]
enabled = true
listen = "0.0.0.0"
port = 5070
max_calls = 16
[[sip.accounts]]
name = "provider"
registrar = "sip:sip.example.net;transport=tcp"
username = "4930123"
password = "pw"
[[sip.peers]]
name = "asterisk"
address = "192.168.1.10:5062"
"""


def test_sip_config_parses_accounts_and_peers():
    sip = config.parse(SIP).sip
    assert (sip.enabled, sip.listen, sip.port, sip.max_calls) == (True, "0.0.0.0", 5070, 16)
    acc, peer = sip.accounts[0], sip.peers[0]
    assert (acc.host, acc.port, acc.transport, acc.username) == ("sip.example.net", 5060, "tcp", "4930123")
    assert (peer.host, peer.port, peer.transport) == ("192.168.1.10", 5062, "udp")


@pytest.mark.parametrize("change, message", [
    (("max_calls = 16", "max_call = 16"), "unknown key 'sip.max_call'; did you mean 'max_calls'?"),
    (("address =", "adress ="), "unknown key 'sip.peers[0].adress'; did you mean 'address'?"),
    (("registrar =", "registar ="), "did you mean 'registrar'?"),
    (("max_calls = 16", "max_calls = 65"), "'sip.max_calls' must be 1-64"),
    (("192.168.1.10:5062", "192.168.1.10:99999"), "'sip.peers[0].address' must be a host or host:port"),
    (("name = \"asterisk\"", "name = \"provider\""), "duplicate trunk name 'provider'"),
    (("username = \"4930123\"", "username = \"a@b\""), "'sip.accounts[0].username' must be a SIP user name"),
    (("listen = \"0.0.0.0\"", "listen = \"any\""), "'sip.listen' must be an IP address"),
    (("transport=tcp", "transport=sctp"), "transport must be udp or tcp"),
])
def test_sip_config_mistakes_name_the_key(change, message):
    with pytest.raises(ConfigError) as exc:
        config.parse(SIP.replace(*change))
    assert message in str(exc.value)


def test_a_trunk_cannot_share_a_modem_lines_name():
    with pytest.raises(ConfigError, match="trunk 'gsm1' has the name of a modem line"):
        config.parse(SIP.replace('name = "asterisk"', 'name = "gsm1"'))


def test_the_example_config_parses():
    from tests.support import ROOT
    cfg = config.load(ROOT / "systemd" / "pigate.toml.example")
    assert cfg.sip.enabled is False and cfg.sip.max_calls == 32
