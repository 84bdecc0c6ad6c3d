"""No standing backlog between two 20 ms clocks: a bridge Stream whose producer caught up after a stall comes back
to one frame of delay within a second, while jitter shorter than that loses nothing."""

from __future__ import annotations

from pigate.backlog import WINDOW, BacklogTrim
from pigate.calls.bridge import Stream
from pigate.modem.pcm import FRAME_BYTES


def frame(n: int) -> bytes:
    return bytes([n % 256]) * FRAME_BYTES


def test_a_stall_burst_is_dropped_within_two_windows_and_the_delay_comes_back_to_one_frame():
    s = Stream(depth=10)
    n = 0
    for _ in range(3):          # steady: one in, one out
        s.feed(frame(n)); n += 1
        s.next_frame()
    for _ in range(6):          # the producer was late and catches up: 6 frames at once
        s.feed(frame(n)); n += 1
    delays = []
    for tick in range(3 * WINDOW):
        s.feed(frame(n)); n += 1
        out = s.next_frame()
        delays.append(n - 1 - out[0])  # frames between the newest fed and the one played
    assert delays[0] == 6 and max(delays[2 * WINDOW:]) == 0, delays  # the window the stall fell in, then one more
    assert s.dropped == 6 and s.underruns == 0


def test_jitter_shorter_than_a_window_is_absorbed_without_dropping():
    trim = BacklogTrim()
    queued = [1, 3, 2, 1, 0, 1] * 20  # a producer a frame or two ahead at times, and behind once
    assert sum(trim.excess(q) for q in queued) == 0 and trim.dropped == 0
    fresh = BacklogTrim()
    assert [fresh.excess(2) for _ in range(WINDOW)][-1] == 1  # two frames queued through a whole window: one goes
