"""The call service: the registry of GSM calls, their states and history, and the OzML session of each call.

Threads: modem events arrive on the event bus's dispatcher and only update the registry (never an AT
command, never a network post). Each live call has one session thread (the IncomingCall or CallConnected
script), a PCM pump thread while its audio streams, and a control thread only while third-party commands
(HTTP Speak/Play/Record/SendDTMF, OzML answers to CallChanged) are running on it. Notifications are
posted in order from one queue (see _callnotify).

Decisions (ours):
- An incoming call goes to the API extension that lists its line (else the first that lists no lines).
  With no incoming-call URL configured for it, the call is refused without being answered (and logged).
- On GSM the network shows the SIM's own number: CallerId and CallerDisplayName of Call are kept in the
  history but cannot change what the callee sees.
- An outgoing call rings for RingTime seconds (120 by default, at most `max_ring_time`), then is cancelled.
- ListCallHistory's State is how the call ended (CallerHangUp, CalleeHungUp, TransferCompleted, Rejected,
  NoAnswer, Busy, Cancelled, Failed); its CallState the final call state (Completed, Busy, Cancelled, ...).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from pigate.config import ApiExtension, Config, NotificationsConfig
from pigate.errors import (ApiError, ApiExtensionUnavailable, CallConnectFailed, InvalidParameter, ModemCommandError,
                           ModemError, StoreError)
from pigate.events import Event, EventBus
from pigate.media import DiskCache, MediaLibrary, Tts, UrlCache
from pigate.notify import AddressPolicy, messages
from pigate.ozml.leg import COMPLETED, IN_CALL, RINGING
from pigate.ozml.runner import Runner
from pigate.services._callmodel import (CANCELLED, ERROR, FAILED, INBOUND, NO_ANSWER, OUTBOUND, ActiveCall, CallLine,
                                        CallRecord, CallSettings, connect_failure_state, new_call_id,
                                        outcome_before_answer)
from pigate.services._callcontrol import ThirdPartyControl
from pigate.services._callnotify import CallNotifications, Poster
from pigate.services._callregistry import CallRegistry, LiveCall
from pigate.services._callscripts import CallScriptServices, SmsSubmitter
from pigate.services._gsmaudio import PcmPump
from pigate.services._gsmleg import GsmLeg, LegMedia
from pigate.services._recording import RecordingShelf
from pigate.store import Database
from pigate.store.calls import CallStore, HistoryFilter, HistoryRow

log = logging.getLogger(__name__)

__all__ = ["ActiveCall", "CallLine", "CallService", "CallSettings", "HistoryFilter", "HistoryRow"]

_NUMBER = re.compile(r"^\+?[0-9*#]{1,40}$")
_END_REASONS = ("BUSY", "NO ANSWER", "NO CARRIER", "NO DIALTONE")
_LINE_DOWN = ("down", "recovering", "sim_missing", "sim_locked")


class CallService:
    def __init__(self, *, store: CallStore, lines: Sequence[CallLine], extensions: Sequence[ApiExtension],
                 notifications: NotificationsConfig, bus: EventBus, poster: Poster | None, tts: Tts | None,
                 library: MediaLibrary | None, recordings_dir: Path, public_url: Callable[[], str] = lambda: "",
                 sms: SmsSubmitter | None = None, settings: CallSettings = CallSettings(),
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store, self._bus, self._settings = store, bus, settings
        self._clock, self._monotonic = clock, monotonic
        self._lines = {line.name: line for line in lines}
        self._extensions = {e.id: e for e in extensions}
        self.shelf = RecordingShelf(directory=Path(recordings_dir), index=store, base_url=public_url, clock=clock)
        self._media = LegMedia(tts=tts, library=library, shelf=self.shelf,
                               max_record_seconds=settings.max_record_seconds)
        self._registry = CallRegistry(monotonic=monotonic, ring_quiet=settings.ring_quiet)
        self._notify = CallNotifications(poster=poster, extensions=self._extensions, defaults=notifications,
                                         on_script=lambda call_id, ozml: self.control.run_script(call_id, ozml))
        self.control = ThirdPartyControl(registry=self._registry, notify=self._notify, runner=self._runner,
                                         library=library)
        self.scripts = CallScriptServices(calls=self, sms=sms)
        self._sessions: set[threading.Thread] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._stopping = False

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._unsubscribe = [self._bus.subscribe("modem.call", self._on_call_event),
                             self._bus.subscribe("modem.state", self._on_line_state)]

    def stop(self) -> None:
        """Hang up every call, end every session, flush notifications. Stop this before the modems."""
        with self._registry.lock:
            self._stopping = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        lives = self._registry.all()
        for live in lives:
            if live.runner is not None:
                live.runner.cancel()
            live.leg.hangup()
        with self._registry.lock:
            sessions = list(self._sessions)
        for thread in sessions:
            thread.join(self._settings.stop_timeout)
        for live in lives:
            if live.control is not None:
                live.control.close(1.0)
        self._notify.close(self._settings.stop_timeout)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued notification has been posted (tests, shutdown)."""
        return self._notify.queue.idle(timeout)

    # ---- calls and their legs ------------------------------------------------------------------
    def _register(self, line: CallLine, **fields: str) -> LiveCall:
        """A new call on `line` (the caller holds the registry lock, so the line cannot be taken twice)."""
        call_id = new_call_id(lambda cid: self._registry.has(cid) or self._store.call_id_used(cid))
        record = CallRecord(id=call_id, line=line.name, start_time=self._clock(), created=self._monotonic(),
                            **fields)
        pump = PcmPump(path=line.audio_port, name=f"{line.name}-{call_id}") if line.audio_port else None
        leg = GsmLeg(call=record, observer=self, modem=line.modem, pump=pump, media=self._media,
                     monotonic=self._monotonic)
        live = LiveCall(record, line, leg)
        live.runner = self._runner(leg)
        self._registry.add(live)
        return live

    def _runner(self, leg: GsmLeg) -> Runner:
        record = leg.call

        def on_error(error: ApiError, call_id: str) -> None:
            self._notify.error(messages.error_from(error, call_id=call_id or record.id), self._notify.error_url(record))

        return Runner(leg=leg, services=self.scripts, fetch=self._notify.post_now, on_error=on_error,
                      api_extension=record.api_extension)

    def leg_of(self, call_id: str) -> GsmLeg:
        """The leg of a live call (third-party control); 601 when there is none."""
        return self._registry.find(call_id).leg

    def _extension_for_line(self, line: str) -> str:
        for ext in self._extensions.values():
            if line in ext.lines:
                return ext.id
        return next((ext.id for ext in self._extensions.values() if not ext.lines), "")

    # ---- what legs report (CallObserver) -------------------------------------------------------
    def leg_changed(self, call: CallRecord, state: str) -> None:
        snap = self._registry.change(call, state)
        if snap is not None:
            self._notify.call_changed(snap)

    def leg_ended(self, call: CallRecord, state: str, result: str, *, local: bool) -> None:
        live = self._registry.get(call.id)
        if live is not None:
            self._end(live, state, result, local=local)

    def _end(self, live: LiveCall, state: str, result: str, *, local: bool) -> None:
        """The end of a call, once: audio and keypad closed, history row, CallChanged, Error/FinishedUrl as due."""
        snap = self._registry.end(live, state, result, local=local)
        if snap is None:
            return
        live.progress.set()
        live.leg.close()
        if live.control is not None:
            live.control.close(0)
        try:
            self._store.add_history(self._history_row(snap))
        except StoreError:
            log.exception("call %s: history row not written", snap.id)
        log.info("call %s (%s %s -> %s) ended: %s/%s", snap.id, snap.direction, snap.source, snap.destination,
                 state, result)
        self._notify.call_changed(snap)
        # An outgoing call that never connected is an error for the app, unless the app itself hung it up.
        if snap.direction == OUTBOUND and snap.answered is None and not live.reported and not (
                local and result == CANCELLED):
            error = CallConnectFailed(snap.dialed, connect_failure_state(result))
            self._notify.error(messages.error_from(error, call_id=snap.id), self._notify.error_url(snap))
        if snap.answered is not None:
            self._notify.finished(snap)

    def _history_row(self, rec: CallRecord) -> HistoryRow:
        ended = rec.ended if rec.ended is not None else self._monotonic()
        return HistoryRow(call_id=rec.id, direction=rec.direction, source=rec.source, destination=rec.destination,
                          dialed=rec.dialed, caller_id=rec.caller_id, state=rec.state, result=rec.result,
                          start_time=rec.start_time, ring_duration=round(rec.ring_duration(ended), 3),
                          talk_duration=round(rec.talk_duration(ended), 3), line=rec.line,
                          api_extension=rec.api_extension, end_time=rec.start_time + ended - rec.created)

    # ---- modem events (dispatcher thread: no AT commands, no posts) ----------------------------
    def _on_call_event(self, event: Event) -> None:
        line = self._lines.get(str(event.data.get("name", "")))
        if line is None:
            return
        data = event.data
        if event.topic == "modem.call.ring":
            self._on_ring(line, str(data.get("number") or ""))
        elif event.topic == "modem.call.state":
            self._on_clcc(line, data)
        elif event.topic == "modem.call.dtmf":
            live = self._registry.on_line(line.name)
            if live is not None:
                live.leg.keypad.push(str(data["digit"]))
        elif event.topic == "modem.call.ended":
            self._on_ended(line, str(data.get("reason", "")))

    def _on_ring(self, line: CallLine, number: str) -> None:
        with self._registry.lock:
            # RING repeats while a call rings; and RINGs queued before the gateway ended a call are stale.
            if self._stopping or self._registry.busy(line.name) or self._registry.quiet(line.name):
                return
            ext = self._extension_for_line(line.name)
            live = self._register(line, direction=INBOUND, api_extension=ext, source=number, destination=ext,
                                  dialed=line.number, caller_id=number)
            snap = live.record.snapshot()
        log.info("call %s: %s calls line %s (API extension %s)", snap.id, number or "a withheld number",
                 line.name, ext)
        self._notify.call_changed(snap)
        self._start_session(live, self._incoming_session)

    def _on_clcc(self, line: CallLine, data: dict) -> None:
        live = self._registry.on_line(line.name)
        state = data.get("state")
        if live is None:
            if state == "disconnected":
                self._registry.confirmed_end(line.name)
            elif state == "incoming" and data.get("direction") == "in":
                self._on_ring(line, str(data.get("number") or ""))  # a modem that sends no +CLIP
            return
        live.saw_clcc = True
        rec = live.record
        if state == "active":
            self._answered_remote(live)
        elif state == "disconnected":
            if rec.direction == OUTBOUND and rec.answered is None:
                live.disconnected = True  # the session waits a moment for the reason (BUSY, NO ANSWER)
                live.progress.set()
            elif rec.answered is not None:
                self._end(live, COMPLETED, rec.hangup_result(local=False), local=False)
            else:
                self._end(live, CANCELLED, CANCELLED, local=False)

    def _answered_remote(self, live: LiveCall) -> None:
        if live.record.direction == OUTBOUND and live.record.state == RINGING:
            self.leg_changed(live.record, IN_CALL)
            live.progress.set()

    def _on_ended(self, line: CallLine, reason: str) -> None:
        live = self._registry.on_line(line.name)
        if live is None:
            self._registry.confirmed_end(line.name)
            return
        rec = live.record
        if rec.answered is not None:
            self._end(live, COMPLETED, rec.hangup_result(local=False), local=False)
        elif rec.direction == OUTBOUND:
            self._end(live, *outcome_before_answer(reason), local=False)
        else:
            self._end(live, CANCELLED, CANCELLED, local=False)  # the caller gave up before an answer

    def _on_line_state(self, event: Event) -> None:
        if event.data.get("state") not in _LINE_DOWN:
            return
        live = self._registry.on_line(str(event.data.get("name", "")))
        if live is not None:
            self._end(live, ERROR, FAILED, local=False)

    # ---- sessions (one thread per live call) ---------------------------------------------------
    def _start_session(self, live: LiveCall, body: Callable[[LiveCall], None]) -> None:
        thread = threading.Thread(target=self._session, args=(live, body), name=f"call-{live.record.id}",
                                  daemon=True)
        with self._registry.lock:
            self._sessions.add(thread)
        thread.start()

    def _session(self, live: LiveCall, body: Callable[[LiveCall], None]) -> None:
        failed = True
        try:
            body(live)
            failed = False
        except Exception:  # a bug must not leave the call up or kill the daemon
            log.exception("call %s: session failed", live.record.id)
        finally:
            if live.record.live:
                live.leg.fail() if failed else live.leg.hangup()
            with self._registry.lock:
                self._sessions.discard(threading.current_thread())

    def _incoming_session(self, live: LiveCall) -> None:
        rec = live.record
        url = self._notify.incoming_call_url(rec.api_extension)
        if not url:
            log.warning("call %s: no incoming_call_url for API extension %r; refusing the call from %s",
                        rec.id, rec.api_extension, rec.source or "a withheld number")
            live.leg.fail()
            return
        fields = messages.incoming_call(call_leg_id=rec.id, caller=rec.source, api_extension=rec.api_extension)
        assert live.runner is not None
        live.runner.run(context="IncomingCall", url=url, fields=fields)

    def _outbound_session(self, live: LiveCall) -> None:
        if not self._await_answer(live):
            return
        live.leg.connected()
        rec = live.record
        assert live.runner is not None
        if live.response_ozml:
            live.runner.run(context="CallConnected", ozml=live.response_ozml)
        else:
            fields = messages.call_connected(call_leg_id=rec.id, callee=rec.destination,
                                             api_extension=rec.api_extension)
            live.runner.run(context="CallConnected", url=live.url, fields=fields)

    def _await_answer(self, live: LiveCall) -> bool:
        """Wait until the callee answers (True), or the call fails or rings out (False, ended and recorded)."""
        rec, poll = live.record, self._settings.answer_poll
        deadline = self._monotonic() + live.ring_time
        last_poll = self._monotonic()
        while True:
            if not rec.live:
                return False
            if rec.answered is not None:
                return True
            if live.disconnected:
                end = self._monotonic() + self._settings.reason_wait
                while rec.live and self._monotonic() < end:
                    live.progress.wait(0.05)
                self._end(live, ERROR, FAILED, local=False)
                return False
            now = self._monotonic()
            if now >= deadline:
                self._end(live, CANCELLED, NO_ANSWER, local=True)
                self._modem_hangup(live)
                return False
            live.progress.wait(min(poll, deadline - now))
            live.progress.clear()
            if not live.saw_clcc and self._monotonic() - last_poll >= poll:
                last_poll = self._monotonic()
                self._poll_progress(live)

    def _poll_progress(self, live: LiveCall) -> None:
        try:
            calls = live.line.modem.list_calls()
        except ModemError as exc:
            log.warning("call %s: AT+CLCC failed: %s", live.record.id, exc)
            return
        ours = [c for c in calls if c.direction == "out"]
        if not ours:
            live.disconnected = True
        elif ours[0].state == "active":
            self._answered_remote(live)

    def _modem_hangup(self, live: LiveCall) -> None:
        try:
            live.line.modem.hangup()
        except ModemError as exc:
            log.warning("call %s: hang-up failed: %s", live.record.id, exc)

    # ---- the Call command ----------------------------------------------------------------------
    def call(self, dialed: str, *, api_extension: str, caller_id: str | None = None,
             caller_display_name: str | None = None, url: str | None = None, error_url: str | None = None,
             response_ozml: str | None = None, finished_url: str | None = None, ring_time: int | None = None) -> str:
        """Dial `dialed` from a free line of `api_extension`; returns the call id once the modem accepted the dial.

        401 for an unknown API extension, 302 for a number that cannot be dialed, 402 when no line is free or
        the modem refuses. What happens next (CallConnected and its script, or an Error notification for
        busy/no answer/failure) runs on the call's own session thread.
        """
        ext = self._extensions.get(api_extension)
        if ext is None:
            raise ApiExtensionUnavailable(api_extension)
        number = dialed.strip()
        if not _NUMBER.match(number):
            raise InvalidParameter("Dialed", "Call")
        ring = min(max(1, ring_time or self._settings.default_ring_time), self._settings.max_ring_time)
        with self._registry.lock:
            line = None if self._stopping else self._free_line(ext)
            if line is None:
                raise CallConnectFailed(number, "NoFreeLine")
            live = self._register(line, direction=OUTBOUND, api_extension=ext.id, source=ext.id, destination=number,
                                  dialed=number, caller_id=caller_id or ext.id, error_url=error_url or "",
                                  finished_url=finished_url or "")
            if caller_display_name:
                live.record.extra["CallerDisplayName"] = caller_display_name
            live.url, live.response_ozml, live.ring_time = url or "", response_ozml, float(ring)
            snap = live.record.snapshot()
        self._notify.call_changed(snap)
        try:
            line.modem.dial(number)
        except ModemError as exc:
            live.reported = True
            kind = exc.kind if isinstance(exc, ModemCommandError) else ""
            state, result = outcome_before_answer(kind) if kind in _END_REASONS else (ERROR, FAILED)
            self._end(live, state, result, local=False)
            raise CallConnectFailed(number, connect_failure_state(result)) from exc
        log.info("call %s: %s dials %s on line %s", snap.id, ext.id, number, line.name)
        self._start_session(live, self._outbound_session)
        return snap.id

    def _free_line(self, ext: ApiExtension) -> CallLine | None:
        for name in ext.lines or list(self._lines):
            line = self._lines.get(name)
            if line is not None and not self._registry.busy(name) and line.modem.state == "registered":
                return line
        return None

    # ---- reading -------------------------------------------------------------------------------
    def active_calls(self) -> list[ActiveCall]:
        now = self._monotonic()
        records = sorted((live.record.snapshot() for live in self._registry.all()), key=lambda r: r.created)
        return [ActiveCall(call_id=r.id, direction=r.direction, line=r.line, api_extension=r.api_extension,
                           source=r.source, caller_id=r.caller_id, destination=r.destination,
                           caller_dialed=r.dialed, callee_dialed=r.destination, start_time=r.start_time,
                           ring_duration=r.ring_duration(now), talk_duration=r.talk_duration(now), state=r.state)
                for r in records]

    def history(self, flt: HistoryFilter = HistoryFilter(), *, offset: int = 0,
                limit: int = 20) -> tuple[int, list[HistoryRow]]:
        return self._store.history(flt, offset=offset, limit=limit)

    def recording_path(self, name: str) -> Path | None:
        return self.shelf.path_of(name)


