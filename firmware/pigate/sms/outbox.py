"""One worker thread per GSM line: submits due parts back to back, and runs the line's receive tasks between them.

The part state machine (store/sms.py) is recorded before and after every submission:
queued -> submitting (committed before AT+CMGS is written) -> sent (TP-MR) | retry (temporary, with backoff)
| failed (permanent, with the reason) | unknown (the modem may have sent it: a timeout after the PDU was
written, a vanished port, a crash). An unknown part is never resent blindly; see SmsStore._settle_in_doubt.
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from pigate.errors import ModemCommandError, ModemError
from . import codec
from pigate.retry import RetryPolicy
from pigate.workers import WakeableLoop
from pigate.store.sms import Claim, OutboundHook, SmsStore

log = logging.getLogger(__name__)

# Modem states in which a submission may be attempted at all.
READY_STATES = ("registered",)


class SmsModem(Protocol):
    """What the SMS service needs of a modem (pigate.modem.Modem provides it)."""

    name: str

    @property
    def state(self) -> str: ...
    def status(self) -> dict[str, Any]: ...
    def send_sms_pdu(self, pdu_hex: str, tpdu_length: int) -> int: ...
    def cancel_prompt(self, reason: str) -> bool: ...
    def read_sms(self, storage: str, index: int) -> Any: ...
    def list_sms(self, status: int = 4) -> list[Any]: ...
    def delete_sms(self, storage: str, index: int) -> None: ...
    def ack_sms(self) -> None: ...
    def ussd(self, code: str, timeout: float = 30.0) -> str: ...


@dataclass(frozen=True)
class Line:
    """A GSM line as the SMS service sees it: its name, its own number, its modem and its pacing."""

    name: str
    number: str
    modem: SmsModem
    pacing: float = 0.0


Task = Callable[[], None]


def _outcome_unknown(exc: ModemError) -> bool:
    """Whether the PDU may have reached the network despite the error. Only errors raised before the PDU was
    written say no: the prompt never came (timeout, port gone, cancelled by stop()), or the line refused while
    recovering. A timeout or a vanished port after the PDU, an OK without +CMGS, anything unexpected: in doubt
    (which never duplicates)."""
    from pigate.modem import LineUnavailable, NotSubmitted

    return not isinstance(exc, (NotSubmitted, LineUnavailable))


class LineWorker:
    """Owns one line's SMS traffic. Other threads hand it receive tasks with `post()`; it runs them first."""

    def __init__(self, *, line: Line, store: SmsStore, retry: RetryPolicy, hook: OutboundHook,
                 clock: Callable[[], float] = time.time) -> None:
        self.line = line
        self._store, self._retry, self._hook, self._clock = store, retry, hook, clock
        self._tasks: queue.SimpleQueue[Task] = queue.SimpleQueue()
        self._loop = WakeableLoop(name=f"sms-{line.name}", step=self._step)
        self._last_start = 0.0
        self.submitted = 0

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """A submission still waiting for the modem's prompt is cancelled (put back as not sent, so the next
        start sends it at once); one whose PDU is written gets up to `timeout` for its +CMGS."""
        self._loop.signal_stop()
        self.line.modem.cancel_prompt("the SMS service is stopping")
        self._loop.stop(timeout)

    def post(self, task: Task) -> None:
        self._tasks.put(task)
        self._loop.wake()

    def wake(self) -> None:
        self._loop.wake()

    # ---- the loop ------------------------------------------------------------------------------

    def _step(self) -> float:
        """Received messages first (they wait in the modem's storage), then one submission; the seconds to sleep."""
        self._run_tasks()
        if self.line.modem.state not in READY_STATES:
            return self._idle_wait()
        pause = self._last_start + self.line.pacing - time.monotonic() if self.line.pacing else 0.0
        if pause > 0:
            return pause  # a post or wake() still ends it early, so received messages are not held up
        return 0.0 if self._send_one() else self._idle_wait()

    def _run_tasks(self) -> None:
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                return
            try:
                task()
            except ModemError as exc:
                log.warning("%s: receive task failed: %s", self.line.name, exc)
            except Exception:
                log.exception("%s: receive task failed", self.line.name)

    def _idle_wait(self) -> float:
        if self.line.modem.state not in READY_STATES:
            return 1.0  # state events wake us too; this only bounds a missed one
        due = self._store.next_due(self.line.name)
        wait = due - self._clock() if due is not None else 30.0
        return max(0.01, min(wait, 30.0))

    # ---- one submission ------------------------------------------------------------------------

    def _send_one(self) -> bool:
        """Submit the next due part; True when something was attempted."""
        line = self.line
        claim = self._store.claim(line.name, now=self._clock())
        if claim is None:
            return False
        self._last_start = time.monotonic()
        try:
            mr = line.modem.send_sms_pdu(claim.pdu, claim.tpdu_length)
        except ModemCommandError as exc:
            self._refused(claim, exc)
        except ModemError as exc:
            if _outcome_unknown(exc):
                log.warning("%s: SMS %s part %d: outcome unknown: %s", line.name, claim.sms_id, claim.seq, exc)
                self._store.mark_unknown(claim, reason=f"outcome unknown: {exc}", now=self._clock())
            else:
                self._temporary(claim, f"modem not ready: {exc}", chain_broken=False, count=False)
        else:
            self.submitted += 1
            self._store.mark_sent(claim, line.name, mr, now=self._clock(), hook=self._hook)
        return True

    def _refused(self, claim: Claim, exc: ModemCommandError) -> None:
        what = f"+CMS ERROR: {exc.code}" if exc.kind == "CMS" and exc.code is not None else str(exc)
        if exc.kind == "CMS" and codec.cms_is_permanent(exc.code):
            log.warning("%s: SMS %s failed: %s", self.line.name, claim.sms_id, what)
            self._store.mark_failed(claim, reason=f"refused: {what}", now=self._clock(), hook=self._hook,
                                    chain_broken=True, line=self.line.name)
        else:
            self._temporary(claim, what, chain_broken=True, count=True)

    def _temporary(self, claim: Claim, reason: str, *, chain_broken: bool, count: bool) -> None:
        now = self._clock()
        if count and self._retry.exhausted(claim.attempts):
            self._store.mark_failed(claim, reason=f"gave up after {claim.attempts} attempts: {reason}", now=now,
                                    hook=self._hook, chain_broken=chain_broken, line=self.line.name)
            return
        at = now + (self._retry.delay(claim.attempts) if count else 1.0)
        log.info("%s: SMS %s part %d: %s; retry in %.1f s", self.line.name, claim.sms_id, claim.seq, reason, at - now)
        self._store.mark_retry(claim, at=at, reason=reason, now=now, chain_broken=chain_broken, line=self.line.name)
