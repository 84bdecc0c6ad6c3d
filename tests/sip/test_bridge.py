"""The gateway job: a SIP peer's call goes out on a GSM line ([[routes]]) and a handset's call to a SIP peer;
the simulated handset and the pjsua2 peer hear each other's tones, hang-up on either side ends both, and a
busy or refusing handset reaches the SIP caller as its status code."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

from tests.sip.conftest import free_sip_port

BOB = "+15551230002"
LINE_NUMBER = "+15550000001"


def _sim(d, path: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(urllib.request.Request(f"{d.base}/sim{path}", data=body), timeout=10) as resp:
        return json.loads(resp.read())


def _wait(predicate, timeout: float, what: str, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{log()[-4000:]}"
        time.sleep(0.05)
    return value


def _box(daemon_factory, peer_factory, routes: str, *, tone: int = 1000):
    sip_port = free_sip_port()
    peer = peer_factory(gateway_port=sip_port, tone=tone)
    d = daemon_factory(f"""
[sip]
enabled = true
listen = "127.0.0.1"
port = {sip_port}

[[sip.peers]]
name = "lab"
address = "127.0.0.1:{peer.port}"
{routes}
""")
    _wait(lambda: d.call("ListExtensions", Type="GsmLine").find("Extensions/ExtensionSummary/State") == "Connected",
          15, "the GSM line", d.log)
    d.sip_port = sip_port
    return d, peer


SIP_TO_GSM = """
[[routes]]
source = "lab"
match = "9[0-9]+"
to = "gsm"
strip = 1
prepend = "+"
"""


def _handset_call(d, number: str = BOB) -> dict:
    return _sim(d, f"/handsets/{urllib.parse.quote(number)}/calls")[-1]


def _strongest(d, number: str = BOB) -> str:
    heard = _sim(d, f"/handsets/{urllib.parse.quote(number)}/heard?hz=400,600,1000,1400")
    return max(heard["power"], key=heard["power"].get)


def test_a_sip_call_goes_out_on_gsm_with_audio_both_ways_and_hangup_from_either_side(daemon_factory, peer_factory):
    d, peer = _box(daemon_factory, peer_factory, SIP_TO_GSM)
    t0 = time.monotonic()
    peer.send("dial", target="915551230002", caller_id="+15557654321")
    peer.expect("Answered", timeout=15)
    setup = time.monotonic() - t0
    call = _handset_call(d)
    assert call["state"] == "active" and call["direction"] == "in", call
    # The handset hears the SIP caller's 1000 Hz tone; the SIP caller hears the handset's 600 Hz one.
    _wait(lambda: _strongest(d) == "1000", 5, "the peer's tone at the handset", d.log)
    _sim(d, f"/handsets/{urllib.parse.quote(BOB)}/call/play", {"freq": 600, "seconds": 4})

    def peer_hears_600():
        peer.send("tone")
        return peer.expect("Tone")["hz"] == 600
    _wait(peer_hears_600, 5, "the handset's tone at the peer", d.log)
    # Keys cross the bridge both ways (RFC 2833 on SIP, the simulated network's DTMF on GSM).
    peer.send("dtmf", digits="5")
    _wait(lambda: "5" in _handset_call(d)["dtmf_received"], 5, "the peer's key at the handset", d.log)
    _sim(d, f"/handsets/{urllib.parse.quote(BOB)}/call/keys", {"digits": "7"})
    assert peer.expect("Digit", timeout=5)["digit"] == "7"
    _sim(d, f"/handsets/{urllib.parse.quote(BOB)}/call/hangup", {})
    ended = peer.expect("Ended", timeout=5)
    assert ended["code"] == 200, ended
    history = _wait(lambda: (lambda a: a if a.find("TotalRecords") == "2" else None)(d.call("ListCallHistory")),
                    10, "both legs in the history", d.log).raw.decode()
    assert "<Line>lab</Line>" in history and "<Line>gsm1</Line>" in history, history
    assert history.count("<CallerId>+15557654321</CallerId>") == 2, history  # the caller's id on both legs

    # Now the SIP side hangs up.
    peer.send("dial", target="915551230002", caller_id="+15557654321")
    peer.expect("Answered", timeout=15)
    _wait(lambda: _handset_call(d)["state"] == "active", 5, "the second call at the handset", d.log)
    peer.command("hangup")
    _wait(lambda: _handset_call(d)["state"] not in ("active", "ringing", "incoming"), 5,
          "the handset's call to end", d.log)
    print(f"SIP->GSM setup (INVITE to 200 OK, handset answering at once): {setup:.3f} s")
    assert "Traceback" not in d.log()


def test_busy_and_refusing_handsets_reach_the_sip_caller_as_486_and_603_strangers_get_403(daemon_factory, peer_factory):
    d, peer = _box(daemon_factory, peer_factory, SIP_TO_GSM + '\n[[routes]]\nsource = "lab"\nto = "reject"\n')
    for behaviour, code in (("busy", 486), ("reject", 603)):
        _sim(d, f"/handsets/{urllib.parse.quote(BOB)}/settings", {"incoming_behaviour": behaviour})
        peer.send("dial", target="915551230002")
        ended = peer.expect("Ended", timeout=15)
        assert ended["code"] == code, (behaviour, ended, d.log()[-3000:])
    peer.send("dial", target="100")  # no route to GSM for it: the catch-all rule rejects
    assert peer.expect("Ended", timeout=10)["code"] == 486
    # A stranger dialling the same GSM route is refused before any route is looked at: no handset rings.
    calls_before = len(_sim(d, f"/handsets/{urllib.parse.quote(BOB)}/calls"))
    stranger = peer_factory(gateway_port=d.sip_port, listen="127.0.0.5")
    stranger.send("dial", target="915551230002")
    assert stranger.expect("Ended", timeout=10)["code"] == 403
    assert len(_sim(d, f"/handsets/{urllib.parse.quote(BOB)}/calls")) == calls_before
    assert "refused a call from 127.0.0.5" in d.log()


def test_a_handsets_call_to_the_box_rings_the_sip_peer_with_the_callers_number(daemon_factory, peer_factory):
    d, peer = _box(daemon_factory, peer_factory, '[[routes]]\nsource = "gsm1"\nto = "lab"\nstrip = 1\nprepend = "00"\n',
                   tone=1400)
    caller = "+15551230009"
    _sim(d, f"/handsets/{urllib.parse.quote(caller)}/call", {"to": LINE_NUMBER})
    incoming = peer.expect("Incoming", timeout=10)
    assert incoming["caller"] == caller and incoming["called"] == "00" + LINE_NUMBER[1:], incoming
    peer.expect("Answered", timeout=10)
    _wait(lambda: _handset_call(d, caller)["state"] == "active", 5, "the handset's call answered", d.log)
    _wait(lambda: _strongest(d, caller) == "1400", 5, "the peer's tone at the calling handset", d.log)
    _sim(d, f"/handsets/{urllib.parse.quote(caller)}/call/hangup", {})
    assert peer.expect("Ended", timeout=5)["code"] == 200
