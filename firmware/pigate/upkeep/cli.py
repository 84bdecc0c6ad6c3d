"""The upkeep commands of `pigate`: at and status over the control socket, logs, backup, restore, update,
firstboot."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from pigate import config as config_mod
from pigate.errors import UpkeepError
from pigate.upkeep import control


def socket_path(args: argparse.Namespace) -> Path:
    """--socket, else $PIGATE_CONTROL, else the `[control] socket` of the config (--config or the system's)."""
    given = getattr(args, "socket", None) or os.environ.get("PIGATE_CONTROL")
    if given:
        return Path(given)
    path = config_mod.load(getattr(args, "config", None)).control_socket
    if path is None:
        raise UpkeepError("the config has no control socket ([control] socket = \"\")")
    return path


def _local(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--socket", help="the daemon's control socket (default: from the config, or $PIGATE_CONTROL)")
    p.add_argument("--config", help="the daemon's config (default /etc/pigate/pigate.toml when present)")
    return p


def cmd_at(args: argparse.Namespace) -> int:
    answer = control.request(socket_path(args), "at", line=args.line, command=args.at_command,
                             timeout=args.timeout)
    for line in answer["response"]:
        print(line)
    print(answer["result"])
    return 0 if answer["result"] == "OK" else 1


def status_local(args: argparse.Namespace) -> int:
    from pigate.upkeep.status import render

    print(render(control.request(socket_path(args), "status", timeout=args.timeout)))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    cmd = ["journalctl", "--unit", args.unit, "--output", "short-iso", "--lines", str(args.lines)]
    if not args.no_follow:
        cmd.append("--follow")
    if shutil.which("journalctl") is None:
        raise UpkeepError("journalctl not found: `pigate logs` reads the systemd journal of the box")
    os.execvp(cmd[0], cmd)
    return 1  # not reached


def _daemon_answers(args: argparse.Namespace) -> bool:
    try:
        control.request(socket_path(args), "status", timeout=5.0)
        return True
    except UpkeepError:
        return False


def _paths(args: argparse.Namespace) -> tuple[Path | None, Path]:
    cfg_path = Path(args.config) if args.config else (config_mod.SYSTEM_CONFIG if
                                                      config_mod.SYSTEM_CONFIG.exists() else None)
    cfg = config_mod.load(cfg_path)
    return cfg_path, Path(args.data_dir) if args.data_dir else cfg.data_dir


def cmd_backup(args: argparse.Namespace) -> int:
    from pigate.upkeep.backup import backup

    cfg_path, data_dir = _paths(args)
    manifest = backup(config=cfg_path, data_dir=data_dir, out=Path(args.file))
    print(f"{args.file}: {len(manifest['files'])} files (config {cfg_path or 'none'}, data {data_dir})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pigate.upkeep.backup import restore

    cfg_path, data_dir = _paths(args)
    if _daemon_answers(args):
        raise UpkeepError("the daemon is running: stop it first (systemctl stop pigate), restore, start it")
    target = cfg_path or config_mod.SYSTEM_CONFIG
    manifest = restore(archive=Path(args.file), config=target if args.with_config else None, data_dir=data_dir)
    print(f"restored {len(manifest['files'])} files from {manifest['host']} ({manifest['created']},"
          f" pigate {manifest['version']}) into {data_dir}" + (f" and {target}" if args.with_config else ""))
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    from pigate.upkeep import update as up

    sw_dir = Path(args.sw_dir)
    timeout = args.timeout or up.watchdog_seconds(args.unit)
    restart = up.systemd_restart(args.unit)
    if args.rollback:
        outcome = up.rollback(sw_dir=sw_dir, restart=restart, timeout=timeout)
    else:
        if args.venv:
            venv = Path(args.venv)
        elif args.sources:
            extra = sorted(str(w) for w in up.IMAGE_WHEELS.glob("*.whl")) if up.IMAGE_WHEELS.is_dir() else []
            modules = [up.IMAGE_MODULES] if up.IMAGE_MODULES.is_dir() else []
            venv = up.build_venv(sw_dir=sw_dir, sources=[*args.sources, *extra], module_dirs=modules)
        else:
            raise UpkeepError("give what to install (a wheel, an sdist, a folder or 'pigate==X'), --venv or --rollback")
        outcome = up.switch(sw_dir=sw_dir, venv=venv, restart=restart, timeout=timeout)
    if outcome.rolled_back:
        print(f"pigate update: {outcome.previous} did not become READY ({outcome.reason}); rolled back to "
              f"{outcome.switched_to}", file=sys.stderr)
        return 1
    print(f"running {outcome.switched_to}" + (f" (previous: {outcome.previous})" if outcome.previous else ""))
    return 0


def cmd_firstboot(args: argparse.Namespace) -> int:
    from pigate.upkeep.firstboot import Box, run

    box = Box(root=Path(args.root), boot=Path(args.boot), data=Path(args.data), config=Path(args.config_file))
    for step in run(box):
        print(f"firstboot: {step}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = _local(sub.add_parser("at", help="send one AT command to a line's modem (on the box: control socket)"))
    p.add_argument("at_command", metavar="COMMAND", help='e.g. "AT+CSQ"')
    p.add_argument("--line", default="", help="line name (default: the first)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(func=cmd_at)

    p = sub.add_parser("logs", help="follow the daemon's journal")
    p.add_argument("-n", "--lines", type=int, default=50)
    p.add_argument("--no-follow", action="store_true")
    p.add_argument("--unit", default="pigate.service")
    p.set_defaults(func=cmd_logs)

    for name, helptext, func in (("backup", "write the config and the data as one .tar.gz", cmd_backup),
                                 ("restore", "put a backup's data (and config) back; the daemon stopped",
                                  cmd_restore)):
        p = _local(sub.add_parser(name, help=helptext))
        p.add_argument("file")
        p.add_argument("--data-dir", help="default: the config's storage.data_dir")
        if name == "restore":
            p.add_argument("--no-config", dest="with_config", action="store_false",
                           help="restore the data only, keep this box's config")
        p.set_defaults(func=func)

    from pigate.upkeep.update import SW_DIR, UNIT

    p = sub.add_parser("update", help="install a new pigate beside the running one; back again if not READY")
    p.add_argument("sources", nargs="*", help="wheel, sdist, folder or requirement to pip-install into a new venv")
    p.add_argument("--venv", help="switch to this already built venv instead")
    p.add_argument("--rollback", action="store_true", help="switch back to the previous venv")
    p.add_argument("--sw-dir", default=str(SW_DIR))
    p.add_argument("--unit", default=UNIT)
    p.add_argument("--timeout", type=float, default=0.0, help="seconds to READY (default: the unit's WatchdogSec)")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("firstboot", help="(pigate-firstboot.service) machine-id, host keys, pigate.txt")
    p.add_argument("--root", default="/")
    p.add_argument("--boot", default="/boot/firmware")
    p.add_argument("--data", default="/data")
    p.add_argument("--config-file", default=str(config_mod.SYSTEM_CONFIG))
    p.set_defaults(func=cmd_firstboot)
