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
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from pigate.callstates import (ANSWERED_RESULTS, CANCELLED, IN_CALL, NO_ANSWER, NO_FREE_LINE, REJECTED, RINGING,
                              TRANSFER_COMPLETED, TRANSFERRED)
from pigate.config import ApiExtension, Config, NotificationsConfig
from pigate.errors import (ApiError, ApiExtensionUnavailable, CallConnectFailed, DialFailed, InvalidParameter, PigateError,
                           StoreError)
from pigate.events import EventBus
from pigate.media import DiskCache, MediaLibrary, Tts, UrlCache
from pigate.notify import AddressPolicy, messages
from pigate.ozml.runner import Runner
from pigate.ozml.services import CallFate, ScriptExtras
from pigate.routing import Routing
from pigate.store import Database
from pigate.store.calls import CallStore, HistoryFilter, HistoryRow

from .control import ThirdPartyControl
from .leg import ServiceLeg
from . import bridge
from .media import LegMedia
from .model import (INBOUND, OUTBOUND, ActiveCall, CallMedia, CallRecord, CallSettings, connect_failure_state,
                    new_call_id, outcome_before_answer, remote_end)
from .notify import CallNotifications, Poster
from .recording import RecordingShelf
from .registry import CallRegistry, LiveCall
from .routing import API, GSM, REFUSE, SIP, DialPlan
from .targets import Target, resolve
from .setup import Setups
from .transfer import Transfers
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
        self.transfers = Transfers(dialer=self)
        self.setups = Setups(dialer=self, registry=self._registry)
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
    def _register(self, trunk: Trunk, line: TrunkLine, channel: str | None, **fields: Any) -> LiveCall:
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
        live = self._registry.get(call.id)
        if live is not None and live.ring_timer is not None and state == IN_CALL:
            live.ring_timer.cancel()  # answered: answer_time no longer applies
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
        if live.leg.handed_over:
            state, result = TRANSFERRED, TRANSFER_COMPLETED  # it went on, bridged, after its transfer
        snap = self._registry.end(live, state, result, local=local)
        if snap is None:
            return
        if live.ring_timer is not None:
            live.ring_timer.cancel()
        live.trunk.release(live.channel, local=local)
        live.progress.set()
        live.leg.close()
        if live.control is not None:
            live.control.close(0)
        try:
            self._store.add_history(self._history_row(snap))
        except StoreError:
            log.exception("call %s: history row not written", snap.id)
        self._registry.closed(snap.id)
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
                log.info("%s calls %s on line %s: no route takes it (%s); refused",
                         event.caller or "a withheld number", dialed, line.name, route.decided_by)
                trunk.release(event.channel, local=False)
                return
            ext = route.name if route is not None and route.kind == API else self._routing.extension_for_line(line.name)
            bridged = route is not None and route.kind in (GSM, SIP)
            live = self._register(trunk, line, event.channel, direction=INBOUND, api_extension=ext,
                                  source=event.caller, destination=route.number if bridged else ext,
                                  dialed=dialed, caller_id=event.caller)
            snap = live.record.snapshot()
            live.ring_timer = self._ring_timer(live)
        log.info("call %s: %s calls line %s (%s)", snap.id, event.caller or "a withheld number", line.name,
                 f"routed to {route.kind} {route.name or 'any line'} as {route.number}" if bridged
                 else f"API extension {ext}")
        self._notify.call_changed(snap)
        if bridged:
            assert route is not None and self._plan is not None
            far = Target(tuple(self._plan.lines_for(route)), route.number)
            self.start_session(live, lambda inbound: bridge.put_through(self, inbound, far))
        else:
            self.start_session(live, self._incoming_session)

    def _ring_timer(self, live: LiveCall) -> threading.Timer:
        """An incoming call still ringing after `answer_time` (its app or route did not answer) is refused."""
        def ring_out() -> None:
            if live.record.state == RINGING:
                log.info("call %s: not answered within %g s; refused", live.record.id, self._settings.answer_time)
                if live.runner is not None:
                    live.runner.cancel()
                live.leg.time_out()

        timer = threading.Timer(self._settings.answer_time, ring_out)
        timer.name, timer.daemon = f"call-{live.record.id}-ring", True
        timer.start()
        return timer

    # ---- sessions (one thread per live call) ---------------------------------------------------
    def start_session(self, live: LiveCall, body: Callable[[LiveCall], None]) -> None:
        thread = threading.Thread(target=self._session, args=(live, body), name=f"call-{live.record.id}",
                                  daemon=True)
        live.script_over.clear()
        with self._registry.lock:
            self._sessions.add(thread)
        thread.start()

    def _session(self, live: LiveCall, body: Callable[[LiveCall], None]) -> None:
        failed = True
        try:
            body(live)
            live.script_over.set()
            if live.handoff is not None:  # transferred: its script is over, the call goes on bridged
                bridge.continue_bridged(live, live.handoff)
            failed = False
        except Exception:  # a bug must not leave the call up or kill the daemon
            log.exception("call %s: session failed", live.record.id)
        finally:
            # A call handed over to another call's bridge (AttendedTransfer) stays up for that session.
            live.script_over.set()
            if live.record.live and not (live.leg.handed_over and live.handoff is None and not failed):
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
        if not self.await_answer(live):
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

    def await_answer(self, live: LiveCall, *, unless: Callable[[], bool] = lambda: False) -> bool:
        """Wait until the callee answers (True), or the call fails, rings out or `unless()` (False, ended and
        recorded: ringing out and `unless` end it Cancelled/NoAnswer and hang it up)."""
        rec, poll = live.record, self._settings.answer_poll
        deadline = self._monotonic() + live.ring_time
        last_poll = self._monotonic()
        while True:
            if not rec.live:
                return False
            if rec.answered is not None:
                return True
            now = self._monotonic()
            if now >= deadline or unless():
                self._end(live, CANCELLED, NO_ANSWER, local=True)
                live.leg.drop()
                return False
            live.progress.wait(min(poll, deadline - now, 0.1))
            live.progress.clear()
            if self._monotonic() - last_poll >= poll:
                last_poll = self._monotonic()
                live.trunk.poll(live.channel)

    def refuse(self, live: LiveCall, reason: str) -> None:
        refuse_as = getattr(live.leg.trunk_leg, "refuse_as", None)  # SIP legs say why with a status code
        if refuse_as is not None:
            refuse_as(reason)
        live.leg.reject()

    # ---- calls the box places (the Call command, bridges, transfers, CallSetup) ----------------
    def target(self, dialed: str, *, api_extension: str) -> Target:
        """Where `dialed` goes for an app on `api_extension` (calls/targets.py); 401 for an unknown extension."""
        ext = self._routing.extension(api_extension)
        if ext is None:
            raise ApiExtensionUnavailable(api_extension)
        return resolve(dialed, source=ext.id, own_lines=ext.lines or self._default_lines, plan=self._plan,
                       sip_trunks=self._plan.sip_trunks if self._plan is not None else ())

    def place(self, target: Target, *, api_extension: str, source: str, caller_id: str, dialed: str = "",
              ring_time: float | None = None, reported: bool = True, extra: dict[str, str] | None = None,
              **fields: str) -> LiveCall:
        """Register a new outgoing call on the first free line of `target` and dial it; CallConnectFailed (402)
        with the state (NoFreeLine, Busy, Rejected, Error) when it cannot be placed. `reported`: its failure is
        its caller's to tell (no Error notification)."""
        if target.refused:
            log.info("a call to %s is refused: %s", dialed or target.number, target.why)
            raise CallConnectFailed(dialed or target.number, REJECTED)
        with self._registry.lock:
            free = None if self._stopping else self.free_line_of(target.lines)
            if free is None:
                raise CallConnectFailed(target.number, NO_FREE_LINE)
            trunk, line = free
            live = self._register(trunk, line, None, direction=OUTBOUND, api_extension=api_extension, source=source,
                                  destination=target.number, dialed=dialed or target.number, caller_id=caller_id,
                                  extra=dict(extra or {}), **fields)
            live.reported = reported
            live.ring_time = float(ring_time or self._settings.ring_time)
            snap = live.record.snapshot()
        self._notify.call_changed(snap)
        try:
            trunk.dial(live.channel, target.number)
        except DialFailed as exc:
            live.reported = True
            state, result = outcome_before_answer(exc.reason)
            log.warning("call %s: dialling %s on line %s failed: %s", snap.id, target.number, line.name, exc)
            self._end(live, state, result, local=False)
            raise CallConnectFailed(target.number, connect_failure_state(result)) from exc
        return live

    def leg_transfer(self, leg: ServiceLeg, target: str) -> bool:
        live = self._registry.get(leg.id)
        return live is not None and self.transfers.blind(live, target)

    # ---- the Call command ----------------------------------------------------------------------
    def call(self, dialed: str, *, api_extension: str, caller_id: str | None = None,
             caller_display_name: str | None = None, url: str | None = None, error_url: str | None = None,
             response_ozml: str | None = None, finished_url: str | None = None, ring_time: int | None = None) -> str:
        """Dial `dialed` for `api_extension` (a number or sip:USER@TRUNK, through the dial plan: targets.py);
        returns the call id once the trunk accepted the dial.

        401 for an unknown API extension, 302 for a number that cannot be dialed, 402 when no line is free,
        the trunk refuses or a rule rejects the call. What happens next (CallConnected and its script, or an
        Error notification for busy/no answer/failure) runs on the call's own session thread.
        """
        target = self.target(dialed, api_extension=api_extension)
        if target.invalid:
            raise InvalidParameter("Dialed", "Call")
        ring = min(max(1, ring_time or self._settings.default_ring_time), self._settings.max_ring_time)
        live = self.place(target, api_extension=api_extension, source=api_extension, dialed=dialed.strip(),
                          caller_id=caller_id or api_extension, ring_time=ring, reported=False,
                          error_url=error_url or "", finished_url=finished_url or "",
                          extra={"CallerDisplayName": caller_display_name} if caller_display_name else None)
        live.url, live.response_ozml = url or "", response_ozml
        log.info("call %s: %s dials %s on line %s", live.record.id, api_extension, live.record.destination,
                 live.record.line)
        self.start_session(live, self._outbound_session)
        return live.record.id

    def call_setup(self, caller: str, callee: str, *, api_extension: str = "", error_url: str | None = None) -> str:
        """CallSetup (calls/setup.py) for `api_extension` (default: the one a line without its own would use)."""
        ext = api_extension or self._routing.extension_for_line("")
        return self.setups.call_setup(caller, callee, api_extension=ext, error_url=error_url)

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None:
        self.setups.attended_transfer(transferred_call_id, target_call_id)

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
        rec = self._registry.closing(call_id)  # ended a moment ago: its history row is on its way
        if rec is not None:
            return CallFate(rec.state, rec.result, rec.answered is not None, True)
        row = self._store.get_history(call_id)
        if row is None:
            return None
        return CallFate(row.state, row.result, row.result in ANSWERED_RESULTS, True)

    def recording_path(self, name: str) -> Path | None:
        return self.shelf.path_of(name)


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
    settings = settings or CallSettings(ring_time=config.calls.ring_time, answer_time=config.calls.answer_time)
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
