"""Fault injection for the simulator: a modem that freezes, babbles, vanishes or fails; a network that loses SMS."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .interp import AtError
from .pdu import Deliver, Part

if TYPE_CHECKING:
    from .modem import SimModem
    from .sched import Task


def command_name(command: str) -> str:
    """`CMGS`, `+cmgs`, `AT+CMGS` -> `+CMGS`; basic commands (`D`, `A`, `H`) stay as they are."""
    name = command.strip().upper()
    if name.startswith("AT"):
        name = name[2:]
    if len(name) > 1 and name[0] not in "+^$#%*&" and not (name[0] == "S" and name[1:].isdigit()):
        name = "+" + name
    return name


class ModemFaults:
    """Every fault is reversible; `clear()` undoes them all. Methods are safe from any thread."""

    def __init__(self, *, modem: "SimModem") -> None:
        self._modem = modem
        self._lock = threading.Lock()
        self._deaf = False
        self._garbage_answers = 0
        self._injected: dict[str, list] = {}  # command -> [kind, code, times left]
        self._timers: list["Task"] = []
        self.final_word_delay = 0.0  # seconds between a far end's hang-up (+CLCC, VOICE CALL: END) and NO CARRIER

    # -- freezing and noise ---------------------------------------------------------------------
    def stop_answering(self) -> None:
        """The modem reads but never answers (no echo, no result) until `resume()`."""
        self._deaf = True

    def resume(self) -> None:
        self._deaf = False
        with self._lock:
            self._garbage_answers = 0

    def is_deaf(self) -> bool:
        return self._deaf

    def garbage(self, n_lines: int = 3, *, replace_answer: bool = False) -> None:
        """Emit `n_lines` of line noise now; with `replace_answer`, the next command gets only noise back."""
        if replace_answer:
            with self._lock:
                self._garbage_answers = n_lines
            return
        self._modem.urc(*(_noise() for _ in range(n_lines)))

    def take_garbage_answer(self) -> str | None:
        with self._lock:
            n, self._garbage_answers = self._garbage_answers, 0
        if not n:
            return None
        return "".join(f"\r\n{_noise()}\r\n" for _ in range(n))

    # -- the port -------------------------------------------------------------------------------
    def vanish(self, seconds: float | None = 2.0) -> None:
        """The ptys and links disappear; after `seconds` (None: only on `reappear()`) new ones appear."""
        self._modem.vanish()
        if seconds is not None:
            self._timers.append(self._modem.network.scheduler.after(seconds, self._modem.reappear))

    def reappear(self) -> None:
        self._modem.reappear()

    def cancel_timers(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()

    # -- call progress --------------------------------------------------------------------------
    def late_final_word(self, seconds: float) -> None:
        """When the far end ends a call, the modem's final word (NO CARRIER, BUSY, ...) comes `seconds` after the
        call's state URCs, as some modules send it: a host that dials at once sees it after its next ATD."""
        self.final_word_delay = max(0.0, seconds)

    def audio_stuck(self) -> None:
        """Switching call audio on (AT+CPCMREG=1, AT+QPCMV=1,0) answers ERROR until the module restarts
        (AT+CFUN=1,1 or a power cycle), as SIM7600 modules do after some calls in the field."""
        self._modem.settings.pcm_stuck = True

    # -- error answers --------------------------------------------------------------------------
    def cms_error(self, code: int = 500, command: str = "CMGS", times: int = 1) -> None:
        """The next `times` runs of `command` answer `+CMS ERROR: code`."""
        with self._lock:
            self._injected[command_name(command)] = ["CMS", code, times]

    def cme_error(self, code: int = 100, command: str = "CSQ", times: int = 1) -> None:
        with self._lock:
            self._injected[command_name(command)] = ["CME", code, times]

    def check(self, name: str) -> None:
        """Raise the injected error for command `name`, if one is armed."""
        with self._lock:
            armed = self._injected.get(name)
            if not armed:
                return
            armed[2] -= 1
            if armed[2] <= 0:
                del self._injected[name]
        raise AtError(armed[0], armed[1])

    # -- network and SIM ------------------------------------------------------------------------
    def registration_lost(self) -> None:
        m = self._modem
        with m.lock:
            m.registered = False
        m.calls.network_lost()
        m.urc(*m.registration_urcs())

    def registration_regained(self, *, roaming: bool = False) -> None:
        m = self._modem
        with m.lock:
            m.registered, m.roaming = True, roaming
        m.urc(*m.registration_urcs())
        m.flush_pending()

    def sim_missing(self) -> None:
        m = self._modem
        with m.lock:
            m.sim_state = "missing"
        m.calls.network_lost()
        m.urc("+CPIN: NOT INSERTED", *m.registration_urcs())

    def sim_inserted(self) -> None:
        m = self._modem
        with m.lock:
            m.sim_state = "pin" if m.pin else "ready"
        if m.sim_state == "ready":
            m.urc("+CPIN: READY", *m.dialect.ready_urcs, *m.registration_urcs())
            m.flush_pending()
        else:
            m.urc("+CPIN: SIM PIN")

    def storage_full(self, storage: str | None = None) -> int:
        """Fill the receive storage (or `storage`) with read messages; returns how many were added."""
        m = self._modem
        with m.lock:
            mem = m.storages[storage or m.settings.cpms[2]]
            added = 0
            while not mem.full:
                filler = Deliver("+10000000000", Part(f"filler {added + 1}", "gsm7"), datetime.now(timezone.utc))
                mem.put(filler, "REC READ")
                added += 1
            return added

    def signal(self, rssi: int) -> None:
        """AT+CSQ answers this rssi (0-31, 99 unknown)."""
        self._modem.rssi = rssi

    def clear(self) -> None:
        """Undo every fault: answering again, no armed errors, registered, SIM present, port back."""
        self.resume()
        with self._lock:
            self._injected.clear()
        self.final_word_delay = 0.0
        self._modem.settings.pcm_stuck = False
        self.cancel_timers()
        m = self._modem
        if m.sim_state == "missing":
            self.sim_inserted()
        if not m.registered:
            self.registration_regained()
        if not m.present:
            m.reappear()

    def describe(self) -> dict:
        with self._lock:
            injected = {k: {"kind": v[0], "code": v[1], "times": v[2]} for k, v in self._injected.items()}
        m = self._modem
        return {"deaf": self._deaf, "errors": injected, "final_word_delay": self.final_word_delay,
                "audio_stuck": m.settings.pcm_stuck, "registered": m.registered, "sim": m.sim_state,
                "present": m.present}


class NetworkFaults:
    """Faults of the network itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drops = 0

    def drop_next_sms(self, n: int = 1) -> None:
        """The next `n` submissions are accepted (+CMGS) but never delivered and never reported."""
        with self._lock:
            self._drops += n

    def take_drop(self) -> bool:
        with self._lock:
            if self._drops:
                self._drops -= 1
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._drops = 0


def _noise() -> str:
    # Printable junk with no AT meaning, as a modem with a brown-out or a baud mismatch produces.
    return "".join(random.choice("~#$%&?@!QZ|{}") for _ in range(random.randint(4, 16)))
