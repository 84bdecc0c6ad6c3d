"""The config file survives a SIGKILL in the middle of a write: a process killed while the temporary file is
half written leaves the old file complete (and the next write tidies up); a daemon killed while ModifyConfig
runs in a loop always leaves a file that passes the check."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from pigate import config
from tests.support import pigate_env

OLD = '[[api_extensions]]\nid = "9999"\nerror_url = "http://127.0.0.1:9/old"\n'

# A writer that stops half-way through its Nth chunk and waits to be killed.
CHILD = r"""
import os, sys, time
from pigate.configedit import ConfigEditor, ConfigFile
stop_at = int(sys.argv[2])
calls = []
def slow(fd, data):
    calls.append(1)
    if len(calls) == stop_at:
        os.write(fd, data[: len(data) // 2])
        os.fsync(fd)
        print("half", flush=True)
        time.sleep(60)
    os.write(fd, data)
editor = ConfigEditor(file=ConfigFile(path=sys.argv[1], write_chunk=slow), apply=lambda *a: False)
editor.modify("ApiExtension", "9999", {"error_url": "http://127.0.0.1:9/" + "new" * 2000})
print("done", flush=True)
"""


@pytest.mark.parametrize("stop_at, what", [(1, "the backup"), (2, "the new file")])
def test_sigkill_half_way_through_a_write_leaves_the_old_file(tmp_path, stop_at, what):
    path = tmp_path / "pigate.toml"
    path.write_text(OLD)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(stop_at)], env=pigate_env(),
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "half", f"the writer never reached {what}"
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        child.stdout.close()
    assert path.read_text() == OLD                                   # complete, and the old version
    config.load(path)                                                # passes the check
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the half-written temporary file should be the only trace"
    from pigate.configedit import ConfigEditor, ConfigFile
    ConfigEditor(file=ConfigFile(path=path), apply=lambda *a: False).modify(
        "ApiExtension", "9999", {"error_url": "http://127.0.0.1:9/next"})
    assert tomllib.loads(path.read_text())["api_extensions"][0]["error_url"] == "http://127.0.0.1:9/next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pigate.toml", "pigate.toml.bak"]


def test_a_daemon_killed_during_modifyconfig_always_leaves_a_valid_file(daemon_factory, tmp_path):
    rng = random.Random(13)
    d = daemon_factory('[[api_extensions]]\nid = "9999"\n')
    sent = {""}
    for round_ in range(3):
        stop = threading.Event()

        def hammer() -> None:
            i = 0
            while not stop.is_set():
                url = f"http://127.0.0.1:9/r{round_}-{i}" + "x" * rng.randrange(0, 4000)
                sent.add(url)
                try:
                    d.call("ModifyConfig", Type="ApiExtension", Id="9999", error_url=url)
                except Exception:  # the daemon is gone (reset, refused, or an answer cut short)
                    return
                i += 1

        worker = threading.Thread(target=hammer)
        worker.start()
        threading.Event().wait(rng.uniform(0.2, 0.6))
        d.signal(signal.SIGKILL)
        d.proc.wait(5)
        stop.set()
        worker.join(10)
        text = d.config_path.read_text()
        cfg = config.parse(text)                                     # complete and valid
        assert cfg.api_extensions[0].error_url in sent
        d.config_text = text
        d.start()
