"""The daemon as a user runs it: start-up time, signals, systemd notify, config errors, the CLI."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.support import Daemon, api_call, free_port, pigate_env, process_cpu_seconds


def test_starts_fast_and_answers_list_extensions(daemon_factory):
    d = daemon_factory()
    ans = d.call("ListExtensions")
    ids = [(e.findtext("Id"), e.findtext("Type")) for e in ans.root.findall("Extensions/ExtensionSummary")]
    assert ("9999", "ApiExtension") in ids and ("gsm1", "GsmLine") in ids


def test_start_up_work_until_the_api_answers_is_small(tmp_path):
    """What start-up costs the box, in CPU seconds (about 0.6 here): unlike the wall-clock time, this does not
    depend on what else the machine is doing. The wall-clock figure is printed for the record."""
    d = Daemon(workdir=tmp_path)
    try:
        took = d.start()
        cpu = process_cpu_seconds(d.proc.pid)
        print(f"API answered after {took:.2f} s wall clock, {cpu:.2f} s of CPU")
        assert cpu < 1.5, f"start-up used {cpu:.2f} s of CPU"
    finally:
        d.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_cleanly_within_two_seconds(daemon_factory, sig):
    d = daemon_factory()
    t0 = time.monotonic()
    d.signal(sig)
    assert d.proc.wait(5) == 0
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(OSError):
        api_call(d.base, "ListExtensions", timeout=0.5)


def test_systemd_ready_watchdog_and_stopping(tmp_path, daemon_factory):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    try:
        d = daemon_factory(extra_env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
        got = [sock.recv(4096).decode() for _ in range(3)]
        assert got[0].startswith("READY=1")
        assert "WATCHDOG=1" in got[1:]
        d.signal(signal.SIGTERM)
        d.proc.wait(5)
        rest = []
        sock.settimeout(0.5)
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
        assert "STOPPING=1" in rest
    finally:
        sock.close()


def test_bad_config_exits_with_a_message_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[http]\nprot = 9509\n")
    res = subprocess.run([sys.executable, "-m", "pigate", "run", "--config", str(cfg)], env=pigate_env(),
                         capture_output=True, text=True, timeout=20)
    assert res.returncode == 1
    assert "unknown key 'http.prot'; did you mean 'port'?" in res.stderr


@pytest.mark.parametrize("command", [("run", "--config"), ("config", "check")])
def test_a_toml_error_names_the_file_once(tmp_path, command):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[http\nport = 1\n")
    res = subprocess.run([sys.executable, "-m", "pigate", *command, str(cfg)], env=pigate_env(),
                         capture_output=True, text=True, timeout=20)
    assert res.returncode == 1
    assert res.stderr.startswith(f"pigate: {cfg}: not valid TOML: ") and res.stderr.count(str(cfg)) == 1
    assert len(res.stderr.splitlines()) == 1


def test_config_check_command(tmp_path):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text("[http]\nport = 9600\n")
    bad.write_text("[[modems]]\npacing = 'fast'\n")
    run = lambda f: subprocess.run([sys.executable, "-m", "pigate", "config", "check", str(f)],
                                   env=pigate_env(), capture_output=True, text=True, timeout=20)
    ok, ko = run(good), run(bad)
    assert ok.returncode == 0 and "ok" in ok.stdout
    assert ko.returncode == 1 and "'modems[0].pacing' must be a number" in ko.stderr


def test_passwd_output_is_a_working_config(tmp_path, daemon_factory):
    res = subprocess.run([sys.executable, "-m", "pigate", "passwd", "alice"], input="wonder land\n",
                         env=pigate_env(), capture_output=True, text=True, timeout=20)
    assert res.returncode == 0 and "wonder" not in res.stdout
    port = free_port()
    d = daemon_factory(f"[http]\nlisten = \"127.0.0.1\"\nport = {port}\n{res.stdout}", port=port)
    assert api_call(d.base, "ListExtensions").code == 304
    assert api_call(d.base, "ListExtensions", Username="alice", Password="wonder lan").code == 305
    assert api_call(d.base, "ListExtensions", Username="alice", Password="wonder land").code == 200


def test_defaults_without_config_use_a_data_folder_in_the_working_directory(tmp_path):
    port = 9509
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip("port 9509 is in use on this machine")
    proc = subprocess.Popen([sys.executable, "-m", "pigate", "run"], cwd=tmp_path, env=pigate_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert api_call(f"http://127.0.0.1:{port}", "ListExtensionTypes", timeout=1).code == 200
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert (tmp_path / "data" / "pigate.db").exists()
    finally:
        proc.terminate()
        proc.wait(5)


def test_simulated_line_comes_up_and_is_reported_connected(daemon_factory):
    d = daemon_factory()
    deadline = time.monotonic() + 10
    while True:
        ans = d.call("ListExtensions", Type="GsmLine")
        state = ans.find("Extensions/ExtensionSummary/State")
        if state == "Connected":
            break
        assert time.monotonic() < deadline, f"line still {state}:\n{d.log()}"
        time.sleep(0.05)
    assert ans.find("Extensions/ExtensionSummary/PhoneNumber") == "+15550000001"


def test_a_port_in_use_stops_the_start_with_one_line_before_anything_else(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        d = Daemon(workdir=tmp_path, port=port)
        d.write_config()
        proc = subprocess.run([sys.executable, "-m", "pigate", "run", "--config", str(d.config_path)],
                              cwd=tmp_path, env=pigate_env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr == f"pigate: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not (tmp_path / "data" / "pigate.db").exists()  # nothing was migrated, no modem brought up
