"""The first boot of a box: machine-id, SSH host keys, and pigate.txt from the boot partition, read once.

pigate.txt holds `key=value` lines (admin_password, ssh_authorized_key, wifi_ssid, wifi_password,
wifi_country, hostname, hat). A line that is not commented out is a setting not yet applied. Once applied,
the file is written back with every setting commented out and the secrets (the password and the Wi-Fi
passphrase) gone, so the next boot finds nothing to do; editing the file again applies the new lines.
Also writes /etc/pigate/pigate.toml from box.toml when there is none (or when pigate.txt sets
admin_password or hat): listening on the LAN with authentication on, or on the box only without a password.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import logging
import os
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from pigate.api.auth import hash_password
from pigate.errors import UpkeepError

log = logging.getLogger(__name__)

KEYS = ("admin_password", "ssh_authorized_key", "wifi_ssid", "wifi_password", "wifi_country", "hostname", "hat")
SECRETS = ("admin_password", "wifi_password")
# hat -> (AT port, audio port, vendor); the USB ones by the names 99-pigate-modems.rules gives them.
HATS = {
    "sim7600": ("/dev/pigate/sim7600-at", "/dev/pigate/sim7600-audio", "sim7600"),
    "ec25": ("/dev/pigate/ec25-at", "/dev/pigate/ec25-audio", "ec25"),
    "sim800": ("/dev/serial0", "", "sim800"),
    "sim868": ("/dev/serial0", "", "sim800"),
    "sim": ("sim", "", "auto"),
}
USB_MODEMS = {("1e0e", "9001"): "sim7600", ("2c7c", "0125"): "ec25"}
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-", "sk-ssh-ed25519@", "sk-ecdsa-sha2-")


def parse(text: str) -> dict[str, str]:
    """The settings not commented out; an unknown key or a line without '=' is an UpkeepError naming it."""
    settings: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower()
        if not sep:
            raise UpkeepError(f"pigate.txt line {n}: expected key=value, got {line[:40]!r}")
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(KEYS)}"
            raise UpkeepError(f"pigate.txt line {n}: unknown key {key!r}{hint}")
        settings[key] = value.strip()
    if "hat" in settings and settings["hat"] not in (*HATS, "auto"):
        raise UpkeepError(f"pigate.txt: hat {settings['hat']!r} is not one of auto, {', '.join(HATS)}")
    key = settings.get("ssh_authorized_key", "")
    if key and not key.startswith(SSH_KEY_TYPES):
        raise UpkeepError("pigate.txt: ssh_authorized_key is not an OpenSSH public key line (ssh-ed25519 AAAA...)")
    if settings.get("wifi_password") and not 8 <= len(settings["wifi_password"]) <= 63:
        raise UpkeepError("pigate.txt: wifi_password must be 8-63 characters")
    if settings.get("wifi_password") and not settings.get("wifi_ssid"):
        raise UpkeepError("pigate.txt: wifi_password without wifi_ssid")
    name = settings.get("hostname", "")
    if name and not all(p and len(p) <= 63 and p.replace("-", "").isalnum() for p in name.split(".")):
        raise UpkeepError(f"pigate.txt: hostname {name!r} is not a valid host name")
    return settings


def wiped(text: str, *, when: str) -> str:
    """`text` with every setting commented out and the secrets' values removed."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key = line.partition("=")[0].strip().lower()
            out.append(f"#{key}=(applied {when}; wiped)" if key in SECRETS else f"#{line}  (applied {when})")
        else:
            out.append(raw)
    return "\n".join(out) + "\n"


