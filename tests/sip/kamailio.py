"""Kamailio (Debian `kamailio`) configured by the SIP tests on a loopback address: a registrar with digest auth,
or a dispatcher (load balancer) in front of several gateways that probes them with OPTIONS."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

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

    def __init__(self, *, workdir: Path, user: str = "", password: str = "", host: str = "127.0.0.2",
                 config: Callable[[str, int], str] | None = None) -> None:
        """`config(host, port)`: a whole kamailio.cfg (default: the registrar's)."""
        self.workdir, self.host, self.user, self.password = workdir, host, user, password
        self.port = free_udp_port(host)
        self.proc: subprocess.Popen | None = None
        self.cfg = workdir / "kamailio.cfg"
        self.cfg.write_text(config(host, self.port) if config else
                            CONFIG.format(host=host, port=self.port, mpath=module_dir(), user=user, password=password))
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


# A load balancer in front of several boxes (docs/sip.md shows the same script with an operator's timings). The
# probing and failover timers are short so that a test sees a stopped box marked down within a few seconds.
DISPATCHER = """#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:{host}:{port}
mpath="{mpath}"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "dispatcher.so"
modparam("tm", "fr_timer", {fr_timer})
modparam("dispatcher", "list_file", "{list_file}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@{host}")
modparam("dispatcher", "ds_ping_interval", {ping_interval})
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK") && t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("OPTIONS") && uri == myself) {{ sl_send_reply("200", "OK"); exit; }}
    if (!is_method("INVITE")) {{ sl_send_reply("405", "Method Not Allowed"); exit; }}
    record_route();
    if (!ds_select_dst("1", "4")) {{ sl_send_reply("503", "No Gateway Available"); exit; }}
    xlog("L_NOTICE", "call $ci to $du\\n");
    t_on_failure("NEXT_BOX");
    t_relay();
}}

failure_route[NEXT_BOX] {{
    if (t_is_canceled()) {{ exit; }}
    if (t_check_status("503") || (t_branch_timeout() && !t_branch_replied())) {{
        ds_mark_dst("ip");
        if (ds_next_dst()) {{
            xlog("L_NOTICE", "call $ci got $T_reply_code, failed over to $du\\n");
            t_on_failure("NEXT_BOX");
            t_relay();
        }}
    }}
}}

event_route[dispatcher:dst-down] {{ xlog("L_NOTICE", "box down: $ru $du\\n"); }}
event_route[dispatcher:dst-up] {{ xlog("L_NOTICE", "box up: $ru $du\\n"); }}
"""


def dispatcher(*, workdir: Path, boxes: list[str], ping_interval: int = 1, fr_timer_ms: int = 2000,
               host: str = "127.0.0.2") -> Kamailio:
    """A Kamailio dispatching INVITEs round-robin over `boxes` (SIP URIs), probing each with OPTIONS every
    `ping_interval` s and failing a call over to the next box when one does not answer within `fr_timer_ms`."""
    list_file = workdir / "dispatcher.list"
    list_file.write_text("".join(f"1 {uri}\n" for uri in boxes))
    return Kamailio(workdir=workdir, host=host, config=lambda host, port: DISPATCHER.format(
        host=host, port=port, mpath=module_dir(), fr_timer=fr_timer_ms, list_file=list_file,
        ping_interval=ping_interval))
