"""The webhook client against real loopback apps: answers, timeouts, retries, size cap, redirects, policy."""

from __future__ import annotations

import socket
import time

import pytest

from pigate.errors import ApiError, ForbiddenAddress, NotifyError
from pigate.notify import (BadResponse, BadUrl, ConnectFailed, ForbiddenTarget, HttpStatusError, Notifier,
                           NotifyConfig, ResolveFailed, ResponseTimeout, ResponseTooLarge, messages)
from tests.notify.webapp import Blackhole, RawServer, Reply, WebApp

OZML = b'<?xml version="1.0"?><Response><Speak>Hello</Speak></Response>'


def notifier(**kw) -> Notifier:
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0.01)
    return Notifier(config=NotifyConfig(**kw))


def test_defaults_are_the_documented_ones():
    cfg = NotifyConfig()
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.max_body) == (5.0, 15.0, 1024 * 1024)


def test_post_sends_a_form_and_returns_the_ozml_answer(webapp):
    webapp.route("/incoming", Reply(200, OZML, {"Content-Type": "application/xml"}))
    fields = messages.incoming_call(call_leg_id="3CiHe", caller="500", api_extension="9998")
    answer = notifier().post(webapp.url("/incoming"), fields)
    assert answer == OZML.decode()
    (req,) = webapp.requests
    assert req.method == "POST"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert req.body == b"NotificationName=IncomingCall&CallLegID=3CiHe&Caller=500&ApiExtension=9998"
    assert req.headers["cache-control"] == "no-store,no-cache"


def test_an_empty_answer_is_an_empty_string(webapp):
    webapp.route("/sms", Reply(200, b""))
    assert notifier().post(webapp.url("/sms"), messages.goto()) == ""


def test_unicode_and_reserved_characters_survive_the_form_encoding(webapp):
    webapp.route("/sms", Reply(200))
    text = "Árvíztűrő tükörfúrógép & 100% = ok? 😀\nline2"
    notifier().post(webapp.url("/sms?x=1"), messages.incoming_sms(
        sender="+36201234567", recipient="06304645433", id="843952f3-3f3g3", api_extension="9999", message=text))
    (req,) = webapp.requests
    assert req.path == "/sms?x=1"
    assert req.fields == [("NotificationName", "IncomingSMS"), ("Sender", "+36201234567"),
                          ("Recipient", "06304645433"), ("ID", "843952f3-3f3g3"), ("ApiExtension", "9999"),
                          ("Message", text)]


def test_answer_charset_is_honoured(webapp):
    body = '<?xml version="1.0" encoding="iso-8859-2"?><Response><Speak>Győr</Speak></Response>'.encode("iso-8859-2")
    webapp.route("/a", Reply(200, body))
    webapp.route("/b", Reply(200, "<Response>Győr</Response>".encode("utf-16"),
                              {"Content-Type": "application/xml; charset=utf-16"}))
    n = notifier()
    assert "Győr" in n.post(webapp.url("/a"), messages.goto())
    assert n.post(webapp.url("/b"), messages.goto()) == "<Response>Győr</Response>"


def test_read_timeout_takes_the_configured_time_not_more(webapp):
    webapp.route("/slow", Reply(200, OZML, delay=3.0))
    n = notifier(read_timeout=0.5, retries=2)
    start = time.monotonic()
    with pytest.raises(ResponseTimeout):
        n.post(webapp.url("/slow"), messages.goto())
    elapsed = time.monotonic() - start
    assert 0.45 <= elapsed < 0.9, elapsed
    assert len(webapp.requests) == 1, "a request the app may have processed is never repeated"


def test_a_trickling_answer_cannot_stretch_the_read_timeout(webapp):
    """Each byte comes well within the read timeout, but the answer as a whole must not take longer: the post
    gives up at its deadline, a small fraction of the 8 s the trickle lasts (whatever else the machine does)."""
    webapp.route("/drip", Reply(200, b"x" * 160, drip=0.05))  # 8 s in total, a byte every 50 ms
    start = time.monotonic()
    with pytest.raises(ResponseTimeout):
        notifier(read_timeout=0.6).post(webapp.url("/drip"), messages.goto())
    elapsed = time.monotonic() - start
    assert 0.6 <= elapsed < 2.0, elapsed