def wifi_psk(ssid: str, passphrase: str) -> str:
    """WPA2's pre-shared key (PBKDF2-SHA1, 4096 rounds), so the passphrase itself is stored nowhere."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32).hex()


def toml_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class Box:
    """Where the first boot reads and writes; `root` is "/" on the box, a folder in tests."""

    root: Path = Path("/")
    boot: Path = Path("/boot/firmware")
    data: Path = Path("/data")
    config: Path = Path("/etc/pigate/pigate.toml")
    sysfs: Path = Path("/sys")
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))

    @property
    def live(self) -> bool:
        return self.root == Path("/")

    @property
    def ssh_dir(self) -> Path:
        return self.data / "etc" / "ssh"


def _write(path: Path, text: str, mode: int, *, group: int | None = None) -> None:
    """Atomically: a temporary file beside it, fsynced, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode())
        os.fchmod(fd, mode)
        if group is not None:
            os.fchown(fd, -1, group)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class _Writable:
    """Remounts a read-only mount point read-write for the duration (only on the box itself)."""

    def __init__(self, box: Box, mountpoint: Path) -> None:
        self.box, self.mountpoint, self.remounted = box, mountpoint, False

    def __enter__(self) -> "_Writable":
        if self.box.live and _is_ro(self.mountpoint):
            subprocess.run(["mount", "-o", "remount,rw", str(self.mountpoint)], check=True)
            self.remounted = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.remounted:
            os.sync()
            subprocess.run(["mount", "-o", "remount,ro", str(self.mountpoint)], check=False)


