"""Fixtures: real HTTP apps on loopback, stopped after each test."""

from __future__ import annotations

import pytest

from tests.notify.webapp import WebApp


@pytest.fixture
def webapp_factory():
    apps: list[WebApp] = []

    def make(host: str = "127.0.0.1") -> WebApp:
        app = WebApp(host).start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop()


@pytest.fixture
def webapp(webapp_factory) -> WebApp:
    return webapp_factory()
