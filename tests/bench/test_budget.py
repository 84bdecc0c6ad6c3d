"""The Pi budget does what it says: a busy process under it gets one core and about its quota of that core."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.bench.budget import Confined, _systemd_runs, CGROUP

BUSY = ("import os, time\n"
        "t0 = time.monotonic()\n"
        "while time.monotonic() - t0 < 1.5: pass\n"
        "print(len(os.sched_getaffinity(0)), time.process_time())\n")


@pytest.mark.skipif(not (_systemd_runs() or (CGROUP / "cpu" / "cpu.cfs_quota_us").exists()
                         or (CGROUP / "cgroup.controllers").exists()), reason="no cgroup cpu controller")
def test_a_busy_process_gets_one_core_and_its_quota():
    c = Confined([sys.executable, "-c", BUSY], percent=20, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = c.proc.communicate(timeout=30)
    finally:
        c.release()
    cores, cpu = out.split()
    print(f"\nunder a 20% budget: {cores} core(s), {float(cpu):.2f} CPU s in 1.5 s")
    assert int(cores) == 1
    assert 0.15 <= float(cpu) <= 0.45, "20% of 1.5 s is 0.3 CPU s"
