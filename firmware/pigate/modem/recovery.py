"""The escalation ladder (probe, reopen, CFUN cycle, CFUN reset, power cycle) and the supervisor thread that runs it."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

from ..errors import ModemError, PortGone
from ..retry import RetryPolicy
from .at import ESC
from .events import RecoveryStep
from .health import BringUp, SimProblem, refresh
from .link import Link

log = logging.getLogger(__name__)

# How long a line that is down waits before the supervisor tries to bring it up again.
_REOPEN = RetryPolicy(attempts=None, base=2.0, cap=300.0)

STEPS = ("probe", "reopen", "cfun", "reset", "power")


class Recovery:
    """Climbs the ladder one rung at a time until the modem answers and bring-up succeeds again.

    Each rung is tried once per run; every attempt and outcome is a `modem.recovery` event
    (name, step, ok, error) so the LEDs and the status page can follow it.
    """

    def __init__(self, *, link: Link, bring_up: BringUp, reset_settle: float | None = None) -> None:
        self.link, self.bring_up = link, bring_up
        self.reset_settle = reset_settle

    def run(self, reason: str, *, first: str = "probe") -> bool:
        """Climb from rung `first` (a known fault can skip the rungs that do not cure it)."""
        link = self.link
        log.warning("%s: recovering: %s", link.name, reason)
        link.set_state("recovering")
        link.publish(RecoveryStep(link.name, "start", True, reason))
        for step in STEPS[STEPS.index(first):]:
            if link.stopping.is_set():
                return False
            try:
                getattr(self, f"_{step}")()
                if step == "probe":
                    # The modem only answered slowly: its settings stand; re-read where it stands.
                    refresh(link, self.bring_up.vendor.registration_kinds)
                    link.set_state(link.state_after_registration())
                else:
                    self.bring_up.run(busy_state="recovering", failed_state="recovering")
            except SimProblem as exc:
                # The modem is alive again; a SIM fault is not something a harder reset fixes.
                link.publish(RecoveryStep(link.name, step, True, str(exc)))
                return True
            except ModemError as exc:
                link.note_error(f"recovery {step}: {exc}")
                link.publish(RecoveryStep(link.name, step, False, str(exc)))
                continue
            link.publish(RecoveryStep(link.name, step, True))
            return True
        link.set_state("down")
        return False

    # ---- rungs ---------------------------------------------------------------------------------

    def _probe(self) -> None:
        if not self.link.engine.is_open:
            raise PortGone(f"{self.link.name}: port is closed")
        self._answering(self.link.config.probe_timeout)

    def _answering(self, within: float) -> None:
        """ESC (leave a half-finished prompt, if that is what wedged it), then AT until it answers OK."""
        engine = self.link.engine
        engine.write_raw(ESC + b"\r")
        deadline = time.monotonic() + within
        while True:
            try:
                # Short tries: a modem that wakes mid-try lost that AT, and only a fresh one gets an answer.
                engine.command("AT", timeout=max(0.1, min(0.25 * within, deadline - time.monotonic())))
                return
            except ModemError as exc:  # ERROR is an answer too, but only a clean OK says the line is usable
                if isinstance(exc, PortGone) or time.monotonic() >= deadline:
                    raise

    def _reopen(self) -> None:
        reopen(self.link)

    def _cfun(self) -> None:
        engine, cfg = self.link.engine, self.link.config
        if not engine.is_open:
            reopen(self.link)
        self._answering(cfg.probe_timeout)
        engine.command("AT+CFUN=0", timeout=cfg.cfun_timeout)
        engine.command("AT+CFUN=1", timeout=cfg.cfun_timeout)

    def _reset(self) -> None:
        engine = self.link.engine
        if not engine.is_open:
            reopen(self.link)
        try:
            engine.command("AT+CFUN=1,1", timeout=self.link.config.cfun_timeout)
        except PortGone:
            pass  # expected: a USB module drops its ports as it reboots
        self._after_restart()

    def _power(self) -> None:
        # Closed first: the port vanishing under the power cut is expected, not a new fault to recover from.
        self.link.engine.close()
        try:
            self.link.power_cycle()
        except Exception as exc:  # the board hook is foreign code: report it as a failed rung
            raise ModemError(f"{self.link.name}: power cycle failed: {exc}") from exc
        self._after_restart()

    def _after_restart(self) -> None:
        self.link.engine.close()
        settle = self.reset_settle if self.reset_settle is not None else self.bring_up.vendor.reset_seconds
        if self.link.stopping.wait(settle):
            raise ModemError(f"{self.link.name}: stopping")
        reopen(self.link)


def reopen(link: Link) -> None:
    """Close and reopen the configured path (a by-id symlink may now point at a new node), with backoff."""
    engine, cfg = link.engine, link.config
    engine.close()
    deadline = time.monotonic() + cfg.reopen_timeout
    delay = 0.1
    while True:
        if link.stopping.is_set():
            raise PortGone(f"{link.name}: stopping")
        try:
            if os.path.exists(cfg.port) or "://" in cfg.port:
                engine.open()
                return
            last: Exception = PortGone(f"{cfg.port} does not exist")
        except PortGone as exc:
            last = exc
        if time.monotonic() + delay > deadline or link.stopping.wait(delay):
            raise PortGone(f"{link.name}: {cfg.port} did not come back in {cfg.reopen_timeout:g} s") from last
        delay = min(delay * 2, 2.0)


class Supervisor:
    """One thread per modem: runs recovery when asked, retries bring-up while the SIM is missing, polls health."""

    def __init__(self, *, link: Link, bring_up: BringUp, recovery: Recovery,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.link, self.bring_up, self.recovery, self.clock = link, bring_up, recovery, clock
        self._thread: threading.Thread | None = None
        self._failures = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"modem-{self.link.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.link.stopping.set()
        self.link.wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10.0)
        self._thread = None

    def _wait_seconds(self) -> float:
        if self.link.state == "down":
            return _REOPEN.delay(self._failures + 1)
        return self.link.config.poll_interval

    def _loop(self) -> None:
        link = self.link
        while not link.stopping.is_set():
            link.wake.wait(self._wait_seconds())
            if link.stopping.is_set():
                return
            recover, reinit = link.take_requests()
            try:
                self._tick(recover, reinit)
            except Exception:  # the supervisor must outlive any one bad tick; the next one retries
                log.exception("%s: supervisor tick failed", link.name)

    def _tick(self, recover: str, reinit: str) -> None:
        link = self.link
        state = link.state
        if recover or state in ("down", "recovering"):
            ok = self.recovery.run(recover or f"modem is {state}")
            self._failures = 0 if ok else self._failures + 1
            return
        if reinit or state in ("sim_missing", "sim_locked", "initializing"):
            try:
                self.bring_up.run(busy_state=state if state.startswith("sim_") else "initializing")
            except SimProblem as exc:
                log.info("%s: %s", link.name, exc)
            except ModemError as exc:
                link.request_recovery(f"bring-up failed: {exc}")
            return
        reset = link.take_reset()
        if reset:
            self._reset_when_idle(reset)
            return
        try:
            refresh(link, self.bring_up.vendor.registration_kinds)
        except ModemError as exc:
            link.note_error(str(exc))
            link.request_recovery(f"health poll failed: {exc}")

    def _reset_when_idle(self, reason: str) -> None:
        """The restart a stuck module owes, once AT+CLCC lists no call; otherwise asked again at the call's end."""
        link = self.link
        try:
            calls = [ln for ln in link.engine.command("AT+CLCC", timeout=link.config.command_timeout)
                     if ln.startswith("+CLCC:")]
        except ModemError as exc:
            link.request_recovery(f"{reason}; AT+CLCC failed: {exc}")
            return
        if calls:
            link.request_reset_when_idle(reason)
            return
        ok = self.recovery.run(reason, first="reset")
        self._failures = 0 if ok else self._failures + 1
