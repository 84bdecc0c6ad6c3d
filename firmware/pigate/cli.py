"""The `pigate` command: run the daemon, check config, hash passwords, and talk to a running box."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Sequence

from pigate import __version__, config as config_mod
from pigate.errors import PigateError
from pigate.stopsignals import StopSignals

log = logging.getLogger("pigate")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def cmd_run(args: argparse.Namespace) -> int:
    from pigate.app import App

    cfg = config_mod.load(args.config)
    _setup_logging(args.log_level or cfg.log_level)
    app = App(config=cfg, config_path=config_mod.path_of(args.config))
    with StopSignals() as stops:  # before the start: a signal during it stops the daemon once it has started
        try:
            app.start()
        except BaseException:
            app.stop()
            raise
        try:
            stops.wait()
        finally:
            log.info("stopping")
            app.stop()
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    cfg = config_mod.load(args.file)
    print(f"{args.file}: ok ({len(cfg.modems)} modem(s), {len(cfg.api_extensions)} API extension(s))")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from pigate.api.auth import hash_password

    password = args.password
    if password is None:
        password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not password:
        print("pigate passwd: empty password", file=sys.stderr)
        return 2
    print("[[http.users]]")
    print(f'name = "{args.user}"')
    print(f'password_hash = "{hash_password(password)}"')
    return 0


def cmd_ozml_check(args: argparse.Namespace) -> int:
    from pigate.ozml import check_cli

    return check_cli(args.file, context=args.context)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pigate", description="pigate GSM/VoIP gateway")
    parser.add_argument("--version", action="version", version=f"pigate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", help="TOML config (default /etc/pigate/pigate.toml when present, else built-in)")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=cmd_run)

    cfg = sub.add_parser("config", help="configuration tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    check = cfg_sub.add_parser("check", help="validate a config file without starting")
    check.add_argument("file")
    check.set_defaults(func=cmd_config_check)

    from pigate.ozml.lint import add_arguments as ozml_check_arguments

    ozml = sub.add_parser("ozml", help="OzML tools")
    ozml_sub = ozml.add_subparsers(dest="ozml_command", required=True)
    ozml_check = ozml_sub.add_parser("check", help="lint an OzML script: every problem with line and column")
    ozml_check_arguments(ozml_check)
    ozml_check.set_defaults(func=cmd_ozml_check)

    from pigate import remote
    from pigate.sim.cli import add_parser as add_sim_parser

    from pigate.upkeep.cli import add_parsers as add_upkeep_parsers

    remote.add_parsers(sub)
    add_upkeep_parsers(sub)

    add_sim_parser(sub)

    pw = sub.add_parser("passwd", help="print a [[http.users]] entry with a salted password hash")
    pw.add_argument("user")
    pw.add_argument("--password", help="(default: prompt, or read one line from stdin)")
    pw.set_defaults(func=cmd_passwd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from pigate.remote import RemoteError

    try:
        return int(args.func(args) or 0)
    except (PigateError, RemoteError) as exc:
        print(f"pigate: {exc}", file=sys.stderr)
        return 1
