"""`pigate ozml check FILE`: print every problem of an OzML script with its line and column."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence, TextIO

from pigate.errors import STATUS_CODES, OzmlError, status_message
from pigate.ozml import grammar
from pigate.ozml.parser import check


def format_problem(path: str, error: OzmlError) -> str:
    """`FILE:LINE:COL: CODE Name: message`, the form editors and CI logs understand."""
    name = STATUS_CODES[error.code][0]
    return f"{path}:{error.line}:{error.column}: {error.code} {name}: {status_message(error.code, *error.args_)}"


def check_cli(path: str, *, context: str | None = None, out: TextIO | None = None,
              err: TextIO | None = None) -> int:
    """Lint one file: each problem on its own line and exit status 1, or "ok" and 0; 2 if unreadable."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=err)
        return 2
    try:
        problems = check(data, context=context)
    except ValueError as exc:  # an unknown --context name
        print(f"{path}: {exc}", file=err)
        return 2
    for problem in problems:
        print(format_problem(path, problem), file=out)
    if problems:
        return 1
    print(f"{path}: ok", file=out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `ozml check`, for the CLI to mount under its own subcommand."""
    parser.add_argument("file", help="OzML script to check")
    parser.add_argument("--context", metavar="NAME", choices=sorted(grammar.CONTEXTS),
                        help="the notification the script answers (restricts the allowed commands)")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pigate.ozml FILE [--context NAME]`."""
    parser = argparse.ArgumentParser(prog="pigate ozml check", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return check_cli(args.file, context=args.context)
