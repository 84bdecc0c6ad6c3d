"""The smoke boot of the SD-card image under qemu-system-aarch64: the box a buyer flashes, as it boots.

Runs only from `make image-test` (after `make image`): two boots of copies of image/out/pigate.img.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.image.qemu import IMAGE, Vm, partition, ssh
from tests.support import parse_answer

pytestmark = [pytest.mark.slow, pytest.mark.image]
PASSWORD = "a long admin password"
CARD = 2 * 1024 ** 3  # the "card": 2 GiB, the image is smaller
BOOT_TIMEOUT = 600


def _api(vm: Vm, command: str, **params: str):
    query = urllib.parse.urlencode({"command": command, **params})
    with urllib.request.urlopen(f"http://127.0.0.1:{vm.api_port}/api?{query}", timeout=10) as resp:
        return parse_answer(resp.read())


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def box(tmp_path_factory, key):
    if not IMAGE.exists():
        pytest.fail(f"no image at {IMAGE}: run `make image` first")
    txt = (f"admin_password={PASSWORD}\nssh_authorized_key={key.with_suffix('.pub').read_text().strip()}\n"
           "hostname=pigate\nhat=auto\n")
    vm = Vm(workdir=tmp_path_factory.mktemp("boot-with-file"), card_bytes=CARD, pigate_txt=txt)
    t0 = time.monotonic()
    vm.start()
    try:
        while True:
            try:
                answer = _api(vm, "ListExtensions", Username="admin", Password=PASSWORD)
                break
            except OSError:
                if vm.proc.poll() is not None or time.monotonic() - t0 > BOOT_TIMEOUT:
                    raise AssertionError(f"API not answering after {time.monotonic() - t0:.0f} s:\n"
                                         f"{vm.console_text()[-4000:]}")
                time.sleep(2)
        vm.first_answer = answer
        vm.boot_seconds = time.monotonic() - t0
        print(f"\nboot with pigate.txt: API answered after {vm.boot_seconds:.0f} s")
        yield vm
    finally:
        vm.stop()


def test_api_answers_list_extensions_with_auth_on(box):
    assert box.first_answer.code == 200
    ids = [e.findtext("Id") for e in box.first_answer.root.iter("ExtensionSummary")]
    assert "9999" in ids and "gsm1" in ids
    assert _api(box, "ListExtensions").code == 304  # no credentials: authentication required
    assert _api(box, "ListExtensions", Username="admin", Password="wrong").code == 305


def test_ssh_key_from_the_file_logs_in(box, key):
    res = ssh(box, key, "id -un; hostname")
    assert res.returncode == 0 and res.stdout.split() == ["root", "pigate"], res.stderr


def test_daemon_runs_as_pigate_on_the_simulator(box, key):
    res = ssh(box, key, "ps -o user= -p $(systemctl show -P MainPID pigate); pigate status")
    assert res.returncode == 0, res.stderr
    user, *screen = res.stdout.splitlines()
    assert user.strip() == "pigate"
    assert any(line.startswith("gsm1 ") and "SIM7600" in line for line in screen), res.stdout
    assert "no known USB modem" in ssh(box, key, "cat /etc/pigate/pigate.toml").stdout
    at = ssh(box, key, "pigate at AT+CSQ")
    assert at.returncode == 0 and at.stdout.splitlines()[-1] == "OK", at.stdout + at.stderr
    print(res.stdout)


def test_root_is_read_only_and_data_is_grown(box, key):
    res = ssh(box, key, "findmnt -no OPTIONS /; findmnt -no SOURCE,FSTYPE /data; df -B1 --output=size /data | tail -1;"
                        " touch /usr/x 2>&1; cat /sys/class/block/vda/size /sys/class/block/vda3/start"
                        " /sys/class/block/vda3/size")
    assert res.returncode == 0, res.stderr
    opts, data, size, touch, disk, start, length = res.stdout.splitlines()[:7]
    assert opts.split(",")[0] == "ro" and "Read-only file system" in touch
    # The 64 MiB data partition now ends where the 2 GiB card ends, and its file system fills it.
    assert data.split() == ["/dev/vda3", "ext4"]
    assert int(disk) - (int(start) + int(length)) < 2048 and int(length) * 512 > 512 * 1024 ** 2
    # The file system covers the whole partition (resize2fs uses every 4 KiB block of it) ...
    fs = ssh(box, key, "dumpe2fs -h /dev/vda3 2>/dev/null | grep -E '^(Block count|Block size):'").stdout
    blocks, block_size = (int(line.split(":")[1]) for line in fs.splitlines())
    assert block_size == 4096 and blocks == int(length) * 512 // block_size, fs
    # ... and df's size is that less ext4's own metadata (inode tables ~1%, the journal, bitmaps): a few %.
    assert int(size) > 0.95 * int(length) * 512, (size, length)
    print(f"data partition: 64 MiB -> {int(length) * 512 / 1024 ** 2:.0f} MiB, file system {int(size) / 1024 ** 2:.0f} MiB"
          f" ({int(size) / (int(length) * 512):.1%} of it usable)")


def test_first_boot_wiped_the_secrets_and_made_the_ids(box, key):
    res = ssh(box, key, "cat /boot/firmware/pigate.txt; echo ==; cat /etc/machine-id; ls /data/etc/ssh")
    txt, rest = res.stdout.split("==\n")
    assert PASSWORD not in txt and "#admin_password=(applied" in txt
    machine_id, *files = rest.split()
    assert len(machine_id) == 32 and "ssh_host_ed25519_key" in files


def test_the_daemon_has_sip(box, key):
    """pjsua2 imports in the daemon's venv, and with [sip] on the daemon itself listens on UDP 5060."""
    res = ssh(box, key, "/var/lib/pigate-sw/current/bin/python -c 'import pjsua2 as pj;"
                        " print(pj.Endpoint().libVersion().full)'", timeout=120)
    assert res.returncode == 0 and res.stdout.strip().startswith("2.17"), res.stdout + res.stderr
    res = ssh(box, key, "printf '\\n[sip]\\nenabled = true\\nlisten = \"0.0.0.0\"\\n' >> /etc/pigate/pigate.toml"
                        " && systemctl restart pigate && ss -Hlunp 'sport = :5060';"
                        " echo pid=$(systemctl show -P MainPID pigate),", timeout=240)
    listening, main_pid = res.stdout.strip().rsplit("\n", 1)
    assert res.returncode == 0 and main_pid in listening, res.stdout + res.stderr  # the daemon has UDP 5060
    # Not checked yet: an OPTIONS sent through qemu's UDP forward (127.0.0.1:sip_port -> 5060) got no answer,
    # with or without rport; whether slirp's UDP forward or the endpoint's handling of a stranger is why is open.


