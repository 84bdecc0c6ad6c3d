"""`pigate update`: a new venv beside the old one, switched atomically, rolled back when it is not READY.

systemd's part (restart the unit, wait for READY=1 on NOTIFY_SOCKET within the watchdog time) is played by
a small supervisor here: it runs `current/bin/pigate run` with a notify socket, as pigate.service does.
The pip path is real: this checkout built as a wheel and an sdist, installed by pip into new venvs with
their dependencies from the machine's configured package index."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from pigate.upkeep import update
from tests.support import FIRMWARE, ROOT, api_call, free_port, pigate_env

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


# -- the pip path: real wheels and sdists of this checkout, real pip, real venvs ------------------------------

TEST_VERSION = "0.1.0+update.test"  # a local version: no package index but the test's own can have it


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """This checkout as a wheel and as an sdist, versioned TEST_VERSION (built from a copy: the checkout stays
    as it is), in a folder that serves as a package index (pip's --find-links)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(FIRMWARE, src / "firmware", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    cfg, init = src / "setup.cfg", src / "firmware" / "pigate" / "__init__.py"
    cfg.write_text(re.sub(r"(?m)^version = .*$", f"version = {TEST_VERSION}", cfg.read_text()))
    init.write_text(re.sub(r"(?m)^__version__ = .*$", f'__version__ = "{TEST_VERSION}"', init.read_text()))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)], check=True)
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; b.build_sdist(sys.argv[1])",
                    str(out)], cwd=src, check=True, capture_output=True)
    wheel, = out.glob("pigate-*.whl")
    sdist, = out.glob("pigate-*.tar.gz")
    return wheel, sdist


def _pjsua2_dir() -> Path:
    """Where this machine's pjsua2 build is (scripts/build-pjsua2 links it into .venv), as the image's is in
    /opt/pigate/pjsua2."""
    spec = importlib.util.find_spec("pjsua2")
    assert spec is not None and spec.origin, "no pjsua2 here: scripts/bootstrap builds it"
    return Path(spec.origin).parent


def _in_venv(venv: Path, code: str) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout.strip()


@pytest.mark.slow  # pip installs pigate and its dependencies into a new venv (~30 s)
def test_update_from_a_wheel_installs_with_pip_switches_and_rolls_back(box, dists):
    sw, factory, sup, base = box
    wheel, _ = dists
    new = update.build_venv(sw_dir=sw, sources=[str(wheel)], module_dirs=[_pjsua2_dir()])
    # The new venv has its own pigate (the wheel's, not this checkout's), its dependencies, and SIP.
    where, version, sip = _in_venv(new, "import pigate, bottle, pjsua2; print(pigate.__file__); "
                                        "print(pigate.__version__); print(pjsua2.Endpoint().libVersion().full)"
                                   ).splitlines()
    assert Path(where).is_relative_to(new) and version == TEST_VERSION and sip.startswith("2.17")
    outcome = update.switch(sw_dir=sw, venv=new, restart=sup.restart, timeout=30)
    assert not outcome.rolled_back and _serving(base)
    interpreter = Path(os.fsdecode(Path(f"/proc/{sup.proc.pid}/cmdline").read_bytes().split(b"\0")[0]))
    assert interpreter.parent == new / "bin"  # the daemon runs on the new venv's python (its script's #! line)
    outcome = update.rollback(sw_dir=sw, restart=sup.restart, timeout=30)
    assert outcome.switched_to == factory and os.readlink(sw / "current") == str(factory) and _serving(base)


@pytest.mark.slow  # pip builds the sdist and installs it with its dependencies (~30 s)
def test_update_by_requirement_from_an_index_builds_the_sdist(box, dists):
    sw, factory, sup, base = box
    _, sdist = dists
    new = update.build_venv(sw_dir=sw, sources=[f"pigate=={TEST_VERSION}"],
                            pip_args=["--find-links", str(sdist.parent), "--no-binary", "pigate"])
    out = subprocess.run([str(new / "bin" / "pigate"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"pigate {TEST_VERSION}"
    outcome = update.switch(sw_dir=sw, venv=new, restart=sup.restart, timeout=30)
    assert not outcome.rolled_back and os.readlink(sw / "current") == str(new) and _serving(base)


def test_an_update_pip_cannot_install_switches_nothing(box, dists, tmp_path):
    sw, factory, sup, base = box
    old_pid = sup.proc.pid
    with pytest.raises(Exception, match="building the new venv failed"):
        update.build_venv(sw_dir=sw, sources=["pigate==99.0+missing"], pip_args=["--find-links", str(tmp_path)])
    assert list(sw.glob("venv-*")) == [] and os.readlink(sw / "current") == str(factory)
    assert sup.proc.pid == old_pid and _serving(base)


def test_an_update_without_its_dependencies_is_refused_before_the_switch(box, dists):
    sw, factory, sup, base = box
    wheel, _ = dists
    with pytest.raises(Exception, match="building the new venv failed"):
        update.build_venv(sw_dir=sw, sources=[str(wheel)], pip_args=["--no-deps"], module_dirs=[_pjsua2_dir()])
    assert list(sw.glob("venv-*")) == [] and os.readlink(sw / "current") == str(factory) and _serving(base)
