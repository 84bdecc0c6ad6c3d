"""The `pigate` command as an operator or app writer types it."""

from __future__ import annotations

import subprocess
import sys

from tests.support import pigate_env


def pigate(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pigate", *args], env=pigate_env(), input=input,
                          capture_output=True, text=True, timeout=30)


def test_ozml_check_lists_every_problem_with_line_and_column(tmp_path):
    script = tmp_path / "menu.xml"
    script.write_text('<Response>\n  <Speak>hi</Speak>\n  <Play Repeat="maybe">x.wav</Play>\n  <Dance/>\n'
                      '  <Delay>soon</Delay>\n</Response>\n')
    res = pigate("ozml", "check", str(script))
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0] == f"{script}:3:3: 302 InvalidParameter: Missing or invalid parameter 'Repeat' for command 'Play'"
    assert lines[1] == f"{script}:4:3: 301 NotImplementedCommand: Not implemented command: 'Dance'"
    assert len(lines) == 3 and lines[2].startswith(f"{script}:5:3: 302")


def test_ozml_check_context_restricts_commands(tmp_path):
    script = tmp_path / "route.xml"
    script.write_text("<Response><Route>101</Route></Response>")
    assert pigate("ozml", "check", str(script), "--context", "RoutingInterception").returncode == 0
    res = pigate("ozml", "check", str(script), "--context", "IncomingCall")
    assert res.returncode == 1 and "303 InappropriateCommand" in res.stdout


def test_ozml_check_ok(tmp_path):
    script = tmp_path / "ok.xml"
    script.write_text("<Response><Speak>Hello</Speak><Hangup/></Response>")
    res = pigate("ozml", "check", str(script))
    assert res.returncode == 0 and res.stdout.strip() == f"{script}: ok"
