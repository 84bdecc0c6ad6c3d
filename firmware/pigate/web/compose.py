"""Builds the web side from the daemon's parts (called by app.py): one object to install, start and stop."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import bottle

from pigate import __version__
from pigate.api.auth import AddressGuard, UserGuard
from pigate.config import Config
from pigate.events import EventBus
from pigate.store import Database
from pigate.store.views import Views
from pigate.web.access import Access
from pigate.web.deliveries import DeliveryLog, LoggingPoster
from pigate.web.live import LiveHub
from pigate.web.metrics import Metrics
from pigate.web.playground import Playground
from pigate.web.site import Site
from pigate.web.status import StatusSource
from pigate.web.v1 import JsonApi


class Web:
    """The dashboard, /v1, OpenAPI and /metrics. `wrap_poster` is applied before the services are built (so
    their webhook posts are logged); `build` once they exist; `install`, `start` and `stop` as the App does."""

    def __init__(self, *, config: Config) -> None:
        self._config = config
        self.deliveries = DeliveryLog()
        self._listeners: list = []
        self.live: LiveHub | None = None
        self.metrics: Metrics | None = None
        self.site: Site | None = None
        self.stream_slots = 24 if config.http.dashboard else 0

    def wrap_poster(self, poster: Any) -> LoggingPoster:
        return LoggingPoster(inner=poster, log=self.deliveries, listeners=(self._on_delivery,))

    def _on_delivery(self, delivery: Any) -> None:
        if self.metrics is not None:
            self.metrics.on_delivery(delivery)

    def build(self, *, db: Database, bus: EventBus, sms: Any, calls: Any, leds: Any, modems: Mapping[str, Any],
              network: Any, sip_trunks: Callable[[], list[dict]],
              commands: Any, ozeki: Any, users: UserGuard, addresses: AddressGuard) -> None:
        cfg = self._config
        views = Views(db=db)
        source = StatusSource(config=cfg, sms=sms, calls=calls, views=views, leds=leds, deliveries=self.deliveries,
                              sip_trunks=sip_trunks, version=lambda: __version__)
        self._bus = bus
        self.metrics = Metrics(views=views, lines=sms.line_status, active_calls=calls.active_calls,
                               sip_trunks=sip_trunks,
                               logins=users.stats)
        def fingerprints() -> dict:
            # Cheap readings only (one query for the store). The outbox follows every write; the other
            # store sections follow their new rows, and their updates (read flags, webhook retries, a line's
            # message counts: a GROUP BY over the outbox) within 5 s.
            changes, inbox, history, recordings, hooks = views.marks()
            epoch = int(time.monotonic() / 5)
            return {"outbox": changes, "inbox": (inbox, epoch), "history": (history, recordings),
                    "webhooks": (self.deliveries.version, hooks, epoch),
                    "calls": [(c.call_id, c.state) for c in calls.active_calls()],
                    "lines": (epoch, [(m.state, m.status().get("signal_percent"), m.status().get("last_error"))
                                      for m in modems.values()]),
                    "leds": leds.network,
                    "sip": [(t["state"], t["last_error"]) for t in sip_trunks()]}

        self.live = LiveHub(source=source, bus=bus, max_streams=max(1, self.stream_slots), fingerprints=fingerprints)
        access = Access(users=users, keys=cfg.http.api_keys)
        extension = cfg.api_extensions[0].id if cfg.api_extensions else ""
        json_api = JsonApi(config=cfg, sms=sms, calls=calls, views=views, access=access, addresses=addresses,
                           status=source.status)
        playground = None
        if network is not None and cfg.http.dashboard:
            playground = Playground(calls=calls, network=network, api_extension=extension)
        self.site = Site(access=access, addresses=addresses, json_api=json_api, live=self.live,
                         metrics=self.metrics, commands=commands.commands, ozeki=ozeki, sms=sms,
                         playground=playground, api_extension=extension, version=__version__,
                         pages=cfg.http.dashboard)

    def install(self, app: bottle.Bottle) -> None:
        assert self.site is not None, "build first"
        self.site.install(app)

    def start(self) -> None:
        self.metrics.start(self._bus)
        self.live.start()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.metrics is not None:
            self.metrics.stop()
