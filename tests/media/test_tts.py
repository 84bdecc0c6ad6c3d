"""Speak through the real espeak-ng: 8 kHz mono prompts that last as long as speech does, cached, capped."""

from __future__ import annotations

import math
import shutil
import subprocess
import time

import pytest

from pigate.errors import MediaError
from pigate.media import Tts, choose_voice
from pigate.media import wav
from pigate.media.espeak import Espeak

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (scripts/bootstrap installs it)")


def cutoff_espeak(tmp_path):
    """A stand-in for espeak-ng that runs the real one but dies after 16 KiB of its output (as a crash would)."""
    exe = tmp_path / "bin" / "espeak-ng"
    exe.parent.mkdir()
    real = shutil.which("espeak-ng")
    exe.write_text(f"#!/bin/sh\n{real} \"$@\" | head -c 16384\nexit 1\n")
    exe.chmod(0o755)
    return exe


TEN_WORDS = "Welcome to the gateway, please press one for the sales team."


def test_a_prompt_is_8khz_mono_speech_of_plausible_length(tmp_path, capsys):
    tts = Tts(cache_dir=tmp_path)
    start = time.perf_counter()
    path = tts.synth(TEN_WORDS)
    made = time.perf_counter() - start
    data = path.read_bytes()
    fmt, _ = wav.parse_header(data)
    assert (fmt.rate, fmt.channels, fmt.bits) == (8000, 1, 16)
    audio = wav.decode(data)
    assert 2.0 <= audio.seconds <= 6.0, audio.seconds
    level = math.sqrt(sum(x * x for x in audio.samples) / len(audio.samples))
    assert level > 1000, level  # silence would be ~0; speech at espeak's volume is several thousand

    start = time.perf_counter()
    again = tts.synth(TEN_WORDS)
    hit = time.perf_counter() - start
    assert again == path
    assert hit < made / 5
    wide = wav.parse_header(tts.synth_original(TEN_WORDS).read_bytes())[0]
    assert wide.rate == 22050
    with capsys.disabled():
        print(f"\n[tts] {audio.seconds:.2f} s of speech: synth {made * 1000:.0f} ms, cache hit {hit * 1000:.2f} ms")


def test_each_language_gets_its_own_voice_and_prompt(tmp_path):
    tts = Tts(cache_dir=tmp_path)
    en = tts.synth("Szia", language="en-us").read_bytes()
    hu = tts.synth("Szia", language="hu-hu").read_bytes()
    assert en != hu
    assert tts.voice_for(language="hu-HU") == "hu"
    assert tts.voice_for(language="de-de") == "de"
    assert tts.voice_for(language="fr-FR") == "fr-fr"
    assert tts.voice_for(language="en-gb") == "en-gb"
    assert tts.voice_for(language="tlh-KL") == "en-us"  # Klingon: the default


def test_voice_choice_rules():
    avail = ["en-us", "en-gb", "de", "fr-fr", "fr-be", "hu", "pt-br", "pt"]
    assert choose_voice(None, None, avail, "en-us") == "en-us"
    assert choose_voice("en", None, avail, "en-us") == "en-us"
    assert choose_voice("fr", None, avail, "en-us") == "fr-fr"
    assert choose_voice("pt-PT", None, avail, "en-us") == "pt"
    assert choose_voice("de-AT", None, avail, "en-us") == "de"
    assert choose_voice("en-us", "en-gb+m2", avail, "en-us") == "en-gb+m2"
    assert choose_voice("de-de", "female", avail, "en-us") == "de+f3"
    assert choose_voice("de-de", "Microsoft Hedda", avail, "en-us") == "de"


def test_text_that_looks_like_options_is_spoken(tmp_path):
    audio = wav.decode(Tts(cache_dir=tmp_path).synth("-5 degrees --help").read_bytes())
    assert audio.seconds > 0.8


def test_an_unusable_voice_is_a_clear_error_not_silence(tmp_path):
    with pytest.raises(MediaError, match="no audio"):
        Tts(cache_dir=tmp_path, voice_default="english-us").synth("hello")  # py-espeak-ng's own default


def test_empty_or_huge_text_is_refused(tmp_path):
    tts = Tts(cache_dir=tmp_path)
    with pytest.raises(MediaError):
        tts.synth("  \n ")
    with pytest.raises(MediaError):
        tts.synth("word " * 1000)


def test_the_prompt_cache_is_capped(tmp_path):
    tts = Tts(cache_dir=tmp_path, max_bytes=100_000)
    paths = [tts.synth(f"This is prompt number {n} of the menu.") for n in range(6)]
    total = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert total <= 100_000
    assert paths[-1].exists() and not paths[0].exists()


def test_a_new_prompt_comes_in_whole_frames_that_add_up_to_the_cached_one(tmp_path):
    tts = Tts(cache_dir=tmp_path)
    pieces = list(tts.synth_pieces(TEN_WORDS))
    assert len(pieces) >= 3 and all(len(p) % 320 == 0 for p in pieces[:-1]), [len(p) for p in pieces]
    # complete, it is cached: the same prompt again is one piece, equal to what the pieces made
    again = list(tts.synth_pieces(TEN_WORDS))
    assert again == [b"".join(pieces)]
    assert wav.decode(tts.synth(TEN_WORDS).read_bytes()).samples.tobytes() == again[0]


def test_a_long_prompt_starts_long_before_espeak_ng_could_have_finished_it(tmp_path):
    # about four minutes of speech: espeak-ng alone needs most of a second for it here
    text = " ".join([TEN_WORDS] * 60)
    tts = Tts(cache_dir=tmp_path)
    tts.voices()
    start = time.perf_counter()
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(tmp_path / "whole.out"), text], check=True)
    whole_text = time.perf_counter() - start
    start = time.perf_counter()
    it = tts.synth_pieces(text)
    first = len(next(it))
    first_at = time.perf_counter() - start
    rest = sum(len(p) for p in it)
    assert first < (first + rest) / 100  # a sliver of the prompt, not the prompt
    assert first_at < whole_text / 3, (first_at, whole_text)


def test_a_prompt_abandoned_half_way_is_not_cached(tmp_path):
    tts = Tts(cache_dir=tmp_path)
    it = tts.synth_pieces(TEN_WORDS)
    next(it)
    it.close()
    assert not list(tmp_path.glob("*.wav")), "a half-made prompt must not be stored"
    assert len(list(tts.synth_pieces(TEN_WORDS))) > 1, "a half-made prompt must not be served as cached"


def test_a_prompt_whose_synthesis_fails_half_way_is_not_cached(tmp_path):
    # espeak-ng's output is cut off after its first block: sox sees a short stream, espeak-ng is killed
    tts = Tts(cache_dir=tmp_path, engine=Espeak(espeak=str(cutoff_espeak(tmp_path))))
    it = tts.synth_pieces(TEN_WORDS)
    with pytest.raises(MediaError, match="espeak-ng"):
        for _ in it:
            pass
    assert not list(tmp_path.glob("*.wav"))
