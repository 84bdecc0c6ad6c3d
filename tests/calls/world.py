"""A voice gateway in process, end to end: the simulator's modem on real ptys (AT and PCM audio), the real Modem
driver, SQLite, the call and SMS services, espeak-ng, the HTTP API on loopback, and a loopback web app."""

from __future__ import annotations

import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import bottle

from pigate.api.alarm import AlarmCommands
from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.calls import CallCommands, install_recordings
from pigate.api.ozeki import CommandTable, OzekiApi
from pigate.config import ApiExtension, NotificationsConfig
from pigate.events import EventBus
from pigate.httpserver import HttpServer
from pigate.media import DiskCache, MediaLibrary, Tts, UrlCache
from pigate.modem import Modem, ModemConfig
from pigate.notify import AddressPolicy, Notifier, NotifyConfig
from pigate.ozml.services import ScriptExtras
from pigate.calls import CallService, CallSettings, GsmLine, GsmSettings, GsmTrunk, LegMedia, RecordingShelf
from pigate.config import SmsConfig
from pigate.sms import Line, SmsService
from pigate.sim import LatencyProfile, Network
from pigate.store import Database
from pigate.store.calls import CallStore
from pigate.store.sms import SmsStore
from tests.support import Answer, api_call

GATEWAY = "+15550000001"
ALICE = "+15551230001"   # calls the gateway
BOB = "+15551230002"     # the gateway calls Bob, scripts text him

Route = str | Callable[[dict[str, str]], str]