def _is_ro(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def detect_hat(sysfs: Path) -> str | None:
    """A USB modem we know, by the vendor/product of the devices on the bus."""
    for dev in sorted((sysfs / "bus" / "usb" / "devices").glob("*")):
        try:
            ids = ((dev / "idVendor").read_text().strip(), (dev / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids in USB_MODEMS:
            return USB_MODEMS[ids]
    return None


def _board_model(box: Box) -> str:
    try:
        return (box.root / "proc/device-tree/model").read_bytes().rstrip(b"\0").decode(errors="replace")
    except OSError:
        try:
            return Path("/proc/device-tree/model").read_bytes().rstrip(b"\0").decode(errors="replace") \
                if box.live else ""
        except OSError:
            return ""


def render_config(box: Box, settings: dict[str, str]) -> str:
    hat = settings.get("hat") or "auto"
    note = f"{hat} (from pigate.txt)"
    if hat == "auto":
        found = detect_hat(box.sysfs)
        hat = found or "sim"
        note = f"auto-detected {found} on USB" if found else \
            "auto, and no known USB modem was found: the built-in simulator (set hat= in pigate.txt, or edit)"
    port, audio, vendor = HATS[hat]
    password = settings.get("admin_password", "")
    if password:
        users = (f'\n[[http.users]]\nname = "admin"\npassword_hash = "{toml_string(hash_password(password))}"\n')
        listen, listen_note = "0.0.0.0", "the LAN; every request needs Username=admin and the password"
    else:
        users = ""
        listen, listen_note = "127.0.0.1", ("no admin_password was given: the API answers on the box only "
                                            "(set one in pigate.txt and reboot)")
    model = _board_model(box)
    # RPi.GPIO drives the LEDs on a Pi 3/4; elsewhere (qemu, a Pi 5's RP1) they are kept in memory.
    leds = "gpio" if "Raspberry Pi" in model and "Raspberry Pi 5" not in model else "memory"
    text = resources.files("pigate.upkeep").joinpath("box.toml").read_text(encoding="utf-8")
    return Template(text).substitute(
        written=box.now.strftime("%Y-%m-%d %H:%M UTC"), listen=listen, listen_note=listen_note, users=users,
        hat_note=note, port=port, audio_port=audio, vendor=vendor, leds=leds)


def _pigate_gid(box: Box) -> int | None:
    for line in (box.root / "etc" / "group").read_text().splitlines() if (box.root / "etc/group").exists() else []:
        parts = line.split(":")
        if parts[0] == "pigate":
            return int(parts[2])
    return None


def machine_id(box: Box) -> bool:
    """Commit the machine-id systemd made up for this first boot (or make one); True if it did."""
    path = box.root / "etc" / "machine-id"
    try:
        current = path.read_text().strip()
    except FileNotFoundError:
        current = ""
    if box.live:
        # systemd mounts a made-up id over the file when the root is read-only at first boot.
        mounted = subprocess.run(["findmnt", "-n", str(path)], capture_output=True).returncode == 0
        if current and current != "uninitialized" and not mounted:
            return False
        with _Writable(box, box.root):
            subprocess.run(["systemd-machine-id-setup", "--commit"] if mounted else ["systemd-machine-id-setup"],
                           check=True, capture_output=True)
        return True
    if current and current != "uninitialized":
        return False
    path.unlink(missing_ok=True)
    subprocess.run(["systemd-machine-id-setup", f"--root={box.root}"], check=True, capture_output=True)
    return True


def host_keys(box: Box) -> list[str]:
    """SSH host keys on the data partition, made here so no two boxes share one."""
    made = []
    box.ssh_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("ed25519", "ecdsa"):
        key = box.ssh_dir / f"ssh_host_{kind}_key"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"root@{_hostname(box)}", "-f", str(key)],
                           check=True, stdin=subprocess.DEVNULL)
            made.append(kind)
    return made


def _hostname(box: Box) -> str:
    try:
        return (box.root / "etc" / "hostname").read_text().strip() or "pigate"
    except OSError:
        return "pigate"


def apply_settings(box: Box, settings: dict[str, str]) -> list[str]:
    """Apply what pigate.txt says; the list of what was done (no secret in it)."""
    done = []
    name = settings.get("hostname", "")
    if name:
        with _Writable(box, box.root):
            _write(box.root / "etc" / "hostname", name + "\n", 0o644)
            hosts = box.root / "etc" / "hosts"
            lines = [ln for ln in (hosts.read_text().splitlines() if hosts.exists() else [])
                     if not ln.startswith("127.0.1.1")]
            _write(hosts, "\n".join([*lines, f"127.0.1.1\t{name}"]) + "\n", 0o644)
        if box.live:
            subprocess.run(["hostname", name], check=False)
        done.append(f"hostname {name}")
    key = settings.get("ssh_authorized_key", "")
    if key:
        _write(box.ssh_dir / "authorized_keys" / "root", key + "\n", 0o600)
        done.append("ssh key for root (SSH on)")
    ssid = settings.get("wifi_ssid", "")
    if ssid:
        country = settings.get("wifi_country", "").upper()
        psk = settings.get("wifi_password", "")
        net = f'network={{\n\tssid="{ssid}"\n\t' + (f"psk={wifi_psk(ssid, psk)}" if psk else "key_mgmt=NONE") + "\n}\n"
        text = "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\nupdate_config=0\n" + \
            (f"country={country}\n" if country else "") + net
        _write(box.data / "etc" / "wifi" / "wpa_supplicant-wlan0.conf", text, 0o600)
        done.append(f"wi-fi {ssid}")
    if "admin_password" in settings or "hat" in settings or not box.config.exists():
        if box.config.exists():
            backup = box.config.with_name(f"{box.config.name}.{box.now.strftime('%Y%m%d%H%M%S')}")
            os.replace(box.config, backup)
            done.append(f"previous config kept as {backup.name}")
        _write(box.config, render_config(box, settings), 0o640, group=_pigate_gid(box))
        done.append(f"{box.config} written" + (" (auth on, LAN)" if settings.get("admin_password") else
                                              " (no password: API on the box only)"))
    return done


def run(box: Box) -> list[str]:
    """Everything the first boot (and each boot after it) does when it is missing; what was done."""
    done = []
    if machine_id(box):
        done.append("machine-id")
    made = host_keys(box)
    if made:
        done.append("ssh host keys " + ", ".join(made))
    txt = box.boot / "pigate.txt"
    text = txt.read_text(encoding="utf-8", errors="replace") if txt.exists() else ""
    settings = parse(text)
    if settings:
        # Wiped first: even if applying fails half-way, no secret stays on the FAT partition.
        with _Writable(box, box.boot):
            _write(txt, wiped(text, when=box.now.strftime("%Y-%m-%d")), 0o600)
    done += apply_settings(box, settings) if settings or not box.config.exists() else []
    return done
