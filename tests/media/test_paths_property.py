"""Generated Play sources: either a MediaError or a path that stays inside the content folder, never else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pigate.errors import MediaError
from pigate.media import content_relative

PIECES = st.sampled_from(["..", ".", "a", "b.wav", "c:", "C:\\", "\\", "/", "\\\\", "~", "..\\", "%2e%2e", " ", "\x00"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join) | st.text(max_size=40))
def test_a_source_never_resolves_outside_the_content_folder(source):
    root = Path("/srv/content")
    try:
        rel = content_relative(source)
    except MediaError:
        return
    assert not rel.is_absolute() and ".." not in rel.parts
    assert (root / rel).resolve().is_relative_to(root)
