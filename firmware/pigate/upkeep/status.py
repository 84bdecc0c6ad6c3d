"""`pigate status`: what the daemon reports over its control socket, and its one-screen rendering (pure)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from pigate import __version__

SIM_STATES = {"sim_missing": "missing", "sim_locked": "locked (PIN)", "down": "-", "initializing": "-"}
REGISTRATION = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}


def collect(*, lines: Callable[[], list[dict[str, Any]]], waiting: Callable[[], int],
            active_calls: Callable[[], Iterable[Any]], sip_trunks: Callable[[], list[dict[str, Any]]],
            data_dir: Path, started: float,
            now: Callable[[], float] = time.time) -> dict[str, Any]:
    """The daemon's side: a JSON-able snapshot of lines, SIP trunks (pigate.sip.trunks: as the dashboard shows
    them), calls, the SMS queue and the disk."""
    disk = shutil.disk_usage(data_dir)
    return {
        "version": __version__, "pid": os.getpid(), "daemon_uptime": now() - started,
        "system_uptime": _system_uptime(),
        "lines": lines(),
        "sip": sip_trunks(),
        "calls": [{"id": c.call_id, "line": c.line, "source": c.source, "destination": c.destination,
                   "state": c.state, "talk": c.talk_duration} for c in active_calls()],
        "sms_waiting": waiting(),
        "disk": {"path": str(data_dir), "total": disk.total, "used": disk.used, "free": disk.free},
    }


def _system_uptime() -> float:
    # The boot clock, not /proc/uptime: pigate.service's ProcSubset=pid hides that file.
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def duration(seconds: float) -> str:
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}d {h}h {m}m" if d else f"{h}h {m}m" if h else f"{m}m {s}s"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def table(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*map(str, r)).rstrip() for r in [header, *rows])


def _sim(line: dict[str, Any]) -> str:
    state = line.get("state", "")
    if state in SIM_STATES:
        return SIM_STATES[state]
    return f"ready {line.get('imsi') or ''}".strip()


def _queue(line: dict[str, Any]) -> str:
    m = line.get("messages") or {}
    return " ".join(f"{k}={m[k]}" for k in ("queued", "sending", "sent", "delivered", "failed") if m.get(k)) or "-"


def render(st: dict[str, Any]) -> str:
    """One screen: daemon, modems, SIP trunks (when any), active calls, the SMS queue, disk, uptime."""
    out = [f"daemon   pigate {st['version']}, pid {st['pid']}, up {duration(st['daemon_uptime'])}"
           f"   (system up {duration(st['system_uptime'])})"]
    d = st["disk"]
    pct = 100 * d["used"] / d["total"] if d["total"] else 0
    out.append(f"disk     {d['path']}: {_size(d['used'])} used of {_size(d['total'])} ({pct:.0f}%),"
               f" {_size(d['free'])} free")
    out.append(f"sms      {st['sms_waiting']} waiting for a line")
    out.append("")
    rows = [[ln.get("name"), f"{ln.get('manufacturer') or ''} {ln.get('model') or ''}".strip() or "-", _sim(ln),
             ln.get("operator") or "-", f"{ln['signal_percent']}%" if ln.get("signal_percent") is not None else "-",
             REGISTRATION.get(ln.get("registration"), "-"), ln.get("state"), _queue(ln)]
            for ln in st["lines"]]
    out.append(table(rows, ["LINE", "MODEM", "SIM", "OPERATOR", "SIGNAL", "NETWORK", "STATE", "SMS"]))
    for ln in st["lines"]:
        if ln.get("last_error"):
            out.append(f"  {ln.get('name')}: {ln['last_error']}")
    if st["sip"]:
        out.append("")
        out.append(table([[t["name"], t["kind"], t["where"], t["state"]] for t in st["sip"]],
                         ["SIP TRUNK", "KIND", "WHERE", "STATE"]))
        for t in st["sip"]:
            if t.get("last_error"):
                out.append(f"  {t['name']}: {t['last_error']}")
    out.append("")
    if st["calls"]:
        out.append(table([[c["id"], c["line"], c["source"], c["destination"], c["state"], f"{c['talk']:.0f}"]
                          for c in st["calls"]], ["CALL", "LINE", "FROM", "TO", "STATE", "TALK (S)"]))
    else:
        out.append("no active calls")
    return "\n".join(out)
