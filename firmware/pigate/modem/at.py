"""The AT engine: one reader thread owns a serial port, one command in flight, every other line is a URC.

The port's lifetime has one owner, its reader thread: only it closes the port, when it ends (stopped, or the
port vanished), and the close waits for a write in progress (`_io`), so a write never meets a half-closed port
or a recycled file descriptor. Whatever pyserial raises on a dead port (SerialException, OSError, termios.error,
or TypeError/ValueError once its fd is gone) becomes PortGone; a write timeout is ModemTimeout.
"""

from __future__ import annotations

import contextlib
import logging
import termios
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import serial

from ..errors import ModemCommandError, ModemError, ModemTimeout, PortGone
from . import parsers as p
from .urcs import DATA_HEADERS, TWO_LINE_URCS, Expect, classify, command_prefix

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"

# Identity commands answer with bare lines (some modems add their own +CGMI: prefix).
_BARE_COMMANDS = ("ATI", "AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+GMI", "AT+GMM", "AT+GMR",
                  "AT+GSN", "AT+CCID", "AT+QCCID", "AT+ICCID")

# Everything pyserial raises when its port is unusable (TypeError/ValueError: its fd is already None or -1).
PORT_ERRORS = (serial.SerialException, OSError, termios.error, TypeError, ValueError)

UrcHandler = Callable[[str, "str | None"], None]
GoneHandler = Callable[[BaseException], None]


class NotSubmitted(ModemError):
    """A prompt exchange that ended before its payload was written: nothing was submitted, resending is safe."""


class PromptTimeout(ModemTimeout, NotSubmitted):
    """The `> ` prompt never came, so nothing was submitted: unlike other timeouts, resending is safe."""


class PromptLost(PortGone, NotSubmitted):
    """The port closed or vanished, or the submission was cancelled, while waiting for the `> ` prompt."""


class SerialPort(Protocol):
    """The part of pyserial's Serial the engine uses (so a test can hand in any pyserial URL handler)."""

    in_waiting: int

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def reset_input_buffer(self) -> None: ...


def open_serial(path: str, baudrate: int) -> SerialPort:
    """Open a device, pty or symlink (a udev by-id name) with pyserial; exclusive so no other program talks to it."""
    try:
        return serial.serial_for_url(path, baudrate=baudrate, timeout=0.05, write_timeout=5.0, exclusive=True)
    except PORT_ERRORS as exc:
        raise PortGone(f"cannot open {path}: {exc}") from exc


def expect_for(command: str, *, prefixes: tuple[str, ...] | None = None, bare: bool | None = None,
               call_results: bool = False) -> Expect:
    """The answer shape of `command`: its own `+XXX:` prefix, bare lines for identity commands and basic ones."""
    own = command_prefix(command)
    if prefixes is None:
        prefixes = (own,) if own else ()
    if bare is None:
        upper = command.upper()
        bare = not own or upper.split("=")[0].split("?")[0] in _BARE_COMMANDS
        if upper.startswith("ATI"):
            prefixes = prefixes + ("+GCAP:",)
    return Expect(command, prefixes, bare, call_results)


@dataclass
class _Pending:
    expect: Expect
    lines: list[str] = field(default_factory=list)
    final: p.Final | None = None
    gone: BaseException | None = None
    want_prompt: bool = False
    prompted: bool = False
    data_due: bool = False

    @property
    def done(self) -> bool:
        return self.final is not None or self.gone is not None


