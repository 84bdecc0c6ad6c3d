"""The control socket: only root and the daemon's group may open it; `pigate at`/`status` go through it."""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support import Daemon, pigate_env

NOBODY = 65534
CONNECT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES"); sys.exit(3)
s.sendall(b'{"op": "at", "command": "AT+CSQ"}\\n')
print(json.loads(s.makefile().readline()))
"""


@pytest.fixture(scope="module")
def daemon():
    # A socket folder others may traverse (pytest's tmp_path is 0700: a refusal there would prove nothing).
    top = Path(tempfile.mkdtemp(prefix="pigate-ctl-"))
    top.chmod(0o711)
    group = grp.getgrnam("dialout").gr_gid  # the daemon runs in this group here, as pigate does on the box
    d = Daemon(workdir=top / "w", config_text=f'[control]\nsocket = "{top}/run/control.sock"\n')
    (top / "w").mkdir()
    d.write_config()
    env = {**pigate_env()}
    d._log = open(d.log_path, "ab")
    d.proc = subprocess.Popen([sys.executable, "-m", "pigate", "run", "--config", str(d.config_path)],
                              cwd=d.workdir, env=env, stdout=d._log, stderr=subprocess.STDOUT, group=group)
    d.wait_ready()
    (top / "run").chmod(0o750)
    os.chown(top / "run", -1, group)
    d.socket = top / "run" / "control.sock"
    d.group = group
    yield d
    d.stop()
    shutil.rmtree(top, ignore_errors=True)


def _as(uid: int, groups: list[int], sock: Path) -> subprocess.CompletedProcess:
    # /usr/bin/python3: the test venv's interpreter may sit where nobody cannot read it.
    return subprocess.run(["/usr/bin/python3", "-c", CONNECT, str(sock)], user=uid, group=NOBODY, extra_groups=groups,
                          capture_output=True, text=True, timeout=30)


def test_socket_is_0660_in_the_daemons_group(daemon):
    st = daemon.socket.stat()
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == daemon.group


def test_others_are_refused_and_group_members_get_an_answer(daemon):
    outsider = _as(NOBODY, [], daemon.socket)
    assert outsider.returncode == 3 and outsider.stdout.strip() == "EACCES", outsider.stderr
    member = _as(NOBODY, [daemon.group], daemon.socket)
    assert member.returncode == 0, member.stderr
    assert "'result': 'OK'" in member.stdout and "+CSQ: " in member.stdout


def test_the_daemon_checks_the_peer_too(daemon):
    # Past the file system (a socket made 0666 by mistake), a peer outside the group is still refused.
    daemon.socket.chmod(0o666)
    daemon.socket.parent.chmod(0o755)
    try:
        outsider = _as(NOBODY, [], daemon.socket)
    finally:
        daemon.socket.chmod(0o660)
        daemon.socket.parent.chmod(0o750)
    assert "permission denied" in outsider.stdout and "+CSQ" not in outsider.stdout


def test_pigate_at_and_status_over_the_socket(daemon):
    env = {**pigate_env()}
    env.pop("PIGATE_URL", None)
    deadline = time.monotonic() + 10
    while True:
        st = subprocess.run([sys.executable, "-m", "pigate", "status", "--socket", str(daemon.socket)], env=env,
                            capture_output=True, text=True, timeout=30)
        if "registered" in st.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert st.returncode == 0, st.stderr
    lines = st.stdout.splitlines()
    assert lines[0].startswith("daemon   pigate ") and lines[1].startswith("disk     ")
    assert "sms      0 waiting for a line" in st.stdout and "no active calls" in st.stdout
    row = next(ln for ln in lines if ln.startswith("gsm1 "))
    assert "SIM7600" in row and "SimNet" in row and "home" in row and "registered" in row
    at = subprocess.run([sys.executable, "-m", "pigate", "at", "AT+CGMM", "--socket", str(daemon.socket)], env=env,
                        capture_output=True, text=True, timeout=30)
    assert at.returncode == 0 and at.stdout.splitlines()[-1] == "OK", at.stdout + at.stderr


def test_no_daemon_is_a_clear_error(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pigate", "at", "AT", "--socket", str(tmp_path / "none.sock")],
                         env=pigate_env(), capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 and "cannot reach the daemon's control socket" in res.stderr
