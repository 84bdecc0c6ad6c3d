"""Audio decoding to the modem's format (8 kHz mono s16le): WAVs of every common kind, MP3, tones, DTMF."""

from __future__ import annotations

import math
import random
import subprocess
import time
from array import array

import pytest

from pigate.errors import MediaError
from pigate.media import Decoders, DtmfDetector, beep_pcm, decode_pcm8k, dtmf_pcm, load_pcm8k, silence_pcm
from pigate.media import wav
from pigate.media.resample import Resampler
from tests.media.conftest import dominant_hz, needs_sox, rms, samples, sox_make

FULL_SCALE_HALF = 32767 * 0.5 / math.sqrt(2)  # RMS of a sine at half scale


@needs_sox
@pytest.mark.parametrize("fmt", [
    ["-r", "8000", "-c", "1", "-b", "16"],
    ["-r", "44100", "-c", "2", "-b", "16"],
    ["-r", "48000", "-c", "2", "-b", "24"],  # sox writes WAVE_FORMAT_EXTENSIBLE here
    ["-r", "22050", "-c", "1", "-b", "32", "-e", "floating-point"],
    ["-r", "16000", "-c", "1", "-b", "32", "-e", "signed-integer"],
    ["-r", "11025", "-c", "1", "-b", "8", "-e", "unsigned-integer"],
    ["-r", "8000", "-c", "1", "-e", "mu-law"],
    ["-r", "8000", "-c", "1", "-e", "a-law"],
], ids=["8k-s16", "44k1-stereo", "48k-24bit-ext", "22k-float", "16k-s32", "11k-u8", "ulaw", "alaw"])
def test_any_common_wav_becomes_8khz_mono_pcm(tmp_path, fmt):
    path = sox_make(tmp_path / "tone.wav", *fmt, seconds=1.0, freq=1000)
    pcm = load_pcm8k(path)
    assert abs(len(pcm) / 2 / 8000 - 1.0) < 0.01  # one second
    assert abs(dominant_hz(pcm) - 1000) < 10
    assert abs(rms(pcm) / FULL_SCALE_HALF - 1) < 0.08  # level kept (G.711 and 8-bit quantise a little)


def test_espeak_stdout_placeholder_sizes_are_tolerated():
    data = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", "one two three"], capture_output=True,
                          check=True, timeout=30).stdout
    fmt, raw = wav.parse_header(data)
    assert len(raw) == len(data) - 44  # the header's size fields are placeholders; the bytes are what count
    pcm = decode_pcm8k(data)
    assert 0.5 < len(pcm) / 16000 < 3


def test_not_audio_is_a_media_error(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunk")
    with pytest.raises(MediaError):
        load_pcm8k(tmp_path / "x.wav")
    with pytest.raises(MediaError):
        load_pcm8k(tmp_path / "missing.wav")


def test_resampler_keeps_the_voice_band_and_removes_what_would_alias():
    r = Resampler(22050, 8000)
    for hz, expect_db in ((1000, 0), (3000, 0)):
        tone = array("h", (int(16000 * math.sin(2 * math.pi * hz * i / 22050)) for i in range(22050)))
        out = r(tone)
        level = math.sqrt(sum(x * x for x in out[800:-800]) / (len(out) - 1600))
        assert abs(20 * math.log10(level / (16000 / math.sqrt(2))) - expect_db) < 1
    # 6 kHz is above the new Nyquist (4 kHz): without filtering it would fold to 2 kHz at full level.
    tone = array("h", (int(16000 * math.sin(2 * math.pi * 6000 * i / 22050)) for i in range(22050)))
    out = r(tone)
    level = math.sqrt(sum(x * x for x in out[800:-800]) / (len(out) - 1600))
    assert 20 * math.log10(max(level, 1) / (16000 / math.sqrt(2))) < -60


@needs_sox
def test_mp3_is_decoded_through_sox(tmp_path):
    if "mp3" not in Decoders().sox_formats():
        pytest.skip("this sox has no MP3 support (Debian: libsox-fmt-mp3)")
    path = sox_make(tmp_path / "tone.mp3", "-r", "16000", "-c", "1", seconds=2.0, freq=800)
    pcm = load_pcm8k(path)
    assert abs(len(pcm) / 16000 - 2.0) < 0.1
    assert abs(dominant_hz(pcm) - 800) < 15


def test_without_a_decoder_mp3_fails_with_what_to_install(tmp_path):
    (tmp_path / "a.mp3").write_bytes(b"ID3\x03\x00" + bytes(100))
    with pytest.raises(MediaError, match="libsox-fmt-mp3"):
        load_pcm8k(tmp_path / "a.mp3", decoders=Decoders(sox=None, ffmpeg=None))


@needs_sox
def test_a_corrupt_mp3_is_a_media_error(tmp_path):
    (tmp_path / "bad.mp3").write_bytes(b"ID3\x03\x00" + bytes(64) + b"garbage" * 10)
    with pytest.raises(MediaError):
        load_pcm8k(tmp_path / "bad.mp3")


def test_beep_is_a_clean_300ms_1khz_tone():
    pcm = beep_pcm()
    assert len(pcm) == 2 * 2400
    assert abs(dominant_hz(pcm) - 1000) < 10
    assert rms(pcm) > 8000
    s = samples(pcm)
    assert abs(s[0]) < 200 and abs(s[-1]) < 200  # faded: no click


def test_dtmf_tones_are_recognised_by_the_detector():
    keys = "0123456789*#ABCD"
    assert DtmfDetector().feed(dtmf_pcm(keys)) == keys
    # in 20 ms frames, as a PCM port delivers them, with a repeated key and some line noise
    pcm = silence_pcm(100) + dtmf_pcm("5511#", tone_ms=70, gap_ms=50) + silence_pcm(100)
    rnd = random.Random(7)
    noisy = array("h", (max(-32768, min(32767, v + int(rnd.gauss(0, 800)))) for v in samples(pcm)))
    det = DtmfDetector()
    got = "".join(det.feed(noisy.tobytes()[i:i + 320]) for i in range(0, len(noisy) * 2, 320))
    assert got == "5511#"


def test_detector_ignores_speech_noise_and_single_tones():
    speech = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", "Press one for sales, two for support, "
                             "or stay on the line to speak to an operator."], capture_output=True, check=True,
                            timeout=30).stdout
    rnd = random.Random(3)
    noise = array("h", (int(rnd.gauss(0, 4000)) for _ in range(16000))).tobytes()
    for pcm in (decode_pcm8k(speech), noise, beep_pcm(1000)):
        assert DtmfDetector().feed(pcm) == ""


def test_dtmf_rejects_non_digits():
    with pytest.raises(ValueError):
        dtmf_pcm("12x")


def test_decoding_speed_is_measured(capsys):
    tone = array("h", (int(16000 * math.sin(2 * math.pi * 440 * i / 44100)) for i in range(44100 * 5)))
    data = wav.encode(tone, 44100)
    start = time.perf_counter()
    pcm = decode_pcm8k(data)
    took = time.perf_counter() - start
    assert len(pcm) == 2 * 40000
    with capsys.disabled():
        print(f"\n[media] 5 s of 44.1 kHz WAV -> 8 kHz PCM: {took * 1000:.0f} ms")


def test_resampling_in_pieces_gives_the_same_samples_as_at_once():
    r = Resampler(22050, 8000)
    signal = array("h", (int(8000 * math.sin(i * 0.07)) for i in range(22050)))
    whole = r(signal)
    pieces = list(r.pieces(signal, first=1600, rest=8000))
    assert [len(p) for p in pieces] == [1600, 6400] and sum(pieces, array("h")) == whole
