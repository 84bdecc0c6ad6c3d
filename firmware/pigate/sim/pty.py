"""A pseudo-terminal pair in raw mode, with a stable symlink that can vanish and come back (USB re-enumeration)."""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
import tty
from pathlib import Path

from pigate.errors import PortGone

log = logging.getLogger(__name__)


class PtyPort:
    """The simulator holds the master side; a client opens `path` (or `link`) like a serial device.

    The slave side stays open in the simulator too, so the master never sees EIO while no client is attached,
    and the client's termios settings persist between its opens, as a real tty's do.

    The file descriptors are used only under the locks and closed only by close(), which first wakes a waiting
    read() and then waits for it and for a write in progress: a read or write never touches a number that was
    closed and perhaps reused by another part of the process (another pty, a socket, the HTTP server's pipe).
    """

    def __init__(self, *, link: Path | None = None, write_timeout: float = 1.0) -> None:
        self.link = link
        self.write_timeout = write_timeout
        self.path = ""
        self._master = -1
        self._slave = -1
        self._wake_r = self._wake_w = -1  # a pipe that lets another thread end a waiting read() at once
        self._wlock = threading.Lock()  # writes, wake() and the fds' close
        self._rlock = threading.Lock()  # read() and the fds' close
        self._closing = False

    @property
    def is_open(self) -> bool:
        return self._master >= 0

    def open(self) -> str:
        """Open a new pair; its path always differs from the previous one, as a re-enumerated device's may."""
        master, slave = os.openpty()
        if self.path and os.ttyname(slave) == self.path:
            # The kernel reuses a freed pty number; take the next one so a stale path stays stale.
            again = os.openpty()
            os.close(master)
            os.close(slave)
            master, slave = again
        tty.setraw(slave)
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        with self._rlock, self._wlock:
            self._wake_r, self._wake_w = wake_r, wake_w
            self._master, self._slave = master, slave
            self._closing = False
        self.path = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link)  # atomic: the link never points nowhere while it exists
        return self.path

    def close(self) -> None:
        if self.link is not None and self.link.is_symlink() and os.readlink(self.link) == self.path:
            self.link.unlink()
        with self._wlock:
            self._closing = True  # a read() now returns at once, so the close does not wait on it
        self.wake()
        with self._rlock, self._wlock:
            master, slave = self._master, self._slave
            wake_r, wake_w = self._wake_r, self._wake_w
            self._master = self._slave = self._wake_r = self._wake_w = -1
            for fd in (master, slave, wake_r, wake_w):
                if fd >= 0:
                    os.close(fd)

    def wake(self) -> None:
        """Make a read() that is waiting in another thread return now."""
        with self._wlock:
            if self._wake_w >= 0:
                try:
                    os.write(self._wake_w, b"x")
                except BlockingIOError:
                    pass  # the pipe is full of wake-ups already

    def write(self, data: bytes) -> int:
        """Write all of `data` unless the client stops reading for `write_timeout`; returns bytes written."""
        with self._wlock:
            if self._master < 0:
                raise PortGone(f"{self.path or 'pty'} is closed")
            return self._write_locked(data)

    def write_nowait(self, data: bytes) -> int:
        """Write what fits without waiting (audio frames: a real modem drops what the host does not take)."""
        with self._wlock:
            if self._master < 0:
                raise PortGone(f"{self.path or 'pty'} is closed")
            try:
                return os.write(self._master, data)
            except BlockingIOError:
                return 0

    def _write_locked(self, data: bytes) -> int:
        done = 0
        view = memoryview(data)
        while done < len(data):
            try:
                done += os.write(self._master, view[done:])
            except BlockingIOError:
                _, w, _ = select.select([], [self._master], [], self.write_timeout)
                if not w:
                    log.warning("%s: client not reading; dropped %d bytes", self.path, len(data) - done)
                    return done
        return done

    def read(self, timeout: float) -> bytes:
        """What the client wrote (b'' when nothing came within `timeout`, or wake() was called)."""
        with self._rlock:
            fd, wake = self._master, self._wake_r
            if fd < 0 or self._closing:
                raise PortGone(f"{self.path or 'pty'} is closed")
            r, _, _ = select.select([fd, wake], [], [], timeout)
            if wake in r:
                os.read(wake, 512)  # the wake-ups are consumed, so the next read waits again
                return b""
            if not r:
                return b""
            try:
                return os.read(fd, 4096)
            except BlockingIOError:
                return b""
            except OSError as exc:
                if exc.errno == errno.EIO:
                    raise PortGone(f"{self.path} closed") from exc
                raise
