"""RTP for the sipp tests: a pcap of a G.711 A-law tone for sipp to play (play_pcap_audio), and a recorder of the
RTP a gateway sends to the media address a sipp call offered (sipp itself keeps nothing it receives)."""

from __future__ import annotations

import bisect
import socket
import struct
import threading
import time
from array import array
from pathlib import Path

from pigate.media.wav import ALAW_TABLE, MULAW_TABLE
from pigate.sim import audio as simaudio

_ALAW_SORTED = sorted((v, code) for code, v in enumerate(ALAW_TABLE))
_ALAW_VALUES = [v for v, _ in _ALAW_SORTED]


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit linear samples -> A-law bytes (the nearest code; a test tone needs no speed)."""
    out = bytearray()
    for x in array("h", pcm):
        i = bisect.bisect_left(_ALAW_VALUES, x)
        if i == len(_ALAW_VALUES) or (i > 0 and x - _ALAW_VALUES[i - 1] < _ALAW_VALUES[i] - x):
            i -= 1
        out.append(_ALAW_SORTED[i][1])
    return bytes(out)


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_tone_pcap(path: Path, hz: float, seconds: float, *, amplitude: int = 8000) -> Path:
    """A pcap of RTP packets (PCMA, payload type 8, 20 ms each) carrying a `hz` tone, as sipp replays them."""
    payload = alaw_encode(simaudio.tone(hz, seconds, amplitude=amplitude))
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet link type
    t0 = 1_700_000_000.0
    for n in range(len(payload) // 160):
        marker = 0x80 if n == 0 else 0
        rtp = struct.pack("!BBHII", 0x80, 8 | marker, n, n * 160, 0x5150) + payload[n * 160:(n + 1) * 160]
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0x4000, 64, 17, 0,
                                   socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")))
        ip[10:12] = struct.pack("!H", _ip_checksum(bytes(ip)))
        frame = b"\x00\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x06\x08\x00" + bytes(ip) + udp
        at = t0 + n * 0.02
        out += struct.pack("<IIII", int(at), int(round((at % 1) * 1e6)) % 1_000_000, len(frame), len(frame)) + frame
    path.write_bytes(out)
    return path


class RtpRecorder:
    """A UDP socket on `host` that keeps the audio of the RTP it receives (PCMA/PCMU as 16-bit linear), with the
    arrival time of each packet. Telephone events (payload type 101) are kept apart."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[float, int, bytes]] = []  # (arrival, payload type, payload)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except OSError:
                continue
            if len(data) > 12 and data[0] >> 6 == 2:
                skip = 12 + 4 * (data[0] & 0x0F)
                self.packets.append((time.monotonic(), data[1] & 0x7F, data[skip:]))

    def pcm(self, since: float = 0.0) -> bytes:
        """What was received after `since` (time.monotonic()), as 8 kHz 16-bit mono."""
        out = array("h")
        for at, pt, payload in list(self.packets):
            if at >= since and pt in (0, 8):
                table = ALAW_TABLE if pt == 8 else MULAW_TABLE
                out.extend(table[b] for b in payload)
        return out.tobytes()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
