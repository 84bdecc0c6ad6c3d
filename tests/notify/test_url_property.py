"""Generated URLs: parse_url returns a usable target or raises BadUrl, nothing else; the request line stays one line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pigate.notify import BadUrl, parse_url
from pigate.notify.http import build_request

PIECES = st.sampled_from(["http://", "https://", "ftp://", "user:pw@", "[::1]", "127.0.0.1", "host", ":80", ":",
                          ":99999", "/", "?a=b", "#frag", "%0d%0a", "\r\n", " ", "@", "ä", "日本", "/ü?q=€", "[", "]", "\x00"])


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=7).map("".join) | st.text(max_size=60))
def test_parse_url_gives_a_target_or_bad_url(url):
    try:
        target = parse_url(url)
    except BadUrl:
        return
    assert target.scheme in ("http", "https") and target.host and 0 < target.port < 65536
    request = build_request("POST", target, {"X": "y"}, b"a=b")
    head = request.split(b"\r\n\r\n", 1)[0]
    assert head.split(b"\r\n")[0].startswith(b"POST /") and b"\n" not in head.replace(b"\r\n", b"")
