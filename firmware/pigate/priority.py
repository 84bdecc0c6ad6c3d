"""The OS priority of the daemon's threads: call audio above everything, password hashing below everything.

A Python process shares one interpreter lock, so a thread that must keep time (the PCM pump, a frame every
20 ms) suffers from any CPU the process's other threads lose to the rest of the machine. The pump asks for a
real-time slot; PBKDF2 runs on a short-lived thread at nice +10, so a flood of guesses uses idle CPU first.
Linux applies both per thread (the native thread id); elsewhere, or without permission, threads stay as they are.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable, TypeVar

log = logging.getLogger(__name__)

REALTIME_PRIORITY = 10  # SCHED_RR, low among real-time threads (audio servers use about the same)
BACKGROUND_NICE = 10
T = TypeVar("T")


def raise_current_thread() -> str:
    """Round-robin real time when allowed (root, CAP_SYS_NICE or LimitRTPRIO), else nice -10; what it got."""
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
        return "real-time"
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, tid, -10)
        return "nice -10"
    except (OSError, AttributeError):
        return "normal"


def in_background(fn: Callable[[], T], *, name: str) -> T:
    """`fn()` on a thread of its own at nice +10 (lowering needs no permission), waited for; its result or error."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        except (OSError, AttributeError) as exc:
            log.debug("%s: runs at normal priority: %s", name, exc)
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]
