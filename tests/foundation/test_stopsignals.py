"""A stop signal ends the daemon's wait at whatever moment it lands (pigate.stopsignals)."""

from __future__ import annotations

import select
import signal
import subprocess
import sys

from tests.support import pigate_env

# The main thread enters and leaves its wait as fast as it can, so the signals land at every point of it:
# also while it holds whatever the wait holds. A handler that sets a threading.Event deadlocked here within
# the first signal in 10 of 10 tries (the process never answered again).
BUSY_WAITER = """
import signal
from pigate.stopsignals import StopSignals

with StopSignals() as stops:
    print("ready", flush=True)
    for _ in range(20):
        while (got := stops.wait(0)) is None:
            pass
        print(signal.Signals(got).name, flush=True)
"""


def _line(proc: subprocess.Popen, timeout: float = 10.0) -> str:
    """The child's next line, or "" when it printed none for `timeout` seconds (a hung child, not a slow one:
    it answers each signal in milliseconds)."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


def test_every_stop_signal_ends_a_wait_however_often_the_main_thread_enters_it():
    proc = subprocess.Popen([sys.executable, "-c", BUSY_WAITER], env=pigate_env(), stdout=subprocess.PIPE,
                            text=True, bufsize=0)
    try:
        assert _line(proc, 30) == "ready\n"
        for k in range(20):
            sig = signal.SIGINT if k % 2 else signal.SIGTERM
            proc.send_signal(sig)
            # The next signal only once this one was taken: two pending signals of one kind would be one.
            assert _line(proc) == f"{sig.name}\n", f"signal {k + 1} of 20 not taken"
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_a_signal_before_the_wait_is_kept_for_it_and_other_signals_do_not_end_it():
    code = """
import os, signal, time
from pigate.stopsignals import StopSignals

signal.signal(signal.SIGUSR1, lambda *_: print("usr1", flush=True))
with StopSignals() as stops:
    os.kill(os.getpid(), signal.SIGUSR1)
    print("usr1 wait", stops.wait(0.3), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # during start-up, say
    time.sleep(0.1)
    print("stop wait", signal.Signals(stops.wait(5)).name, flush=True)
print("after close", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
"""
    res = subprocess.run([sys.executable, "-c", code], env=pigate_env(), capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["usr1", "usr1 wait None", "stop wait SIGTERM", "after close True"]
