"""A Pi-sized CPU budget: run a process on one core with a CPU quota that approximates a Raspberry Pi 4 core.

How the quota was chosen. A published run of the Benchmarks Game n-body program in Python on a Raspberry Pi 4
Model B (Cortex-A72 at 1.5 GHz, performance governor, 5,000,000 steps) took 158.3 s
(chaitanyamehta.github.io, "Performance Analysis of Languages on Raspberry Pi"; Raspberry Pi OS of 2020, so
Python 3.7). The same kernel (`tests/bench/nbody.py`, `python -m tests.bench.nbody`) needs 27-44 CPU s here
(Xeon, 2 vCPUs under KVM, Python 3.11; the best of three runs on the shared machine: 27.2 s). Python 3.11 runs
such code about 1.25x faster than 3.7-3.10, so a Pi 4 core with this Python would need about 127 s: one Pi core
is 1/4.7 (Python 3.11) to 1/5.8 (as published) of a core here. PI4_PERCENT = 20 sits between: a Pi core is
modelled as 20% of one core of this machine. It models CPU only; a Pi's SD card is slower too.

Confinement, in order of preference: `systemd-run --scope -p CPUQuota= -p AllowedCPUs=`
where systemd is PID 1, else a cgroup of our own (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`), plus
sched_setaffinity to one core. The period is the usual 100 ms (see PERIOD_US).

    PIGATE_BENCH_BUDGET=pi4 make bench          # every daemon the benchmarks start is confined
    python -m tests.bench.budget -- pigate run  # any command, confined (--percent N for another quota)
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

PI4_PERCENT = 20
CORE = 0
# The quota is enforced per period: a process that has used its share is frozen until the period ends, so a
# burst above the budget shows as a stall of up to 80 ms where a slower core would spread it out. Shorter
# periods do not help: the kernel hands out quota in 5 ms slices (sched_cfs_bandwidth_slice_us), and with
# 1 ms per 5 ms the daemon measured stalls of 500 ms. The figures hold while the daemon stays under budget.
PERIOD_US = 100_000
CGROUP = Path("/sys/fs/cgroup")


def percent_from_env() -> int | None:
    """PIGATE_BENCH_BUDGET: unset/empty = unconfined, "pi4" = PI4_PERCENT, or a percent of one core."""
    value = os.environ.get("PIGATE_BENCH_BUDGET", "").strip().lower()
    if not value:
        return None
    return PI4_PERCENT if value == "pi4" else int(value)


class Confined:
    """A command started inside a CPU budget; `release()` once it has exited removes the cgroup."""

    def __init__(self, cmd: list[str], *, percent: int, **popen) -> None:
        self.percent = percent
        self._dir: Path | None = None
        if _systemd_runs():
            self.how = "systemd-run"
            wrapped = ["systemd-run", "--scope", "--quiet", f"--property=CPUQuota={percent}%",
                       f"--property=AllowedCPUs={CORE}",
                       "--", *cmd]
            self.proc = subprocess.Popen(wrapped, **popen)
            return
        self._dir, procs, self.how = _make_cgroup(percent)
        join = str(procs)

        def enter() -> None:  # in the child, before exec: into the cgroup, onto one core
            with open(join, "w") as f:
                f.write(str(os.getpid()))
            os.sched_setaffinity(0, {CORE})

        self.proc = subprocess.Popen(cmd, preexec_fn=enter, **popen)

    def release(self) -> None:
        """Remove the cgroup once the command has exited (call after waiting for it)."""
        if self._dir is not None and self.proc.poll() is not None:
            try:
                self._dir.rmdir()
            except OSError:
                pass  # a child of the command still in it; the directory is harmless and empty soon
            self._dir = None


def _systemd_runs() -> bool:
    try:
        return Path("/proc/1/comm").read_text().strip() == "systemd" and shutil.which("systemd-run") is not None
    except OSError:
        return False


_made = itertools.count()


def _make_cgroup(percent: int) -> tuple[Path, Path, str]:
    name = f"pigate-budget-{os.getpid()}-{next(_made)}"
    quota = PERIOD_US * percent // 100
    controllers = CGROUP / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        d = CGROUP / name
        d.mkdir(exist_ok=True)
        (d / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        return d, d / "cgroup.procs", "cgroup v2 cpu.max"
    v1 = CGROUP / "cpu"
    if (v1 / "cpu.cfs_quota_us").exists():
        d = v1 / name
        d.mkdir(exist_ok=True)
        (d / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (d / "cpu.cfs_quota_us").write_text(str(quota))
        return d, d / "cgroup.procs", "cgroup v1 cpu.cfs_quota_us"
    raise RuntimeError("no writable cgroup cpu controller and no systemd: cannot set a CPU budget here")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="run a command on one core with a CPU quota (a Pi 4 core by default)")
    p.add_argument("--percent", type=int, default=PI4_PERCENT, help="percent of one core (default %(default)s)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command")
    c = Confined(cmd, percent=args.percent)
    print(f"budget: {args.percent}% of core {CORE} via {c.how}", file=sys.stderr)
    try:
        return c.proc.wait()
    except KeyboardInterrupt:
        c.proc.terminate()
        return c.proc.wait()
    finally:
        c.release()


if __name__ == "__main__":
    sys.exit(main())
