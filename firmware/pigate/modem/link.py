"""What the parts of one modem share: its config, AT engine, event bus, state machine and last-seen facts."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from ..errors import ModemError, ModemTimeout, PortGone
from ..events import EventBus
from .at import AtEngine
from .events import CallEnded, ModemEvent, StateChanged
from .parsers import Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class LineUnavailable(ModemError):
    """The line is down, starting or recovering: nothing was sent to the modem; try again later."""


STATES = ("down", "initializing", "sim_missing", "sim_locked", "searching", "registered", "recovering")
# In these states the SMS service and the HTTP layer get a fast ModemError instead of a long wait.
BLOCKED_STATES = ("down", "initializing", "recovering")


@dataclass(frozen=True)
class ModemConfig:
    """One modem line. `port` may be a device, a pty or a udev by-id symlink (reopened by name after a vanish)."""

    name: str
    port: str
    audio_port: str | None = None
    pin: str | None = None
    vendor: str = "auto"
    baudrate: int = 115200
    command_timeout: float = 10.0
    sms_timeout: float = 60.0
    init_commands: tuple[str, ...] = ()
    poll_interval: float = 30.0       # signal/registration polling, and the retry period for a missing SIM
    ready_timeout: float = 60.0       # how long SIM and SMS may take to become ready after power-on
    reopen_timeout: float = 30.0      # how long a vanished port may take to come back
    probe_timeout: float = 2.0        # the first rung of recovery: does a plain AT still get an answer?
    cfun_timeout: float = 30.0        # AT+CFUN=0/1 detach and attach the radio: slow on real modules


@dataclass
class Facts:
    """What the modem told us last; read by status(), written by bring-up, polling and URCs."""

    vendor: str = ""
    manufacturer: str = ""
    model: str = ""
    revision: str = ""
    imei: str = ""
    imsi: str = ""
    operator: str = ""
    own_number: str | None = None
    registration: dict[str, int] = field(default_factory=dict)  # CREG/CGREG/CEREG -> stat
    signal: Signal | None = None
    needs_ack: bool = False
    receive_storage: str = ""
    read_storage: str = ""
    charset: str = "GSM"
    last_error: str = ""

    @property
    def best_stat(self) -> int:
        stats = list(self.registration.values())
        for want in (1, 5):
            if want in stats:
                return want
        return max(stats, default=0)

    @property
    def registered(self) -> bool:
        return self.best_stat in (1, 5)


class Link:
    """Shared by device, health, recovery, SMS and voice parts of one modem; no part holds another."""

    def __init__(self, *, config: ModemConfig, engine: AtEngine, bus: EventBus,
                 power_cycle: Callable[[], None]) -> None:
        self.config, self.engine, self.bus, self.power_cycle = config, engine, bus, power_cycle
        self.facts = Facts()
        self.lock = threading.Lock()          # guards state and facts
        self.wake = threading.Event()         # wakes the supervisor early
        self.stopping = threading.Event()
        self._state = "down"
        self._recovery_reason = ""
        self._reinit_reason = ""
        self._reset_reason = ""  # a module restart owed once no call is up (call audio that would not switch on)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def state(self) -> str:
        with self.lock:
            return self._state

    def set_state(self, state: str) -> None:
        assert state in STATES, state
        with self.lock:
            previous, self._state = self._state, state
        if previous != state:
            log.info("%s: %s -> %s", self.name, previous, state)
            self.publish(StateChanged(self.name, state, previous))

    def state_after_registration(self) -> str:
        with self.lock:
            return "registered" if self.facts.registered else "searching"

    def publish(self, event: ModemEvent) -> None:
        self.bus.publish(event)
        if isinstance(event, CallEnded):
            self.call_over()

    def call_over(self) -> None:
        """A call ended: a restart the module owes (request_reset_when_idle) can happen now."""
        if self._reset_reason:
            self.wake.set()

    # ---- asking the supervisor for work --------------------------------------------------------

    def request_recovery(self, reason: str) -> None:
        with self.lock:
            if not self._recovery_reason:
                self._recovery_reason = reason
        self.wake.set()

    def request_reinit(self, reason: str) -> None:
        with self.lock:
            self._reinit_reason = self._reinit_reason or reason
        self.wake.set()

    def request_reset_when_idle(self, reason: str) -> None:
        """Restart the module (the ladder's CFUN reset) once it carries no call; the supervisor checks."""
        with self.lock:
            self._reset_reason = self._reset_reason or reason

    def take_reset(self) -> str:
        """The owed restart's reason ('' when none); cleared, so a caller that cannot run it yet asks again."""
        with self.lock:
            reason, self._reset_reason = self._reset_reason, ""
        return reason

    def take_requests(self) -> tuple[str, str]:
        """(recovery reason, re-init reason), each '' when not asked for; clears both."""
        with self.lock:
            out = (self._recovery_reason, self._reinit_reason)
            self._recovery_reason = self._reinit_reason = ""
        self.wake.clear()
        return out

    # ---- running operations for callers outside the driver -------------------------------------

    def guard(self) -> None:
        state = self.state
        if state in BLOCKED_STATES:
            raise LineUnavailable(f"{self.name} is {state}; try again later")

    def run(self, op: Callable[[], T]) -> T:
        """Run a caller's operation; a timeout or a vanished port starts recovery (the error still propagates)."""
        self.guard()
        try:
            return op()
        except ModemTimeout as exc:
            self.note_error(str(exc))
            self.request_recovery(str(exc))
            raise
        except PortGone as exc:
            self.note_error(str(exc))
            self.request_recovery(str(exc))
            raise

    def note_error(self, text: str) -> None:
        with self.lock:
            self.facts.last_error = text
