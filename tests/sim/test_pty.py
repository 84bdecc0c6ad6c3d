"""The simulator's pty: a read in progress and a close from another thread never touch a recycled fd number."""

from __future__ import annotations

import os
import select as real_select
import threading
import time

import pytest

from pigate.errors import PortGone
from pigate.sim import pty as pty_module
from pigate.sim.pty import PtyPort


def test_a_close_during_a_read_never_lets_the_read_take_another_files_data(monkeypatch):
    """A thread is about to wait in read() when another closes the port and the process at once opens a pipe
    that gets the freed numbers (the kernel hands out the lowest free fd). The read must not wait on or read
    from that pipe: its bytes belong to someone else (in the daemon: the HTTP server's wake-up pipe, a socket)."""
    port = PtyPort()
    port.open()
    in_select = threading.Event()
    release = threading.Event()

    class StallingSelect:
        """The reader is preempted between taking its fds and waiting on them (what a loaded machine does)."""

        @staticmethod
        def select(rlist, wlist, xlist, timeout=None):
            if threading.current_thread().name == "reader" and not in_select.is_set():
                in_select.set()
                release.wait(2.0)
            return real_select.select(rlist, wlist, xlist, timeout)

    monkeypatch.setattr(pty_module, "select", StallingSelect)
    got: list[object] = []

    def reader() -> None:
        try:
            got.append(port.read(1.0))
        except PortGone as exc:
            got.append(exc)

    master_no, wake_no = port._master, port._wake_r  # the numbers the read is about to wait on
    theirs_r, theirs_w = os.pipe()
    quiet_r, quiet_w = os.pipe()
    os.write(theirs_w, b"someone else's bytes")
    t = threading.Thread(target=reader, name="reader")
    t.start()
    assert in_select.wait(2.0)
    closer = threading.Thread(target=port.close, name="closer")
    closer.start()
    closer.join(0.3)  # a close that does not wait for the read is done by now
    try:
        if not closer.is_alive():
            # The numbers are free again: another part of the process gets them (dup2 makes that certain).
            os.dup2(theirs_r, master_no)
            os.dup2(quiet_w, wake_no)  # a write end: never readable
        release.set()
        t.join(3.0)
        closer.join(3.0)
        assert not t.is_alive() and not closer.is_alive()
        assert got == [b""] or isinstance(got[0], PortGone), got
        assert os.read(theirs_r, 100) == b"someone else's bytes", "the pty's read took another file's data"
    finally:
        for fd in (theirs_r, theirs_w, quiet_r, quiet_w):
            os.close(fd)
        if not closer.is_alive() and got and got[0] != b"" and not isinstance(got[0], PortGone):
            for fd in (master_no, wake_no):  # the dup2 copies, in the failing case
                try:
                    os.close(fd)
                except OSError:
                    pass
    assert not port.is_open
    with pytest.raises(PortGone):
        port.read(0)


def test_wake_ends_a_waiting_read_and_the_next_read_waits_again():
    port = PtyPort()
    port.open()
    try:
        got: list[bytes] = []
        t = threading.Thread(target=lambda: got.append(port.read(5.0)))
        t.start()
        port.wake()
        t.join(2.0)
        assert got == [b""]
        t0 = time.monotonic()
        assert port.read(0.2) == b""
        assert time.monotonic() - t0 >= 0.15  # the wake-up was consumed, not left to spin every later read
    finally:
        port.close()
