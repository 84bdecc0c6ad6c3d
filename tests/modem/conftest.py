"""Fixtures for the modem driver tests."""

from __future__ import annotations

import pytest

from tests.modem.world import WorldFactory


@pytest.fixture
def world(tmp_path):
    """`world(dialect, **config)`: a simulated network and our Modem on its pty; all stopped afterwards."""
    factory = WorldFactory(tmp_path)
    yield factory
    factory.close()
