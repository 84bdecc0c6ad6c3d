"""Shared fixtures: a real pigate daemon as a subprocess, and an in-process WSGI client."""

from __future__ import annotations

import pytest

from tests.support import Daemon


@pytest.fixture
def daemon_factory(tmp_path):
    """Start daemons with a given config text; every one is stopped (and checked stopped) afterwards."""
    started: list[Daemon] = []

    def start(config_text: str = "", **kw) -> Daemon:
        d = Daemon(workdir=tmp_path / f"d{len(started)}", config_text=config_text, **kw)
        started.append(d)
        d.start()
        return d

    yield start
    for d in started:
        d.stop()
