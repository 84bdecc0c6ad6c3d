"""A scripted modem on a raw pty pair: the far end the AT engine talks to in engine tests."""

from __future__ import annotations

import os
import select
import threading
import tty
from typing import Callable

Handler = Callable[["PtyPeer", str, bytes], None]


class PtyPeer:
    """Reads what the engine writes (split at CR and Ctrl-Z/ESC), calls `handler(peer, text, terminator)` per
    piece, and lets the handler answer with `send`. `received` keeps every piece in order."""

    def __init__(self, handler: Handler) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.handler = handler
        self.received: list[tuple[str, bytes]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pty-peer", daemon=True)
        self._thread.start()

    def send(self, text: str | bytes) -> None:
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def line(self, text: str) -> None:
        self.send(f"\r\n{text}\r\n")

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            buf += data
            while True:
                cut = [i for i in (buf.find(b"\r"), buf.find(b"\x1a"), buf.find(b"\x1b")) if i >= 0]
                if not cut:
                    break
                i = min(cut)
                text, term, buf = buf[:i].decode(), buf[i:i + 1], buf[i + 1:]
                self.received.append((text, term))
                try:
                    self.handler(self, text, term)
                except BaseException as exc:  # surfaced by the test through .errors
                    self.errors.append(exc)

    def vanish(self) -> None:
        """Close both ends, as a USB modem re-enumerating does."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(2)
        self._close_fds()

    def _close_fds(self) -> None:
        if not self._closed:
            self._closed = True
            for fd in (self.master, self.slave):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._close_fds()
