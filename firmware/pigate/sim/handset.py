"""Virtual handsets of the simulated network: send and receive SMS, call and be called, press keys, play, listen."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pigate.errors import PigateError

from . import audio
from .pdu import Part, split_text

if TYPE_CHECKING:
    from .network import Network
    from .voice import Call, CallControl

TERMINAL = frozenset({"ended", "busy", "failed", "rejected", "no_answer", "unreachable"})
BEHAVIOURS = ("answer", "reject", "busy", "no_answer", "manual")


class SimTimeout(PigateError):
    """Something a test waited for in the simulator did not happen in time."""


@dataclass(frozen=True)
class ReceivedSms:
    """A message a handset received, reassembled: `parts` holds each part's text in order."""

    sender: str
    text: str
    parts: tuple[str, ...]
    encoding: str
    reference: int | None
    received_at: datetime

    def as_json(self) -> dict:
        return {"from": self.sender, "text": self.text, "parts": len(self.parts), "encoding": self.encoding,
                "reference": self.reference, "received_at": self.received_at.isoformat()}


@dataclass(frozen=True)
class SentSms:
    """What `send_sms` put on the network: the parts (with their concat headers) and their target."""

    sender: str
    to: str
    parts: tuple[Part, ...]

    @property
    def reference(self) -> int | None:
        return self.parts[0].concat.reference if self.parts and self.parts[0].concat else None


class Handset:
    """A phone number on the network. `incoming_behaviour` decides how it takes the gateway's calls."""

    def __init__(self, *, network: "Network", number: str) -> None:
        self.network = network
        self.number = number
        self.delivery_policy: str | None = None   # overrides the network's for messages to this handset
        self.incoming_behaviour = "answer"
        self.inbox: list[ReceivedSms] = []
        self.calls: list[HandsetCall] = []
        self._fragments: dict[tuple[str, int, int], dict[int, Part]] = {}
        self._cond = threading.Condition()
        self._next_ref = 0

    # -- SMS ------------------------------------------------------------------------------------
    def _reference(self) -> int:
        with self._cond:
            ref = self._next_ref
            self._next_ref = (ref + 1) % 256
            return ref

    def send_sms(self, to: str, text: str, *, udh_split: bool = True) -> SentSms:
        """Send `text` to the modem numbered `to` (multipart with an 8-bit reference when long)."""
        parts = split_text(text, reference=self._reference(), concatenate=udh_split)
        self.network.send_from_handset(self.number, to, parts)
        return SentSms(self.number, to, tuple(parts))

    def send_sms_parts(self, to: str, text: str, parts: Iterable[int]) -> SentSms:
        """Send only the chosen parts (1-based) of the multipart split of `text`: a part lost in the network."""
        all_parts = split_text(text, reference=self._reference())
        chosen = [p for p in all_parts if (p.concat.seq if p.concat else 1) in set(parts)]
        self.network.send_from_handset(self.number, to, chosen)
        return SentSms(self.number, to, tuple(chosen))

    def receive(self, sender: str, part: Part) -> None:
        """A part arrives from the network; the message enters the inbox once all its parts are here."""
        with self._cond:
            if part.concat is None:
                self._add(sender, [part], None)
                return
            key = (sender, part.concat.reference, part.concat.total)
            got = self._fragments.setdefault(key, {})
            got[part.concat.seq] = part
            if len(got) == part.concat.total:
                del self._fragments[key]
                self._add(sender, [got[i] for i in sorted(got)], part.concat.reference)

    def _add(self, sender: str, parts: list[Part], reference: int | None) -> None:
        encoding = "ucs2" if any(p.alphabet == "ucs2" for p in parts) else "gsm7"
        self.inbox.append(ReceivedSms(sender, "".join(p.text for p in parts), tuple(p.text for p in parts),
                                      encoding, reference, datetime.now(timezone.utc)))
        self._cond.notify_all()

    def wait_inbox(self, n: int = 1, timeout: float = 5.0) -> list[ReceivedSms]:
        """Block until the inbox holds at least `n` messages; returns the inbox."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.inbox) >= n, timeout):
                raise SimTimeout(f"{self.number}: {len(self.inbox)} of {n} messages after {timeout}s")
            return list(self.inbox)

    def as_json(self) -> dict:
        return {"number": self.number, "inbox": len(self.inbox), "incoming_behaviour": self.incoming_behaviour,
                "delivery_policy": self.delivery_policy, "calls": [c.as_json() for c in self.calls]}

    # -- calls ----------------------------------------------------------------------------------
    def call(self, number: str, *, ring_timeout: float = 60.0) -> "HandsetCall":
        """Call the gateway's modem numbered `number`; the call object follows its state."""
        hc = HandsetCall(network=self.network, handset=self, direction="out", caller=self.number, callee=number)
        self.calls.append(hc)
        self.network.place_call(hc, ring_timeout=ring_timeout)
        return hc

    def incoming_from(self, modem_number: str) -> "HandsetCall":
        hc = HandsetCall(network=self.network, handset=self, direction="in", caller=modem_number,
                         callee=self.number)
        self.calls.append(hc)
        return hc

    @property
    def last_call(self) -> "HandsetCall | None":
        return self.calls[-1] if self.calls else None


