"""What every call's leg plays and records with, whatever its trunk: speech, Play's files and URLs, the recordings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from pigate.errors import MediaError
from pigate.media import MediaLibrary, Tts
from pigate.media.audio import wav_to_pcm8k

from .recording import RecordingShelf


@dataclass(kw_only=True)
class LegMedia:
    """Shared by every leg of the service; audio comes out as 8 kHz s16le mono PCM."""

    tts: Tts | None
    library: MediaLibrary | None
    shelf: RecordingShelf
    max_record_seconds: float = 600.0

    def speech(self, text: str, *, language: str | None, voice: str | None) -> bytes:
        if self.tts is None:
            raise MediaError("text to speech is not configured")
        return wav_to_pcm8k(self.tts.synth(text, language=language, voice=voice).read_bytes())

    def speech_pieces(self, text: str, *, language: str | None, voice: str | None) -> Iterator[bytes]:
        """The same in pieces: a new prompt plays while espeak-ng is still making it (see Tts.synth_pieces)."""
        if self.tts is None:
            raise MediaError("text to speech is not configured")
        return self.tts.synth_pieces(text, language=language, voice=voice)

    def file(self, source: str) -> bytes:
        if self.library is None:
            raise MediaError("no content folder is configured for Play")
        return self.library.pcm8k(source)
