"""First boot: pigate.txt applied once, its secrets wiped from the boot partition, SSH keys, Wi-Fi, config."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from pigate import config
from pigate.api.auth import verify_password
from pigate.errors import UpkeepError
from pigate.upkeep.firstboot import Box, parse, run

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnT8nYZo7Vt0gCQbJ2tDAc3ZfvJmQjS3dF2k6uRk9Ek admin@laptop"
PASSWORD = "correct horse battery staple"
WIFI_PASS = "wifi-secret-passphrase"


def make_box(tmp_path: Path, text: str | None) -> Box:
    root, boot, data, sysfs = (tmp_path / n for n in ("root", "boot", "data", "sys"))
    for d in (root / "etc", boot, data, sysfs / "bus" / "usb" / "devices"):
        d.mkdir(parents=True)
    (root / "etc" / "hostname").write_text("pigate\n")
    (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tpigate\n")
    (root / "etc" / "machine-id").write_text("uninitialized\n")
    if text is not None:
        (boot / "pigate.txt").write_text(text)
    return Box(root=root, boot=boot, data=data, config=data / "etc" / "pigate" / "pigate.toml", sysfs=sysfs)


def full_file() -> str:
    return (f"# settings\nadmin_password={PASSWORD}\nssh_authorized_key={KEY}\nwifi_ssid=HomeNet\n"
            f"wifi_password={WIFI_PASS}\nwifi_country=de\nhostname=gate-7\nhat=sim7600\n")


def test_the_file_is_applied_once_and_its_secrets_are_wiped(tmp_path):
    box = make_box(tmp_path, full_file())
    done = run(box)
    assert any("auth on" in step for step in done) and "machine-id" in done

    boot_file = (box.boot / "pigate.txt").read_bytes()
    assert PASSWORD.encode() not in boot_file and WIFI_PASS.encode() not in boot_file
    assert parse(boot_file.decode()) == {}  # nothing left to apply
    assert b"#hostname=gate-7" in boot_file  # the public settings stay, as a record

    # Nowhere on the box either: the Wi-Fi key is stored as the derived PSK, the password as a hash.
    for path in [*box.data.rglob("*"), *box.root.rglob("*")]:
        if path.is_file():
            blob = path.read_bytes()
            assert PASSWORD.encode() not in blob and WIFI_PASS.encode() not in blob, path

    keys = box.data / "etc" / "ssh" / "authorized_keys" / "root"
    assert keys.read_text().strip() == KEY and stat.S_IMODE(keys.stat().st_mode) == 0o600
    for kind in ("ed25519", "ecdsa"):
        host_key = box.data / "etc" / "ssh" / f"ssh_host_{kind}_key"
        assert stat.S_IMODE(host_key.stat().st_mode) == 0o600
        assert (host_key.parent / f"{host_key.name}.pub").read_text().startswith(("ssh-ed25519", "ecdsa-sha2"))
    wifi = (box.data / "etc" / "wifi" / "wpa_supplicant-wlan0.conf").read_text()
    assert 'ssid="HomeNet"' in wifi and "country=DE" in wifi
    assert re.search(r"\tpsk=[0-9a-f]{64}\n", wifi)
    assert (box.root / "etc" / "hostname").read_text() == "gate-7\n"
    assert "127.0.1.1\tgate-7" in (box.root / "etc" / "hosts").read_text()
    machine_id = (box.root / "etc" / "machine-id").read_text().strip()
    assert len(machine_id) == 32 and int(machine_id, 16)

    cfg = config.load(box.config)
    assert cfg.http.listen == "0.0.0.0" and [u.name for u in cfg.http.users] == ["admin"]
    assert verify_password(PASSWORD, cfg.http.users[0].password_hash)
    assert (cfg.modems[0].port, cfg.modems[0].audio_port, cfg.modems[0].vendor) == \
        ("/dev/pigate/sim7600-at", "/dev/pigate/sim7600-audio", "sim7600")
    assert str(cfg.control_socket) == "/run/pigate/control.sock" and str(cfg.data_dir) == "/var/lib/pigate"
    assert stat.S_IMODE(box.config.stat().st_mode) == 0o640

    # The next boot: nothing to apply again, nothing made again.
    config_before = box.config.read_bytes()
    assert run(box) == []
    assert box.config.read_bytes() == config_before


def test_wifi_psk_is_wpa2s_derivation(tmp_path):
    # The IEEE 802.11i test vector: passphrase "password", SSID "IEEE".
    box = make_box(tmp_path, "wifi_ssid=IEEE\nwifi_password=password\n")
    run(box)
    wifi = (box.data / "etc" / "wifi" / "wpa_supplicant-wlan0.conf").read_text()
    assert "psk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e" in wifi


def test_without_a_file_ssh_stays_off_and_the_api_stays_on_the_box(tmp_path):
    box = make_box(tmp_path, None)
    run(box)
    assert not (box.data / "etc" / "ssh" / "authorized_keys" / "root").exists()
    assert (box.data / "etc" / "ssh" / "ssh_host_ed25519_key").exists()  # host keys all the same
    cfg = config.load(box.config)
    assert cfg.http.listen == "127.0.0.1" and cfg.http.users == []
    # No modem found on USB: the simulator, said so in the file.
    assert cfg.modems[0].port == "sim" and "no known USB modem" in box.config.read_text()


def test_hat_auto_finds_the_usb_modem(tmp_path):
    box = make_box(tmp_path, "admin_password=abc12345\nhat=auto\n")
    dev = box.sysfs / "bus" / "usb" / "devices" / "1-1.3"
    dev.mkdir()
    (dev / "idVendor").write_text("2c7c\n")
    (dev / "idProduct").write_text("0125\n")
    run(box)
    cfg = config.load(box.config)
    assert (cfg.modems[0].port, cfg.modems[0].vendor) == ("/dev/pigate/ec25-at", "ec25")


def test_a_new_file_later_replaces_the_config_and_keeps_the_old_one(tmp_path):
    box = make_box(tmp_path, "admin_password=first-pass\n")
    run(box)
    (box.boot / "pigate.txt").write_text("admin_password=second-pass\n")
    run(box)
    cfg = config.load(box.config)
    assert verify_password("second-pass", cfg.http.users[0].password_hash)
    kept = [p for p in box.config.parent.iterdir() if p.name.startswith("pigate.toml.")]
    assert len(kept) == 1 and verify_password("first-pass", config.load(kept[0]).http.users[0].password_hash)


@pytest.mark.parametrize("text, message", [
    ("admin_pasword=x\n", "unknown key 'admin_pasword'; did you mean 'admin_password'?"),
    ("ssh_authorized_key=hello\n", "not an OpenSSH public key"),
    ("wifi_ssid=a\nwifi_password=short\n", "8-63 characters"),
    ("hostname=bad_name!\n", "not a valid host name"),
    ("hat=sim9000\n", "hat 'sim9000' is not one of"),
    ("just words\n", "expected key=value"),
])
def test_a_bad_file_is_refused_before_anything_is_applied(tmp_path, text, message):
    box = make_box(tmp_path, text)
    with pytest.raises(UpkeepError, match=message.replace("?", r"\?").replace("(", r"\(")):
        run(box)
    assert not box.config.exists() and (box.boot / "pigate.txt").read_text() == text
