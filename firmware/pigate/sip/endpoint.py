"""The pjsua2 endpoint: the only importer of pjsua2, its one owning thread, the work queue and the event thread.

pjsua2 aborts the process when a thread it does not know calls into it, so exactly one thread (started here)
creates the library (threadCnt=0, mainThreadOnly), pumps `libHandleEvents` and runs the work that other threads
post with `call()`/`submit()` (a Future each). Every pjsua2 callback arrives on that thread, is wrapped (an
exception is logged, never left to pjsua2, which would swallow it or answer 500) and hands user-visible work to a
second thread, the event thread, so that no caller's code ever runs on the pjsua2 thread.

The adapter classes (subclasses of pjsua2's Account, Call and AudioMediaPort) forward each callback to a plain
Python owner object in accounts.py, calls.py or media.py; those modules reach pjsua2's types as `endpoint.pj`.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import gc
import importlib
import logging
import queue
import sys
import threading
import time
import weakref
from types import SimpleNamespace
from typing import Any, Callable

from pigate.errors import SipError

log = logging.getLogger(__name__)
pjlog = logging.getLogger("pigate.sip.pjsua2")  # a logger is configuration, not state
PJ_LEVELS = {0: logging.ERROR, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

# Offered codecs, best first (pjsua2 ids are "name/rate/channels"); every other codec is disabled.
CODECS = ("PCMA/8000/1", "PCMU/8000/1", "G722/16000/1")
STOP_GRACE = 0.3  # seconds of event pumping after hanging up, so BYEs and un-REGISTERs leave


def load_pjsua2() -> Any:
    """The pjsua2 module, or SipError saying how to get it."""
    try:
        return importlib.import_module("pjsua2")
    except ImportError as exc:
        raise SipError("pjsua2 is not installed: run scripts/build-pjsua2 (make setup does it)") from exc


def available() -> bool:
    try:
        load_pjsua2()
    except SipError:
        return False
    return True


def _guarded(where: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        log.exception("sip: %s failed", where)
        return None


def _pj_objects(owner: Any) -> list[Any]:
    """The pjsua2 objects an adopted owner holds (its call, account or media)."""
    return [obj for name in ("pj_call", "pj_account", "pj_media") if (obj := getattr(owner, name, None)) is not None]


def destroy_now(obj: Any) -> None:
    """Delete a pjsua2 media object's C++ side now, while its Python side is still alive (pjsua2 thread).

    pjmedia's clock thread calls a media port's callbacks (a frame port's frames, a player's end of file) into
    Python. Left to garbage collection, the C++ object is deleted from inside the Python object's deallocation,
    with the GIL released: a callback that was waiting for the GIL at that moment then ran on the dying object
    and crashed the interpreter (a segfault in libpython as a call ended). Deleted here, a callback in flight
    finishes on a live object, pjsua2's destructor unhooks the port under the port's lock, and the Python
    object (disowned by the delete) is freed later with nothing left to delete."""
    type(obj).__swig_destroy__(obj)


def _make_adapters(pj: Any) -> SimpleNamespace:
    """Subclasses of pjsua2's classes whose callbacks forward, wrapped, to an owner object."""

    class Account(pj.Account):
        def __init__(self, owner: Any) -> None:
            super().__init__()
            self.owner = owner

        def onRegState(self, prm: Any) -> None:
            _guarded("onRegState", self.owner._on_reg_state, prm)

        def onIncomingCall(self, prm: Any) -> None:
            _guarded("onIncomingCall", self.owner._on_incoming_call, self, prm)

    class Call(pj.Call):
        def __init__(self, account: Any, call_id: int = pj.PJSUA_INVALID_ID, owner: Any = None) -> None:
            super().__init__(account, call_id)
            self.owner = owner

        def _forward(self, name: str, prm: Any) -> None:
            if self.owner is not None:
                _guarded(name, getattr(self.owner, "_" + name), prm)

        def onCallState(self, prm: Any) -> None:
            self._forward("on_state", prm)

        def onCallMediaState(self, prm: Any) -> None:
            self._forward("on_media_state", prm)

        def onDtmfDigit(self, prm: Any) -> None:
            self._forward("on_dtmf", prm)

        def onCallTransferRequest(self, prm: Any) -> None:
            self._forward("on_transfer_request", prm)

        def onCallTransferStatus(self, prm: Any) -> None:
            self._forward("on_transfer_status", prm)

        def onCallReplaceRequest(self, prm: Any) -> None:
            self._forward("on_replace_request", prm)

    class FramePort(pj.AudioMediaPort):
        # Called on pjmedia's clock thread: the owner only pushes/pops a bounded deque.
        def __init__(self, owner: Any) -> None:
            super().__init__()
            self.owner = owner

        def onFrameRequested(self, frame: Any) -> None:
            try:
                frame.buf.assign_from_bytes(self.owner._next_out())
                frame.size = len(frame.buf)
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            except Exception:
                log.exception("sip: onFrameRequested failed")

        def onFrameReceived(self, frame: Any) -> None:
            try:
                if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
                    data = bytearray(len(frame.buf))
                    frame.buf.copy_to_bytearray(data)
                    self.owner._received(bytes(data))
            except Exception:
                log.exception("sip: onFrameReceived failed")

    class Player(pj.AudioMediaPlayer):
        def __init__(self, owner: Any) -> None:
            super().__init__()
            self.owner = owner

        def onEof2(self) -> None:
            _guarded("onEof2", self.owner._on_eof)

    class LogWriter(pj.LogWriter):
        # pjsua2's own log lines, into Python logging (called from whichever pjsua2 thread logs).
        def write(self, entry: Any) -> None:
            try:
                level = PJ_LEVELS.get(entry.level, logging.DEBUG)
                pjlog.log(level, "%s", str(entry.msg).rstrip())
            except Exception:  # never into pjsua2
                pass

    return SimpleNamespace(Account=Account, Call=Call, FramePort=FramePort, Player=Player, LogWriter=LogWriter)


