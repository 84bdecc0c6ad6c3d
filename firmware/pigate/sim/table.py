"""Builds the AT command table of one simulated dialect from the handler modules."""

from __future__ import annotations

from . import at_basic, at_sms, at_voice
from .dialects import Dialect
from .interp import Handler


def build_table(dialect: Dialect) -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    table.update(at_basic.HANDLERS)
    table.update(at_sms.HANDLERS)
    table.update(at_voice.HANDLERS)
    for name in dialect.extra_ok:
        table.setdefault(name, at_basic.ok)
    if dialect.dtmf_enable:
        table[f"+{dialect.dtmf_enable}"] = at_voice.DTMF_SWITCHES[dialect.dtmf_enable]
    if dialect.pcm_command:
        table[f"+{dialect.pcm_command}"] = at_voice.PCM_COMMANDS[dialect.pcm_command]
    if not dialect.mo_ring_urcs[0]:
        table.pop("+MORING", None)
    kinds = set(dialect.registration_kinds)
    for kind in ("CREG", "CGREG", "CEREG"):
        if kind not in kinds:
            table.pop(f"+{kind}", None)
    return table
