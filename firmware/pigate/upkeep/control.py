"""The daemon's local control socket: one JSON request and answer per connection, root and its group only.

The socket is created mode 0660 in a directory of its own (systemd's RuntimeDirectory, 0750), so the file
system already keeps out everyone but root, the daemon's user and its group; each peer's credentials
(SO_PEERCRED) are checked again before a request is read. `pigate at` and `pigate status` use it on the box.
"""

from __future__ import annotations

import grp
import json
import logging
import os
import socket
import struct
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from pigate.errors import UpkeepError

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]
MAX_REQUEST = 65536


def peer_credentials(conn: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", data)


def _groups_of(pid: int) -> set[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Groups:"):
                return {int(g) for g in line.split()[1:]}
    except OSError:
        pass
    return set()


def peer_allowed(*, pid: int, uid: int, gid: int, own_uid: int, group: int) -> bool:
    """Root, the daemon's own user, or a member (primary or supplementary) of the socket's group."""
    return uid in (0, own_uid) or gid == group or group in _groups_of(pid)


class ControlServer:
    """Serves `handlers[request["op"]](request)` on a Unix socket at `path`, mode 0660."""

    def __init__(self, *, path: Path, handlers: Mapping[str, Handler]) -> None:
        self.path = Path(path)
        self._handlers = dict(handlers)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o117)  # the socket is born 0660: never a moment when others could connect
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise UpkeepError(f"control socket {self.path}: {exc}") from exc
        finally:
            os.umask(old)
        os.chmod(self.path, 0o660)
        sock.listen(8)
        sock.settimeout(0.2)
        self._group = os.stat(self.path).st_gid
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()
        log.info("control socket %s (group %s)", self.path, _group_name(self._group))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            threading.Thread(target=self._session, args=(conn,), name="control-session", daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30.0)
            try:
                pid, uid, gid = peer_credentials(conn)
                allowed = peer_allowed(pid=pid, uid=uid, gid=gid, own_uid=os.getuid(), group=self._group)
                req = _receive(conn)  # read first, so the refusal is read too (not a broken pipe)
                if not allowed:
                    log.warning("control socket: refused uid %d (pid %d)", uid, pid)
                    answer = {"ok": False, "error": "permission denied"}
                else:
                    answer = self._answer(req)
            except (OSError, ValueError) as exc:
                answer = {"ok": False, "error": f"bad request: {exc}"}
            try:
                _send(conn, answer)
            except OSError:
                pass

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        handler = self._handlers.get(str(request.get("op", "")))
        if handler is None:
            return {"ok": False, "error": f"unknown op {request.get('op')!r}; known: {', '.join(self._handlers)}"}
        try:
            return {"ok": True, **handler(request)}
        except Exception as exc:  # the operator sees why; the daemon goes on
            log.exception("control op %r failed", request.get("op"))
            return {"ok": False, "error": str(exc) or type(exc).__name__}


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _receive(conn: socket.socket) -> dict[str, Any]:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_REQUEST:
            raise ValueError("request too long")
    request = json.loads(buf.decode() or "null")
    if not isinstance(request, dict):
        raise ValueError("a request is a JSON object")
    return request


def _send(conn: socket.socket, answer: dict[str, Any]) -> None:
    conn.sendall(json.dumps(answer).encode() + b"\n")


def request(path: str | os.PathLike[str], op: str, *, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
    """One request to the daemon's control socket; the answer, or UpkeepError saying why not."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            _send(sock, {"op": op, **params})
            answer = _receive(sock)
        except PermissionError as exc:
            raise UpkeepError(f"{path}: permission denied (root or the socket's group only)") from exc
        except (OSError, ValueError) as exc:
            raise UpkeepError(f"cannot reach the daemon's control socket {path}: {exc}") from exc
    if not answer.get("ok"):
        raise UpkeepError(f"{op}: {answer.get('error', 'failed')}")
    return answer
