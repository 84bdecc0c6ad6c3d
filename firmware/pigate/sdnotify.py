"""systemd's notify protocol (READY, STOPPING, WATCHDOG) over NOTIFY_SOCKET, without a dependency."""

from __future__ import annotations

import logging
import os
import socket
import threading

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends state to systemd when run under it (NOTIFY_SOCKET set); otherwise does nothing."""

    def __init__(self, *, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = env.get("NOTIFY_SOCKET", "")
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def send(self, state: str) -> None:
        if not self._address:
            return
        address = self._address
        if address.startswith("@"):  # abstract namespace socket
            address = "\0" + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(address)
                sock.sendall(state.encode())
        except OSError as exc:
            log.warning("sd_notify %r failed: %s", state, exc)

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        if self.watchdog_interval and self._thread is None:
            self._thread = threading.Thread(target=self._watchdog, name="watchdog", daemon=True)
            self._thread.start()

    def stopping(self) -> None:
        self.send("STOPPING=1")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)

    def _watchdog(self) -> None:
        while not self._stop.wait(self.watchdog_interval):
            self.send("WATCHDOG=1")
