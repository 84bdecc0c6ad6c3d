"""The endpoint's life: start, stop with live calls, a second start in one process, a busy port, a clean exit."""

from __future__ import annotations

import socket
import subprocess
import sys
import logging
import queue
import textwrap
import threading

import pytest

from pigate.config import SipPeer
from pigate.errors import SipError
from pigate.sip import Answered, Ended
from tests.sip.conftest import free_sip_port
from tests.sip.test_calls import Events, _start
from tests.support import ROOT, pigate_env


def test_work_from_any_thread_runs_on_the_pjsua2_thread_and_errors_come_back(gateway):
    gw = gateway()
    ep = gw.endpoint
    names = []
    threads = [threading.Thread(target=lambda: names.append(ep.call(lambda: threading.current_thread().name)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert names == ["sip-pjsua2"] * 8
    with pytest.raises(ZeroDivisionError):
        ep.call(lambda: 1 / 0)
    assert ep.running  # an exception in posted work does not stop the thread


def test_stop_hangs_up_live_calls_the_peer_sees_the_bye_and_a_new_endpoint_starts_after(gateway, peer_factory):
    incoming: queue.Queue = queue.Queue()

    def on_incoming(call):
        incoming.put(call)
        call.answer()

    gw, peer = _start(gateway, peer_factory, on_incoming)
    peer.command("dial", target="1")
    call = incoming.get(timeout=10)
    events = Events()
    call.listen(events)
    events.wait(Answered)
    gw.stop()
    peer.expect("Ended")
    assert call.ended and not gw.endpoint.running
    with pytest.raises(SipError, match="not running"):
        gw.dial("1", trunk="p1")
    # The same process can host a new endpoint once the old one is gone.
    again = gateway(on_incoming=on_incoming, peers=[SipPeer(name="p1", address=f"127.0.0.1:{peer.port}")])
    call2 = again.dial("2", trunk="p1", listener=events)
    events.wait(Answered)
    call2.hangup()
    assert events.wait(Ended).call is call2


def test_a_port_in_use_fails_the_start_with_a_clear_error(gateway):
    port = free_sip_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))
        with pytest.raises(SipError, match=f"could not start on 127.0.0.1:{port}"):
            gateway(port=port)
    gw = gateway(port=port)  # and the process is fine for the next one
    assert gw.endpoint.running


@pytest.mark.parametrize("stop", ["d.stop()", "pass"])
def test_a_process_that_exits_with_a_call_up_does_not_abort(peer_factory, stop):
    """pjsua2 aborts an interpreter that exits with a Call alive (even one held by a traceback): stopping
    the driver, or just exiting (the endpoint stops itself at exit), ends the process cleanly."""
    peer = _answered_in_a_child(peer_factory, """
        import sys
        try:
            raise RuntimeError("a failure with the call in its traceback")
        except RuntimeError:
            sys.last_traceback = sys.exc_info()[2]
        {stop}
    """.format(stop=stop))
    peer.expect("Ended")


def test_starting_twice_and_stopping_twice_are_harmless(gateway):
    gw = gateway()
    gw.endpoint.start()
    gw.stop()
    gw.stop()
    assert not gw.endpoint.running


def test_options_are_answered_200_so_a_load_balancer_can_probe_the_box(gateway):
    gw = gateway()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        me = s.getsockname()[1]
        s.sendto((f"OPTIONS sip:pigate@127.0.0.1:{gw.endpoint.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-probe1\r\n"
                  "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:pigate@127.0.0.1>\r\nCall-ID: probe-1\r\n"
                  "CSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", gw.endpoint.port))
        reply = s.recv(4096).decode()
    assert reply.startswith("SIP/2.0 200 ")
    allow = reply.split("\r\nAllow:", 1)[1].split("\r\n", 1)[0]
    assert "INVITE" in allow and "BYE" in allow


def test_a_stopped_driver_starts_again_with_its_trunks(gateway, peer_factory):
    incoming: queue.Queue = queue.Queue()

    def on_incoming(call):
        incoming.put(call)
        call.answer()

    gw, peer = _start(gateway, peer_factory, on_incoming)
    gw.stop()
    gw.start()
    peer.command("dial", target="7")
    assert incoming.get(timeout=10).trunk == "p1"
    peer.expect("Answered")


def test_pjsua2s_own_errors_reach_the_python_log(gateway, tmp_path, caplog):
    gw = gateway()
    with caplog.at_level(logging.WARNING, logger="pigate.sip"):
        with pytest.raises(SipError, match="cannot play"):
            gw.player(tmp_path / "missing.wav")
    assert any(r.name == "pigate.sip.pjsua2" and "missing.wav" in r.getMessage() for r in caplog.records)


def test_pjsua2_objects_kept_past_stop_are_let_go_without_an_abort(peer_factory, tmp_path):
    """Something outside the driver (a log record's traceback kept by a log handler, a test report) can
    hold a port, player, recorder or call past stop(); letting go of it later must not call into the
    destroyed library (pjmedia_conf_remove_port's assertion aborted whole test runs)."""
    wav = tmp_path / "tone.wav"
    wav.write_bytes(_tone_wav())
    _answered_in_a_child(peer_factory, f"""
        import gc
        port, player = d.frame_port("kept"), d.player({str(wav)!r}, loop=True)
        recorder = d.recorder({str(tmp_path / "rec.wav")!r})
        for media in (port, player, recorder):
            call.connect(media)
        kept = [call.pj_call, port.pj_media, player.pj_media, recorder.pj_media]
        d.stop()
        del kept
        gc.collect()
    """)


def test_frame_ports_closed_while_pjmedias_clock_calls_them_never_crash_the_process():
    """pjmedia's clock thread calls a frame port every 20 ms; a port closed while that thread waited for the GIL
    inside a callback used to be freed under it (a segfault in libpython as a call ended: the daemon died in a
    stress run). Another thread keeps the GIL busy here, so the clock thread often waits for it; 300 ports are
    connected, fed for a tick or so and closed. Before the fix the child segfaulted every time."""
    script = textwrap.dedent(f"""
        import threading, time
        from pigate.sip import SipDriver
        d = SipDriver(port={free_sip_port()})
        d.start()
        busy = threading.Event()
        def hog():
            while not busy.is_set():
                sum(range(1000))
        threading.Thread(target=hog, daemon=True).start()
        sink = d.frame_port("sink")
        for i in range(300):
            port = d.frame_port(f"p{{i}}")
            d.endpoint.call(lambda: port.pj_media.startTransmit(sink.pj_media))
            time.sleep(0.02)
            port.close()
        busy.set()
        d.stop()
        print("stopped", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], env=pigate_env(), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert done.stdout.strip() == "stopped"


def _answered_in_a_child(peer_factory, then: str):
    """Run `then` in a child process whose driver `d` has answered the peer's call `call`; the child must
    end cleanly (exit 0, no pjsua2 assertion). Returns the peer."""
    gw_port = free_sip_port()
    peer = peer_factory(gateway_port=gw_port)
    script = textwrap.dedent(f"""
        import queue
        from pigate.config import SipPeer
        from pigate.sip import SipDriver
        got = queue.Queue()
        def on_incoming(call):
            call.answer(); got.put(call)
        d = SipDriver(port={gw_port}, peers=[SipPeer(name="p1", address="127.0.0.1:{peer.port}")],
                      on_incoming=on_incoming)
        d.start()
        print("up", flush=True)
        call = got.get(timeout=10)
    """) + textwrap.dedent(then) + 'print("stopped", flush=True)\n'
    proc = subprocess.Popen([sys.executable, "-c", script], env=pigate_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "up":
        proc.kill()
        out, err = proc.communicate(timeout=20)
        pytest.fail(f"the child's driver did not start (exit {proc.returncode}):\n{out}\n{err}")
    peer.command("dial", target="9")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.strip() == "stopped"
    assert "Assertion" not in err and "Aborted" not in err
    return peer


def _tone_wav() -> bytes:
    import io, math, struct, wave
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                               for i in range(8000)))
    return buf.getvalue()
