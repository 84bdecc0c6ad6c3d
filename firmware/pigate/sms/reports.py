"""Delivery reports on one line: +CDS (the report in the URC) and +CDSI (stored: read, apply, then delete),
matched per part on TP-MR, recipient and a time window, newest first."""

from __future__ import annotations

import logging
import time
from typing import Callable

from pigate.errors import ModemCommandError
from . import codec
from .outbox import Line
from pigate.store.sms import OutboundHook, SmsStore

log = logging.getLogger(__name__)


class ReportMatcher:
    def __init__(self, *, line: Line, store: SmsStore, window: float, hook: OutboundHook,
                 clock: Callable[[], float] = time.time) -> None:
        self.line = line
        self._store, self._window, self._hook, self._clock = store, window, hook, clock

    def on_report(self, pdu_hex: str, needs_ack: bool = False) -> str | None:
        """Apply one status report; the id of the message it belongs to, or None if it matches none."""
        try:
            report = codec.decode_status_report(pdu_hex)
        except codec.CodecError as exc:
            log.warning("%s: unreadable status report dropped: %s", self.line.name, exc)
            matched = None
        else:
            now = self._clock()
            matched = self._store.apply_report(
                self.line.name, report.reference, lambda number: codec.same_number(number, report.recipient),
                report.outcome, report.status, since=now - self._window, now=now, hook=self._hook)
            if matched is None:
                log.info("%s: status report for MR %d to %s matches no message", self.line.name, report.reference,
                         report.recipient)
        if needs_ack:
            self.line.modem.ack_sms()
        return matched

    def on_report_stored(self, storage: str, index: int) -> None:
        """+CDSI: read the report from the modem's storage, apply it, then delete it."""
        try:
            stored = self.line.modem.read_sms(storage, index)
        except ModemCommandError as exc:
            if exc.code == 321:
                return
            raise
        self.on_report(stored.pdu_hex)
        self.line.modem.delete_sms(storage, index)