def from_config(*, config: Config, db: Database, bus: EventBus, modems: Mapping[str, Any], poster: Poster | None,
                sms: SmsSubmitter | None, public_url: Callable[[], str],
                settings: CallSettings | None = None) -> CallService:
    """The service for the configured lines (`modems`: line name -> pigate.modem.Modem, whose config names its
    PCM audio port) with espeak-ng, Play's content folder and URL cache, and recordings under the data directory."""
    data = Path(config.data_dir)
    n = config.notifications
    lines = [CallLine(m.name, m.number, modems[m.name], modems[m.name].config.audio_port)
             for m in config.modems if m.name in modems]
    content = Path(config.content_dir)
    content.mkdir(parents=True, exist_ok=True)
    library = MediaLibrary(content_dir=content,
                           urls=UrlCache(directory=data / "cache" / "audio-urls",
                                         policy=AddressPolicy(allow=tuple(n.allow), deny=tuple(n.deny))),
                           decoded=DiskCache(directory=data / "cache" / "audio-decoded", max_bytes=64 << 20))
    return CallService(store=CallStore(db=db), lines=lines, extensions=config.api_extensions, notifications=n,
                       bus=bus, poster=poster, tts=Tts(cache_dir=data / "cache" / "tts"), library=library,
                       recordings_dir=data / "recordings", public_url=public_url, sms=sms,
                       settings=settings or CallSettings())
