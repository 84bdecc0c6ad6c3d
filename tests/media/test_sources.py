"""Play's sources: the content folder (no escaping it) and URLs cached by the HTTP rules, from a real app."""

from __future__ import annotations

import math
import os
from array import array
from pathlib import Path

import pytest

from pigate.errors import ForbiddenAddress, MediaError
from pigate.media import DiskCache, MediaLibrary, UrlCache, content_relative, open_library
from pigate.media import wav
from pigate.media.urlcache import lifetime, parse_cache_control
from pigate.notify import AddressPolicy
from tests.media.conftest import dominant_hz
from tests.notify.webapp import Reply


def tone_wav(hz: int = 1000, seconds: float = 0.5, rate: int = 16000) -> bytes:
    n = int(rate * seconds)
    return wav.encode(array("h", (int(12000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))), rate)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_cache(tmp_path: Path, clock: Clock, **kw) -> UrlCache:
    kw.setdefault("policy", AddressPolicy())
    return UrlCache(directory=tmp_path / "http", clock=clock, **kw)


def make_library(tmp_path: Path, clock: Clock, **kw) -> MediaLibrary:
    (tmp_path / "content").mkdir(exist_ok=True)
    return MediaLibrary(content_dir=tmp_path / "content", urls=make_cache(tmp_path, clock, **kw),
                        decoded=DiskCache(directory=tmp_path / "pcm", max_bytes=10 * 1024 * 1024))


# -- the content folder ---------------------------------------------------------------------------------

def test_local_files_are_found_relative_to_the_content_folder(tmp_path, clock):
    lib = make_library(tmp_path, clock)
    (tmp_path / "content" / "prompts").mkdir()
    (tmp_path / "content" / "prompts" / "hello.wav").write_bytes(tone_wav(700))
    pcm = lib.pcm8k("prompts/hello.wav")
    assert abs(len(pcm) / 16000 - 0.5) < 0.01 and abs(dominant_hz(pcm) - 700) < 10
    assert lib.local_path(str(tmp_path / "content" / "prompts" / "hello.wav")).name == "hello.wav"


def test_ozeki_windows_paths_map_to_the_file_name_in_the_content_folder(tmp_path, clock):
    lib = make_library(tmp_path, clock)
    (tmp_path / "content" / "testsound.wav").write_bytes(tone_wav())
    assert content_relative(r"c:\testsound.wav").as_posix() == "testsound.wav"
    assert content_relative(r"C:\Sounds\ivr\testsound.wav").as_posix() == "testsound.wav"
    assert content_relative(r"\\server\share\testsound.wav").as_posix() == "testsound.wav"
    assert len(lib.pcm8k(r"c:\testsound.wav")) == 8000


@pytest.mark.parametrize("source", ["../secret.wav", "prompts/../../secret.wav", "/etc/passwd", "link/secret.wav",
                                    "", "c:\\..\\", "escape.wav"])
def test_paths_that_leave_the_content_folder_are_refused(tmp_path, clock, source):
    lib = make_library(tmp_path, clock)
    (tmp_path / "secret.wav").write_bytes(tone_wav())
    (tmp_path / "content" / "prompts").mkdir()
    os.symlink(tmp_path, tmp_path / "content" / "link")
    os.symlink(tmp_path / "secret.wav", tmp_path / "content" / "escape.wav")
    with pytest.raises(MediaError):
        lib.pcm8k(source)


def test_a_missing_file_is_a_media_error(tmp_path, clock):
    with pytest.raises(MediaError, match="not found"):
        make_library(tmp_path, clock).pcm8k("nothing.wav")


def test_decoded_audio_is_cached_so_conversion_happens_once(tmp_path, clock):
    lib = make_library(tmp_path, clock)
    (tmp_path / "content" / "a.wav").write_bytes(tone_wav(500, 1.0, 44100))
    first = lib.pcm8k("a.wav")
    assert len(list((tmp_path / "pcm").glob("*.pcm"))) == 1
    assert lib.pcm8k("a.wav") == first
    (tmp_path / "content" / "b.wav").write_bytes(tone_wav(500, 1.0, 8000))  # already 8 kHz: nothing to cache
    lib.pcm8k("b.wav")
    assert len(list((tmp_path / "pcm").glob("*.pcm"))) == 1


# -- URLs -----------------------------------------------------------------------------------------------

def test_cache_control_parsing():
    assert parse_cache_control("public, max-age=60") .max_age == 60
    assert parse_cache_control("no-store").no_store and parse_cache_control("No-Cache").no_cache
    assert parse_cache_control('max-age="x"').max_age == 0
    assert lifetime({"Cache-Control": "max-age=10"}, 3600)[1] == 10
    assert lifetime({"Expires": "Thu, 01 Jan 2015 00:01:00 GMT", "Date": "Thu, 01 Jan 2015 00:00:00 GMT"}, 3600)[1] == 60
    assert lifetime({"Expires": "0"}, 3600)[1] == 0
    assert lifetime({}, 3600)[1] == 3600


def test_a_url_is_downloaded_once_while_fresh(webapp, tmp_path, clock):
    webapp.route("/p.wav", Reply(200, tone_wav(), {"Cache-Control": "max-age=60", "Content-Type": "audio/wav"}))
    lib = make_library(tmp_path, clock)
    first = lib.pcm8k(webapp.url("/p.wav"))
    clock.now += 59
    assert lib.pcm8k(webapp.url("/p.wav")) == first
    assert len(webapp.requests) == 1
    clock.now += 2  # now stale: fetched again
    lib.pcm8k(webapp.url("/p.wav"))
    assert len(webapp.requests) == 2


