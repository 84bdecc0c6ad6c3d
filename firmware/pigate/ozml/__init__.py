"""OzML: typed verbs, a safe parser and the interpreter that runs them against a Leg."""

from pigate.ozml.lint import check_cli
from pigate.ozml.parser import Script, check, parse, route_of

__all__ = ["Script", "check", "check_cli", "parse", "route_of"]
