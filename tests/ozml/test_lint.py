"""`pigate ozml check FILE`: every problem as FILE:LINE:COL, exit status 1 when there is any."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pigate.ozml import check_cli
from tests.support import pigate_env

DATA = Path(__file__).parent / "data"

BROKEN = """<Response>
  <Speak Volume="3">hi</Speak>
  <UserInput Timeout="ten">
    <Inputs><Input key="1"><Dance/></Input></Inputs>
  </UserInput>
  <Reject/>
</Response>
"""


def test_every_problem_is_printed_with_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "ivr.xml"
    path.write_text(BROKEN)
    assert check_cli(str(path)) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:2:3: 302 InvalidParameter: Missing or invalid parameter 'Volume' for command 'Speak'",
        f"{path}:3:3: 302 InvalidParameter: Missing or invalid parameter 'Timeout' for command 'UserInput'",
        f"{path}:4:28: 301 NotImplementedCommand: Not implemented command: 'Dance'",
        f"{path}:6:3: 303 InappropriateCommand: Command 'Reject' cannot be used here",
    ]


def test_a_clean_script_is_ok(capsys):
    assert check_cli(str(DATA / "basic_ivr.xml"), context="CallConnected") == 0
    assert capsys.readouterr().out.strip().endswith("basic_ivr.xml: ok")


def test_context_restricts_the_commands(tmp_path, capsys):
    path = tmp_path / "cc.xml"
    path.write_text("<Response><Hold/></Response>")
    assert check_cli(str(path)) == 0
    assert check_cli(str(path), context="IncomingCall") == 1
    assert "303 InappropriateCommand" in capsys.readouterr().out


def test_unreadable_file_and_unknown_context_exit_2(tmp_path, capsys):
    assert check_cli(str(tmp_path / "missing.xml")) == 2
    path = tmp_path / "ok.xml"
    path.write_text("<Response/>")
    assert check_cli(str(path), context="Bogus") == 2
    assert "cannot read" in capsys.readouterr().err


def test_module_entry_point_in_a_real_process(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n<Response>&a;</Response>')
    done = subprocess.run([sys.executable, "-m", "pigate.ozml", str(path), "--context", "IncomingCall"],
                          capture_output=True, text=True, env=pigate_env(), timeout=30)
    assert done.returncode == 1
    assert done.stdout.startswith(f"{path}:2:")
    assert "300 ParseError: Error occured during parsing message: 'DOCTYPE declarations are not allowed'" in done.stdout
