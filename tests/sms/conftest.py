"""An SMS gateway in process, end to end: the simulator's modem on a real pty, the real Modem driver, SQLite,
the SMS service, the HTTP API on a loopback port, and a loopback web app that records notifications."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import bottle
import pytest

from pigate.api.auth import AddressGuard, UserGuard
from pigate.api.ozeki import CommandTable, OzekiApi
from pigate.api.sms import SmsCommands
from pigate.config import ApiExtension
from pigate.events import EventBus
from pigate.httpserver import HttpServer
from pigate.modem import Modem, ModemConfig
from pigate.notify import Notifier, NotifyConfig
from pigate.config import SmsConfig
from pigate.sms import DetachedScripts, Line, SmsService
from pigate.sim import Network
from pigate.store import Database
from pigate.store.sms import SmsStore
from tests.support import Answer, api_call

FAST = SmsConfig(retry_base=0.05, retry_cap=0.2, reassembly_timeout=1.0, doubt_timeout=3.0, hook_backoff=0.05,
                   hook_backoff_cap=0.2, ussd_timeout=5.0)


class WebApp:
    """A loopback web app: records every form post, answers with `answer` (OzML or empty)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str]]] = []
        self.answer = ""
        self.status = 200
        self._cond = threading.Condition()
        app = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with app._cond:
                    app.posts.append((self.path, dict(urllib.parse.parse_qsl(body, keep_blank_values=True))))
                    app._cond.notify_all()
                    status, answer = app.status, app.answer
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait(self, n: int, path: str | None = None, timeout: float = 10.0) -> list[dict[str, str]]:
        def mine() -> list[dict[str, str]]:
            return [f for p, f in self.posts if path is None or p == path]
        with self._cond:
            if not self._cond.wait_for(lambda: len(mine()) >= n, timeout):
                raise AssertionError(f"{len(mine())} of {n} posts to {path} after {timeout}s: {self.posts}")
            return mine()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Gateway:
    net: Network
    sims: list
    modems: list[Modem]
    service: SmsService
    store: SmsStore
    db: Database
    base: str
    app: WebApp
    bus: EventBus
    stoppers: list = field(default_factory=list)

    def call(self, command: str, **params: str) -> Answer:
        return api_call(self.base, command, **params)

    def send(self, recipient: str, message: str, **params: str) -> str:
        a = self.call("SendSms", ApiExtension="9999", Recipient=recipient, Message=message, **params)
        assert a.code == 200, a.raw
        return a.find("SmsId")

    def state(self, sms_id: str) -> str:
        return self.store.get_outgoing(sms_id)[0].state

    def wait_state(self, sms_id: str, states: tuple[str, ...], timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.state(sms_id)
            if s in states:
                return s
            time.sleep(0.02)
        raise AssertionError(f"{sms_id} is {self.state(sms_id)}, wanted {states}: {self.store.get_outgoing(sms_id)}")


def _start_gateway(tmp_path: Path, *, numbers=("+15550000001",), dialect="sim7600", settings=FAST,
                   lines_for_ext=(), sms_timeout: float = 3.0, pacing: float = 0.0) -> Gateway:
    stoppers = []
    (tmp_path / "links").mkdir(parents=True)
    net = Network(link_dir=tmp_path / "links")
    stoppers.append(net.stop)
    bus = EventBus()
    bus.start()
    stoppers.append(bus.stop)
    app = WebApp()
    stoppers.append(app.close)
    sims, modems, lines = [], [], []
    for i, number in enumerate(numbers):
        sim = net.add_modem(number=number, dialect=dialect)
        sim.start()
        sims.append(sim)
        m = Modem(config=ModemConfig(name=f"gsm{i + 1}", port=str(sim.at_link or sim.at_path), command_timeout=2.0,
                                     sms_timeout=sms_timeout, poll_interval=1.0, probe_timeout=0.5, reopen_timeout=5.0,
                                     ready_timeout=5.0),
                  bus=bus, reset_settle=0.2)
        m.start()
        stoppers.append(m.stop)
        modems.append(m)
        lines.append(Line(f"gsm{i + 1}", number, m, pacing))
    db = Database(path=tmp_path / "pigate.db")
    stoppers.append(db.close)
    store = SmsStore(db=db)
    ext = ApiExtension(id="9999", lines=list(lines_for_ext), incoming_sms_url=app.url("/incoming"))
    notifier = Notifier(config=NotifyConfig(retries=0, connect_timeout=2, read_timeout=5))
    scripts: list[DetachedScripts] = []
    service = SmsService(store=store, lines=lines, extensions=[ext, ApiExtension(id="9000")], bus=bus,
                         poster=notifier, settings=settings, answer_handler=lambda s: scripts[0].submit(s))
    scripts.append(DetachedScripts(submit=service.submit, calls=None, fetch=notifier.post, error_url=lambda ext: ""))
    service.start()
    stoppers.append(service.stop)
    stoppers.append(scripts[0].stop)
    table = CommandTable()
    SmsCommands(service=service).register(table)
    web = bottle.Bottle()
    OzekiApi(commands=table, users=UserGuard(users=[]), addresses=AddressGuard()).install(web)
    http = HttpServer(app=web, name="sms-http").start()
    stoppers.append(http.stop)
    return Gateway(net, sims, modems, service, store, db, http.url, app, bus, stoppers)


@pytest.fixture
def gateway_factory(tmp_path):
    made: list[Gateway] = []

    def make(**kw) -> Gateway:
        g = _start_gateway(tmp_path / f"g{len(made)}", **kw)
        made.append(g)
        return g

    yield make
    for g in made:
        for stop in reversed(g.stoppers):
            stop()


@pytest.fixture
def gateway(gateway_factory) -> Gateway:
    return gateway_factory()
