"""Speak's text to speech: espeak-ng with Ozeki's Language mapped to a voice, cached on disk.

Each prompt can be kept twice: an 8 kHz copy for the modem's PCM port, made by espeak-ng piped through sox
and handed out piece by piece as it is made (media/espeak.py), and the 22.05 kHz original for SIP legs
(pjsua2 resamples it). Both are keyed by a hash of (text, voice, speed), so a menu spoken on every call is
synthesized once; a copy is stored only once it is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterator, Mapping, Sequence

from pigate.errors import MediaError
from pigate.media import wav
from pigate.media.audio import RATE, wav_to_pcm8k
from pigate.media.diskcache import DiskCache
from pigate.media.espeak import Espeak

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # characters; espeak-ng takes the text as one argv entry (Linux caps one at 128 KiB)
NARROW, WIDE = "8k.wav", "22k.wav"  # the cache's two copies of a prompt
# Languages people write that espeak-ng knows under another name.
ALIASES: Mapping[str, str] = MappingProxyType({"en": "en-us", "fr": "fr-fr", "pt-pt": "pt", "es-es": "es", "es-mx": "es-419", "zh": "cmn",
           "zh-cn": "cmn", "nb-no": "nb", "no": "nb", "en-au": "en-gb", "en-ca": "en-us", "en-ie": "en-gb"})
GENDERS: Mapping[str, str] = MappingProxyType({"female": "+f3", "woman": "+f3", "male": "+m3", "man": "+m3"})


def normalize(tag: str) -> str:
    return tag.strip().lower().replace("_", "-")


def choose_voice(language: str | None, voice: str | None, available: Sequence[str], default: str) -> str:
    """The espeak-ng voice for Speak's Language and Voice attributes (pure).

    Voice wins if it names an espeak-ng voice (`en-gb`, `de`, optionally with a variant: `en-us+f3`);
    `female`/`male` pick a variant of the language's voice; any other Voice (an Ozeki/Windows voice
    name) is ignored. Language matches exactly, then through ALIASES, then by its primary subtag
    (`de-de` -> `de`, `hu-hu` -> `hu`), then any regional voice of that language; else the default.
    """
    avail = {normalize(v) for v in available}
    variant = ""
    if voice:
        v = normalize(voice)
        base, plus, var = v.partition("+")
        if base in avail:
            return v
        if v in GENDERS:
            variant = GENDERS[v]
        else:
            log.info("tts: voice %r is not an espeak-ng voice; using the language's", voice)
    return _voice_for_language(language, avail, default) + variant


def _voice_for_language(language: str | None, avail: set[str], default: str) -> str:
    if not language:
        return default
    lang = normalize(language)
    for candidate in (lang, ALIASES.get(lang, "")):
        if candidate in avail:
            return candidate
    primary = lang.split("-", 1)[0]
    for candidate in (primary, ALIASES.get(primary, ""), f"{primary}-{primary}"):
        if candidate in avail:
            return candidate
    regional = sorted(v for v in avail if v.startswith(primary + "-"))
    if regional:
        return regional[0]
    log.warning("tts: no espeak-ng voice for language %r; using %s", language, default)
    return default


@dataclass(kw_only=True)
class Tts:
    """Synthesizes prompts with espeak-ng; thread-safe; results cached in `cache_dir` up to `max_bytes`."""

    cache_dir: Path
    voice_default: str = "en-us"
    speed: int = 160  # words per minute; a little under espeak-ng's 175 is easier on a phone line
    max_bytes: int = 64 * 1024 * 1024
    engine: Espeak = field(default_factory=Espeak)
    _cache: DiskCache = field(init=False, repr=False)
    _voices: tuple[str, ...] | None = field(init=False, default=None, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cache = DiskCache(directory=Path(self.cache_dir), max_bytes=self.max_bytes)

    def voices(self) -> tuple[str, ...]:
        """The language codes espeak-ng has voices for (asked once)."""
        with self._lock:
            if self._voices is None:
                try:
                    listed = _espeak(voice=self.voice_default, speed=self.speed).voices
                except OSError as exc:
                    raise MediaError(f"espeak-ng is not usable: {exc}") from exc
                self._voices = tuple(v["language"] for v in listed)
                if not self._voices:
                    raise MediaError("espeak-ng lists no voices (is the espeak-ng package installed?)")
            return self._voices

    def voice_for(self, *, language: str | None = None, voice: str | None = None) -> str:
        return choose_voice(language, voice, self.voices(), self.voice_default)

    def synth(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """An 8 kHz mono s16le WAV of `text`, ready for the modem's PCM port."""
        text, chosen, key = self._key(text, language, voice)
        narrow = self._cache.hit(key, NARROW)
        if narrow is None:
            for _ in self._make_narrow(text, chosen, key):
                pass
            narrow = self._cache.path(key, NARROW)
        return narrow

    def synth_pieces(self, text: str, *, language: str | None = None, voice: str | None = None) -> Iterator[bytes]:
        """The 8 kHz s16le PCM of `text` in pieces of whole 20 ms frames: a cached prompt comes whole; a new one
        as espeak-ng and sox make it, so playing can begin once its first few frames exist. The first piece
        (or the error: bad text, espeak-ng missing, an unusable voice) comes before anything plays. The
        prompt is cached once complete; one abandoned or failed half-way is not."""
        text, chosen, key = self._key(text, language, voice)
        narrow = self._cache.hit(key, NARROW)
        if narrow is not None:
            yield wav_to_pcm8k(narrow.read_bytes())
            return
        yield from self._make_narrow(text, chosen, key)

    def synth_original(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """The 22.05 kHz WAV espeak-ng made (for SIP legs)."""
        text, chosen, key = self._key(text, language, voice)
        wide = self._cache.hit(key, WIDE)
        if wide is None:
            wide = self._cache.put(key, WIDE, self.engine.original_wav(text, voice=chosen, speed=self.speed))
        return wide

    def _key(self, text: str, language: str | None, voice: str | None) -> tuple[str, str, str]:
        """(normalized text, espeak-ng voice, cache key)."""
        text = " ".join(text.split())
        if not text:
            raise MediaError("nothing to speak: the text is empty")
        if len(text) > MAX_TEXT:
            raise MediaError(f"text to speak is {len(text)} characters, more than {MAX_TEXT}")
        chosen = self.voice_for(language=language, voice=voice)
        # 2: the 8 kHz copy comes from sox since the prompts are streamed (version 1's came from our resampler)
        key = hashlib.sha256(json.dumps(["espeak-ng", 2, text, chosen, self.speed]).encode()).hexdigest()[:32]
        return text, chosen, key

    def _make_narrow(self, text: str, voice: str, key: str) -> Iterator[bytes]:
        """A new prompt's pieces as they are made; stored in the cache only when the last one came and both
        processes succeeded (a prompt cut short, failed or abandoned leaves no entry)."""
        made = bytearray()
        for piece in self.engine.pcm8k(text, voice=voice, speed=self.speed):
            made += piece
            yield piece
        self._cache.put(key, NARROW, wav.encode(bytes(made), RATE))


def _espeak(*, voice: str, speed: int):
    """py-espeak-ng, for the list of voices."""
    from espeakng import ESpeakNG  # imported late: a box without TTS still starts

    return ESpeakNG(voice=voice, speed=speed)