class HandsetCall:
    """The handset's side of a call. `state`: dialing, ringing (the gateway rings), incoming (this handset
    rings), active, then one of ended, busy, failed, rejected, no_answer, unreachable."""

    def __init__(self, *, network: "Network", handset: Handset, direction: str, caller: str, callee: str) -> None:
        self.network = network
        self.handset = handset
        self.direction = direction
        self.caller, self.callee = caller, callee
        self.state = "dialing"
        self.end_reason = ""
        self.dtmf_received = ""
        self._heard = bytearray()
        self._play: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._call: "Call | None" = None
        self._control: "CallControl | None" = None
        self.started = time.monotonic()
        # time.monotonic() of: this handset ringing, the call connecting, the first audio and the first/last
        # voiced frame heard
        self.alerted_at: float | None = None
        self.answered_at: float | None = None
        self.first_heard_at: float | None = None
        self.first_voiced_at: float | None = None
        self.last_voiced_at: float | None = None
        self.heard_log: deque[tuple[float, bool]] = deque(maxlen=3000)  # (arrival, voiced), the last 60 s
        self.played_log: deque[tuple[float, bool]] = deque(maxlen=3000)  # (sent to the modem, voiced), the same

    @property
    def peer(self) -> str:
        return self.callee if self.direction == "out" else self.caller

    def attach(self, *, call: "Call", control: "CallControl") -> None:
        self._call, self._control = call, control

    def _set(self, state: str, reason: str = "") -> None:
        with self._cond:
            if self.state in TERMINAL:
                return
            self.state = state
            if reason:
                self.end_reason = reason
            self._cond.notify_all()

    def wait_state(self, state: str, timeout: float = 5.0) -> "HandsetCall":
        """Block until the call is in `state`; raises SimTimeout (also when it ended in another state)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self.state == state or self.state in TERMINAL, timeout)
            if not ok or self.state != state:
                raise SimTimeout(f"call {self.caller}->{self.callee}: wanted {state!r}, is {self.state!r}"
                                 f"{' (' + self.end_reason + ')' if self.end_reason else ''}")
        return self

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    # -- what the network does to this side -----------------------------------------------------
    def alert(self) -> None:
        """The gateway's call reaches this handset: it rings and reacts per `incoming_behaviour`."""
        if self._call is None or self._control is None or self.ended:
            return
        behaviour = self.handset.incoming_behaviour
        lat = self.network.latency
        if behaviour == "busy":
            self._set("busy", "busy")
            self._control.far_ended(self._call, "BUSY")
            return
        self.alerted_at = time.monotonic()
        self._set("incoming")
        self._control.far_alerting(self._call)
        if behaviour == "answer":
            self.network.scheduler.after(lat.answer, self.answer)
        elif behaviour == "reject":
            self.network.scheduler.after(lat.answer, self.reject)
        elif behaviour == "no_answer":
            self.network.scheduler.after(lat.no_answer, self._not_answered)

    def _not_answered(self) -> None:
        if self.state == "incoming" and self._call is not None and self._control is not None:
            self._set("no_answer", "no answer")
            self._control.far_ended(self._call, "NO ANSWER")

    def ringing(self) -> None:
        self._set("ringing")

    def remote_answered(self) -> None:
        self.answered_at = time.monotonic()
        self._set("active")

    def remote_ended(self, reason: str) -> None:
        self._set("rejected" if reason == "rejected" else "ended", reason)

    def failed(self, reason: str) -> None:
        self._set("busy" if reason == "busy" else "unreachable", reason)

    def give_up(self) -> None:
        """The caller stops waiting for the gateway to answer."""
        if self.state == "ringing" and self._call is not None and self._control is not None:
            self._set("no_answer", "not answered")
            self._control.far_ended(self._call, "NO CARRIER")

    def hear_pcm(self, data: bytes) -> None:
        now = time.monotonic()
        flags = [audio.rms(f) > audio.VOICED_RMS for f in audio.frames(data)]
        voiced = any(flags)
        with self._cond:
            self._heard += data
            self.heard_log.extend((now, v) for v in flags)
            if self.first_heard_at is None:
                self.first_heard_at = now
            if voiced:
                if self.first_voiced_at is None:
                    self.first_voiced_at = now
                self.last_voiced_at = now

    def hear_dtmf(self, digits: str) -> None:
        with self._cond:
            self.dtmf_received += digits
            self._cond.notify_all()

    def next_frame(self) -> bytes:
        try:
            frame = self._play.popleft()
        except IndexError:
            frame = audio.SILENCE
        self.played_log.append((time.monotonic(), frame is not audio.SILENCE and audio.rms(frame) > audio.VOICED_RMS))
        return frame

    # -- what a test or a person does -----------------------------------------------------------
    def answer(self) -> None:
        if self.direction == "in" and self.state == "incoming" and self._control and self._call:
            self._control.far_answered(self._call)

    def reject(self) -> None:
        if self.direction == "in" and self.state == "incoming" and self._control and self._call:
            self._set("rejected", "rejected by handset")
            self._control.far_ended(self._call, "NO CARRIER")

    def hangup(self) -> None:
        if self.ended:
            return
        control, call = self._control, self._call
        self._set("ended", "hangup by handset")
        if control is not None and call is not None:
            control.far_ended(call, "NO CARRIER")

    def press(self, digits: str) -> None:
        """Press keys: the gateway's modem reports each digit in its dialect."""
        for d in digits:
            if d not in "0123456789*#ABCD":
                raise ValueError(f"not a DTMF key: {d!r}")
        if self._control is not None:
            for d in digits:
                self._control.far_dtmf(d)

    def play_pcm(self, pcm: bytes) -> float:
        """Queue 8 kHz s16le mono audio to be streamed to the gateway; returns its duration in seconds."""
        for frame in audio.frames(pcm):
            self._play.append(frame)
        return audio.seconds(pcm)

    def play_wav(self, path: str | Path) -> float:
        return self.play_pcm(audio.load_wav(path))

    def play_tone(self, freq: float = 440.0, seconds: float = 1.0) -> float:
        return self.play_pcm(audio.tone(freq, seconds))

    @property
    def queued_seconds(self) -> float:
        return len(self._play) * audio.FRAME_SECONDS

    @property
    def heard_pcm(self) -> bytes:
        with self._cond:
            return bytes(self._heard)

    def heard_seconds(self) -> float:
        return audio.seconds(self.heard_pcm)

    def silent_since(self, t: float) -> float | None:
        """When the first silent frame after `t` arrived (None: none yet)."""
        with self._cond:
            return next((at for at, voiced in self.heard_log if at >= t and not voiced), None)

    def voiced_heard_since(self, t: float) -> float | None:
        """When the first voiced frame after `t` arrived (None: none yet)."""
        with self._cond:
            return next((at for at, voiced in self.heard_log if at >= t and voiced), None)

    def voiced_played_since(self, t: float) -> float | None:
        """When the first voiced frame after `t` went to the modem (None: none yet)."""
        return next((at for at, voiced in list(self.played_log) if at >= t and voiced), None)

    def heard_voiced_seconds(self, threshold: float = 300.0) -> float:
        return audio.voiced_seconds(self.heard_pcm, threshold=threshold)

    def heard_rms(self) -> float:
        return audio.rms(self.heard_pcm)

    def wait_dtmf(self, n: int, timeout: float = 5.0) -> str:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.dtmf_received) >= n, timeout):
                raise SimTimeout(f"{len(self.dtmf_received)} of {n} DTMF digits after {timeout}s")
            return self.dtmf_received

    def as_json(self) -> dict:
        return {"direction": self.direction, "caller": self.caller, "callee": self.callee, "state": self.state,
                "end_reason": self.end_reason, "dtmf_received": self.dtmf_received,
                "heard_seconds": round(self.heard_seconds(), 3)}
