"""GsmLeg: the OzML Leg of one call on a GSM modem (AT commands for control, the PCM port for audio).

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
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pigate.errors import CallConnectFailed, InappropriateCommand, MediaError, ModemError
from pigate.media import MediaLibrary, Tts, beep_pcm
from pigate.media.audio import wav_to_pcm8k
from pigate.ozml.leg import COMPLETED, HOLD, IN_CALL, RINGING, TRANSFERRED, KeyBuffer, RecordingResult
from pigate.services._callmodel import (BUSY, CANCELLED, ERROR, FAILED, INBOUND, REJECTED, CallObserver, CallRecord,
                                        VoiceModem)
from pigate.services._gsmaudio import PcmPump
from pigate.services._recording import Capture, RecordingShelf

log = logging.getLogger(__name__)

TICK = 0.02
_NUMBER = re.compile(r"^\+?[0-9*#]{1,40}$")


@dataclass(kw_only=True)
class LegMedia:
    """What legs play and record with; shared by every leg of the service."""

    tts: Tts | None
    library: MediaLibrary | None
    shelf: RecordingShelf
    max_record_seconds: float = 600.0

    def speech(self, text: str, *, language: str | None, voice: str | None) -> bytes:
        if self.tts is None:
            raise MediaError("text to speech is not configured")
        return wav_to_pcm8k(self.tts.synth(text, language=language, voice=voice).read_bytes())

    def file(self, source: str) -> bytes:
        if self.library is None:
            raise MediaError("no content folder is configured for Play")
        return self.library.pcm8k(source)


class GsmLeg:
    """One GSM call as a script drives it. Blocking methods run on the session's (or a worker's) thread."""

    def __init__(self, *, call: CallRecord, observer: CallObserver, modem: VoiceModem, pump: PcmPump | None,
                 media: LegMedia, keypad: KeyBuffer | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.call = call
        self._observer = observer
        self._modem = modem
        self._pump = pump
        self._media = media
        self.keypad = keypad or KeyBuffer()
        self._monotonic = monotonic
        self._network_hold = False
        self._audio_lock = threading.Lock()
        self._audio_on = False

    # -- identity ---------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.call.id

    @property
    def caller(self) -> str:
        return self.call.source

    @property
    def callee(self) -> str:
        return self.call.destination

    @property
    def api_extension(self) -> str:
        return self.call.api_extension

    @property
    def state(self) -> str:
        return self.call.state

    # -- driven by the call service ---------------------------------------------------------------
    def connected(self) -> None:
        """The far end answered an outgoing call: switch PCM on where the modem needs it, start the stream."""
        self._ensure_audio()

    def _ensure_audio(self) -> None:
        """Audio on for an answered call, once, whichever thread needs it first (its session or a command)."""
        with self._audio_lock:
            if self._audio_on or not self.call.live or self.call.state == RINGING:
                return
            self._audio_on = True
            if self.call.direction != INBOUND:  # ATA switched it on already for incoming calls
                try:
                    self._modem.start_audio()
                except ModemError as exc:
                    log.warning("%s: audio switch failed: %s", self.id, exc)
            self._start_audio()

    def close(self) -> None:
        """The call is over: stop the audio and wake everything waiting on the keypad."""
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
        if self.state != RINGING:
            return
        try:
            self._modem.answer()
        except ModemError as exc:
            # Mostly the caller hanging up while ATA was on its way: with no call left on the modem, the caller
            # gave up (Cancelled), whichever of the two the modem reported first; otherwise answering failed.
            gone = self._no_call_on_modem()
            log.warning("%s: answering failed (%s): %s", self.id, "caller gone" if gone else "error", exc)
            if gone:
                self._observer.leg_ended(self.call, CANCELLED, CANCELLED, local=False)
            else:
                self._observer.leg_ended(self.call, ERROR, FAILED, local=True)
            try:
                self._modem.hangup()
            except ModemError as again:
                log.info("%s: hang-up after a failed answer: %s", self.id, again)
            return
        with self._audio_lock:
            self._audio_on = True
            self._start_audio()
        self._observer.leg_changed(self.call, IN_CALL)

    def _no_call_on_modem(self) -> bool:
        try:
            return not self._modem.list_calls()
        except ModemError:
            return False

    def hangup(self) -> None:
        """End the call. One never answered was Cancelled (an incoming one refused: history result Rejected)."""
        self._end_here((CANCELLED, REJECTED if self.call.direction == INBOUND else CANCELLED))

    def reject(self) -> None:
        """Refuse a ringing incoming call, which the caller hears as busy (Busy, Rejected); on an answered call
        this hangs up, as the Leg says. ATH does both."""
        self._end_here((BUSY, REJECTED) if self.call.direction == INBOUND else (CANCELLED, CANCELLED))

    def fail(self) -> None:
        """End a call the gateway could not handle (its script could not be had, or broke): Error if it was
        never answered; an answered one ends as Completed, like a hang-up."""
        self._end_here((ERROR, REJECTED if self.call.direction == INBOUND else FAILED))

    def _end_here(self, unanswered: tuple[str, str]) -> None:
        if not self.call.live:
            return
        # Never Completed unless the call was connected: Completed is Ozeki's state for a call that was in call.
        final = unanswered if self.state == RINGING else (COMPLETED, self.call.hangup_result(local=True))
        # Recorded as ended first: the modem's own end-of-call lines then find no live call to misread.
        self._observer.leg_ended(self.call, *final, local=True)
        try:
            self._modem.hangup()
        except ModemError as exc:
            log.warning("%s: hang-up failed: %s", self.id, exc)

    def hold(self) -> None:
        if self.state != IN_CALL:
            return
        try:
            self._modem.command("AT+CHLD=2")
            self._network_hold = True
        except ModemError as exc:
            log.info("%s: network hold refused (%s); holding locally", self.id, exc)
            self._network_hold = False
        if self._pump is not None:
            self._pump.mute(True)
        self._observer.leg_changed(self.call, HOLD)

    def unhold(self) -> None:
        if self.state != HOLD:
            return
        if self._network_hold:
            try:
                self._modem.command("AT+CHLD=2")  # with only a held call this retrieves it
            except ModemError as exc:
                log.warning("%s: retrieving the held call failed: %s", self.id, exc)
            self._network_hold = False
        if self._pump is not None:
            self._pump.mute(False)
        self._observer.leg_changed(self.call, IN_CALL)

    def blind_transfer(self, target: str, *, transferor_party: str | None = None) -> bool:
        if self.state != RINGING:
            log.info("%s: blind transfer of an answered GSM call is not supported", self.id)
            return False
        try:
            self._deflect(target)
        except (ModemError, CallConnectFailed) as exc:
            log.info("%s: call deflection to %s failed: %s", self.id, target, exc)
            return False
        return True

    def forward(self, destination: str) -> None:
        if self.state != RINGING:
            raise InappropriateCommand("Forward")
        try:
            self._deflect(destination)
        except ModemError as exc:
            raise CallConnectFailed(destination, "Error") from exc

    def _deflect(self, target: str) -> None:
        if not _NUMBER.match(target):
            raise CallConnectFailed(target, "NotFound")
        self._modem.command(f'AT+CTFR="{target}"')
        self._observer.leg_ended(self.call, TRANSFERRED, "TransferCompleted", local=True)

    def send_dtmf(self, keys: str) -> None:
        self._modem.send_dtmf(keys)

    # -- media ------------------------------------------------------------------------------------
    def speak(self, text: str, *, language: str | None = None, voice: str | None = None,
              interruptible: bool = False) -> bool:
        if not self.call.live:
            return False
        return self._play_pcm(self._media.speech(text, language=language, voice=voice), interruptible)

    def play(self, source: str, *, repeat: bool = False, timeout: float | None = None,
             interruptible: bool = False) -> bool:
        if not self.call.live:
            return False
        pcm = self._media.file(source)
        if not repeat:
            return self._play_pcm(pcm, interruptible, limit=timeout)
        deadline = None if timeout is None else self._monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - self._monotonic()
            if left is not None and left <= 0:
                return True
            if not self._play_pcm(pcm, interruptible, limit=left) or not self.call.live:
                return False

    def beep(self) -> None:
        if self.call.live:
            self._play_pcm(beep_pcm(), False)

    def _play_pcm(self, pcm: bytes, interruptible: bool, *, limit: float | None = None) -> bool:
        """Play and wait; False when a key (if interruptible) or the end of the call cut it short."""
        seconds = len(pcm) / 16000
        self._ensure_audio()
        if self._pump is None or not self._pump.running:
            # No audio path: the prompt still takes its time, so menus keep their rhythm.
            wait = seconds if limit is None else min(seconds, limit)
            if interruptible:
                return not self.keypad.wait(wait) and not self.keypad.closed
            return self.keypad.sleep(wait)
        playback = self._pump.play(pcm)
        deadline = None if limit is None else self._monotonic() + limit
        while not playback.done.is_set():
            if self.keypad.closed:
                playback.cancel()
                return False
            if interruptible:
                if self.keypad.wait(TICK):
                    playback.cancel()
                    return False
            else:
                playback.done.wait(TICK)
            if deadline is not None and self._monotonic() >= deadline:
                playback.cancel()
                return True
        return not playback.cancelled

    def record(self, *, format: str = "mp3", duration: float | None = None, inactivity: float | None = None,
               finish_digits: str | None = None, path: str | None = None) -> RecordingResult:
        self._ensure_audio()
        if self._pump is None or not self._pump.running or not self.call.live:
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
        return RecordingResult(True, round(saved.duration, 3), url)
