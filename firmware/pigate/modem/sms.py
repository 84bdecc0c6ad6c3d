"""SMS operations on one modem in PDU mode: submit, read, list, delete, acknowledge."""

from __future__ import annotations

from ..errors import ModemCommandError, ModemError
from . import parsers as p
from .link import Link
from .parsers import StoredSms


class SubmitUnconfirmed(ModemError):
    """AT+CMGS ended without a +CMGS line: the network may or may not have the message (outcome unknown)."""


_STORAGE_NAMES = ("SM", "ME", "MT", "SR", "BM", "TA", "BC", "SE")


def _check_storage(storage: str) -> str:
    s = storage.upper()
    if s not in _STORAGE_NAMES:
        raise ModemError(f"unknown SMS storage {storage!r}")
    return s


class SmsOps:
    """SMS commands on one modem; multi-command operations hold the port so storages do not get switched under
    them by another thread. (Pacing between submissions is the SMS service's.)"""

    def __init__(self, *, link: Link) -> None:
        self.link = link

    def send_pdu(self, pdu_hex: str, tpdu_length: int) -> int:
        """One AT+CMGS transaction; the TP-MR the network gave. Raises ModemCommandError (nothing sent),
        PromptTimeout (nothing sent), ModemTimeout (outcome unknown) or PortGone (outcome unknown)."""
        if not p.is_hex(pdu_hex) or not 0 < tpdu_length <= len(pdu_hex) // 2:
            raise ModemError(f"not a PDU of TPDU length {tpdu_length}: {pdu_hex[:40]!r}")
        cfg = self.link.config
        lines = self.link.run(lambda: self.link.engine.submit(
            f"AT+CMGS={tpdu_length}", pdu_hex.upper(),
            prompt_timeout=cfg.command_timeout, timeout=cfg.sms_timeout))
        for line in lines:
            if line.startswith("+CMGS:"):
                return p.parse_cmgs(line)
        raise SubmitUnconfirmed(f"{self.link.name}: AT+CMGS answered OK without +CMGS (outcome unknown)")

    def _select(self, storage: str) -> None:
        """Make `storage` the read/delete memory (mem1), leaving the write and receive memories as they are."""
        storage = _check_storage(storage)
        with self.link.lock:
            current = self.link.facts.read_storage
        if current == storage:
            return
        self.link.engine.command(f'AT+CPMS="{storage}"', timeout=self.link.config.command_timeout)
        with self.link.lock:
            self.link.facts.read_storage = storage

    def read(self, storage: str, index: int) -> StoredSms:
        """AT+CMGR in PDU mode. An empty slot raises ModemCommandError(kind='CMS', code=321) on every modem
        (some answer that way themselves, others with an empty +CMGR)."""
        engine, timeout = self.link.engine, self.link.config.command_timeout

        def op() -> StoredSms:
            with engine.exclusive():
                self._select(storage)
                lines = engine.command(f"AT+CMGR={int(index)}", timeout=timeout)
            sms = p.parse_cmgr(lines, storage=storage.upper(), index=index)
            if sms is None:
                raise ModemCommandError(f"AT+CMGR={index}", "CMS", 321, "empty slot")
            return sms

        return self.link.run(op)

    def list(self, status: int = 4, storage: str | None = None) -> list[StoredSms]:
        """AT+CMGL=<status> (4 = all) in `storage`, by default the memory incoming messages go to."""
        engine = self.link.engine
        with self.link.lock:
            where = storage or self.link.facts.receive_storage or self.link.facts.read_storage or "SM"

        def op() -> list[StoredSms]:
            with engine.exclusive():
                self._select(where)
                lines = engine.command(f"AT+CMGL={int(status)}", timeout=3 * self.link.config.command_timeout)
            return p.parse_cmgl(lines, storage=where.upper())

        return self.link.run(op)

    def delete(self, storage: str, index: int) -> None:
        engine = self.link.engine

        def op() -> None:
            with engine.exclusive():
                self._select(storage)
                engine.command(f"AT+CMGD={int(index)}", timeout=self.link.config.command_timeout)

        self.link.run(op)

    def ack(self) -> None:
        """AT+CNMA: the positive acknowledgement a phase 2+ modem waits for after +CMT/+CDS."""
        self.link.run(lambda: self.link.engine.command("AT+CNMA", timeout=self.link.config.command_timeout))