class Endpoint:
    """One pjsua2 endpoint on its own thread, listening on UDP and TCP at `listen`:`port`.

    `call(fn, *args)` runs `fn(*args)` on the pjsua2 thread and returns its result (or raises what it raised);
    `submit` returns the Future instead. `notify(fn, *args)` runs `fn` on the event thread, in order.
    Objects that hold pjsua2 objects register with `adopt(owner)`; `stop()` calls their `_pj_close()` (hang
    up, unregister), pumps events briefly, calls `_pj_drop()` (drop every pjsua2 reference) and only then
    destroys the library, which is what keeps the interpreter from aborting at exit.
    """

    def __init__(self, *, listen: str = "127.0.0.1", port: int = 5060, max_calls: int = 32,
                 user_agent: str = "pigate", log_level: int = 2, tcp: bool = True) -> None:
        self.listen, self.port, self.max_calls = listen, port, max_calls
        self.user_agent, self.log_level, self.tcp = user_agent, log_level, tcp
        self.pj: Any = None
        self.adapters: SimpleNamespace | None = None
        self.lib: Any = None  # the pj.Endpoint, used on the pjsua2 thread only
        self._work: queue.SimpleQueue[tuple[concurrent.futures.Future, Callable, tuple] | None] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[tuple[Callable, tuple] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._event_thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = False
        self._owners: list[Any] = []
        self._survivors: list[weakref.ref[Any]] = []  # pjsua2 objects something else still held at stop
        self.version = ""

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            return
        self._started.clear()
        self._stopping = False
        self.pj = load_pjsua2()
        self.adapters = _make_adapters(self.pj)
        self._event_thread = threading.Thread(target=self._run_events, name="sip-events", daemon=True)
        self._event_thread.start()
        self._thread = threading.Thread(target=self._run, name="sip-pjsua2", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise SipError(f"the SIP endpoint did not start within {timeout}s")
        if self._start_error is not None:
            self._thread.join(5)
            self._thread = None
            self._stop_event_thread()
            err, self._start_error = self._start_error, None
            raise SipError(f"the SIP endpoint could not start on {self.listen}:{self.port}: {err}") from err
        # An interpreter that exits with pjsua2 objects alive aborts; stopping first makes any exit clean.
        atexit.register(self.stop)
        log.info("sip: pjsua2 %s listening on %s:%d (udp%s), at most %d calls",
                 self.version, self.listen, self.port, ", tcp" if self.tcp else "", self.max_calls)

    def stop(self, timeout: float = 10.0) -> None:
        """Hang up, unregister, destroy the library; safe to call twice or after a failed start."""
        thread = self._thread
        if thread is None:
            return
        atexit.unregister(self.stop)
        if thread.is_alive():
            self._work.put(None)
            thread.join(timeout)
            if thread.is_alive():
                log.error("sip: the pjsua2 thread did not stop within %.0fs", timeout)
        self._thread = None
        self._stop_event_thread()

    def _stop_event_thread(self) -> None:
        if self._event_thread is not None:
            self._events.put(None)
            self._event_thread.join(5)
            self._event_thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._started.is_set() and not self._stopping

    # -- work from other threads ----------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if threading.current_thread() is self._thread:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller through the future
                fut.set_exception(exc)
            return fut
        if not self.running:
            fut.set_exception(SipError("the SIP endpoint is not running"))
            return fut
        self._work.put((fut, fn, args))
        return fut

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        try:
            return self.submit(fn, *args).result(timeout)
        except concurrent.futures.TimeoutError as exc:
            raise SipError(f"the SIP endpoint did not answer within {timeout}s") from exc

    def notify(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the event thread (never on the pjsua2 thread); exceptions are logged."""
        self._events.put((fn, args))

    def later(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the pjsua2 thread after the current callback returns."""
        if self._thread is not None:
            self._work.put((concurrent.futures.Future(), fn, args))

    def port_exists(self, slot: int) -> bool:
        """Whether conference slot `slot` is still in the bridge (pjsua2 thread)."""
        try:
            self.pj.AudioMedia.getPortInfoFromId(slot)
        except self.pj.Error:
            return False
        return True

    def adopt(self, owner: Any) -> None:
        """Track an object holding pjsua2 objects (it has `_pj_close()` and `_pj_drop()`); pjsua2 thread only."""
        self._owners.append(owner)

    def release(self, owner: Any) -> None:
        if owner in self._owners:
            self._owners.remove(owner)
        _guarded("release", owner._pj_drop)

    # -- the two threads ------------------------------------------------------------------------
    def _run_events(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            fn, args = item
            _guarded(getattr(fn, "__qualname__", "event"), fn, *args)

    def _run(self) -> None:
        pj = self.pj
        try:
            self._create()
        except Exception as exc:
            self._start_error = exc
            self._destroy()
            self._started.set()
            return
        self._started.set()
        while True:
            self.lib.libHandleEvents(10)
            if self._drain():
                break
        self._stopping = True
        self._shutdown()
        del pj

    def _drain(self) -> bool:
        """Run queued work; True when asked to stop."""
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller through the future
                fut.set_exception(exc)

    def _quiet_creation(self) -> None:
        """pjlib logs its creation to stdout at level 4 before any config applies; lower it first."""
        try:
            ctypes.CDLL(self.pj._pjsua2.__file__).pj_log_set_level(self.log_level)
        except (AttributeError, OSError):
            pass  # a build without exported symbols: a few lines on stdout, nothing worse

    def _create(self) -> None:
        pj = self.pj
        self._quiet_creation()
        lib = pj.Endpoint()
        self.lib = lib
        lib.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        # pjsua answers 486 by itself once its call slots are full, counting calls still being refused; the
        # driver's admission (503 beyond max_calls) must decide first, so pjsua keeps every slot it was built with
        # (PJSUA_MAX_CALLS; a larger number is cut down to it).
        cfg.uaConfig.maxCalls = max(cfg.uaConfig.maxCalls, self.max_calls)
        cfg.uaConfig.userAgent = self.user_agent
        cfg.logConfig.level = self.log_level
        cfg.logConfig.consoleLevel = self.log_level
        cfg.logConfig.decor = 0
        writer = self.adapters.LogWriter()
        writer.__disown__()  # libDestroy deletes the writer: it must belong to pjsua2, not to Python
        cfg.logConfig.writer = writer
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True
        lib.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = self.listen
        if self.listen not in ("0.0.0.0", "::"):  # a wildcard lets pjsip advertise the host's own address
            tcfg.publicAddress = self.listen
        tcfg.port = self.port
        lib.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        if self.tcp:
            lib.transportCreate(pj.PJSIP_TRANSPORT_TCP, tcfg)
        lib.audDevManager().setNullDev()
        for codec in lib.codecEnum2():
            rank = CODECS.index(codec.codecId) if codec.codecId in CODECS else -1
            lib.codecSetPriority(codec.codecId, 200 - rank if rank >= 0 else 0)
        lib.libStart()
        self.version = lib.libVersion().full

    def _shutdown(self) -> None:
        for owner in list(self._owners):
            _guarded("close", owner._pj_close)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline:
            self.lib.libHandleEvents(10)
        held = [weakref.ref(obj) for owner in self._owners for obj in _pj_objects(owner)]
        for owner in reversed(self._owners):  # calls (made last) before the ports they use
            _guarded("drop", owner._pj_drop)
        self._owners.clear()
        self._survivors = held
        # Work posted while stopping fails rather than hanging its caller.
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                break
            if item is not None and item[0].set_running_or_notify_cancel():
                item[0].set_exception(SipError("the SIP endpoint stopped"))
        self._destroy()

    def _destroy(self) -> None:
        lib, self.lib = self.lib, None
        # A traceback kept by the interpreter can hold a Call alive past libDestroy (an abort at exit).
        sys.last_traceback = sys.last_value = sys.last_type = None
        gc.collect()
        # Whatever still holds a pjsua2 object now (a log record's traceback, a test report) will let go of
        # it after libDestroy, and its C++ destructor would call into the destroyed library (an abort in
        # pjmedia_conf_remove_port). libDestroy frees what those objects stand for, so they are disowned:
        # letting go of them later frees the Python side only.
        for ref in self._survivors:
            obj = ref()
            if obj is not None:
                obj.this.disown()
                log.debug("sip: %s outlived the endpoint; disowned", type(obj).__name__)
        self._survivors = []
        if lib is not None:
            try:
                lib.libDestroy(self.pj.PJSUA_DESTROY_NO_RX_MSG)
            except Exception:
                log.exception("sip: libDestroy failed")
            del lib
        gc.collect()
