"""The daemon as users run it (`pigate run`, simulated line): the Call command reaches a handset, the call shows
up in ListCallHistory, and the simulator's control API shows the handset was connected to the gateway's audio."""

from __future__ import annotations

import json
import time
import urllib.request


def wait_for(predicate, timeout, what, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log()}"
        time.sleep(0.05)


def test_daemon_places_a_call_that_speaks_and_is_recorded_in_history(daemon_factory):
    d = daemon_factory()
    wait_for(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State")
             == "Connected", 15, "the line", d.log)
    bob = "+15551230002"
    answer = d.call("Call", Dialed=bob, ApiExtension="9999",
                    ResponseOzML="<Response><Speak>Hello from the daemon.</Speak></Response>")
    assert answer.code == 200, answer.raw
    call_id = answer.find("CallId")
    history = wait_for(lambda: (lambda a: a if a.find("TotalRecords") == "1" else None)(d.call("ListCallHistory")),
                       15, "the history row", d.log)
    assert (history.find("CallHistory/Call/CallId"), history.find("CallHistory/Call/State"),
            history.find("CallHistory/Call/Direction")) == (call_id, "CallerHangUp", "Outbound")
    # The history row is written as the box hangs up (before its ATH reaches the modem): the handset's end
    # follows a moment later.
    def handset_calls():
        with urllib.request.urlopen(f"{d.base}/sim/handsets/{urllib.request.quote(bob)}/calls", timeout=5) as resp:
            calls = json.load(resp)
        return calls if calls and calls[-1]["state"] == "ended" else None
    calls = wait_for(handset_calls, 10, "the handset's call to end", d.log)
    assert calls[-1]["heard_seconds"] >= 1.0
    assert d.call("Hangup", CallId=call_id).code == 601
