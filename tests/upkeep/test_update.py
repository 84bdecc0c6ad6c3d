"""`pigate update`: a new venv beside the old one, switched atomically, rolled back when it is not READY.

systemd's part (restart the unit, wait for READY=1 on NOTIFY_SOCKET within the watchdog time) is played by
a small supervisor here: it runs `current/bin/pigate run` with a notify socket, as pigate.service does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from pigate.upkeep import update
from tests.support import FIRMWARE, api_call, free_port, pigate_env

CONSOLE_SCRIPT = "#!{python}\nimport sys\nfrom pigate.cli import main\nsys.exit(main())\n"


def make_venv(path: Path, *, with_pigate: bool = True) -> Path:
    """A real venv; with_pigate: it sees this checkout's pigate and its dependencies (through a .pth file)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    py = path / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    if with_pigate:
        (site / "pigate-test.pth").write_text(f"{FIRMWARE}\n{sysconfig.get_paths()['purelib']}\n")
    script = path / "bin" / "pigate"
    script.write_text(CONSOLE_SCRIPT.format(python=py))
    script.chmod(0o755)
    return path


class Supervisor:
    """Runs `<sw_dir>/current/bin/pigate run --config CONFIG` and waits for its READY=1, like systemd."""

    def __init__(self, *, sw_dir: Path, config: Path, workdir: Path) -> None:
        self.sw_dir, self.config, self.workdir = sw_dir, config, workdir
        self.proc: subprocess.Popen | None = None
        self.notify_path = workdir / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.notify_path))
        self.log = open(workdir / "daemon.log", "ab")
        self.waits: list[float] = []  # how long each restart was given

    def restart(self, timeout: float) -> str | None:
        self.waits.append(timeout)
        self.stop()
        env = {**pigate_env(), "NOTIFY_SOCKET": str(self.notify_path)}
        env.pop("PYTHONPATH")  # the venv alone decides what runs
        self.proc = subprocess.Popen([str(self.sw_dir / "current" / "bin" / "pigate"), "run", "--config",
                                      str(self.config)], env=env, cwd=self.workdir, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(0.1)
            try:
                if b"READY=1" in self.sock.recv(4096):
                    return None
            except TimeoutError:
                pass
            if self.proc.poll() is not None:
                return f"exited with status {self.proc.returncode}"
        self.stop()
        return f"not READY within {timeout:.0f} s"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        self.sock.close()
        self.log.close()


@pytest.fixture
def box(tmp_path):
    sw = tmp_path / "sw"
    sw.mkdir()
    factory = make_venv(tmp_path / "factory")
    os.symlink(factory, sw / "current")
    port = free_port()
    config = tmp_path / "pigate.toml"
    config.write_text(f'[http]\nlisten = "127.0.0.1"\nport = {port}\n[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    sup = Supervisor(sw_dir=sw, config=config, workdir=tmp_path)
    assert sup.restart(20) is None
    yield sw, factory, sup, f"http://127.0.0.1:{port}"
    sup.close()


def _serving(base: str) -> bool:
    return api_call(base, "ListExtensions", timeout=5).code == 200


def test_a_good_update_is_switched_to_and_the_old_venv_kept_as_previous(box):
    sw, factory, sup, base = box
    old_pid = sup.proc.pid
    new = make_venv(sw / "venv-2")
    outcome = update.switch(sw_dir=sw, venv=new, restart=sup.restart, timeout=20)
    assert not outcome.rolled_back and outcome.previous == factory
    assert os.readlink(sw / "current") == str(new) and os.readlink(sw / "previous") == str(factory)
    assert sup.proc.pid != old_pid and _serving(base)
    # The running daemon is the new venv's interpreter (its console script's #! line).
    assert Path(f"/proc/{sup.proc.pid}/cmdline").read_bytes().split(b"\0")[0] == str(new / "bin" / "python").encode()


def test_an_update_that_crashes_is_rolled_back(box):
    sw, factory, sup, base = box
    broken = make_venv(sw / "venv-broken", with_pigate=False)  # a dependency missing: ImportError at start
    outcome = update.switch(sw_dir=sw, venv=broken, restart=sup.restart, timeout=20)
    assert outcome.rolled_back and "exited with status 1" in outcome.reason
    assert os.readlink(sw / "current") == str(factory) and not (sw / "previous").exists()
    assert _serving(base)


def test_an_update_that_never_gets_ready_is_rolled_back_after_the_watchdog_time(box):
    sw, factory, sup, base = box
    hangs = make_venv(sw / "venv-hangs")
    (hangs / "bin" / "pigate").write_text("#!/bin/sh\nexec sleep 600\n")  # starts, never says READY
    t0 = time.monotonic()
    outcome = update.switch(sw_dir=sw, venv=hangs, restart=sup.restart, timeout=3)
    assert outcome.rolled_back and "not READY within 3 s" in outcome.reason
    assert time.monotonic() - t0 >= 3
    # The known-good venv is given longer to come back than the new one had: a slow start there is no failure.
    assert sup.waits[-2:] == [3, update.ROLLBACK_MIN_WAIT]
    assert os.readlink(sw / "current") == str(factory) and _serving(base)


def test_rollback_after_a_good_update_and_pruning(box):
    sw, factory, sup, base = box
    v2 = make_venv(sw / "venv-2")
    update.switch(sw_dir=sw, venv=v2, restart=sup.restart, timeout=20)
    v3 = make_venv(sw / "venv-3")
    update.switch(sw_dir=sw, venv=v3, restart=sup.restart, timeout=20)
    assert sorted(p.name for p in sw.glob("venv-*")) == ["venv-2", "venv-3"]  # current and previous only
    outcome = update.rollback(sw_dir=sw, restart=sup.restart, timeout=20)
    assert outcome.switched_to == v2 and os.readlink(sw / "current") == str(v2) and _serving(base)


def test_not_a_venv_is_refused_before_switching(box, tmp_path):
    sw, factory, sup, base = box
    with pytest.raises(Exception, match="has no bin/pigate"):
        update.switch(sw_dir=sw, venv=tmp_path / "nothing", restart=sup.restart, timeout=5)
    assert os.readlink(sw / "current") == str(factory)


def test_systemd_timespans():
    assert update._parse_timespan("30s") == 30 and update._parse_timespan("1min 30s") == 90
    assert update._parse_timespan("30000000") == 30 and update._parse_timespan("infinity") == 0
