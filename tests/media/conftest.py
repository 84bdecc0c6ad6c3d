"""Fixtures and helpers for media tests: loopback web apps, sox-made audio files, signal measurements."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from tests.notify.conftest import webapp, webapp_factory  # noqa: F401  (fixtures re-exported)

SOX = shutil.which("sox")
needs_sox = pytest.mark.skipif(SOX is None, reason="sox is not installed (scripts/bootstrap installs it)")


def sox_make(path: Path, *args: str, seconds: float = 1.0, freq: int = 1000) -> Path:
    """A sine of `freq` Hz made by sox (a third-party encoder); `args` are the output format options."""
    subprocess.run([SOX, "-q", "-n", *args, str(path), "synth", str(seconds), "sine", str(freq), "vol", "0.5"],
                   check=True, timeout=30)
    return path


def samples(pcm: bytes) -> array:
    out = array("h")
    out.frombytes(pcm)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def rms(pcm: bytes) -> float:
    s = samples(pcm)
    return math.sqrt(sum(x * x for x in s) / len(s)) if s else 0.0


def dominant_hz(pcm: bytes, rate: int = 8000) -> float:
    """Frequency of a clean sine from its zero crossings."""
    s = samples(pcm)
    crossings = sum(1 for a, b in zip(s, s[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(s) / rate)
