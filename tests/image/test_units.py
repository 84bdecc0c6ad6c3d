"""The unit files: `systemd-analyze verify` clean on every one, and pigate.service's hardening score.

Verified in a scratch root laid out as on the image (the units, the helper scripts, a venv where the
ExecStart paths point, the host's own systemd units for the targets), so every path a unit names is checked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service"))
pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    r = tmp_path_factory.mktemp("root")
    shutil.copytree("/usr/lib/systemd/system", r / "usr/lib/systemd/system", symlinks=True)
    shutil.copytree(ROOT / "image" / "files" / "usr" / "lib" / "pigate", r / "usr/lib/pigate")
    system = r / "etc/systemd/system"
    system.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, system)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(r / "opt/pigate/venv")], check=True)
    (r / "opt/pigate/venv/bin/pigate").write_text("#!/bin/sh\n")
    (r / "opt/pigate/venv/bin/pigate").chmod(0o755)
    (r / "var/lib/pigate-sw").mkdir(parents=True)
    (r / "var/lib/pigate-sw/current").symlink_to("/opt/pigate/venv")
    return r


def test_there_are_units_to_verify():
    assert {u.name for u in UNITS} >= {"pigate.service", "pigate-firstboot.service", "pigate-growdata.service",
                                      "pigate-modem-added.service"}


@pytest.mark.parametrize("unit", [u.name for u in UNITS])
def test_systemd_analyze_verify_is_clean(root, unit):
    res = subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and res.stdout + res.stderr == "", res.stdout + res.stderr


def test_verify_would_catch_a_mistake(root):
    bad = root / "etc/systemd/system/pigate-typo.service"
    bad.write_text((ROOT / "systemd" / "pigate.service").read_text().replace("ProtectClock=", "ProtectClok="))
    try:
        res = subprocess.run(["systemd-analyze", "verify", f"--root={root}", bad.name], capture_output=True,
                             text=True, timeout=60)
    finally:
        bad.unlink()
    assert "Unknown key 'ProtectClok'" in res.stderr


def test_pigate_service_is_hardened(root):
    res = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", "pigate.service"],
                         capture_output=True, text=True, timeout=60)
    score = float(re.search(r"Overall exposure level for pigate.service: ([0-9.]+)", res.stdout).group(1))
    print(f"systemd-analyze security pigate.service: {score}")
    assert score <= 2.0, res.stdout  # systemd rates 0-10, lower is safer; an unhardened service is 9.6
    unit = (ROOT / "systemd" / "pigate.service").read_text()
    for line in ("CapabilityBoundingSet=\n", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
                 "ProtectKernelLogs=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                 "ReadWritePaths=/var/lib/pigate\n", "ProtectSystem=strict", "User=pigate"):
        assert line in unit


def test_pigate_service_lets_the_pcm_pump_have_its_real_time_priority():
    """The pump asks for SCHED_RR at pigate.priority.REALTIME_PRIORITY as user pigate with no capabilities: the
    unit must allow that priority by RLIMIT_RTPRIO and must not forbid real time outright. (That the pump gets
    it is checked on the booted image: tests/image/test_boot.py.)"""
    from pigate.priority import REALTIME_PRIORITY

    settings = dict(line.split("=", 1) for line in (ROOT / "systemd" / "pigate.service").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert int(settings["LimitRTPRIO"]) >= REALTIME_PRIORITY
    assert settings.get("RestrictRealtime", "no") == "no"
    assert settings["LimitRTTIME"]  # a real-time thread that never sleeps is stopped, not left to starve the box
