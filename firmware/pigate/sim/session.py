"""The byte side of a simulated AT port: echo, command lines, the `> ` text-entry mode, framing of answers."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

from pigate.errors import PortGone

from .pty import PtyPort

log = logging.getLogger(__name__)

CTRL_Z, ESC, BACKSPACE = 0x1A, 0x1B, 0x08

NUMERIC_FINALS = {"OK": "0", "CONNECT": "1", "RING": "2", "NO CARRIER": "3", "ERROR": "4", "NO DIALTONE": "6",
                  "BUSY": "7", "NO ANSWER": "8"}


@dataclass(frozen=True)
class LineIn:
    """A complete command line (terminated by CR)."""

    text: str


@dataclass(frozen=True)
class TextIn:
    """The text typed after `> `: `sent` is True for Ctrl-Z, False for ESC (abort)."""

    text: str
    sent: bool


@dataclass(frozen=True)
class TextNewline:
    """CR inside text entry: the modem answers with another `> ` prompt."""


Input = LineIn | TextIn | TextNewline


class LineReader:
    """Pure input framing. `feed(bytes)` yields complete inputs; `echo` holds what a modem with ATE1 echoes."""

    def __init__(self) -> None:
        self.text_mode = False
        self._buf = bytearray()
        self.echo = bytearray()

    def feed(self, data: bytes) -> Iterator[Input]:
        for b in data:
            if self.text_mode:
                yield from self._text_byte(b)
            else:
                yield from self._command_byte(b)

    def _command_byte(self, b: int) -> Iterator[Input]:
        if b in (CTRL_Z, ESC):
            self._buf.clear()  # hosts send these to leave a stale prompt; in command mode they mean nothing
            return
        if b == ord("\n") and not self._buf:
            return
        self.echo.append(b)
        if b == ord("\r"):
            line = self._buf.decode("latin-1").strip()
            self._buf.clear()
            if line:
                yield LineIn(line)
        elif b == BACKSPACE:
            if self._buf:
                self._buf.pop()
        else:
            self._buf.append(b)

    def _text_byte(self, b: int) -> Iterator[Input]:
        if b in (CTRL_Z, ESC):
            text = self._buf.decode("utf-8", errors="replace")
            self._buf.clear()
            self.text_mode = False
            yield TextIn(text, b == CTRL_Z)
            return
        self.echo.append(b)
        if b == ord("\r"):
            self._buf.extend(b"\n")
            yield TextNewline()
        elif b == ord("\n"):
            return
        elif b == BACKSPACE:
            if self._buf:
                self._buf.pop()
        else:
            self._buf.append(b)

    def take_echo(self) -> bytes:
        out = bytes(self.echo)
        self.echo.clear()
        return out


def frame_info(lines: list[str], verbose: bool) -> str:
    if not lines:
        return ""
    return ("\r\n" + "\r\n".join(lines) + "\r\n") if verbose else "".join(f"{ln}\r\n" for ln in lines)


def frame_final(final: str, verbose: bool) -> str:
    if verbose:
        return f"\r\n{final}\r\n"
    return f"{NUMERIC_FINALS.get(final, final)}\r"


class AtSession:
    """One thread reading the AT pty: echoes, hands complete inputs to `on_input`, writes what it returns.

    `on_input(input) -> (text, prompt)` returns the framed answer (possibly empty) and whether text entry
    (`> `) begins. While `deaf()` is true the session reads and discards everything (a frozen modem).
    """

    def __init__(self, *, port: PtyPort, on_input: Callable[[Input], tuple[str, bool]], echo: Callable[[], bool],
                 deaf: Callable[[], bool], name: str) -> None:
        self.port = port
        self.reader = LineReader()
        self._on_input = on_input
        self._echo = echo
        self._deaf = deaf
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.port.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def write(self, text: str) -> None:
        if text:
            self.port.write(text.encode("utf-8", errors="replace"))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(0.1)
            except PortGone:
                return
            if not data:
                continue
            if self._deaf():
                continue
            try:
                self._handle(data)
            except PortGone:
                return
            except Exception:
                # A bug in a handler must not kill the modem: answer ERROR as firmware would, and log it loudly.
                log.exception("simulated modem failed on input %r", data[:80])
                self.write(frame_final("ERROR", True))

    def _handle(self, data: bytes) -> None:
        for item in self.reader.feed(data):
            echo = self.reader.take_echo()
            if echo and self._echo():
                self.port.write(echo)
            text, prompt = self._on_input(item)
            if prompt:
                self.reader.text_mode = True
            self.write(text)
        echo = self.reader.take_echo()
        if echo and self._echo():
            self.port.write(echo)