class AtEngine:
    """Talks AT over one port. `command()` runs one command; `submit()` runs a prompt exchange (AT+CMGS) as one
    transaction; `exclusive()` holds the port across several commands. URCs go to `on_urc(line, data_line)`
    on the reader thread, which must not block; a vanished port is reported once to `on_gone`."""

    def __init__(self, *, path: str, on_urc: UrcHandler, on_gone: GoneHandler, name: str = "modem",
                 baudrate: int = 115200, timeout: float = 10.0,
                 opener: Callable[[str, int], SerialPort] = open_serial) -> None:
        self.path, self.name, self.baudrate, self.timeout = path, name, baudrate, timeout
        self._on_urc, self._on_gone, self._opener = on_urc, on_gone, opener
        self._lock = threading.RLock()          # one command (or transaction) in flight
        self._cv = threading.Condition()        # guards the fields below; the reader notifies it
        self._io = threading.Lock()             # a write and the port's close never overlap
        self._port: SerialPort | None = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._pending: _Pending | None = None
        self._urc_header: str | None = None     # +CMT/+CDS header awaiting its data line
        self._open_text: str | None = None      # a +CUSD whose quoted text spans lines
        self.last_rx = 0.0

    # ---- port lifecycle --------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        with self._cv:
            return self._port is not None and self._reader is not None and self._reader.is_alive()

    def open(self) -> None:
        """Open the port and start its reader thread; PortGone if it cannot be opened."""
        self.close()
        port = self._opener(self.path, self.baudrate)
        with contextlib.suppress(*PORT_ERRORS):
            port.reset_input_buffer()  # junk from before we owned the port is nobody's answer
        with self._cv:
            self._port, self._stopping = port, False
            self._urc_header = self._open_text = None
            self._reader = threading.Thread(target=self._read_loop, args=(port,), name=f"at-{self.name}",
                                            daemon=True)
            self._reader.start()

    def close(self) -> None:
        """Stop the reader, which closes the port as it ends; a command in flight fails with PortGone."""
        with self._cv:
            reader = self._reader
            self._stopping = True
            self._reader = self._port = None
            self._fail_pending(PortGone(f"{self.name}: port closed"))
        if reader is not None and reader is not threading.current_thread():
            reader.join(2.0)
            if reader.is_alive():
                log.warning("%s: reader still running after 2 s; it closes %s when it ends", self.name, self.path)

    # ---- commands ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the port across several commands (e.g. AT+CPMS then AT+CMGR) so no other thread interleaves."""
        with self._lock:
            yield

    def command(self, command: str, *, timeout: float | None = None, prefixes: tuple[str, ...] | None = None,
                bare: bool | None = None, call_results: bool = False) -> list[str]:
        """Run one AT command; returns its answer lines (without the final OK).

        Raises ModemCommandError on ERROR/+CME/+CMS (and NO CARRIER etc. when `call_results`), ModemTimeout, PortGone.
        """
        pend = _Pending(expect_for(command, prefixes=prefixes, bare=bare, call_results=call_results))
        with self._lock:
            self._begin(pend)
            try:
                self._write(command.encode("ascii", "strict") + b"\r")
                self._wait(pend, lambda: pend.done, timeout, f"no answer to {command!r}")
                return self._result(pend)
            finally:
                self._end(pend)

    def submit(self, command: str, payload: str, *, prompt_timeout: float | None = None,
               timeout: float | None = None) -> list[str]:
        """`command`, wait for the `> ` prompt (no newline follows it), write `payload` + Ctrl-Z, await the result;
        all one transaction. PromptTimeout (ESC sent, nothing submitted) or ModemTimeout (outcome unknown)."""
        expect = expect_for(command)
        expect = Expect(expect.command, expect.prefixes, False, echo=(payload,))
        pend = _Pending(expect, want_prompt=True)
        with self._lock:
            self._begin(pend)
            try:
                self._write(command.encode("ascii") + b"\r")
                try:
                    self._wait(pend, lambda: pend.prompted or pend.done, prompt_timeout, f"no prompt for {command!r}")
                except ModemTimeout as exc:
                    self._abort_prompt(pend)
                    raise PromptTimeout(str(exc)) from exc
                if not pend.prompted:  # an error instead of the prompt, or the port went: nothing was submitted
                    if pend.gone is not None:
                        self._cancel_text_entry()
                        raise PromptLost(f"{self.name}: {command!r} before the prompt: {pend.gone}") from pend.gone
                    return self._result(pend)
                self._write(payload.encode("ascii") + CTRL_Z)
                self._wait(pend, lambda: pend.done, timeout, f"no result for {command!r} (outcome unknown)")
                return self._result(pend)
            finally:
                self._end(pend)

    def cancel_prompt(self, reason: str) -> bool:
        """End a `submit()` that is still waiting for its prompt with PromptLost (nothing was submitted); True if
        there was one. A submission whose payload is already written is left to finish."""
        with self._cv:
            pend = self._pending
            if pend is None or not pend.want_prompt or pend.prompted or pend.done:
                return False
            pend.gone = NotSubmitted(reason)
            self._cv.notify_all()
            return True

    def write_raw(self, data: bytes) -> None:
        """Write bytes outside any command (ESC to cancel, a byte a probe wants); holds the command lock."""
        with self._lock:
            self._write(data)

    # ---- internals: the caller's side --------------------------------------------------------

    def _begin(self, pend: _Pending) -> None:
        with self._cv:
            if self._port is None or self._reader is None or not self._reader.is_alive():
                raise PortGone(f"{self.name}: port {self.path} is not open")
            self._pending = pend

    def _end(self, pend: _Pending) -> None:
        with self._cv:
            if self._pending is pend:
                self._pending = None

    def _write(self, data: bytes) -> None:
        with self._io:
            with self._cv:
                port = self._port
            if port is None:
                raise PortGone(f"{self.name}: port {self.path} is not open")
            log.debug("%s -> %r", self.name, data)
            try:
                port.write(data)
                port.flush()
            except serial.SerialTimeoutException as exc:
                raise ModemTimeout(f"{self.name}: write to {self.path} timed out") from exc
            except PORT_ERRORS as exc:
                raise PortGone(f"{self.name}: write to {self.path} failed: {exc}") from exc

    def _wait(self, pend: _Pending, ready: Callable[[], bool], timeout: float | None, what: str) -> None:
        limit = self.timeout if timeout is None else timeout
        with self._cv:
            if not self._cv.wait_for(ready, limit):
                raise ModemTimeout(f"{self.name}: {what} within {limit:g} s")

    def _result(self, pend: _Pending) -> list[str]:
        if pend.gone is not None:
            raise PortGone(f"{self.name}: {pend.gone}") from pend.gone
        final = pend.final
        assert final is not None
        if not final.ok:
            raise ModemCommandError(pend.expect.command, final.kind, final.code, final.text)
        return list(pend.lines)

    def _cancel_text_entry(self) -> None:
        """ESC, so a modem that is (or is about to be) waiting for the payload leaves text entry."""
        with self._cv:
            if self._port is None:
                return
        try:
            self._write(ESC)
        except ModemError as exc:
            log.info("%s: could not send ESC to cancel a submission: %s", self.name, exc)

    def _abort_prompt(self, pend: _Pending) -> None:
        try:
            self._write(ESC)
        except ModemError as exc:
            log.warning("%s: could not send ESC after a missing prompt: %s", self.name, exc)
            return
        # The modem may still answer the aborted command; let that answer land here, not on the next command.
        with self._cv:
            self._cv.wait_for(lambda: pend.done, 0.5)

    def _fail_pending(self, exc: BaseException) -> None:
        if self._pending is not None and not self._pending.done:
            self._pending.gone = exc
            self._cv.notify_all()

    # ---- internals: the reader thread --------------------------------------------------------

    def _read_loop(self, port: SerialPort) -> None:
        try:
            self._read_until_gone(port)
        finally:
            self._release(port)

    def _release(self, port: SerialPort) -> None:
        """Close `port` (the reader's last act), after any write in progress has returned."""
        with self._io:
            try:
                port.close()
            except PORT_ERRORS as exc:
                log.info("%s: closing %s: %s", self.name, self.path, exc)

    def _read_until_gone(self, port: SerialPort) -> None:
        buf = bytearray()
        while True:
            with self._cv:
                if self._stopping or self._port is not port:
                    return
            try:
                data = port.read(max(1, port.in_waiting))
            except PORT_ERRORS as exc:
                self._port_lost(port, exc)
                return
            if not data:
                continue
            self.last_rx = time.monotonic()
            buf += data
            for line in self._take_lines(buf):
                self._on_line(line)
            self._check_prompt(buf)

    def _port_lost(self, port: SerialPort, exc: BaseException) -> None:
        with self._cv:
            if self._stopping or self._port is not port:
                return
            self._port = None
            gone = PortGone(f"{self.name}: port {self.path} vanished: {exc}")
            gone.__cause__ = exc
            self._fail_pending(gone)
        log.warning("%s: %s", self.name, gone)
        try:
            self._on_gone(gone)
        except Exception:
            log.exception("%s: port-gone handler failed", self.name)

    @staticmethod
    def _take_lines(buf: bytearray) -> list[str]:
        """Cut complete lines off the front of `buf`; CR, LF and a stray Ctrl-Z all end a line."""
        lines: list[str] = []
        start = 0
        for i, b in enumerate(buf):
            if b in (0x0D, 0x0A, 0x1A):
                if i > start:
                    lines.append(bytes(buf[start:i]).decode("utf-8", "replace").strip())
                start = i + 1
        del buf[:start]
        return [ln for ln in lines if ln]

    def _check_prompt(self, buf: bytearray) -> None:
        if not buf.lstrip().startswith(b">"):
            return
        with self._cv:
            pend = self._pending
            if pend is not None and pend.want_prompt and not pend.prompted and not pend.done:
                pend.prompted = True
                buf.clear()
                self._cv.notify_all()

    def _on_line(self, line: str) -> None:
        log.debug("%s <- %r", self.name, line)
        urc: tuple[str, str | None] | None = None
        with self._cv:
            if self._urc_header is not None:
                urc, self._urc_header = (self._urc_header, line), None
            elif self._open_text is not None:
                self._open_text += "\n" + line
                if not p.ussd_is_open(self._open_text):
                    urc, self._open_text = (self._open_text, None), None
            else:
                urc = self._classify(line)
        if urc is not None:
            self._emit(*urc)

    def _classify(self, line: str) -> tuple[str, str | None] | None:
        pend = self._pending
        active = pend if pend is not None and not pend.done else None
        kind = classify(line, active.expect if active else None, data_line_due=bool(active and active.data_due))
        if kind == "final" and active is not None:
            active.final = p.parse_final(line, call_results=active.expect.call_results)
            self._cv.notify_all()
            return None
        if kind == "answer" and active is not None:
            active.lines.append(line)
            active.data_due = not active.data_due and line.startswith(DATA_HEADERS)
            return None
        if kind == "echo":
            return None
        if line in ("OK", "ERROR"):
            log.info("%s: stray %r with no command in flight (a late answer)", self.name, line)
            return None
        if line.startswith(TWO_LINE_URCS):
            self._urc_header = line
            return None
        if p.ussd_is_open(line):
            self._open_text = line
            return None
        return line, None

    def _emit(self, line: str, data: str | None) -> None:
        try:
            self._on_urc(line, data)
        except Exception:
            log.exception("%s: URC handler failed on %r", self.name, line)

