"""Audio queued between two 20 ms clocks (a pump and pjmedia, two pumps): jitter is absorbed, standing backlog is not.

Producer and consumer run at the same rate, so whatever a stall piles up (a producer that catches up after it
was late writes several frames at once) would stay queued for the rest of the call, as latency: with a bridge's
200 ms of buffer, a bridged call was measured to drift from 45 to 210 ms within seconds on a busy machine.
The rule: frames that stayed queued through a whole window of takes (0.5 s) are latency, not jitter; all but
`keep` of them are dropped at the window's end, so the delay comes back down within a second of a stall.
"""

from __future__ import annotations

WINDOW = 25  # takes: 0.5 s of 20 ms frames


class BacklogTrim:
    """Tells the consumer of a frame queue how many frames to drop. Not thread-safe: call it where the frames are
    taken (under the queue's lock, or from its only consumer)."""

    def __init__(self, *, window: int = WINDOW, keep: int = 1) -> None:
        self.window, self.keep = window, keep
        self._low: int | None = None
        self._takes = 0
        self.dropped = 0

    def excess(self, queued: int) -> int:
        """Call once per take with the frames queued just before it; the number to drop from the head now."""
        self._low = queued if self._low is None else min(self._low, queued)
        self._takes += 1
        if self._takes < self.window:
            return 0
        excess = max(0, self._low - self.keep)
        self._low, self._takes = None, 0
        self.dropped += excess
        return excess
