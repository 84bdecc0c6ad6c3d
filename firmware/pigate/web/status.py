"""What the dashboard and /v1/status show, as JSON sections read from the services' faces and the store."""

from __future__ import annotations

import time
from typing import Any, Callable

from pigate.config import Config
from pigate.store.views import Views
from pigate.web.deliveries import DeliveryLog

ROWS = 30
SECTIONS = ("lines", "sip", "leds", "calls", "outbox", "inbox", "history", "webhooks")


def _iso(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def bars(percent: int | None) -> int:
    """Signal bars 0-5 as a phone shows them."""
    if percent is None:
        return 0
    return max(0, min(5, (int(percent) + 19) // 20))


class StatusSource:
    """Builds each section on demand; `lines` is the SMS service's line_status (modem facts + counts)."""

    def __init__(self, *, config: Config, sms: Any, calls: Any, views: Views, leds: Any,
                 deliveries: DeliveryLog, sip_trunks: Callable[[], list[dict]] = list,
                 started: float | None = None, version: Callable[[], str] = lambda: "") -> None:
        self._sip_trunks = sip_trunks
        self._config, self._sms, self._calls, self._views = config, sms, calls, views
        self._leds, self._deliveries = leds, deliveries
        self._started = started or time.time()
        self._version = version

    def section(self, name: str) -> Any:
        return getattr(self, name)()

    def lines(self) -> list[dict]:
        out = []
        for st in self._sms.line_status():
            out.append({
                "name": st.get("name"), "number": st.get("number"), "state": st.get("state"),
                "model": " ".join(x for x in (st.get("manufacturer"), st.get("model")) if x) or None,
                "revision": st.get("revision"), "imei": st.get("imei"), "sim": st.get("imsi"),
                "operator": st.get("operator"), "registration": st.get("registration"),
                "signal_percent": st.get("signal_percent"), "signal_dbm": st.get("signal_dbm"),
                "signal_bars": bars(st.get("signal_percent")), "last_error": st.get("last_error") or None,
                "submitted": st.get("submitted", 0), "messages": st.get("messages", {}),
            })
        return out

    def sip(self) -> list[dict]:
        """The SIP trunks as pigate.sip.trunks tells them (as `pigate status` and the LEDs see them)."""
        return self._sip_trunks()

    def leds(self) -> dict:
        layout = self._config.leds.pins
        return {"power": "on", "network": self._leds.network, "activity": "off",
                "present": sorted(layout)}

    def calls(self) -> list[dict]:
        return [{"id": c.call_id, "direction": c.direction, "line": c.line, "from": c.source, "to": c.destination,
                 "state": c.state, "started": _iso(c.start_time), "ring_seconds": round(c.ring_duration, 1),
                 "talk_seconds": round(c.talk_duration, 1)} for c in self._calls.active_calls()]

    def outbox(self) -> list[dict]:
        return [{"id": m.id, "recipient": m.recipient, "text": m.text, "state": m.state, "reason": m.reason or None,
                 "line": m.line, "created": _iso(m.created), "updated": _iso(m.updated),
                 "parts": [{"seq": p.seq, "state": p.state, "reference": p.mr, "report": p.report or None,
                            "attempts": p.attempts, "reason": p.reason or None} for p in parts]}
                for m, parts in self._views.recent_outgoing(ROWS)]

    def inbox(self) -> list[dict]:
        return [{"id": m.id, "from": m.sender, "to": m.recipient, "line": m.line, "text": m.text,
                 "received": _iso(m.received), "incomplete": m.incomplete, "read": m.read}
                for m in self._views.recent_incoming(ROWS)]

    def history(self) -> list[dict]:
        _, rows = self._calls.history(offset=0, limit=ROWS)
        recordings = self._views.recordings([r.call_id for r in rows])
        return [{"id": r.call_id, "direction": r.direction, "line": r.line, "from": r.source, "to": r.destination,
                 "state": r.state, "result": r.result, "started": _iso(r.start_time),
                 "talk_seconds": round(r.talk_duration, 1),
                 "recordings": [{"url": f"/HttpRecordings/{x['path']}", "format": x["format"],
                                 "seconds": round(x["duration"], 1)} for x in recordings.get(r.call_id, [])]}
                for r in rows]

    def webhooks(self) -> dict:
        return {
            "posts": [d.as_json() | {"at": _iso(d.at), "seconds": round(d.seconds, 3)}
                      for d in self._deliveries.recent(ROWS)],
            "sms_queue": [{"kind": h["kind"], "subject": h["subject"], "url": h["url"], "state": h["state"],
                           "attempts": h["attempts"], "last_error": h["last_error"] or None,
                           "next_attempt": _iso(h["next_attempt"]) if h["state"] == "pending" else None}
                          for h in self._views.recent_hooks(ROWS)],
        }

    def status(self) -> dict:
        """GET /v1/status."""
        return {"version": self._version(), "uptime_seconds": round(time.time() - self._started, 1),
                "lines": self.lines(), "sip": self.sip(), "leds": self.leds(),
                "active_calls": len(self._calls.active_calls()), "sms_waiting": self._sms.waiting()}