def test_connect_timeout_takes_the_configured_time_not_more():
    hole = Blackhole()
    try:
        start = time.monotonic()
        with pytest.raises(ConnectFailed):
            notifier(connect_timeout=0.4).post(hole.url(), messages.goto())
        elapsed = time.monotonic() - start
        # At least the configured time, and it was our deadline that ended it: without one the kernel would try
        # for minutes (the margin is for a loaded machine, not for the deadline).
        assert 0.35 <= elapsed < 2.0, elapsed
    finally:
        hole.close()


def test_app_down_fails_after_the_retries_with_backoff():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    slept: list[float] = []
    n = Notifier(config=NotifyConfig(retries=2, backoff=0.05), sleep=slept.append)
    with pytest.raises(ConnectFailed) as info:
        n.post(f"http://127.0.0.1:{port}/x", messages.goto())
    assert "refused" in str(info.value).lower()
    assert slept == [0.05, 0.1]
    assert isinstance(info.value, NotifyError)


def test_a_connection_error_is_retried_until_the_app_is_up():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started: list[WebApp] = []

    def sleep(seconds: float) -> None:  # the app comes up during the first backoff
        if not started:
            app = WebApp(port=port).start()
            app.route("/late", Reply(200, OZML))
            started.append(app)

    try:
        n = Notifier(config=NotifyConfig(retries=3, backoff=0.01), sleep=sleep)
        assert n.post(f"http://127.0.0.1:{port}/late", messages.goto()) == OZML.decode()
        assert len(started) == 1 and len(started[0].requests) == 1
    finally:
        for app in started:
            app.stop()


def test_an_unresolvable_name_is_retried_then_reported():
    def no_dns(host, port, **kw):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    slept: list[float] = []
    n = Notifier(config=NotifyConfig(retries=1, backoff=0.02), resolver=no_dns, sleep=slept.append)
    with pytest.raises(ResolveFailed, match="app.example"):
        n.post("http://app.example/hook", messages.goto())
    assert slept == [0.02]


def test_non_string_values_are_sent_as_ozeki_writes_them(webapp):
    webapp.route("/x", Reply(200))
    notifier().post(webapp.url("/x"), {"Delivered": True, "Duration": 15, "Name": "a"})
    assert webapp.requests[0].body == b"Delivered=true&Duration=15&Name=a"


def test_500_is_an_error_with_the_status_and_is_not_retried(webapp):
    webapp.route("/err", Reply(500, b"boom"))
    with pytest.raises(HttpStatusError) as info:
        notifier(retries=2).post(webapp.url("/err"), messages.goto())
    assert info.value.status == 500
    assert len(webapp.requests) == 1


def test_503_is_retried_and_a_later_success_returned(webapp):
    answers = iter([Reply(503), Reply(502), Reply(200, OZML)])
    webapp.route("/busy", lambda req: next(answers))
    assert notifier(retries=2).post(webapp.url("/busy"), messages.goto()) == OZML.decode()
    assert len(webapp.requests) == 3


def test_404_is_an_error(webapp):
    with pytest.raises(HttpStatusError) as info:
        notifier().post(webapp.url("/nowhere"), messages.goto())
    assert info.value.status == 404


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_over_1_mib_is_rejected(webapp, chunked):
    webapp.route("/big", Reply(200, b"<" * (5 * 1024 * 1024), chunked=chunked))
    webapp.route("/max", Reply(200, b"a" * (1024 * 1024), chunked=chunked))
    n = notifier()
    with pytest.raises(ResponseTooLarge):
        n.post(webapp.url("/big"), messages.goto())
    assert len(n.post(webapp.url("/max"), messages.goto())) == 1024 * 1024


def test_garbage_instead_of_http_is_a_bad_response():
    raw = RawServer(b"\x00\x01garbage that is not HTTP\r\n\r\n")
    try:
        with pytest.raises(BadResponse):
            notifier().post(raw.url(), messages.goto())
    finally:
        raw.close()


def test_a_connection_closed_without_answer_is_a_bad_response():
    raw = RawServer(b"")
    try:
        with pytest.raises(BadResponse):
            notifier(retries=2).post(raw.url(), messages.goto())
    finally:
        raw.close()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1:80/x", "", "http:///x",
                                 "http://127.0.0.1:99999/"])
def test_only_absolute_http_urls_are_fetched(url):
    with pytest.raises(BadUrl):
        notifier().post(url, messages.goto())


