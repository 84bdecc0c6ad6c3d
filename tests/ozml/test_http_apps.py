"""Sessions whose OzML comes from a real app on loopback through the real Notifier, including broken apps."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pigate.errors import ApiError
from pigate.notify import Notifier, NotifyConfig, messages
from pigate.ozml.fakes import FakeLeg, FakeServices, Press
from pigate.ozml.runner import Runner
from tests.ozml.loopback_app import Answer, LoopbackApp
from tests.ozml.test_parser import BILLION_LAUGHS

READ_TIMEOUT = 0.5


@pytest.fixture
def app():
    server = LoopbackApp().start()
    yield server
    server.close()


@pytest.fixture
def notifier():
    return Notifier(config=NotifyConfig(connect_timeout=0.5, read_timeout=READ_TIMEOUT, retries=0))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


class Call:
    """A CallConnected session in its own thread, reporting errors to the app's /errors like the daemon will."""

    def __init__(self, app: LoopbackApp, notifier: Notifier, leg: FakeLeg | None = None) -> None:
        self.app = app
        self.leg = leg or FakeLeg(id="L1", api_extension="9999", callee="1100")
        self.services = FakeServices()

        def on_error(error: ApiError, call_id: str) -> None:
            notifier.post(app.url("/errors"), messages.error_from(error, call_id=call_id))

        self.runner = Runner(leg=self.leg, services=self.services, fetch=notifier.post, on_error=on_error)

    def run(self, url: str, timeout: float = 10.0) -> float:
        fields = messages.call_connected(call_leg_id=self.leg.id, callee=self.leg.callee,
                                         api_extension=self.leg.api_extension)
        t0 = time.monotonic()
        thread = self.runner.start(context="CallConnected", url=url, fields=fields)
        thread.join(timeout)
        assert not thread.is_alive(), "the session wedged"
        return time.monotonic() - t0

    def errors(self) -> list[dict[str, str]]:
        return [fields for path, fields, _ in self.app.posts if path == "/errors"]


def test_call_connected_goto_and_dtmf_entered_through_a_real_app(app, notifier):
    app.routes["/connected"] = Answer(b"""<Response><Speak>welcome</Speak>
        <UserInput ForwardToUrl="%s"><InitialCommands><Speak>enter your PIN</Speak></InitialCommands>
        <Inputs><Input key="0"><Speak>operator</Speak></Input></Inputs></UserInput>
        <GoTo>%s</GoTo><Speak>never</Speak></Response>""" % (app.url("/dtmf").encode(), app.url("/next").encode()))
    app.routes["/dtmf"] = lambda f: Answer(f"<Response><Speak>PIN {f['DtmfDigits']} ok</Speak></Response>".encode())
    app.routes["/next"] = Answer(b"<Response><SendSms Recipient='+3620'>done</SendSms></Response>")
    call = Call(app, notifier, FakeLeg(id="L1", api_extension="9999", callee="1100",
                                       presses=[Press("4", during="PIN")]))
    call.run(app.url("/connected"))
    assert app.posts[0] == ("/connected", {"NotificationName": "CallConnected", "CallLegID": "L1",
                                           "Callee": "1100", "ApiExtension": "9999"},
                            "application/x-www-form-urlencoded")
    assert app.posts[1][:2] == ("/dtmf", {"NotificationName": "DtmfEntered", "DtmfDigits": "4", "CallLegID": "L1",
                                          "ApiExtension": "9999"})
    assert app.posts[2][:2] == ("/next", {"NotificationName": "GoTo"})
    assert call.leg.spoken == ["welcome", "enter your PIN", "PIN 4 ok"]
    assert call.services.sms[0]["text"] == "done"
    assert call.leg.actions()[-1] == ("hangup", "") and call.errors() == []


# Each broken app: the path's answer, whether an Error notification (and its code) is expected.
BROKEN = {
    "slow": (Answer(b"<Response><Speak>late</Speak></Response>", delay=5), None),
    "500": (Answer(b"<Response><Speak>oops</Speak></Response>", status=500), None),
    "garbage": (Answer(b"\x00\xffthis is { not xml"), "300"),
    "bomb": (Answer(BILLION_LAUGHS.encode()), "300"),
    "huge": (Answer(b"<Response><Speak>" + b"a" * (5 << 20) + b"</Speak></Response>"), None),
    "wrong-verb": (Answer(b"<Response><Hold/></Response>"), "303"),
    "unknown-verb": (Answer(b"<Response>\n<Dance/></Response>"), "301"),
}


@pytest.mark.parametrize("case", [*BROKEN, "down"])
def test_a_broken_app_hangs_up_the_call_and_nothing_wedges(app, notifier, case):
    if case == "down":
        url, code = f"http://127.0.0.1:{closed_port()}/connected", None
    else:
        app.routes["/connected"], code = BROKEN[case]
        url = app.url("/connected")
    call = Call(app, notifier)
    seconds = call.run(url)
    assert call.leg.actions() == [("fail", "")]
    assert call.runner.report.ended == "error"
    assert [e["Code"] for e in call.errors()] == ([code] if code else [])
    if code:
        assert call.errors()[0]["CallId"] == "L1" and call.errors()[0]["NotificationName"] == "Error"
    assert seconds < READ_TIMEOUT + 2


def test_unknown_verb_error_notification_carries_line_and_column(app, notifier):
    app.routes["/connected"] = BROKEN["unknown-verb"][0]
    call = Call(app, notifier)
    call.run(app.url("/connected"))
    assert call.errors()[0]["Message"] == "line 2, column 1: Not implemented command: 'Dance'"


@pytest.mark.parametrize("case", ["slow", "500", "garbage", "bomb", "huge", "down"])
def test_a_broken_goto_target_ends_the_call_after_what_already_ran(app, notifier, case):
    target = f"http://127.0.0.1:{closed_port()}/x" if case == "down" else app.url("/target")
    if case != "down":
        app.routes["/target"] = BROKEN[case][0]
    app.routes["/connected"] = Answer(f"<Response><Speak>hi</Speak><GoTo>{target}</GoTo><Speak>never</Speak>"
                                      "</Response>".encode())
    call = Call(app, notifier)
    call.run(app.url("/connected"))
    assert call.leg.actions() == [("speak", "hi"), ("fail", "")]


def test_a_goto_loop_stops_after_ten_hops_with_an_error_notification(app, notifier):
    app.routes["/loop"] = Answer(f"<Response><Speak>again</Speak><GoTo>{app.url('/loop')}</GoTo></Response>".encode())
    call = Call(app, notifier)
    call.run(app.url("/loop"))
    assert app.paths().count("/loop") == 11  # the CallConnected post, then ten GoTo hops
    assert len(call.leg.spoken) == 11
    assert [e["Code"] for e in call.errors()] == ["303"]
    assert call.leg.actions()[-1] == ("fail", "") and call.runner.report.hops == 11


def test_many_broken_sessions_at_once_all_end(app, notifier):
    app.routes["/slow"] = BROKEN["slow"][0]
    app.routes["/bomb"] = BROKEN["bomb"][0]
    calls = [Call(app, notifier, FakeLeg(id=f"c{i}")) for i in range(8)]
    threads = [threading.Thread(target=c.run, args=(app.url("/slow" if i % 2 else "/bomb"),))
               for i, c in enumerate(calls)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert all(not t.is_alive() for t in threads)
    assert all(c.leg.actions() == [("fail", "")] for c in calls)
    assert time.monotonic() - t0 < READ_TIMEOUT + 3
