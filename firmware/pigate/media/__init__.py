"""Media: text to speech, Play's sources (content folder and cached URLs), audio decoding, tones and DTMF."""

from pigate.media.audio import RATE, Decoders, decode_pcm8k, load_pcm8k
from pigate.media.diskcache import DiskCache
from pigate.media.dtmf import DtmfDetector, beep_pcm, dtmf_pcm, silence_pcm
from pigate.media.sources import MediaLibrary, content_relative, is_url, open_library
from pigate.media.tts import Tts, choose_voice
from pigate.media.urlcache import Download, UrlCache

__all__ = [
    "RATE", "Decoders", "DiskCache", "Download", "DtmfDetector", "MediaLibrary", "Tts", "UrlCache", "beep_pcm",
    "choose_voice", "content_relative", "decode_pcm8k", "dtmf_pcm", "is_url", "load_pcm8k", "open_library", "silence_pcm",
]
