"""`pigate backup` / `pigate restore`: config and data as one file, taken while the daemon runs, and back."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import time

import pytest

from tests.support import Daemon, pigate_env


def _pigate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pigate", *args], env=pigate_env(), capture_output=True, text=True,
                          timeout=60)


def _delivered(d: Daemon, sms_id: str) -> None:
    deadline = time.monotonic() + 15
    while d.call("GetSms", SmsId=sms_id).find("Sms/State") != "delivered":
        assert time.monotonic() < deadline, d.call("GetSms", SmsId=sms_id).raw
        time.sleep(0.1)


def test_round_trip_onto_a_fresh_box(tmp_path):
    old = Daemon(workdir=tmp_path / "old", config_text="[[api_extensions]]\nid = \"7000\"\n")
    old.start()
    try:
        sent = [old.call("SendSms", ApiExtension="7000", Recipient="+15551230001", Message=f"m{i} " + "x" * i * 40)
                for i in range(3)]
        ids = [a.find("SmsId") for a in sent]
        for sms_id in ids:
            _delivered(old, sms_id)
        content = old.workdir / "data" / "content"
        content.mkdir(exist_ok=True)
        (content / "greeting.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
        archive = tmp_path / "box.tar.gz"
        # Taken while the daemon runs: SQLite's online backup gives a consistent copy.
        res = _pigate("backup", str(archive), "--config", str(old.config_path))
        assert res.returncode == 0, res.stderr
        before = {i: old.call("GetSms", SmsId=i).raw for i in ids}
    finally:
        old.stop()

    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "config/pigate.toml" in names and "data/pigate.db" in names
    assert not [n for n in names if n.endswith(("-wal", "-shm", ".sock")) or n.startswith("data/sim")]

    new = Daemon(workdir=tmp_path / "new", port=old.port)
    new.workdir.mkdir()
    new.write_config()  # a fresh box's own config, pointing at its own (empty) data dir
    res = _pigate("restore", str(archive), "--config", str(new.config_path),
                  "--data-dir", str(new.workdir / "data"), "--socket", str(tmp_path / "none.sock"))
    assert res.returncode == 0, res.stderr
    assert new.config_path.read_text() == old.config_path.read_text()
    # The restored config names the old data dir; the new box runs on its own copy of the data.
    new.config_text = new.config_path.read_text().replace(str(old.workdir / "data"), str(new.workdir / "data"))
    new.start()
    try:
        for sms_id in ids:
            assert new.call("GetSms", SmsId=sms_id).raw == before[sms_id]
        assert new.call("ListExtensions").raw.count(b"<Id>7000</Id>") == 1
        assert (new.workdir / "data" / "content" / "greeting.wav").read_bytes() == \
            b"RIFF" + bytes(range(256)) * 8
    finally:
        new.stop()


def test_restore_refuses_while_the_daemon_runs(daemon_factory, tmp_path):
    d = daemon_factory()
    archive = tmp_path / "b.tar.gz"
    assert _pigate("backup", str(archive), "--config", str(d.config_path)).returncode == 0
    res = _pigate("restore", str(archive), "--config", str(d.config_path),
                  "--socket", str(d.workdir / "data" / "control.sock"))
    assert res.returncode == 1 and "the daemon is running: stop it first" in res.stderr


@pytest.mark.parametrize("name, why", [("../etc/evil", "should not"), ("data/../../x", "should not"),
                                       ("other/file", "should not")])
def test_a_hostile_archive_changes_nothing(tmp_path, name, why):
    data = tmp_path / "data"
    data.mkdir()
    (data / "keep.txt").write_text("mine")
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for arc, blob in (("manifest.json", b'{"format": "pigate-backup-1", "files": []}'), (name, b"x")):
            info = tarfile.TarInfo(arc)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    res = _pigate("restore", str(archive), "--data-dir", str(data), "--no-config",
                  "--socket", str(tmp_path / "none.sock"))
    assert res.returncode == 1 and why in res.stderr
    assert [p.name for p in data.iterdir()] == ["keep.txt"] and not (tmp_path / "x").exists()


def test_not_a_backup_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    res = _pigate("restore", str(junk), "--data-dir", str(tmp_path / "d"), "--socket", str(tmp_path / "n.sock"))
    assert res.returncode == 1 and "cannot read" in res.stderr