def test_deny_list_refuses_loopback_with_307_before_connecting(webapp):
    webapp.route("/x", Reply(200, OZML))
    n = notifier(deny=["127.0.0.0/8"])
    for url in (webapp.url("/x"), f"http://localhost:{webapp.port}/x", f"http://[::ffff:127.0.0.1]:{webapp.port}/x"):
        with pytest.raises(ForbiddenTarget) as info:
            n.post(url, messages.goto())
        assert info.value.code == 307
        assert isinstance(info.value, ForbiddenAddress) and isinstance(info.value, ApiError)
    assert webapp.requests == []


def test_allow_list_admits_only_its_networks(webapp):
    webapp.route("/x", Reply(200, OZML))
    with pytest.raises(ForbiddenTarget):
        notifier(allow=["10.0.0.0/8", "::1/128"]).post(webapp.url("/x"), messages.goto())
    assert notifier(allow=["127.0.0.1/32"]).post(webapp.url("/x"), messages.goto()) == OZML.decode()
    # deny wins over allow
    with pytest.raises(ForbiddenTarget):
        notifier(allow=["127.0.0.0/8"], deny=["127.0.0.1/32"]).post(webapp.url("/x"), messages.goto())


def test_every_resolved_address_is_checked(webapp):
    webapp.route("/x", Reply(200, OZML))

    def two_addresses(host, port, **kw):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.9", port))]

    n = Notifier(config=NotifyConfig(deny=["127.0.0.9/32"], retries=0), resolver=two_addresses)
    with pytest.raises(ForbiddenTarget) as info:
        n.post(f"http://app.example:{webapp.port}/x", messages.goto())
    assert info.value.address == "127.0.0.9"
    assert webapp.requests == []


def test_the_checked_address_is_the_one_connected_and_host_header_kept(webapp):
    webapp.route("/x", Reply(200, OZML))
    n = Notifier(config=NotifyConfig(retries=0),
                 resolver=lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
    assert n.post(f"http://app.example:{webapp.port}/x", messages.goto()) == OZML.decode()
    assert webapp.requests[0].headers["host"] == f"app.example:{webapp.port}"


def test_a_redirect_to_a_denied_address_is_refused(webapp_factory):
    inner = webapp_factory("127.0.0.2")
    inner.route("/secret", Reply(200, b"<Response/>"))
    outer = webapp_factory()
    outer.route("/hop", Reply(302, headers={"Location": inner.url("/secret")}))
    with pytest.raises(ForbiddenTarget):
        notifier(deny=["127.0.0.2/32"]).post(outer.url("/hop"), messages.goto())
    assert len(outer.requests) == 1 and inner.requests == []


def test_redirects_307_keeps_the_post_303_becomes_get(webapp):
    webapp.route("/a", Reply(307, headers={"Location": "/b"}))
    webapp.route("/b", Reply(200, OZML))
    webapp.route("/c", Reply(303, headers={"Location": webapp.url("/b")}))
    n = notifier()
    assert n.post(webapp.url("/a"), messages.goto()) == OZML.decode()
    assert [(r.method, r.path, r.body) for r in webapp.requests] == [
        ("POST", "/a", b"NotificationName=GoTo"), ("POST", "/b", b"NotificationName=GoTo")]
    n.post(webapp.url("/c"), messages.goto())
    assert [(r.method, r.path, r.body) for r in webapp.requests[2:]] == [
        ("POST", "/c", b"NotificationName=GoTo"), ("GET", "/b", b"")]


def test_a_redirect_loop_ends(webapp):
    webapp.route("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(BadResponse):
        notifier(max_redirects=3).post(webapp.url("/loop"), messages.goto())
    assert len(webapp.requests) == 4


def test_redirects_cannot_stretch_the_timeouts(webapp):
    """Every hop answers within the read timeout, the three together do not: one deadline covers them all, so
    the post ends at ~1 s, not after the 2.4 s the hops take together."""
    webapp.route("/r1", Reply(307, headers={"Location": "/r2"}, delay=0.8))
    webapp.route("/r2", Reply(307, headers={"Location": "/r3"}, delay=0.8))
    webapp.route("/r3", Reply(200, OZML, delay=0.8))
    start = time.monotonic()
    with pytest.raises(ResponseTimeout):
        notifier(connect_timeout=0.2, read_timeout=1.0).post(webapp.url("/r1"), messages.goto())
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 2.0, elapsed
    assert notifier(read_timeout=4).post(webapp.url("/r1"), messages.goto()) == OZML.decode()