def test_etag_revalidation_uses_the_cached_file_on_304(webapp, tmp_path, clock):
    body = tone_wav(900)

    def app(req):
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"', "Cache-Control": "max-age=10"})
        return Reply(200, body, {"ETag": '"v1"', "Cache-Control": "max-age=10"})

    webapp.route("/p.wav", app)
    cache = make_cache(tmp_path, clock)
    first = cache.get(webapp.url("/p.wav"))
    assert not first.from_cache and first.data == body and first.path is not None
    clock.now += 11
    second = cache.get(webapp.url("/p.wav"))
    assert second.from_cache and second.data == body and second.path == first.path
    assert webapp.requests[1].headers["if-none-match"] == '"v1"'
    clock.now += 5  # the 304 renewed the freshness: no request now
    cache.get(webapp.url("/p.wav"))
    assert len(webapp.requests) == 2


def test_a_changed_file_replaces_the_cached_one(webapp, tmp_path, clock):
    versions = iter([(tone_wav(500), '"a"'), (tone_wav(1500), '"b"')])

    def app(req):
        data, tag = next(versions)
        return Reply(200, data, {"ETag": tag, "Cache-Control": "no-cache"})

    webapp.route("/p.wav", app)
    lib = make_library(tmp_path, clock)
    assert abs(dominant_hz(lib.pcm8k(webapp.url("/p.wav"))) - 500) < 10
    assert abs(dominant_hz(lib.pcm8k(webapp.url("/p.wav"))) - 1500) < 15  # no-cache: asked again at once
    assert webapp.requests[1].headers["if-none-match"] == '"a"'


def test_no_store_keeps_nothing_on_disk(webapp, tmp_path, clock):
    webapp.route("/p.wav", Reply(200, tone_wav(), {"Cache-Control": "no-store"}))
    lib = make_library(tmp_path, clock)
    lib.pcm8k(webapp.url("/p.wav"))
    lib.pcm8k(webapp.url("/p.wav"))
    assert len(webapp.requests) == 2
    assert list((tmp_path / "http").iterdir()) == [] and list((tmp_path / "pcm").iterdir()) == []


def test_the_size_cap_evicts_the_least_recently_used(webapp, tmp_path, clock):
    for name in "abc":
        webapp.route(f"/{name}.wav", Reply(200, bytes(40_000), {"Cache-Control": "max-age=3600"}))
    cache = make_cache(tmp_path, clock, max_bytes=100_000)
    cache.get(webapp.url("/a.wav"))
    cache.get(webapp.url("/b.wav"))
    cache.get(webapp.url("/a.wav"))  # a is now more recent than b
    cache.get(webapp.url("/c.wav"))  # 120 kB > 100 kB: b goes
    assert sorted(r.path for r in webapp.requests) == ["/a.wav", "/b.wav", "/c.wav"]
    cache.get(webapp.url("/a.wav"))
    cache.get(webapp.url("/b.wav"))
    assert [r.path for r in webapp.requests[3:]] == ["/b.wav"]
    assert DiskCache(directory=tmp_path / "http", max_bytes=100_000).usage() <= 100_000


def test_a_file_over_the_per_file_cap_is_refused(webapp, tmp_path, clock):
    webapp.route("/big.wav", Reply(200, bytes(300_000)))
    with pytest.raises(MediaError):
        make_cache(tmp_path, clock, max_file=100_000).get(webapp.url("/big.wav"))


def test_urls_obey_the_address_policy(webapp, tmp_path, clock):
    webapp.route("/p.wav", Reply(200, tone_wav()))
    lib = make_library(tmp_path, clock, policy=AddressPolicy(deny=["127.0.0.0/8"]))
    with pytest.raises(MediaError) as info:
        lib.pcm8k(webapp.url("/p.wav"))
    assert isinstance(info.value.__cause__, ForbiddenAddress) and info.value.__cause__.code == 307
    assert webapp.requests == []


def test_a_stale_copy_is_played_when_the_server_is_gone(webapp_factory, tmp_path, clock):
    app = webapp_factory()
    app.route("/p.wav", Reply(200, tone_wav(), {"Cache-Control": "max-age=1", "ETag": '"x"'}))
    cache = make_cache(tmp_path, clock, connect_timeout=0.5)
    url = app.url("/p.wav")
    first = cache.get(url)
    app.stop()
    clock.now += 5
    assert cache.get(url).data == first.data


def test_open_library_wires_content_folder_and_url_cache(webapp, tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "local.wav").write_bytes(tone_wav(600, rate=44100))
    webapp.route("/remote.wav", Reply(200, tone_wav(1200, rate=22050), {"Cache-Control": "max-age=60"}))
    lib = open_library(content_dir=tmp_path / "content", cache_dir=tmp_path / "cache", policy=AddressPolicy())
    assert abs(dominant_hz(lib.pcm8k("local.wav")) - 600) < 10
    assert abs(dominant_hz(lib.pcm8k(webapp.url("/remote.wav"))) - 1200) < 15
    lib.pcm8k(webapp.url("/remote.wav"))
    assert len(webapp.requests) == 1
    assert {p.name for p in (tmp_path / "cache").iterdir()} == {"http", "pcm"}


def test_a_missing_url_is_a_media_error(webapp, tmp_path, clock):
    with pytest.raises(MediaError, match="404"):
        make_cache(tmp_path, clock).get(webapp.url("/none.wav"))
