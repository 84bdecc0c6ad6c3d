"""Composition root: config -> drivers (real or simulated) -> services -> HTTP; start and stop order."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Callable

import bottle

from pigate import calls as call_service
from pigate import mail
from pigate import routing as routes
from pigate import sms as sms_service
from pigate.addressbook import AddressBook, CallerNames, NumberPlan
from pigate.api.addressbook import AddressBookCommands
from pigate.api.alarm import AlarmCommands
from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.throttle import LoginThrottle
from pigate.api.calls import CallCommands, install_recordings
from pigate.api.configuration import ConfigCommands
from pigate.api.extensions import Extension, ExtensionCommands
from pigate.api.mail import MailCommands
from pigate.api.messages import MessageCommands
from pigate.api.maintenance import MaintenanceCommands
from pigate.api.ozeki import CommandTable, OzekiApi
from pigate.api.sms import SmsCommands
from pigate.board.gpio import make_pins
from pigate.board.leds import StatusLeds
from pigate.config import Config
from pigate.configedit import ConfigEditor, ConfigFile, Section
from pigate.errors import ApiError, ForbiddenAddress, PigateError
from pigate.events import EventBus
from pigate.httpserver import HttpServer
from pigate.lines import Lines
from pigate.notify import Notifier, NotifyConfig
from pigate.ozml.files import ScriptFiles
from pigate.ozml.mailbox import Mailboxes
from pigate.ozml.services import ScriptExtras
from pigate.routing import Routing
from pigate.sdnotify import SystemdNotifier
from pigate.sip import Account, SipDriver, TrunkChanged, account_state, trunks as sip_trunks
from pigate.sms import DetachedScripts
from pigate.store import Database
from pigate.store.addressbook import AddressBookStore
from pigate.web import Web
from pigate.upkeep import status as upkeep_status
from pigate.upkeep.control import ControlServer

log = logging.getLogger(__name__)


class App:
    """The daemon: owns every long-lived part and starts/stops them in dependency order."""

    def __init__(self, *, config: Config, notifier: SystemdNotifier | None = None,
                 config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.systemd = notifier or SystemdNotifier()
        self.bus = EventBus()
        self.db: Database | None = None
        self.sms: sms_service.SmsService | None = None
        self.calls: call_service.CallService | None = None
        self.scripts: DetachedScripts | None = None
        self.mail: mail.MailService | None = None
        self.addressbook: AddressBook | None = None
        self.sip: SipDriver | None = None
        # One pins backend for the LEDs and the power key; the gpio one fails here, before anything starts.
        self.pins = make_pins(config.leds.backend)
        self.leds = StatusLeds(pins=self.pins, layout=config.leds.pins, bus=self.bus)
        self.lines = Lines(config=config, bus=self.bus, data_dir=config.data_dir, pins=self.pins)
        n = config.notifications
        self.notifier = Notifier(config=NotifyConfig(
            connect_timeout=n.connect_timeout, read_timeout=n.read_timeout, retries=n.retries, backoff=n.backoff,
            max_body=n.max_body, allow=tuple(n.allow), deny=tuple(n.deny), secret=n.secret))
        self.routing = Routing(extensions=config.api_extensions, defaults=config.notifications)
        self.webui = Web(config=config)
        self.poster = self.webui.wrap_poster(self.notifier)  # every webhook post goes into the delivery log
        self.commands = CommandTable()
        # The one user check and login throttle of every way in (/api, /sim/, and the web UI's JSON API and
        # login): they call self.users.check(..., address=...), and /metrics reads self.users.stats().
        self.users = UserGuard(users=config.http.users, throttle=LoginThrottle(settings=config.http.login))
        self.web = bottle.Bottle()
        self._http: HttpServer | None = None
        self._stoppers: list[Callable[[], None]] = []

    # -- wiring ---------------------------------------------------------------------------------
    def _extensions(self) -> list[Extension]:
        cfg = self.config
        exts = [Extension(e.id, "ApiExtension", e.id, lambda: True) for e in cfg.api_extensions]
        exts += [Extension(m.name, "GsmLine", m.number, self._line_connected(m.name)) for m in cfg.modems]
        exts += [Extension(a.name, "SipAccount", f"sip:{a.username}@{a.host}", self._sip_connected(a.name))
                 for a in cfg.sip.accounts]
        return exts

    def _line_connected(self, name: str) -> Callable[[], bool]:
        return lambda: self.lines.connected(name)

    def _sip_connected(self, name: str) -> Callable[[], bool]:
        return lambda: self.sip is not None and self.sip.connected(name)

    def _sip_trunks(self) -> list[dict]:
        """Every configured SIP account and peer with its state: what the dashboard, /v1/status, `pigate status`
        and /metrics show (one rule: pigate.sip.trunks)."""
        return sip_trunks(self.config.sip, self.sip)

    def _sip_account_changed(self, account: Account) -> None:
        """On the SIP event thread: tell the bus (the LEDs and the dashboard's live stream follow it)."""
        state, error = account_state(account)
        self.bus.publish(TrunkChanged(name=account.name, state=state, last_error=error))

    def _build_http(self) -> None:
        """The API's commands and routes, over the services start() has made."""
        cfg = self.config.http
        addresses = AddressGuard(allow=cfg.allow, deny=cfg.deny)
        self._extension_list = self._extensions()
        ExtensionCommands(extensions=self._extension_list).register(self.commands)
        SmsCommands(service=self.sms).register(self.commands)
        CallCommands(service=self.calls, names=self._name_of).register(self.commands)
        AddressBookCommands(book=self.addressbook,
                            max_import_bytes=self.config.addressbook.max_import_bytes).register(self.commands)
        AlarmCommands(calls=self.calls).register(self.commands)
        MailCommands(service=self.mail).register(self.commands)
        MessageCommands(service=self.sms, extensions=self.config.api_extensions).register(self.commands)
        MaintenanceCommands(lines=self.lines).register(self.commands)
        editor = None if self.config_path is None else ConfigEditor(file=ConfigFile(path=self.config_path),
                                                                   apply=self._apply_config)
        ConfigCommands(editor=editor, authenticated=bool(cfg.users)).register(self.commands)
        install_recordings(self.web, service=self.calls, guard=addresses)
        api = OzekiApi(commands=self.commands, users=self.users, addresses=addresses,
                       max_request_bytes=cfg.max_request_bytes)
        api.install(self.web, root=not cfg.dashboard)  # with the dashboard, / is shared (see pigate.web)
        self.webui.build(db=self.db, bus=self.bus, sms=self.sms, calls=self.calls, leds=self.leds,
                         modems=self.lines.modems,
                         network=self.lines.network if self.config.simulator.control else None,
                         sip_trunks=self._sip_trunks, commands=self.commands, ozeki=api, users=self.users,
                         addresses=addresses)
        self.webui.install(self.web)
        if self.lines.network is not None and self.config.simulator.control:
            from pigate.sim.control import make_app as make_sim_control

            self.web.merge(make_sim_control(self.lines.network))
            self.web.add_hook("before_request", lambda: self._guard_sim(addresses))

    def _guard_sim(self, addresses: AddressGuard) -> None:
        """The simulator's control API obeys the API's address lists (REMOTE_ADDR: no proxy headers) and, once
        users are configured, wants one of them by HTTP Basic auth (a user with a `commands` list needs `Sim`)."""
        request = bottle.request
        if not request.path.startswith("/sim"):
            return
        remote = request.environ.get("REMOTE_ADDR", "")
        try:
            if not addresses.allowed(remote):
                raise ForbiddenAddress()
            if self.users.enabled:
                name, password = request.auth or ("", "")
                self.users.authorize(self.users.check(name, password, address=remote), "Sim")
        except ApiError as error:
            status = 401 if error.code in (304, 305) else 403
            headers = {"Content-Type": "application/json"}
            if status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="pigate simulator"'
            raise bottle.HTTPResponse(json.dumps({"code": error.code, "error": error.message}), status, headers) \
                from error

    def _name_of(self, number: str) -> str:
        contact = self.addressbook.lookup(number) if self.addressbook is not None else None
        return contact.name if contact is not None else ""

    def _script_extras(self) -> ScriptExtras:
        """What scripts reach besides calls and SMS (the mail service started before them; the SMS service's
        durable webhook queue posts their AlarmNotifications)."""
        cfg = self.config
        # The mail service even without a relay: its submit answers 701, and [email] may be set over the API.
        return ScriptExtras(email=self.mail,
                            files=ScriptFiles(roots={"content": cfg.content_dir, "recordings": cfg.recordings_dir}),
                            mailboxes=Mailboxes(), notifications=self.sms)

    def _apply_config(self, new: Config, section: Section) -> bool:
        """A config change made over the API, applied live where the section allows it (API extensions: their
        URLs and lines; the dial plan; the mail relay); anything else waits for a restart (False)."""
        if section.type == "ApiExtension":
            self.config = dataclasses.replace(self.config, api_extensions=new.api_extensions)
            self.routing.set_extensions(new.api_extensions)
            for service in (self.sms, self.calls, self.mail):
                if service is not None:
                    service.set_extensions(new.api_extensions)
            self._extension_list[:] = self._extensions()  # ListExtensions reads this list
            self._replan()
            return True
        if section.type == "Route":
            self.config = dataclasses.replace(self.config, routes=new.routes)
            return self._replan()
        if section.type == "Email" and self.mail is not None:
            self.config = dataclasses.replace(self.config, email=new.email)
            self.mail.reconfigure(new.email)
            return True
        return False

    def _replan(self) -> bool:
        """The call service routes by the running config's [[routes]] and API extensions; False when a rule
        names a line or trunk that only exists after a restart (that rule refuses its calls until then)."""
        plan = self.calls.dial_plan if self.calls is not None else None
        if plan is None:
            return False
        plan = plan.replaced(rules=self.config.routes, extensions=[e.id for e in self.config.api_extensions])
        self.calls.set_dial_plan(plan)
        return all(plan.reaches(r.to) and plan.reaches(r.source) for r in self.config.routes)

    def _error_url(self, api_extension: str) -> str:
        return self.routing.url(routes.ERROR, api_extension)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start everything; the HTTP address is taken first, so a port in use stops the start (ListenError)
        before the database or a modem is touched."""
        self._http = self._make_http().bind()
        data = self.config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.bus.start()
        self._stoppers.append(self.bus.stop)
        self._stoppers.append(self.pins.close)  # after the LEDs and the power key are done with them
        # Before the lines, so the LEDs show them coming up; stopped after them (all LEDs off last).
        self.leds.start()
        self._stoppers.append(self.leds.stop)
        self.db = Database(path=Path(data) / "pigate.db")
        self._stoppers.append(self.db.close)
        self.lines.start()
        self._stoppers.append(self.lines.stop)
        # The address book names callers in the notifications (CallerName); mail is sent by its own worker,
        # started before the scripts that queue mail and stopped after them.
        ab = self.config.addressbook
        plan = NumberPlan(country_code=ab.country_code, national_prefix=ab.national_prefix)
        self.addressbook = AddressBook(store=AddressBookStore(db=self.db), plan=plan)
        poster = CallerNames(poster=self.poster, book=self.addressbook)
        self.mail = mail.from_config(config=self.config, db=self.db)
        self.mail.start()
        self._stoppers.append(self.mail.stop)
        # Built in dependency order (SMS <- calls <- scripts answering SMS notifications), started SMS first;
        # stopped in reverse: scripts, then calls (hanging up live calls on the modems), then SMS.
        self.sms = sms_service.from_config(config=self.config, db=self.db, bus=self.bus, modems=self.lines.modems,
                                           poster=poster, answer_handler=lambda s: self.scripts.submit(s))
        extras = self._script_extras()
        if self.config.sip.enabled:
            # Before the call service, stopped after it: calls admitted before the service starts get 503.
            self.sip = SipDriver.from_config(self.config.sip, on_account_change=self._sip_account_changed)
            self.sip.start()
            self._stoppers.append(self.sip.stop)
            for account in self.sip.accounts.values():  # registering: the LEDs know the trunk before its answer
                self._sip_account_changed(account)
        self.calls = call_service.from_config(config=self.config, db=self.db, bus=self.bus, modems=self.lines.modems,
                                              poster=poster, sms=self.sms,
                                              public_url=lambda: self.config.http.public_url or self.url,
                                              extras=extras, sip=self.sip)
        self.scripts = DetachedScripts(submit=self.sms.submit, calls=self.calls.scripts, fetch=self.poster.post,
                                       error_url=self._error_url, extras=extras)
        self.sms.start()
        self._stoppers.append(self.sms.stop)
        self.calls.start()
        self._stoppers.append(self.calls.stop)
        self._stoppers.append(self.scripts.stop)
        self._start_control()
        self._build_http()
        self.webui.start()
        self._stoppers.append(self.webui.stop)
        self._http.start()
        log.info("listening on %s", self.url)
        self.systemd.ready(f"listening on {self.url}")

    def _start_control(self) -> None:
        """The local control socket (`pigate at`, `pigate status`); a gateway without it still serves."""
        path = self.config.control_socket
        if path is None:
            return
        maintenance = MaintenanceCommands(lines=self.lines)
        started = time.time()

        def at(req: dict) -> dict:
            try:
                line, lines, result = maintenance.run(str(req.get("line", "")), str(req["command"]))
            except KeyError as exc:
                raise ValueError(f"no line {exc.args[0]!r}; lines: {', '.join(self.lines.names)}") from exc
            return {"line": line, "response": lines, "result": result}

        def status(req: dict) -> dict:
            return upkeep_status.collect(lines=self.sms.line_status, waiting=self.sms.waiting,
                                         active_calls=self.calls.active_calls,
                                         sip_trunks=self._sip_trunks, data_dir=self.config.data_dir, started=started)

        server = ControlServer(path=path, handlers={"at": at, "status": status})
        try:
            server.start()
        except PigateError as exc:
            log.error("%s: `pigate at` and `pigate status` cannot reach this daemon", exc)
            return
        self._stoppers.append(server.stop)

    def _make_http(self) -> HttpServer:
        cfg = self.config.http
        return HttpServer(
            # Its routes are added once the services exist (_build_http). Each live dashboard stream holds a
            # worker while it lasts: they get workers of their own.
            app=self.web, host=cfg.listen, port=cfg.port, threads=cfg.threads + self.webui.stream_slots,
            send_bytes=1,  # write each chunk at once (a live event must not wait for the loop's next turn)
            # waitress refuses oversized headers itself; let requests a little over our limit through
            # so the API can answer them with its own 300 (an address-book upload may be bigger than a form).
            max_request_header_size=max(4 * cfg.max_request_bytes, 262144),
            max_request_body_size=max(4 * cfg.max_request_bytes, 262144,
                                      self.config.addressbook.max_import_bytes + 65536),
            channel_timeout=30, connection_limit=512, clear_untrusted_proxy_headers=True,
        )

    @property
    def port(self) -> int:
        return self._http.port if self._http else 0

    @property
    def url(self) -> str:
        return self._http.url if self._http else ""

    def stop(self) -> None:
        self.systemd.stopping()
        if self.sip is not None:
            # New SIP calls get 503 from now on, before anything else stops: a load balancer in front of several
            # boxes sends them to another box instead of to one that would ring a handset and then drop the call.
            self.sip.on_incoming = None
        self.webui.stop()  # ends the live streams, which hold HTTP workers, so HTTP stops at once
        if self._http is not None:
            self._http.stop()
            self._http = None
        while self._stoppers:
            stop = self._stoppers.pop()
            try:
                stop()
            except Exception:
                log.exception("stopping %r failed", stop)
