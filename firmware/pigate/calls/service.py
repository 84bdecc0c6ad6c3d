"""The call service: the registry of calls on every trunk, their states and history, and each call's OzML session.

It knows no AT and no SIP: trunks (calls/trunks/, the contract in contract.py) report typed call events and
hand out legs; the service owns ids, states, history, notifications, scripts and third-party control.

Threads: trunk events arrive on the trunk's thread (the GSM trunk: the event bus's dispatcher) and only update
the registry (never telephony, never a network post). Each live call has one session thread (the IncomingCall
or CallConnected script), its trunk's audio thread while audio streams, and a control thread only while
third-party commands (HTTP Speak/Play/Record/SendDTMF, OzML answers to CallChanged) are running on it.
Notifications are posted in order from one queue (see notify.py).

Decisions (ours):
- An incoming call goes to its line's API extension (pigate.routing: the one rule SMS uses too).
  With no incoming-call URL configured for it, the call is refused without being answered (and logged).
- On GSM the network shows the SIM's own number: CallerId and CallerDisplayName of Call are kept in the
  history but cannot change what the callee sees.
- An outgoing call rings for RingTime seconds (120 by default, at most `max_ring_time`), then is cancelled.
- ListCallHistory's State is how the call ended (CallerHangUp, CalleeHungUp, TransferCompleted, Rejected,
  NoAnswer, Busy, Cancelled, Failed); its CallState the final call state (Completed, Busy, Cancelled, ...).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from pigate.callstates import (ANSWERED_RESULTS, BUSY, CANCELLED, IN_CALL, NO_ANSWER, NO_FREE_LINE, REJECTED,
                              RINGING)
from pigate.config import ApiExtension, Config, NotificationsConfig
from pigate.errors import (ApiError, ApiExtensionUnavailable, CallConnectFailed, DialFailed, InvalidParameter, PigateError,
                           StoreError)
from pigate.events import EventBus
from pigate.media import DiskCache, MediaLibrary, Tts, UrlCache
from pigate.notify import AddressPolicy, messages
from pigate.numbers import is_dialable
from pigate.ozml.runner import Runner
from pigate.ozml.services import CallFate, ScriptExtras
from pigate.routing import Routing
from pigate.store import Database
from pigate.store.calls import CallStore, HistoryFilter, HistoryRow

from .control import ThirdPartyControl
from .leg import ServiceLeg
from . import bridge
from .media import LegMedia
from .model import (END_BUSY, END_FAILED, END_NO_ANSWER, END_REJECTED, INBOUND, OUTBOUND, ActiveCall, CallMedia,
                    CallRecord, CallSettings, connect_failure_state, new_call_id, outcome_before_answer, remote_end)
from .notify import CallNotifications, Poster
from .recording import RecordingShelf
from .registry import CallRegistry, LiveCall
from .routing import API, GSM, REFUSE, SIP, DialPlan, Route
from .scripts import CallScriptServices, SmsSubmitter
from .trunks.contract import Answered, CallEvent, Digit, Ended, Incoming, Ringing, Trunk, TrunkLine
from .trunks.gsm import GsmLine, GsmTrunk

if TYPE_CHECKING:
    from pigate.sip import SipDriver

log = logging.getLogger(__name__)

__all__ = ["ActiveCall", "CallService", "CallSettings", "HistoryFilter", "HistoryRow"]


class CallService:
    def __init__(self, *, store: CallStore, trunks: Sequence[Trunk], extensions: Sequence[ApiExtension],
                 notifications: NotificationsConfig, poster: Poster | None, media: LegMedia,
                 sms: SmsSubmitter | None = None, settings: CallSettings = CallSettings(),
                 bus: EventBus | None = None, extras: ScriptExtras = ScriptExtras(),
                 plan: DialPlan | None = None, default_lines: Sequence[str] | None = None,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store, self._settings, self._extras = store, settings, extras
        self._bus = bus  # only to tell what a call's far end hears (CallMedia); calls' own events are the trunks'
        self._clock, self._monotonic = clock, monotonic
        self._trunks = list(trunks)
        self._lines: dict[str, tuple[Trunk, TrunkLine]] = {line.name: (trunk, line) for trunk in self._trunks
                                                           for line in trunk.lines}
        self._routing = Routing(extensions=extensions, defaults=notifications)
        self._plan = plan
        # The lines the Call command uses for an API extension that lists none (the GSM lines; default: all).
        self._default_lines = list(default_lines) if default_lines is not None else list(self._lines)
        self._media = media
        self.shelf: RecordingShelf = media.shelf
        self._registry = CallRegistry(monotonic=monotonic)
        self._notify = CallNotifications(poster=poster, routing=self._routing,
                                         on_script=lambda call_id, ozml: self.control.run_script(call_id, ozml))
        self.control = ThirdPartyControl(registry=self._registry, notify=self._notify, runner=self._runner,
                                         library=media.library)
        self.scripts = CallScriptServices(calls=self, sms=sms)
        self._sessions: set[threading.Thread] = set()
        self._stopping = False

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        for trunk in self._trunks:
            trunk.start(self._reporter(trunk))

    def _reporter(self, trunk: Trunk) -> Callable[[CallEvent], None]:
        return lambda event: self._on_trunk_event(trunk, event)

    def stop(self) -> None:
        """Hang up every call, end every session, flush notifications. Stop this before the drivers."""
        with self._registry.lock:
            self._stopping = True
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
        for trunk in self._trunks:
            trunk.stop()
        self._notify.close(self._settings.stop_timeout)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued notification has been posted (tests, shutdown)."""
        return self._notify.queue.idle(timeout)

    # ---- calls and their legs ------------------------------------------------------------------
    def _register(self, trunk: Trunk, line: TrunkLine, channel: str | None, **fields: str) -> LiveCall:
        """A new call on `line`: an incoming one on `channel`, or (None) an outgoing one the trunk reserves now.
        The caller holds the registry lock, so the line cannot be taken twice."""
        call_id = new_call_id(lambda cid: self._registry.has(cid) or self._store.call_id_used(cid))
        record = CallRecord(id=call_id, line=line.name, start_time=self._clock(), created=self._monotonic(),
                            **fields)
        if channel is None:
            channel, trunk_leg = trunk.outgoing(line.name, record)
        else:
            trunk_leg = trunk.incoming(channel, record)
        leg = ServiceLeg(call=record, leg=trunk_leg, observer=self)
        live = LiveCall(record, trunk, channel, leg)
        live.runner = self._runner(leg)
        self._registry.add(live)
        return live

    def _runner(self, leg: ServiceLeg) -> Runner:
        record = leg.call

        def on_error(error: ApiError, call_id: str) -> None:
            self._notify.error(messages.error_from(error, call_id=call_id or record.id), self._notify.error_url(record))

        return Runner(leg=leg, services=self.scripts, fetch=self._notify.post_now, on_error=on_error,
                      api_extension=record.api_extension, extras=self._extras)

    def set_extensions(self, extensions: Sequence[ApiExtension]) -> None:
        """API extensions changed over the API, applied live (the notifications share this routing)."""
        self._routing.set_extensions(extensions)

    @property
    def dial_plan(self) -> DialPlan | None:
        return self._plan

    def set_dial_plan(self, plan: DialPlan) -> None:
        """[[routes]] (or the API extensions they name) changed over the API: the next call is routed by `plan`."""
        self._plan = plan

    def leg_of(self, call_id: str) -> ServiceLeg:
        """The leg of a live call (third-party control); 601 when there is none."""
        return self._registry.find(call_id).leg

    # ---- what legs report (CallObserver) -------------------------------------------------------
    def leg_changed(self, call: CallRecord, state: str) -> None:
        snap = self._registry.change(call, state)
        if snap is not None:
            self._notify.call_changed(snap)

    def leg_ended(self, call: CallRecord, state: str, result: str, *, local: bool) -> None:
        live = self._registry.get(call.id)
        if live is not None:
            self._end(live, state, result, local=local)

    def leg_media(self, call: CallRecord, kind: str, what: str) -> None:
        # What the far end hears, as text: the dashboard's playground shows it (event `call.media`).
        if self._bus is not None:
            self._bus.publish(CallMedia(call_id=call.id, line=call.line, kind=kind, what=what))

    def _end(self, live: LiveCall, state: str, result: str, *, local: bool) -> None:
        """The end of a call, once: audio and keypad closed, history row, CallChanged, Error/FinishedUrl as due."""
        snap = self._registry.end(live, state, result, local=local)
        if snap is None:
            return
        live.trunk.release(live.channel, local=local)
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

    # ---- trunk events (the trunk's thread: no telephony, no posts) -----------------------------
    def _on_trunk_event(self, trunk: Trunk, event: CallEvent) -> None:
        if isinstance(event, Incoming):
            self._on_incoming(trunk, event)
            return
        live = self._registry.on_channel(trunk, event.channel)
        if live is None:
            return
        if isinstance(event, Answered):
            if live.record.direction == OUTBOUND and live.record.state == RINGING:
                self.leg_changed(live.record, IN_CALL)
                live.progress.set()
        elif isinstance(event, Digit):
            live.leg.press(event.digit)
        elif isinstance(event, Ended):
            self._end(live, *remote_end(live.record, event.reason), local=False)
        elif isinstance(event, Ringing):
            log.debug("call %s rings at the far end", live.record.id)

    def _on_incoming(self, trunk: Trunk, event: Incoming) -> None:
        with self._registry.lock:
            owner = self._lines.get(event.line)
            if self._stopping or owner is None or owner[0] is not trunk or \
                    self._registry.busy(event.line, trunk.capacity):
                trunk.release(event.channel, local=False)
                return
            line = owner[1]
            dialed = event.called or line.number
            route = self._plan.route(source=line.name, called=dialed) if self._plan and not self._plan.empty \
                else None
            if route is not None and route.kind == REFUSE:
                log.info("%s calls %s on line %s: no route takes it (rule %d); refused",
                         event.caller or "a withheld number", dialed, line.name, route.rule)
                trunk.release(event.channel, local=False)
                return
            ext = route.name if route is not None and route.kind == API else self._routing.extension_for_line(line.name)
            bridged = route is not None and route.kind in (GSM, SIP)
            live = self._register(trunk, line, event.channel, direction=INBOUND, api_extension=ext,
                                  source=event.caller, destination=route.number if bridged else ext,
                                  dialed=dialed, caller_id=event.caller)
            snap = live.record.snapshot()
        log.info("call %s: %s calls line %s (%s)", snap.id, event.caller or "a withheld number", line.name,
                 f"routed to {route.kind} {route.name or 'any line'} as {route.number}" if bridged
                 else f"API extension {ext}")
        self._notify.call_changed(snap)
        if bridged:
            assert route is not None
            self._start_session(live, lambda inbound: self._bridge_session(inbound, route))
        else:
            self._start_session(live, self._incoming_session)

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
            now = self._monotonic()
            if now >= deadline:
                self._end(live, CANCELLED, NO_ANSWER, local=True)
                live.leg.drop()
                return False
            live.progress.wait(min(poll, deadline - now))
            live.progress.clear()
            if self._monotonic() - last_poll >= poll:
                last_poll = self._monotonic()
                live.trunk.poll(live.channel)

    # ---- bridged calls (the dial plan sends an incoming call to a GSM line or a SIP trunk) --------
    def _bridge_session(self, inbound: LiveCall, route: Route) -> None:
        """Dial the route's far end; once it answers, answer the caller and join their audio until either
        hangs up, then hang up the other. A far end that fails refuses the caller with the reason."""
        rec = inbound.record
        assert self._plan is not None
        with self._registry.lock:
            free = None if self._stopping else self.free_line_of(self._plan.lines_for(route))
            out = None
            if free is not None:
                trunk, line = free
                out = self._register(trunk, line, None, direction=OUTBOUND, api_extension=rec.api_extension,
                                     source=rec.source, destination=route.number, dialed=route.number,
                                     caller_id=rec.caller_id)
                out.reported = True  # the caller hears the failure; no Error notification for an app
                out.ring_time = float(self._settings.default_ring_time)
                snap = out.record.snapshot()
        if out is None:
            log.info("call %s: no free line for route to %s %s", rec.id, route.kind, route.name or "(any)")
            self._refuse(inbound, END_BUSY)
            return
        self._notify.call_changed(snap)
        t0 = self._monotonic()
        try:
            out.trunk.dial(out.channel, route.number)
        except DialFailed as exc:
            log.warning("call %s: dialling %s on line %s failed: %s", rec.id, route.number, out.record.line, exc)
            self._end(out, *outcome_before_answer(exc.reason), local=False)
            self._refuse(inbound, exc.reason)
            return
        log.info("call %s: bridging to %s on line %s (call %s)", rec.id, route.number, out.record.line,
                 out.record.id)
        try:
            if not self._await_answer(out):
                self._refuse(inbound, _END_OF_RESULT.get(out.record.result, END_FAILED))
                return
            inbound.leg.answer()
            out.leg.connected()
            if not rec.live:
                return
            log.info("call %s: bridged to call %s after %.2f s", rec.id, out.record.id, self._monotonic() - t0)
            bridge.join(inbound.leg.trunk_leg, out.leg.trunk_leg,  # type: ignore[arg-type]
                        over=lambda timeout: _pass_keys(inbound, out) or _either_ended(inbound, out, timeout))
        finally:
            out.leg.hangup()
            inbound.leg.hangup()

    def _refuse(self, live: LiveCall, reason: str) -> None:
        refuse_as = getattr(live.leg.trunk_leg, "refuse_as", None)  # SIP legs say why with a status code
        if refuse_as is not None:
            refuse_as(reason)
        live.leg.reject()

    # ---- the Call command ----------------------------------------------------------------------
    def call(self, dialed: str, *, api_extension: str, caller_id: str | None = None,
             caller_display_name: str | None = None, url: str | None = None, error_url: str | None = None,
             response_ozml: str | None = None, finished_url: str | None = None, ring_time: int | None = None) -> str:
        """Dial `dialed` from a free line of `api_extension`; returns the call id once the trunk accepted the dial.

        401 for an unknown API extension, 302 for a number that cannot be dialed, 402 when no line is free or
        the trunk refuses. What happens next (CallConnected and its script, or an Error notification for
        busy/no answer/failure) runs on the call's own session thread.
        """
        ext = self._routing.extension(api_extension)
        if ext is None:
            raise ApiExtensionUnavailable(api_extension)
        number = dialed.strip()
        if not is_dialable(number):
            raise InvalidParameter("Dialed", "Call")
        ring = min(max(1, ring_time or self._settings.default_ring_time), self._settings.max_ring_time)
        with self._registry.lock:
            free = None if self._stopping else self._free_line(ext)
            if free is None:
                raise CallConnectFailed(number, NO_FREE_LINE)
            trunk, line = free
            live = self._register(trunk, line, None, direction=OUTBOUND, api_extension=ext.id, source=ext.id,
                                  destination=number, dialed=number, caller_id=caller_id or ext.id,
                                  error_url=error_url or "", finished_url=finished_url or "")
            if caller_display_name:
                live.record.extra["CallerDisplayName"] = caller_display_name
            live.url, live.response_ozml, live.ring_time = url or "", response_ozml, float(ring)
            snap = live.record.snapshot()
        self._notify.call_changed(snap)
        try:
            trunk.dial(live.channel, number)
        except DialFailed as exc:
            live.reported = True
            state, result = outcome_before_answer(exc.reason)
            self._end(live, state, result, local=False)
            raise CallConnectFailed(number, connect_failure_state(result)) from exc
        log.info("call %s: %s dials %s on line %s", snap.id, ext.id, number, line.name)
        self._start_session(live, self._outbound_session)
        return snap.id

    def _free_line(self, ext: ApiExtension) -> tuple[Trunk, TrunkLine] | None:
        return self.free_line_of(ext.lines or self._default_lines)

    def free_line_of(self, names: Sequence[str]) -> tuple[Trunk, TrunkLine] | None:
        """The first of `names` that is ready and has room for a call (hold the registry lock)."""
        for name in names:
            owner = self._lines.get(name)
            if owner is not None and not self._registry.busy(name, owner[0].capacity) and \
                    owner[0].ready(name):
                return owner
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

    def fate(self, call_id: str) -> CallFate | None:
        """How a call stands, live or from its history row (OzML's Request follows its calls with this)."""
        live = self._registry.get(call_id)
        if live is not None:
            rec = live.record.snapshot()
            return CallFate(rec.state, rec.result, rec.answered is not None, not rec.live)
        row = self._store.get_history(call_id)
        if row is None:
            return None
        return CallFate(row.state, row.result, row.result in ANSWERED_RESULTS, True)

    def recording_path(self, name: str) -> Path | None:
        return self.shelf.path_of(name)


