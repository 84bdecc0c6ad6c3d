"""Boot a copy of the built SD-card image under qemu-system-aarch64 (-M virt) with its own kernel and initrd."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.sip.kamailio import free_udp_port
from tests.support import ROOT, free_port

IMAGE = ROOT / "image" / "out" / "pigate.img"
FAT = "@@4M"  # the FAT partition's offset in the image (stage 50)


def mtools(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, capture_output=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})


class Vm:
    """One boot of one copy of the image; SSH, the API and SIP (UDP 5060) forwarded to free ports on 127.0.0.1."""

    def __init__(self, *, workdir: Path, card_bytes: int, pigate_txt: str | None) -> None:
        self.workdir = workdir
        self.img = workdir / "card.img"
        subprocess.run(["cp", "--sparse=always", str(IMAGE), str(self.img)], check=True)
        with open(self.img, "r+b") as f:
            f.truncate(card_bytes)  # a bigger card than the image: the data partition must grow into it
        if pigate_txt is None:
            mtools("mdel", "-i", f"{self.img}{FAT}", "::pigate.txt")
        else:
            src = workdir / "pigate.txt"
            src.write_text(pigate_txt)
            mtools("mcopy", "-o", "-i", f"{self.img}{FAT}", str(src), "::pigate.txt")
        files = mtools("mdir", "-b", "-i", f"{self.img}{FAT}", "::").stdout.decode().split()
        for prefix, name in (("::/vmlinuz-", "vmlinuz"), ("::/initrd.img-", "initrd.img")):
            found = [f for f in files if f.startswith(prefix)]
            assert len(found) == 1, (prefix, files)
            mtools("mcopy", "-o", "-i", f"{self.img}{FAT}", found[0], str(workdir / name))
        self.api_port, self.ssh_port, self.sip_port = free_port(), free_port(), free_udp_port("127.0.0.1")
        self.console = workdir / "console.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a53", "-smp", "2", "-m", "1024",
               "-kernel", str(self.workdir / "vmlinuz"), "-initrd", str(self.workdir / "initrd.img"),
               "-append", "root=LABEL=RASPIROOT ro rootwait console=ttyAMA0 fsck.repair=yes net.ifnames=0",
               "-drive", f"file={self.img},format=raw,if=none,id=hd", "-device", "virtio-blk-pci,drive=hd",
               "-netdev", f"user,id=n,hostfwd=tcp:127.0.0.1:{self.api_port}-:9509,"
                          f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22,hostfwd=udp:127.0.0.1:{self.sip_port}-:5060",
               "-device", "virtio-net-pci,netdev=n,romfile=",
               "-display", "none", "-monitor", "none", "-serial", f"file:{self.console}"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "qemu.err", "wb"))

    def console_text(self) -> str:
        """The serial console so far, without systemd's colour codes."""
        try:
            return re.sub(r"\x1b\[[0-9;]*m", "", self.console.read_text(errors="replace"))
        except OSError:
            return ""

    def wait_console(self, needle: str, timeout: float) -> float:
        t0 = time.monotonic()
        while needle not in self.console_text():
            if self.proc.poll() is not None:
                raise RuntimeError(f"qemu exited {self.proc.returncode}: {(self.workdir / 'qemu.err').read_text()}")
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"no {needle!r} on the console after {timeout:.0f} s:\n{self.console_text()[-3000:]}")
            time.sleep(1)
        return time.monotonic() - t0

    def banner(self, port: int, timeout: float = 10.0) -> bytes:
        """What the guest's service on a forwarded port says first (b"" when nothing listens there)."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                s.settimeout(timeout)
                return s.recv(64)
        except OSError:
            return b""

    def power_cut(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ssh(vm: Vm, key: Path, command: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-i", str(key), "-p", str(vm.ssh_port), "-o", "StrictHostKeyChecking=no",
                           "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
                           "-o", "LogLevel=ERROR", "root@127.0.0.1", command],
                          capture_output=True, text=True, timeout=timeout)


def partition(img: Path, number: int, out: Path) -> Path:
    """Copy partition `number` of the image out to a file (sparse), for dumpe2fs."""
    table = subprocess.run(["sfdisk", "--json", str(img)], check=True, capture_output=True, text=True).stdout
    import json

    part = json.loads(table)["partitiontable"]["partitions"][number - 1]
    subprocess.run(["dd", f"if={img}", f"of={out}", "bs=512", f"skip={part['start']}", f"count={part['size']}",
                    "conv=sparse", "status=none"], check=True)
    return out


