"""AlarmNotification is durable: a simulated panel calls the real daemon while the alarm app is down; the events
get their kissoff at once, wait on disk, survive the daemon being killed, and reach the app exactly once when both
are back."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest

from pigate.alarm import encode_block
from tests.calls.test_daemon import wait_for
from tests.calls.world import WebApp
from tests.support import free_port

ALICE, LINE = "+15551230001", "+15550000001"
BURGLARY = encode_block("12B4", "130", zone="015")
RESTORE = encode_block("12B4", "130", qualifier="3", zone="015")


@pytest.fixture
def scripts():
    web = WebApp()
    yield web
    web.close()


def test_alarms_received_while_the_app_is_down_reach_it_after_a_restart(daemon_factory, scripts):
    alarm_port = free_port()                       # nothing listens here yet: the alarm app is down
    scripts.routes["/incoming"] = (f"<Response><ReceiveAlarmNotification Url='http://127.0.0.1:{alarm_port}/alarm' "
                                   "Timeout='5'/></Response>")
    d = daemon_factory(f'[notifications]\nincoming_call_url = "{scripts.url("/incoming")}"\nretries = 0\n\n'
                       '[sms]\nhook_attempts = 1000\nhook_backoff = 0.2\nhook_backoff_cap = 1.0\n')
    wait_for(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
             == "Connected", 15, "the line", d.log)
    body = urllib.parse.urlencode({"to": LINE, "blocks": f"{BURGLARY},{RESTORE}", "corrupt": "1"}).encode()
    with urllib.request.urlopen(urllib.request.Request(
            f"{d.base}/sim/handsets/{urllib.parse.quote(ALICE)}/alarm", data=body), timeout=60) as resp:
        panel = json.load(resp)
    assert panel["handshake"] and panel["acknowledged"] == [BURGLARY, RESTORE], panel   # kissoffs, app or not
    assert len(panel["sent"]) == 3                                                     # the corrupted one again
    assert "AlarmNotification" in d.log() and "Connection refused" in d.log()         # the app was down

    d.kill()          # at once, no clean stop: what the panel saw acknowledged must already be on disk
    app = WebApp(port=alarm_port)
    try:
        d.start()
        posted = app.wait("/alarm", 2, timeout=20)
        assert [(p["NotificationName"], p["Account"], p["Kind"], p["EventCode"], p["Zone"], p["Raw"])
                for p in posted] == [("AlarmNotification", "12B4", "new", "130", "015", BURGLARY),
                                     ("AlarmNotification", "12B4", "restore", "130", "015", RESTORE)]
        assert posted[0]["Caller"] == ALICE and posted[0]["CallId"] == posted[1]["CallId"]
        time.sleep(1.5)                            # several retry intervals: nothing is posted twice
        assert len(app.of("/alarm")) == 2
    finally:
        app.close()