class WebApp:
    """A loopback web app: `routes` maps a path to OzML (or a function of the posted fields); every post is kept."""

    def __init__(self, port: int = 0) -> None:
        self.routes: dict[str, Route] = {}
        self.posts: list[tuple[str, dict[str, str]]] = []
        self._cond = threading.Condition()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                route = app.routes.get(self.path, "")
                body = (route(fields) if callable(route) else route).encode()
                with app._cond:
                    app.posts.append((self.path, fields))
                    app._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="calls-webapp", daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def of(self, path: str) -> list[dict[str, str]]:
        with self._cond:
            return [f for p, f in self.posts if p == path]

    def wait(self, path: str, n: int = 1, timeout: float = 10.0,
             where: Callable[[dict[str, str]], bool] = lambda f: True) -> list[dict[str, str]]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len([f for p, f in self.posts if p == path and where(f)]) >= n,
                                     timeout)
            got = [f for p, f in self.posts if p == path and where(f)]
        if not ok:
            raise AssertionError(f"{len(got)} of {n} posts to {path} after {timeout}s: {self.posts}")
        return got

    def states(self, call_id: str) -> list[str]:
        return [f["CallState"] for f in self.of("/changed") if f.get("CallId") == call_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class Gateway:
    net: Network
    modem: Modem
    service: CallService
    sms: SmsService
    store: CallStore
    app: WebApp
    base: str
    data: Path
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    bus: EventBus | None = None

    def api(self, command: str, **params: str) -> Answer:
        return api_call(self.base, command, **params)

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=5) as resp:
            return resp.read()

    def handset(self, number: str):
        return self.net.handset(number)

    def history(self, call_id: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.store.get_history(call_id)
            if row is not None:
                return row
            time.sleep(0.02)
        raise AssertionError(f"no history row for {call_id}")

    def only_call_id(self, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.service.active_calls()
            if calls:
                return calls[0].call_id
            time.sleep(0.01)
        raise AssertionError("no active call")

    def stop(self) -> None:
        """Every stopper runs even if one fails (a leak would fail the next tests); the first failure is raised."""
        errors = []
        for stop in reversed(self.stoppers):
            try:
                stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


def start_gateway(tmp: Path, *, dialect: str = "sim7600", incoming: bool = True, error_url: bool = True,
                  latency: LatencyProfile | None = None,
                  extras: Callable[[Database, list], ScriptExtras] | None = None) -> Gateway:
    """`extras(db, stoppers)` makes the scripts' extras (mail, files, ...) over the gateway's database and
    appends what must be stopped to `stoppers`."""
    stoppers: list[Callable[[], None]] = []
    try:
        return _start(tmp, dialect, incoming, error_url, latency, stoppers, extras)
    except BaseException:
        for stop in reversed(stoppers):
            stop()
        raise


def _start(tmp: Path, dialect: str, incoming: bool, error_url: bool, latency: LatencyProfile | None,
           stoppers: list[Callable[[], None]], extras: Callable[[Database, list], ScriptExtras] | None) -> Gateway:
    (tmp / "links").mkdir(parents=True)
    net = Network(link_dir=tmp / "links", latency=latency or LatencyProfile(no_answer=0.5))
    stoppers.append(net.stop)
    bus = EventBus()
    bus.start()
    stoppers.append(bus.stop)
    app = WebApp()
    stoppers.append(app.close)
    sim = net.add_modem(number=GATEWAY, dialect=dialect)
    sim.start()
    modem = Modem(config=ModemConfig(name="gsm1", port=str(sim.at_link), audio_port=str(sim.audio_link),
                                     command_timeout=3.0, poll_interval=5.0, probe_timeout=0.5, ready_timeout=5.0),
                  # the simulated module drops its ports 0.3 s after AT+CFUN=1,1 and is back 0.2 s later
                  bus=bus, reset_settle=0.6)
    modem.start()
    stoppers.append(modem.stop)
    db = Database(path=tmp / "pigate.db")
    stoppers.append(db.close)
    ext = ApiExtension(id="9999", incoming_call_url=app.url("/incoming") if incoming else "")
    sms = SmsService(store=SmsStore(db=db), lines=[Line("gsm1", GATEWAY, modem)], extensions=[ext], bus=bus,
                     poster=None, settings=SmsConfig(retry_base=0.05, retry_cap=0.2))
    sms.start()
    stoppers.append(sms.stop)
    notifier = Notifier(config=NotifyConfig(retries=0, connect_timeout=1.0, read_timeout=5.0))
    media = MediaLibrary(content_dir=tmp / "content", urls=UrlCache(directory=tmp / "urls", policy=AddressPolicy()),
                         decoded=DiskCache(directory=tmp / "decoded", max_bytes=16 << 20))
    (tmp / "content").mkdir()
    store = CallStore(db=db)
    server_box: dict[str, str] = {}
    leg_media = LegMedia(tts=Tts(cache_dir=tmp / "tts"), library=media,
                         shelf=RecordingShelf(directory=tmp / "recordings", index=store,
                                              base_url=lambda: server_box.get("base", "")))
    trunk = GsmTrunk(lines=[GsmLine("gsm1", GATEWAY, modem)], bus=bus, media=leg_media,
                     settings=GsmSettings(reason_wait=0.3))
    service = CallService(
        store=store, trunks=[trunk], extensions=[ext],
        notifications=NotificationsConfig(call_changed_url=app.url("/changed"),
                                          error_url=app.url("/errors") if error_url else ""),
        poster=notifier, media=leg_media, sms=sms, settings=CallSettings(answer_poll=0.5, stop_timeout=3.0),
        extras=extras(db, stoppers) if extras else ScriptExtras())
    service.start()
    stoppers.append(service.stop)
    table = CommandTable()
    CallCommands(service=service).register(table)
    AlarmCommands(calls=service).register(table)
    web = bottle.Bottle()
    OzekiApi(commands=table, users=UserGuard(users=[]), addresses=AddressGuard()).install(web)
    install_recordings(web, service=service)
    http = HttpServer(app=web, name="calls-http").start()
    stoppers.append(http.stop)
    base = http.url
    server_box["base"] = base
    return Gateway(net, modem, service, sms, store, app, base, tmp, stoppers, bus=bus)
