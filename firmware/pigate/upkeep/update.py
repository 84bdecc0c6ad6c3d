"""`pigate update`: a new venv beside the running one, the `current` link switched atomically, and back again
when the daemon does not become READY within the watchdog time.

Layout (on the image under /var/lib/pigate-sw, the data partition): `current` -> the venv pigate.service
runs; `previous` -> the one before it; venvs as `venv-<version>-<time>`. The factory venv of the read-only
root (/opt/pigate/venv) is where `current` points until the first update.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from pigate.errors import UpkeepError

log = logging.getLogger(__name__)

SW_DIR = Path("/var/lib/pigate-sw")
# Wheels the image built that PyPI has none of for the Pi (RPi.GPIO, pjsua2): installed into every new venv.
IMAGE_WHEELS = Path("/opt/pigate/wheels")
UNIT = "pigate.service"
ROLLBACK_PATIENCE = 4  # the rollback restart waits this many times the probe's time, and at least
ROLLBACK_MIN_WAIT = 60.0  # seconds

# restart(timeout) -> None when the daemon came up READY, else why not.
Restart = Callable[[float], "str | None"]


def point(link: Path, target: Path) -> None:
    """Make `link` point at `target` in one rename (a reader sees the old target or the new, never none)."""
    tmp = link.with_name(f".{link.name}.new")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    dfd = os.open(link.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def build_venv(*, sw_dir: Path, sources: Sequence[str], python: str = "/usr/bin/python3",
               pip_args: Sequence[str] = (), run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> Path:
    """A new venv in sw_dir with `sources` (a wheel, an sdist, a folder or a requirement) pip-installed."""
    venv = sw_dir / f"venv-{time.strftime('%Y%m%d-%H%M%S')}"
    sw_dir.mkdir(parents=True, exist_ok=True)
    try:
        run([python, "-m", "venv", str(venv)], check=True)
        run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "--no-cache-dir", *pip_args,
             *sources], check=True)
        run([str(venv / "bin" / "pigate"), "--version"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        raise UpkeepError(f"building the new venv failed ({exc}); nothing was switched") from exc
    return venv


@dataclass
class Outcome:
    switched_to: Path
    previous: Path | None
    rolled_back: bool
    reason: str = ""


def switch(*, sw_dir: Path, venv: Path, restart: Restart, timeout: float) -> Outcome:
    """Point `current` at `venv`, restart, and roll back to the previous venv if it is not READY in time."""
    current, previous = sw_dir / "current", sw_dir / "previous"
    if not (venv / "bin" / "pigate").exists():
        raise UpkeepError(f"{venv} has no bin/pigate: not a pigate venv")
    old = Path(os.readlink(current)) if current.is_symlink() else None
    if old is not None and old.resolve() == venv.resolve():
        raise UpkeepError(f"{venv} is already the current venv")
    point(current, venv)
    log.info("current -> %s; restarting", venv)
    why = restart(timeout)
    if why is None:
        if old is not None:
            point(previous, old)
        _prune(sw_dir, keep={venv.resolve(), *([old.resolve()] if old else [])})
        return Outcome(venv, old, False)
    if old is None:
        raise UpkeepError(f"the new venv did not become READY ({why}) and there is none to go back to")
    log.error("the new venv did not become READY (%s): back to %s", why, old)
    point(current, old)
    # The venv that ran before is known to start: give it longer than the probe of the new one, since failing
    # here leaves the box without a daemon (a loaded box can take more than the probe's time to start).
    again = restart(max(timeout * ROLLBACK_PATIENCE, ROLLBACK_MIN_WAIT))
    if again is not None:
        raise UpkeepError(f"rolled back to {old}, but it did not become READY either: {again}")
    return Outcome(old, venv, True, why)


def rollback(*, sw_dir: Path, restart: Restart, timeout: float) -> Outcome:
    """Switch to `previous` (the venv before the last update)."""
    previous = sw_dir / "previous"
    if not previous.is_symlink():
        raise UpkeepError(f"no previous venv in {sw_dir}")
    return switch(sw_dir=sw_dir, venv=Path(os.readlink(previous)), restart=restart, timeout=timeout)


def _prune(sw_dir: Path, *, keep: set[Path]) -> None:
    """Venvs other than the current and the previous one are removed (the factory venv is never here)."""
    for venv in sw_dir.glob("venv-*"):
        if venv.resolve() not in keep:
            shutil.rmtree(venv, ignore_errors=True)


def systemd_restart(unit: str = UNIT) -> Restart:
    """`systemctl restart` waits for READY=1 of a Type=notify unit; bounded by the watchdog time."""
    def restart(timeout: float) -> str | None:
        try:
            res = subprocess.run(["systemctl", "restart", unit], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            subprocess.run(["systemctl", "kill", unit], check=False)
            return f"not READY within {timeout:.0f} s"
        if res.returncode != 0:
            return (res.stderr.strip() or f"systemctl restart exited {res.returncode}").splitlines()[0]
        return None
    return restart


def watchdog_seconds(unit: str = UNIT, default: float = 30.0) -> float:
    """The unit's WatchdogSec (the time a new venv gets to become READY)."""
    try:
        out = subprocess.run(["systemctl", "show", "-P", "WatchdogUSec", unit], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return default
    return _parse_timespan(out) or default


def _parse_timespan(text: str) -> float:
    """systemd's '30s', '1min 30s', '500ms' (or plain microseconds)."""
    if text.isdigit():
        return int(text) / 1e6
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600}
    total = 0.0
    for part in text.split():
        num = "".join(ch for ch in part if ch.isdigit() or ch == ".")
        unit = part[len(num):]
        if not num or unit not in units:
            return 0.0
        total += float(num) * units[unit]
    return total
