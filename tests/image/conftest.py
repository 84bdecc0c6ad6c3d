"""The image tests that boot the SD-card image run only from `make image-test` (PIGATE_IMAGE_TEST=1)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PIGATE_IMAGE_TEST") == "1":
        return
    skip = pytest.mark.skip(reason="boots the SD-card image under qemu (minutes): `make image-test`")
    for item in items:
        if item.get_closest_marker("image") is not None:
            item.add_marker(skip)