def test_the_call_audio_pump_runs_real_time(box, key):
    """Under systemd as user pigate (no capabilities), the PCM pump's thread gets SCHED_RR (LimitRTPRIO)."""
    pid = ssh(box, key, "systemctl show -P MainPID pigate").stdout.strip()
    limits = ssh(box, key, f"grep -E 'Max realtime (priority|timeout)' /proc/{pid}/limits").stdout
    assert re.search(r"Max realtime priority\s+10\s+10", limits), limits
    answer = _api(box, "Call", Username="admin", Password=PASSWORD, ApiExtension="9999", Dialed="+15551230002",
                  ResponseOzML="<Response><Speak>The audio pump keeps the time of this call.</Speak></Response>")
    assert answer.code == 200, answer.raw
    deadline = time.monotonic() + 180
    line = ""
    while not line and time.monotonic() < deadline:  # the pump says what it got when its call ends
        line = ssh(box, key, "journalctl -u pigate -o cat | grep 'frames written' | tail -1").stdout.strip()
        time.sleep(2)
    assert "real-time priority" in line, line
    print(f"\npump: {line}")


def test_units_verify_and_security_on_the_box(box, key):
    res = ssh(box, key, "cd /etc/systemd/system && systemd-analyze verify pigate*.service 2>&1; echo rc=$?;"
                        " systemd-analyze security pigate.service | tail -1; systemctl --failed --no-legend",
              timeout=180)
    assert "rc=0" in res.stdout, res.stdout
    lines = res.stdout.splitlines()
    verify_output = lines[:lines.index("rc=0")]
    assert verify_output == [], verify_output
    print("\n" + "\n".join(lines[lines.index("rc=0") + 1:]))
    assert "Overall exposure level for pigate.service" in res.stdout
    assert "pigate" not in "\n".join(lines[lines.index("rc=0") + 2:])  # no failed pigate unit


def test_a_power_cut_under_sms_traffic_leaves_the_root_clean(box, key):
    for i in range(20):
        _api(box, "SendSms", Username="admin", Password=PASSWORD, ApiExtension="9999", Recipient="+15551230001",
             Message=f"load {i}")
    box.power_cut()
    root = partition(box.img, 2, box.workdir / "root.ext4")
    header = subprocess.run(["dumpe2fs", "-h", str(root)], capture_output=True, text=True).stdout
    assert "Filesystem state:         clean" in header and "needs_recovery" not in header, header


@pytest.fixture(scope="module")
def bare_box(tmp_path_factory):
    vm = Vm(workdir=tmp_path_factory.mktemp("boot-without-file"), card_bytes=CARD, pigate_txt=None)
    vm.start()
    try:
        # The console's login prompt: multi-user is reached, so sshd would be running if it were allowed to.
        vm.boot_seconds = vm.wait_console("pigate login:", BOOT_TIMEOUT)
        print(f"\nboot without pigate.txt: login prompt after {vm.boot_seconds:.0f} s")
        yield vm
    finally:
        vm.stop()


def test_without_the_file_ssh_is_closed_and_the_api_not_on_the_lan(bare_box, key):
    time.sleep(20)  # and a little longer, for pigate.service and ssh.service ordered after first boot
    assert not bare_box.banner(bare_box.ssh_port).startswith(b"SSH-")
    assert ssh(bare_box, key, "true", timeout=60).returncode != 0
    with pytest.raises(OSError):
        _api(bare_box, "ListExtensions")
