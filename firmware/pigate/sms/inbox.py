"""Receiving on one line: +CMTI (read, commit, then delete), +CMT (commit, then acknowledge), the start-up sweep,
and the commit of each part with multipart reassembly (store/sms.py does the joining and deduplication)."""

from __future__ import annotations

import logging
import time
from typing import Callable

from pigate.errors import ModemCommandError
from . import codec
from .outbox import Line
from pigate.store.sms import InboundHook, IncomingPart, SmsStore

log = logging.getLogger(__name__)

Route = Callable[[str], "tuple[str, str]"]  # line name -> (API extension, recipient number)
ReportSink = Callable[[str], None]          # a status report PDU found in storage


def join_parts(datas: list[bytes]) -> str:
    return codec.text_from_units(b"".join(datas))


class Receiver:
    """Runs on the line's worker thread (it talks to the modem); every method commits before it deletes."""

    def __init__(self, *, line: Line, store: SmsStore, route: Route, hook: InboundHook, on_report: ReportSink,
                 clock: Callable[[], float] = time.time) -> None:
        self.line = line
        self._store, self._route, self._hook, self._on_report, self._clock = store, route, hook, on_report, clock

    def on_stored(self, storage: str, index: int) -> None:
        """+CMTI: read the slot, commit, and only then free it."""
        try:
            stored = self.line.modem.read_sms(storage, index)
        except ModemCommandError as exc:
            if exc.code == 321:  # already gone (read and deleted by a sweep)
                return
            raise
        self._take(stored.pdu_hex)
        self.line.modem.delete_sms(storage, index)

    def on_deliver(self, pdu_hex: str, needs_ack: bool) -> None:
        """+CMT: the message is only in this URC; commit it, then acknowledge so the network can forget it."""
        self._take(pdu_hex)
        if needs_ack:
            self.line.modem.ack_sms()

    def sweep(self) -> int:
        """Everything in the modem's storage (arrived while we were down, or its +CMTI/+CDSI was missed):
        commit, then delete. Status reports a modem keeps apart (+CDSI into "SR") are swept from there too."""
        stored = list(self.line.modem.list_sms(4))
        try:
            stored += [s for s in self.line.modem.list_sms(4, storage="SR") if s.storage == "SR"]
        except ModemCommandError:  # no SR storage on this modem: its reports go to the receive storage
            pass
        for item in stored:
            self._take(item.pdu_hex)
            self.line.modem.delete_sms(item.storage, item.index)
        return len(stored)

    def _take(self, pdu_hex: str) -> None:
        kind = codec.pdu_kind(pdu_hex)
        if kind == "status_report":
            self._on_report(pdu_hex)
            return
        if kind == "submit":
            log.info("%s: ignoring a stored SMS-SUBMIT (an outgoing draft) in the modem", self.line.name)
            return
        part = self.decode(pdu_hex)
        ext, recipient = self._route(self.line.name)
        stored, msg = self._store.add_incoming(part, api_extension=ext, recipient=recipient, join=join_parts,
                                               now=self._clock(), hook=self._hook)
        if not stored:
            log.info("%s: duplicate SMS part from %s ignored", self.line.name, part.sender)
        elif msg is not None:
            log.info("%s: SMS %s from %s (%d part(s))", self.line.name, msg.id, msg.sender, msg.parts)

    def decode(self, pdu_hex: str) -> IncomingPart:
        """The part to commit; a PDU nobody can read is kept as a message showing its hex (never dropped)."""
        try:
            d = codec.decode_deliver(pdu_hex)
        except codec.CodecError as exc:
            log.warning("%s: undecodable incoming PDU kept as raw: %s", self.line.name, exc)
            text = f"(undecodable PDU) {pdu_hex}"
            return IncomingPart(self.line.name, "", None, 1, 1, text.encode("utf-16-be"), pdu_hex.upper(), "")
        sent = d.timestamp.isoformat() if d.timestamp else ""
        if d.multipart:
            return IncomingPart(self.line.name, d.sender, d.reference, d.total, d.seq, d.data, pdu_hex.upper(), sent)
        return IncomingPart(self.line.name, d.sender, None, 1, 1, d.data, pdu_hex.upper(), sent)