# How a bridged call's far end ended before an answer, as the reason its caller is refused with.
_END_OF_RESULT = {BUSY: END_BUSY, NO_ANSWER: END_NO_ANSWER, REJECTED: END_REJECTED}


def _pass_keys(a: LiveCall, b: LiveCall) -> bool:
    """Send the keys each side of a bridge pressed to the other side (DTMF across the bridge); False."""
    for src, dst in ((a, b), (b, a)):
        while (key := src.leg.keypad.get(0)) is not None:
            try:
                dst.leg.trunk_leg.send_dtmf(key)
            except PigateError as exc:
                log.info("call %s: key %s not passed on: %s", dst.record.id, key, exc)
    return False


def _either_ended(a: LiveCall, b: LiveCall, timeout: float) -> bool:
    """Wait up to `timeout` for either call to end (both progress events are set on an end)."""
    deadline = time.monotonic() + timeout
    while a.record.live and b.record.live:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        a.progress.wait(min(left, 0.02))
    return True


def media_from_config(*, config: Config, store: CallStore, public_url: Callable[[], str],
                      max_record_seconds: float = CallSettings.max_record_seconds) -> LegMedia:
    """espeak-ng, Play's content folder and URL cache, and recordings under the data directory."""
    data = Path(config.data_dir)
    n = config.notifications
    content = Path(config.content_dir)
    content.mkdir(parents=True, exist_ok=True)
    library = MediaLibrary(content_dir=content,
                           urls=UrlCache(directory=data / "cache" / "audio-urls",
                                         policy=AddressPolicy(allow=tuple(n.allow), deny=tuple(n.deny))),
                           decoded=DiskCache(directory=data / "cache" / "audio-decoded", max_bytes=64 << 20))
    shelf = RecordingShelf(directory=config.recordings_dir, index=store, base_url=public_url)
    return LegMedia(tts=Tts(cache_dir=data / "cache" / "tts"), library=library, shelf=shelf,
                    max_record_seconds=max_record_seconds)


