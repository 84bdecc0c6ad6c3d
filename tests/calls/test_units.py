"""The call service's parts on their own: ids, end-of-call rules, audio capture, the PCM pump on a real pty,
ordered task queues, recordings on disk, and the history in SQLite."""

from __future__ import annotations

import os
import threading
import time
import tty
import wave
from pathlib import Path

import pytest

from pigate.media.audio import Decoders, sniff
from pigate.ozml.leg import COMPLETED
from pigate.callstates import BUSY, CANCELLED, ERROR
from pigate.calls import (END_BUSY, END_FAILED, END_NO_ANSWER, END_REJECTED, INBOUND, OUTBOUND, Capture, CallRecord,
                          check_recording_name, gsm_end_reason, new_call_id, outcome_before_answer, save_recording)
from pigate.modem import PcmPump
from pigate.modem.pcm import FRAME_BYTES
from pigate.workers import TaskQueue
from pigate.errors import MediaError
from pigate.sim.audio import tone, voiced_seconds
from pigate.store import Database
from pigate.store.calls import CallStore, HistoryFilter, HistoryRow


def test_call_ids_are_short_ozeki_style_and_avoid_taken_ones():
    taken = {"aaaaa"}
    picks = iter("aaaaa" + "bbbbb")
    cid = new_call_id(taken.__contains__, choice=lambda alphabet: next(picks))
    assert cid == "bbbbb"
    ids = {new_call_id(lambda c: False) for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 5 and i.isalnum() for i in ids)


@pytest.mark.parametrize("word, reason, expected", [
    ("BUSY", END_BUSY, (BUSY, "Busy")), ("NO ANSWER", END_NO_ANSWER, (CANCELLED, "NoAnswer")),
    ("NO CARRIER", END_REJECTED, (ERROR, "Rejected")), ("NO DIALTONE", END_FAILED, (ERROR, "Failed")),
    ("", END_FAILED, (ERROR, "Failed"))])
def test_outgoing_failures_map_to_states_and_results(word, reason, expected):
    # The modem's final word -> the trunk contract's reason -> the call's state and history result.
    assert gsm_end_reason(word) == reason
    assert outcome_before_answer(reason) == expected


def test_who_hung_up_depends_on_direction():
    def rec(direction):
        return CallRecord(id="x", direction=direction, line="gsm1", api_extension="9999", source="a",
                          destination="b", dialed="b", caller_id="a", start_time=0.0, created=0.0)
    assert rec(INBOUND).hangup_result(local=True) == "CalleeHungUp"
    assert rec(INBOUND).hangup_result(local=False) == "CallerHangUp"
    assert rec(OUTBOUND).hangup_result(local=True) == "CallerHangUp"
    assert rec(OUTBOUND).hangup_result(local=False) == "CalleeHungUp"
    r = rec(INBOUND)
    r.answered, r.ended = 2.0, 5.5
    assert (r.ring_duration(9), r.talk_duration(9)) == (2.0, 3.5)


def test_capture_measures_sound_and_trailing_silence_across_odd_chunks():
    cap = Capture()
    data = tone(440, 0.5) + bytes(16000)      # 0.5 s of tone, then 1 s of silence
    for i in range(0, len(data), 333):        # chunk sizes that do not align with frames
        cap.feed(data[i:i + 333])
    assert cap.seconds == pytest.approx(1.5, abs=0.02)
    assert cap.voiced_seconds == pytest.approx(0.5, abs=0.04)
    assert cap.silent_tail_seconds == pytest.approx(1.0, abs=0.04)
    cap.feed(tone(440, 0.1))
    assert cap.silent_tail_seconds == 0


