"""Kamailio (Debian `kamailio`) as a registrar with digest auth on a loopback address, for the SIP tests."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:{host}:{port}
mpath="{mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (is_method("REGISTER")) {{
        $var(pw) = "";
        if ($au == "{user}") {{ $var(pw) = "{password}"; }}
        if (!pv_www_authenticate("$td", "$var(pw)", "0")) {{ www_challenge("$td", "0"); exit; }}
        if (!save("location")) {{ sl_reply_error(); }}
        exit;
    }}
    if (has_totag() || is_method("CANCEL|ACK")) {{ t_relay(); exit; }}
    if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"""


def module_dir() -> str:
    dirs = glob.glob("/usr/lib/*/kamailio/modules") + glob.glob("/usr/lib/kamailio/modules")
    if not shutil.which("kamailio") or not dirs:
        pytest.fail("kamailio is not installed (scripts/bootstrap installs Debian's kamailio)")
    return dirs[0]


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Kamailio:
    """One Kamailio on `host`:`port` that registers `user` with `password`; restartable on the same port."""

    def __init__(self, *, workdir: Path, user: str, password: str, host: str = "127.0.0.2") -> None:
        self.workdir, self.host, self.user, self.password = workdir, host, user, password
        self.port = free_udp_port(host)
        self.proc: subprocess.Popen | None = None
        self.cfg = workdir / "kamailio.cfg"
        self.cfg.write_text(CONFIG.format(host=host, port=self.port, mpath=module_dir(), user=user,
                                          password=password))
        self.log = workdir / "kamailio.log"

    def start(self) -> None:
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["kamailio", "-f", str(self.cfg), "-DD", "-E", "-m", "32", "-M", "8", "-w", str(self.workdir),
             "-P", str(self.workdir / "kamailio.pid"), "-Y", str(self.workdir)],
            stdout=logf, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kamailio exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            if self._answers():
                return
            time.sleep(0.05)
        raise RuntimeError(f"kamailio did not answer: {self.log.read_text()[-3000:]}")

    def _answers(self) -> bool:
        """An OPTIONS to Kamailio gets a reply (404 from lookup is fine: it is up)."""
        msg = (f"OPTIONS sip:probe@{self.host}:{self.port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-{time.monotonic_ns()}\r\n"
               "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:probe@127.0.0.2>\r\n"
               f"Call-ID: probe-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
               "Content-Length: 0\r\n\r\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.2)
            msg = msg.replace("127.0.0.1:9", f"127.0.0.1:{s.getsockname()[1]}")
            s.sendto(msg.encode(), (self.host, self.port))
            try:
                return s.recv(4096).startswith(b"SIP/2.0")
            except OSError:
                return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # Kamailio's children share its session: end the whole group it started, by its own id.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