def from_config(*, config: Config, db: Database, bus: EventBus, modems: Mapping[str, object],
                poster: Poster | None, sms: SmsSubmitter | None, public_url: Callable[[], str],
                settings: CallSettings | None = None, extras: ScriptExtras = ScriptExtras(),
                sip: "SipDriver | None" = None) -> CallService:
    """The service over the configured GSM lines (`modems`: line name -> that line's modem driver) and, given the
    SIP driver, its accounts and peers."""
    store = CallStore(db=db)
    settings = settings or CallSettings()
    media = media_from_config(config=config, store=store, public_url=public_url,
                              max_record_seconds=settings.max_record_seconds)
    gsm = GsmTrunk(lines=[GsmLine(m.name, m.number, modems[m.name]) for m in config.modems if m.name in modems],
                   bus=bus, media=media)
    trunks: list[Trunk] = [gsm]
    if sip is not None:
        from .trunks.sip import SipTrunk  # pjsua2's side only on a box with SIP

        trunks.append(SipTrunk(driver=sip, media=media))
    gsm_lines = [line.name for line in gsm.lines]
    plan = DialPlan(rules=config.routes, gsm_lines=gsm_lines,
                    sip_trunks=[t.name for t in [*config.sip.accounts, *config.sip.peers]] if sip else [],
                    extensions=[e.id for e in config.api_extensions])
    return CallService(store=store, trunks=trunks, extensions=config.api_extensions, notifications=config.notifications,
                       poster=poster, media=media, sms=sms, settings=settings, plan=plan, default_lines=gsm_lines,
                       bus=bus, extras=extras)
