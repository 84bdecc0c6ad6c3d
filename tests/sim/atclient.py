"""A small AT client over pyserial for the simulator's tests: send a line, collect lines up to the final result."""

from __future__ import annotations

import time

import serial

FINALS = ("OK", "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")
# Unsolicited lines a modem may send just before a command's answer (a repeated RING, say): they go to `urcs`
# unless they carry the command's own prefix, as a driver tells them apart.
URC_PREFIXES = ("RING", "+CRING:", "+CLIP:", "+CMTI:", "+CDSI:", "+CMT:", "+CDS:", "+CREG:", "+CGREG:", "+CEREG:",
                "+CUSD:", "+CLCC:", "MO RING", "MO CONNECTED", "VOICE CALL:", "+DTMF:", "+RXDTMF:", "+QTONEDET:")


def _own_prefix(line: str) -> str:
    """`AT+CLCC` -> `+CLCC:`; `ATA` -> ''."""
    upper = line.upper()
    if not upper.startswith("AT+"):
        return ""
    name = upper[2:].split("=")[0].split("?")[0]
    return name + ":"


class AtClient:
    def __init__(self, path: str, *, timeout: float = 3.0) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.timeout = timeout
        self.buffer = b""
        self.urcs: list[str] = []

    def close(self) -> None:
        self.port.close()

    def write(self, data: bytes | str) -> None:
        self.port.write(data.encode() if isinstance(data, str) else data)

    def _fill(self, deadline: float) -> bool:
        chunk = self.port.read(1)
        if chunk:
            chunk += self.port.read(self.port.in_waiting)
            self.buffer += chunk
            return True
        return time.monotonic() < deadline

    def read_until(self, marker: bytes, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while marker not in self.buffer:
            if not self._fill(deadline):
                raise TimeoutError(f"no {marker!r} in {self.buffer!r}")
        i = self.buffer.index(marker) + len(marker)
        out, self.buffer = self.buffer[:i], self.buffer[i:]
        return out

    def lines(self, timeout: float = 0.3) -> list[str]:
        """Every complete line that arrives within `timeout` (URCs)."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        text, sep, rest = self.buffer.rpartition(b"\r\n")
        self.buffer = rest
        return [ln for ln in text.decode(errors="replace").split("\r\n") if ln]

    def next_line(self, timeout: float | None = None) -> str:
        """The next line (after those `wait_line` already looked at)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.urcs:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line; buffer {self.buffer!r}")
            self.urcs += self.lines(min(left, 0.1))
        return self.urcs.pop(0)

    def wait_line(self, prefix: str, timeout: float | None = None) -> str:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for ln in self.urcs:
                if ln.startswith(prefix):
                    del self.urcs[:self.urcs.index(ln) + 1]
                    return ln
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line starting {prefix!r}; had {self.urcs!r} and {self.buffer!r}")
            self.urcs += self.lines(min(left, 0.1))

    def command(self, line: str, timeout: float | None = None) -> tuple[list[str], str]:
        """(information lines, final result) of `line`; lines that precede the echo are kept as URCs."""
        self.write(line + "\r")
        return self.collect(line, timeout)

    def collect(self, echo: str = "", timeout: float | None = None) -> tuple[list[str], str]:
        line = echo
        own = _own_prefix(line)
        deadline = time.monotonic() + (timeout or self.timeout)
        got: list[str] = []
        while True:
            while b"\r\n" not in self.buffer:
                if not self._fill(deadline):
                    raise TimeoutError(f"{line!r}: no final result; got {got!r} + {self.buffer!r}")
            raw, self.buffer = self.buffer.split(b"\r\n", 1)
            text = raw.decode(errors="replace")
            if text.startswith(line) and line:  # echo, when on
                text = text[len(line):].lstrip("\r")
            if not text:
                continue
            if text in FINALS or text.startswith(("+CME ERROR", "+CMS ERROR")):
                return got, text
            if text.startswith(URC_PREFIXES) and not (own and text.startswith(own)):
                self.urcs.append(text)
                continue
            got.append(text)

    def ok(self, line: str, timeout: float | None = None) -> list[str]:
        lines, final = self.command(line, timeout)
        assert final == "OK", f"{line!r} -> {lines!r} {final!r}"
        return lines

    def send_text(self, line: str, text: bytes | str, *, end: bytes = b"\x1a",
                  timeout: float | None = None) -> tuple[list[str], str]:
        """AT+CMGS-style exchange: the command, wait for `> `, the text and Ctrl-Z (or ESC)."""
        self.write(line + "\r")
        self.read_until(b"> ", timeout)
        self.write((text.encode() if isinstance(text, str) else text) + end)
        return self.collect("", timeout)
