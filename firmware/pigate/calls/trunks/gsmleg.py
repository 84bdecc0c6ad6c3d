"""GsmLeg: the CallLeg of one call on a GSM line (the modem's voice operations for control, its PCM port for audio).

Decisions where GSM differs from a PBX:
- Hold tries the network's call hold (AT+CHLD=2); a modem or network that refuses it gets a local hold:
  the caller hears silence and the call stays up. Unhold undoes whichever was done.
- BlindTransfer and Forward of a ringing incoming call use call deflection (AT+CTFR, 27.007 7.14).
  An answered call is not transferred (explicit call transfer needs a second call on the same module and
  operator support); blind_transfer returns False and the script goes on with its next verb.
- Without an audio port (SIM800: analog audio on the HAT) speech and files take their time but are not heard,
  and Record reports failure.
- Record writes WAV (MP3 when asked for and sox can encode it); RecordPath is ignored: recordings always go
  to the data directory's recordings folder, served read-only at /HttpRecordings/.

States, history and notifications are the call service's (calls/leg.py wraps this leg); this one only tracks what
its telephony needs: whether the call was answered (deflection is for ringing calls, audio for answered ones),
whether it is over, and which hold it used.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterator, Protocol

from pigate.callstates import ERROR, NOT_FOUND
from pigate.errors import CallConnectFailed, CallerGone, InappropriateCommand, MediaError, ModemError
from pigate.media import beep_pcm
from pigate.modem.pcm import Playback
from pigate.numbers import is_dialable
from pigate.ozml.leg import COMPLETED, HOLD, IN_CALL, RINGING, KeyBuffer, RecordingResult

from ..media import LegMedia
from ..recording import Capture

log = logging.getLogger(__name__)

TICK = 0.02


class VoiceModem(Protocol):
    """The modem operations a GSM leg uses (the GSM trunk hands in its line's modem driver)."""

    def answer(self) -> None: ...

    def hangup(self) -> None: ...

    def hold(self) -> None: ...

    def retrieve(self) -> None: ...

    def deflect(self, number: str) -> None: ...

    def send_dtmf(self, keys: str) -> None: ...

    def start_audio(self) -> None: ...

    def list_calls(self) -> list: ...


class AudioPump(Protocol):
    """The call's PCM stream (the driver's PcmPump)."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def play(self, pcm: bytes): ...

    def queue(self, playback: Playback) -> Playback: ...

    def mute(self, muted: bool) -> None: ...

    def capture(self, sink: Callable[[bytes], None] | None) -> None: ...


def _finish(pieces: Iterator[bytes]) -> None:
    try:
        for _ in pieces:
            pass
    except (MediaError, OSError) as exc:
        log.warning("finishing a prompt for the cache failed: %s", exc)


class GsmLeg:
    """One GSM call's telephony. Blocking methods run on the session's (or a control queue's) thread."""

    def __init__(self, *, call_id: str, caller: str, callee: str, api_extension: str, inbound: bool,
                 modem: VoiceModem, pump: AudioPump | None, media: LegMedia, keypad: KeyBuffer | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.id, self.caller, self.callee, self.api_extension = call_id, caller, callee, api_extension
        self._inbound = inbound
        self._modem = modem
        self._pump = pump
        self._media = media
        self.keypad = keypad or KeyBuffer()
        self._monotonic = monotonic
        self._network_hold = False
        self._held = False
        self._answered = False
        self._over = False
        self._audio_lock = threading.Lock()
        self._audio_on = False

    @property
    def state(self) -> str:
        """What this leg's telephony knows (the call's own state is the service's)."""
        if self._over:
            return COMPLETED
        if not self._answered:
            return RINGING
        return HOLD if self._held else IN_CALL

    @property
    def live(self) -> bool:
        return not self._over

    # -- driven by the call service ---------------------------------------------------------------
    def connected(self) -> None:
        """The far end answered an outgoing call: switch PCM on where the modem needs it, start the stream."""
        self._answered = True
        self._ensure_audio()

    def _ensure_audio(self) -> None:
        """Audio on for an answered call, once, whichever thread needs it first (its session or a command)."""
        with self._audio_lock:
            if self._audio_on or self._over or not self._answered:
                return
            self._audio_on = True
            if not self._inbound:  # ATA switched it on already for incoming calls
                try:
                    self._modem.start_audio()
                except ModemError as exc:
                    log.warning("%s: audio switch failed: %s", self.id, exc)
            self._start_audio()

    def close(self) -> None:
        """The call is over: stop the audio and wake everything waiting on the keypad."""
        self._over = True
        if self._pump is not None:
            self._pump.stop()
        self.keypad.close()

    def _start_audio(self) -> None:
        if self._pump is None:
            return
        try:
            self._pump.start()
        except ModemError as exc:  # PortGone: the call goes on without audio
            log.warning("%s: no call audio: %s", self.id, exc)

    # -- call control -----------------------------------------------------------------------------
    def answer(self) -> None:
        """ATA; CallerGone when the modem has no call left (the caller hung up first), else the ModemError."""
        try:
            self._modem.answer()
        except ModemError as exc:
            if self._no_call_on_modem():
                raise CallerGone(str(exc)) from exc
            raise
        self._now_answered()

    def _now_answered(self) -> None:
        """The call is up: its audio starts (both trunks' legs, once their own answer succeeded)."""
        self._answered = True
        with self._audio_lock:
            self._audio_on = True
            self._start_audio()

    def _no_call_on_modem(self) -> bool:
        try:
            return not self._modem.list_calls()
        except ModemError:
            return False

    def hangup(self) -> None:
        self._modem.hangup()

    def reject(self) -> None:
        self._modem.hangup()  # ATH on a ringing call refuses it; on an answered one it hangs up, as the Leg says

    def fail(self) -> None:
        self._modem.hangup()  # the telephony is a hang-up; what it means for the call is the service's

    def hold(self) -> None:
        try:
            self._modem.hold()
            self._network_hold = True
        except ModemError as exc:
            log.info("%s: network hold refused (%s); holding locally", self.id, exc)
            self._network_hold = False
        self._held = True
        if self._pump is not None:
            self._pump.mute(True)

    def unhold(self) -> None:
        if self._network_hold:
            try:
                self._modem.retrieve()
            except ModemError as exc:
                log.warning("%s: retrieving the held call failed: %s", self.id, exc)
            self._network_hold = False
        self._held = False
        if self._pump is not None:
            self._pump.mute(False)

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        if self._answered:
            log.info("%s: blind transfer of an answered GSM call is not supported", self.id)
            return False
        try:
            self._deflect(target)
        except (ModemError, CallConnectFailed) as exc:
            log.info("%s: call deflection to %s failed: %s", self.id, target, exc)
            return False
        return True

    def forward(self, destination: str) -> None:
        if self._answered:
            raise InappropriateCommand("Forward")
        try:
            self._deflect(destination)
        except ModemError as exc:
            raise CallConnectFailed(destination, ERROR) from exc

    def _deflect(self, target: str) -> None:
        if not is_dialable(target):
            raise CallConnectFailed(target, NOT_FOUND)
        self._modem.deflect(target)

    def send_dtmf(self, keys: str) -> None:
        self._modem.send_dtmf(keys)

    # -- media ------------------------------------------------------------------------------------
    def speak(self, text: str, *, language: str | None = None, voice: str | None = None,
              interruptible: bool = False) -> bool:
        if not self.live:
            return False
        pieces = self._media.speech_pieces(text, language=language, voice=voice)
        first = next(pieces, b"")  # errors (espeak-ng missing, bad text) surface here, before anything plays
        self._ensure_audio()
        if self._pump is None or not self._pump.running:
            return self._play_pcm(first + b"".join(pieces), interruptible)
        return self._play_pcm(first, interruptible, more=pieces)

    def play(self, source: str, *, repeat: bool = False, timeout: float | None = None,
             interruptible: bool = False) -> bool:
        if not self.live:
            return False
        pcm = self._media.file(source)
        if not repeat:
            return self._play_pcm(pcm, interruptible, limit=timeout)
        deadline = None if timeout is None else self._monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - self._monotonic()
            if left is not None and left <= 0:
                return True
            if not self._play_pcm(pcm, interruptible, limit=left) or not self.live:
                return False

    def beep(self) -> None:
        if self.live:
            self._play_pcm(beep_pcm(), False)

    def play_pcm(self, pcm: bytes) -> None:
        if self.live:
            self._play_pcm(pcm, False)

    def hear(self, seconds: float) -> bytes:
        self._ensure_audio()
        if self._pump is None or not self._pump.running or not self.live:
            self.keypad.sleep(seconds)
            return b""
        heard = bytearray()
        self._pump.capture(heard.extend)
        try:
            self.keypad.sleep(seconds)
        finally:
            self._pump.capture(None)
        return bytes(heard)

    def _play_pcm(self, pcm: bytes, interruptible: bool, *, limit: float | None = None,
                  more: Iterator[bytes] | None = None) -> bool:
        """Play and wait; False when a key (if interruptible) or the end of the call cut it short. `more` pieces
        are queued behind `pcm` as they come, so they play back to back."""
        seconds = len(pcm) / 16000
        self._ensure_audio()
        if self._pump is None or not self._pump.running:
            # No audio path: the prompt still takes its time, so menus keep their rhythm.
            wait = seconds if limit is None else min(seconds, limit)
            if interruptible:
                return not self.keypad.wait(wait) and not self.keypad.closed
            return self.keypad.sleep(wait)
        pieces = [self._pump.play(pcm)]

        def stop() -> None:
            for p in pieces:
                p.cancel()
            if more is not None:  # a prompt cut short is still finished (off this thread) so it gets cached
                threading.Thread(target=_finish, args=(more,), name="tts-finish", daemon=True).start()

        for piece in more or ():
            if self.keypad.closed or (interruptible and self.keypad.wait(0)) or pieces[-1].cancelled:
                stop()
                return False
            pieces.append(self._pump.play(piece))  # queued behind the previous piece
        playback = pieces[-1]  # done when all are
        deadline = None if limit is None else self._monotonic() + limit
        while not playback.done.is_set():
            if self.keypad.closed:
                stop()
                return False
            if interruptible:
                if self.keypad.wait(TICK):
                    stop()
                    return False
            else:
                playback.done.wait(TICK)
            if deadline is not None and self._monotonic() >= deadline:
                stop()
                return True
        return not playback.cancelled

    def join_audio(self, stream: Playback | None, sink: Callable[[bytes], None] | None) -> bool:
        """Bridge audio: play `stream` (the other leg's audio, which never ends by itself) and hand everything
        this leg hears to `sink`; (None, None) undoes it. False when this call has no audio path."""
        self._ensure_audio()
        if self._pump is None or not self._pump.running:
            return False
        self._pump.capture(sink)
        if stream is not None:
            self._pump.queue(stream)
        return True

    def record(self, *, format: str = "mp3", duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None, path: str | None = None) -> RecordingResult:
        self._ensure_audio()
        if self._pump is None or not self._pump.running or not self.live:
            return RecordingResult(False)
        limit = min(duration or self._media.max_record_seconds, self._media.max_record_seconds)
        capture = Capture()
        self._pump.capture(capture.feed)
        started = self._monotonic()
        try:
            while not self.keypad.closed:
                if finish_digits:
                    key = self.keypad.get(TICK)
                    if key is not None and key in finish_digits:
                        break
                elif not self.keypad.sleep(TICK):
                    break
                if self._monotonic() - started >= limit:
                    break
                if inactivity and capture.silent_tail_seconds >= inactivity:
                    break
        finally:
            self._pump.capture(None)
        pcm = capture.pcm()
        if not pcm or capture.voiced_seconds <= 0:
            return RecordingResult(False)
        saved, url = self._media.shelf.keep(pcm, call_id=self.id, format=format)
        return RecordingResult(True, round(saved.duration, 3), url, str(saved.path))
