"""/metrics: the box in Prometheus text format (prometheus-client), from the store, the services and the bus.

Counts that must survive a restart (SMS sent/failed/received, calls by result, latency histograms) are read
from SQLite at scrape time; modem recoveries and webhook posts are counted live (since the daemon started).
Each App has its own registry: nothing here is module-level.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from pigate.events import Event, EventBus
from pigate.modem import events as modem_events
from pigate.store.views import Views
from pigate.web.deliveries import Delivery

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0)
SENT_STATES = ("sent", "delivered", "undelivered")


class _StoreCollector:
    """Collects on each scrape from the store and the live status (a prometheus custom collector)."""

    def __init__(self, *, views: Views, lines: Callable[[], list[dict]], active_calls: Callable[[], list],
                 sip_trunks: Callable[[], list[dict]], logins: Callable[[], dict[str, int]]) -> None:
        self._views, self._lines, self._active = views, lines, active_calls
        self._sip_trunks = sip_trunks
        self._logins = logins

    def describe(self) -> list:
        return []  # collected lazily: no scrape at registration

    def collect(self) -> Iterable[Any]:
        counts = self._views.state_counts()
        sent = CounterMetricFamily("pigate_sms_sent", "SMS accepted by the network, by line", labels=["line"])
        failed = CounterMetricFamily("pigate_sms_failed", "SMS that failed, by line", labels=["line"])
        per_line: dict[str, list[int]] = {}
        for (line, state), n in counts.items():
            slot = per_line.setdefault(line or "", [0, 0])
            if state in SENT_STATES:
                slot[0] += n
            elif state == "failed":
                slot[1] += n
        for line, (s, f) in sorted(per_line.items()):
            sent.add_metric([line], s)
            failed.add_metric([line], f)
        yield sent
        yield failed
        received = CounterMetricFamily("pigate_sms_received", "SMS received, by line", labels=["line"])
        for line, n in sorted(self._views.received_counts().items()):
            received.add_metric([line], n)
        yield received
        depth = GaugeMetricFamily("pigate_sms_queue_depth", "SMS accepted and not yet sent (queued or sending)")
        depth.add_metric([], sum(n for (_, state), n in counts.items() if state in ("queued", "sending")))
        yield depth
        sub_b, sub_sum, sub_n, dlv_b, dlv_sum, dlv_n = self._views.part_latencies(LATENCY_BUCKETS)
        for name, doc, buckets, total, n in (
                ("pigate_sms_submission_seconds", "From a part's submission to the modem's +CMGS", sub_b, sub_sum,
                 sub_n),
                ("pigate_sms_delivery_seconds", "From a part's +CMGS to its delivery report", dlv_b, dlv_sum, dlv_n)):
            h = HistogramMetricFamily(name, doc)
            h.add_metric([], [(str(b), c) for b, c in zip(LATENCY_BUCKETS, buckets)] + [("+Inf", n)], total)
            yield h
        ended = CounterMetricFamily("pigate_calls_ended", "Ended calls by final state and result",
                                    labels=["state", "result"])
        for row in self._views.call_counts():
            ended.add_metric([row["state"], row["result"]], row["n"])
        yield ended
        active = GaugeMetricFamily("pigate_calls_active", "Calls in progress by state", labels=["state"])
        by_state: dict[str, int] = {}
        for call in self._active():
            by_state[call.state] = by_state.get(call.state, 0) + 1
        for state, n in sorted(by_state.items()):
            active.add_metric([state], n)
        yield active
        signal = GaugeMetricFamily("pigate_modem_signal_percent", "Signal strength", labels=["line"])
        registered = GaugeMetricFamily("pigate_modem_registered", "1 when registered (home or roaming)",
                                       labels=["line", "state"])
        for st in self._lines():
            if st.get("signal_percent") is not None:
                signal.add_metric([st["name"]], st["signal_percent"])
            registered.add_metric([st["name"], st.get("state", "")], 1 if st.get("state") == "registered" else 0)
        yield signal
        yield registered
        sip = GaugeMetricFamily("pigate_sip_registered", "1 when the SIP account is registered", labels=["account"])
        for trunk in self._sip_trunks():
            if trunk["kind"] == "account":
                sip.add_metric([trunk["name"]], 1 if trunk["connected"] else 0)
        yield sip
        stats = self._logins()
        logins = CounterMetricFamily("pigate_logins", "Login checks (all ways in) by outcome", labels=["outcome"])
        for outcome in sorted(k for k in stats if k != "locked_addresses"):
            logins.add_metric([outcome], stats[outcome])
        yield logins
        locked = GaugeMetricFamily("pigate_login_locked_addresses", "Client addresses locked out now")
        locked.add_metric([], stats.get("locked_addresses", 0))
        yield locked


class Metrics:
    """The registry, the live counters, and the subscriptions that move them."""

    def __init__(self, *, views: Views, lines: Callable[[], list[dict]], active_calls: Callable[[], list],
                 sip_trunks: Callable[[], list[dict]] = list, logins: Callable[[], dict[str, int]] = dict) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.recoveries = Counter("pigate_modem_recoveries", "Modem recovery runs started", ["line"],
                                  registry=self.registry)
        self.webhook_seconds = Histogram("pigate_webhook_seconds", "Webhook post latency", ["kind"],
                                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30), registry=self.registry)
        self.webhook_failures = Counter("pigate_webhook_failures", "Webhook posts that failed", ["kind"],
                                        registry=self.registry)
        self.registry.register(_StoreCollector(views=views, lines=lines, active_calls=active_calls,
                                               sip_trunks=sip_trunks, logins=logins))
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self, bus: EventBus) -> None:
        self._unsubscribe.append(bus.subscribe(modem_events.RecoveryStep, self._on_recovery))

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _on_recovery(self, event: Event) -> None:
        if isinstance(event, modem_events.RecoveryStep) and event.step == "start":
            self.recoveries.labels(line=event.name).inc()

    def on_delivery(self, delivery: Delivery) -> None:
        self.webhook_seconds.labels(kind=delivery.kind).observe(delivery.seconds)
        if not delivery.ok:
            self.webhook_failures.labels(kind=delivery.kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