def test_recordings_are_wav_or_mp3_under_random_names(tmp_path):
    saved = save_recording(tone(440, 0.5), directory=tmp_path, format="wav")
    assert saved.path.parent == tmp_path and check_recording_name(saved.file_name) == saved.file_name
    with wave.open(str(saved.path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (8000, 1, 4000)
    decoders = Decoders()
    mp3 = save_recording(tone(440, 0.5), directory=tmp_path, format="mp3", decoders=decoders)
    if decoders.sox and "mp3" in decoders.sox_formats():
        assert mp3.format == "mp3" and sniff(mp3.path.read_bytes()) == "mp3"
    else:
        assert mp3.format == "wav"   # documented fallback without an MP3 encoder
    for bad in ("../pigate.db", "pigate.db", "x.wav", "0" * 32 + ".txt"):
        with pytest.raises(MediaError):
            check_recording_name(bad)


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def _drain(fd: int, seconds: float, *, echo: bytes = b"", marks: list | None = None) -> bytes:
    """Read what the pump writes for `seconds`, writing `echo` back as a modem does, 50 frames a second (after a
    late wake-up the frames it owes, at once). `marks` gets (time, bytes so far) after each read that got some."""
    got = bytearray()
    t0 = time.monotonic()
    echoed = 0
    while (now := time.monotonic()) < t0 + seconds:
        try:
            got += os.read(fd, 65536)
            if marks is not None:
                marks.append((time.monotonic(), len(got)))
        except BlockingIOError:
            pass
        if echo:
            due = int((now - t0) / 0.02) + 1
            os.write(fd, echo * (due - echoed))
            echoed = due
        time.sleep(0.02)
    return bytes(got)


def _frames_per_second(marks: list) -> float:
    """The pace the bytes arrived at, on the reader's own clock: whenever the reader woke, it found what had been
    written by then, so a late wake-up of the test thread does not change the figure (a 1 s count would)."""
    (t_first, n_first), (t_last, n_last) = marks[0], marks[-1]
    assert t_last - t_first > 0.5, marks
    return (n_last - n_first) / FRAME_BYTES / (t_last - t_first)


def test_pump_paces_frames_plays_in_order_and_captures(pty_pair):
    master, path = pty_pair
    pump = PcmPump(url=path, name="t")
    pump.start()
    try:
        captured = bytearray()
        pump.capture(captured.extend)
        first = pump.play(tone(300, 0.3))
        second = pump.play(tone(300, 0.2))
        marks: list = []
        out = _drain(master, 1.0, echo=bytes(range(256)) + bytes(64), marks=marks)
        assert first.done.is_set() and second.done.is_set() and not second.cancelled
        pace = _frames_per_second(marks)
        assert 45 <= pace <= 55, f"{pace:.1f} frames a second; the modem expects 50"
        assert voiced_seconds(out) == pytest.approx(0.5, abs=0.03)     # both playbacks, nothing else
        assert voiced_seconds(out[:5 * FRAME_BYTES]) > 0                # started at once
        assert out[-FRAME_BYTES:] == bytes(FRAME_BYTES)                 # silence when idle
        assert len(captured) >= 30 * FRAME_BYTES
        long = pump.play(tone(300, 5.0))
        time.sleep(0.1)
        long.cancel()
        _drain(master, 0.1)
        assert _drain(master, 0.2).count(b"\x00") > 0.95 * 10 * FRAME_BYTES, "cancelled audio kept playing"
    finally:
        pump.stop()
    assert not pump.running and pump.play(b"\x01\x02").cancelled
    pump.start()   # a pump serves one call: it does not come back
    assert not pump.running


def test_task_queue_runs_in_order_survives_errors_and_leaves_no_thread():
    queue = TaskQueue(name="calls-test-queue")
    seen: list[int] = []

    def boom() -> None:
        raise RuntimeError("a failing task")

    for i in range(5):
        queue.submit(lambda i=i: seen.append(i))
        if i == 2:
            queue.submit(boom)
    assert queue.idle(2)
    assert seen == [0, 1, 2, 3, 4]
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "calls-test-queue"]
    queue.close()
    assert queue.submit(lambda: seen.append(9)) is False


def _row(call_id: str, start: float, **kw) -> HistoryRow:
    base = dict(call_id=call_id, direction="Inbound", source="+1555", destination="9999", dialed="+1000",
                caller_id="+1555", state=COMPLETED, result="CallerHangUp", start_time=start, ring_duration=1.0,
                talk_duration=2.0, line="gsm1", api_extension="9999", end_time=start + 3)
    base.update(kw)
    return HistoryRow(**base)


def test_history_filters_and_pages_newest_first(tmp_path: Path):
    db = Database(path=tmp_path / "p.db")
    store = CallStore(db=db)
    store.add_history(_row("a", 100))
    store.add_history(_row("b", 200, direction="Outbound", source="9999", destination="+1777", state=BUSY,
                           result=BUSY))
    store.add_history(_row("c", 300))
    assert store.history(HistoryFilter(), offset=0, limit=2) == (3, [store.get_history("c"), store.get_history("b")])
    assert [r.call_id for r in store.history(HistoryFilter(), offset=2, limit=2)[1]] == ["a"]
    assert store.history(HistoryFilter(direction="outbound"), offset=0, limit=9)[0] == 1
    assert store.history(HistoryFilter(state="busy"), offset=0, limit=9)[1][0].call_id == "b"
    assert store.history(HistoryFilter(state="callerhangup"), offset=0, limit=9)[0] == 2
    assert store.history(HistoryFilter(since=150), offset=0, limit=9)[0] == 2
    assert store.history(HistoryFilter(destination="+1777", call_id="b"), offset=0, limit=9)[0] == 1
    assert store.call_id_used("a") and not store.call_id_used("z")
    assert db.version >= 3
    db.close()


def test_list_call_history_over_http(gateway):
    for i in range(3):
        gateway.store.add_history(_row(f"h{i}", time.time() - 100 + i, result="CallerHangUp" if i else "Busy"))
    page = gateway.api("ListCallHistory", RowsPerPage="2", PageNumber="0")
    assert page.find("TotalRecords") == "3"
    calls = page.root.findall("CallHistory/Call")
    assert [c.findtext("CallId") for c in calls] == ["h2", "h1"]
    assert [child.tag for child in calls[0]][:9] == ["StartTime", "Direction", "Source", "Destination", "State",
                                                      "Dialed", "CallerId", "Type", "CallId"]
    assert (calls[0].findtext("State"), calls[0].findtext("Type"), calls[0].findtext("CallState")) == (
        "CallerHangUp", "Audio", "Completed")
    assert gateway.api("GetCallHistory", State="Busy").find("TotalRecords") == "1"
    assert gateway.api("ListCallHistory", Type="Video").find("TotalRecords") == "0"
    assert gateway.api("ListCallHistory", From="yesterday").code == 302
    assert gateway.api("ListCallHistory", Direction="Sideways").code == 302
    assert gateway.api("ListCallHistory", RowsPerPage="0").code == 302


@pytest.mark.parametrize("direction, state, how, expected", [
    (INBOUND, "Ringing", "hangup", ("Cancelled", "Rejected")),
    (INBOUND, "Ringing", "reject", ("Busy", "Rejected")),
    (INBOUND, "Ringing", "fail", ("Error", "Rejected")),
    (OUTBOUND, "Ringing", "hangup", ("Cancelled", "Cancelled")),
    (OUTBOUND, "Ringing", "reject", ("Cancelled", "Cancelled")),
    (OUTBOUND, "Ringing", "fail", ("Error", "Failed")),
    (INBOUND, "InCall", "hangup", ("Completed", "CalleeHungUp")),
    (INBOUND, "Hold", "fail", ("Completed", "CalleeHungUp")),
    (OUTBOUND, "InCall", "reject", ("Completed", "CallerHangUp")),
])
def test_a_call_the_gateway_ends_is_completed_only_if_it_was_connected(direction, state, how, expected):
    from pigate.calls.model import local_end

    rec = CallRecord(id="x", direction=direction, line="gsm1", api_extension="9999", source="a", destination="b",
                     dialed="b", caller_id="a", start_time=0.0, created=0.0, state=state)
    assert local_end(rec, how) == expected
