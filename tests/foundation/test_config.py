"""Config validation: every mistake names its key and what is allowed."""

from __future__ import annotations

import pytest

from pigate import config
from pigate.errors import ConfigError


def test_defaults_need_no_hardware():
    cfg = config.parse("")
    assert cfg.http.listen == "127.0.0.1" and cfg.http.port == 9509
    assert [m.port for m in cfg.modems] == [config.SIMULATED]
    assert [e.id for e in cfg.api_extensions] == ["9999"]


@pytest.mark.parametrize("text,expected", [
    ("[http]\nthreadz = 4", "unknown key 'http.threadz'; did you mean 'threads'?"),
    ("[htp]\nport = 1", "unknown key 'htp'; did you mean 'http'?"),
    ("[[modems]]\nname='a'\nbaudrat=9600", "unknown key 'modems[0].baudrat'; did you mean 'baudrate'?"),
    ("[http]\nport = 'x'", "'http.port' must be an integer, got a string"),
    ("[http]\nport = 70000", "'http.port' must be 0-65535, got 70000"),
    ("[http]\nallow = ['10.0.0.0/33']", "'http.allow[0]' is not an address or CIDR network"),
    ("[[modems]]\nvendor = 'nokia'", "'modems[0].vendor' must be one of 'auto', 'generic', 'sim800'"),
    ("[[modems]]\npin = '12'", "'modems[0].pin' must be 4-8 digits"),
    ("[[modems]]\nname='a'\n[[modems]]\nname='a'", "'modems': duplicate name 'a'"),
    ("[[api_extensions]]\nid='1'\nlines=['gsm9']", "'api_extensions[0].lines': no modem named 'gsm9'"),
    ("[notifications]\nread_timeout = -1", "'notifications': timeouts must be > 0"),
    ("[http\nport=1", "not valid TOML"),
    ("[[http.users]]\nname='a'\npassword_hash='plain'", "'http.users[0].password_hash' must be a hash"),
])
def test_errors_name_the_key(text, expected):
    with pytest.raises(ConfigError) as info:
        config.parse(text)
    assert expected in str(info.value)


def test_full_example_config_parses(tmp_path):
    from tests.support import ROOT

    cfg = config.load(ROOT / "systemd" / "pigate.toml.example")
    assert cfg.http.port == 9509
