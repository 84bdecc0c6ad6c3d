"""DeleteFile and MoveFile: real files in real folders; every way out of the content and recordings folders
(`..`, absolute paths, symlinks) is refused with 302 naming the path, and nothing outside is touched."""

from __future__ import annotations

import os

import pytest

from pigate.errors import InvalidParameter
from pigate.ozml.files import ScriptFiles
from pigate.ozml.services import ScriptExtras
from tests.ozml.test_runner import Session


@pytest.fixture
def box(tmp_path):
    content, recordings, outside = tmp_path / "content", tmp_path / "recordings", tmp_path / "etc"
    for d in (content, recordings, outside):
        d.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    (recordings / "a1.wav").write_bytes(b"RIFFa1")
    (content / "intro.wav").write_bytes(b"RIFFintro")
    os.symlink(outside, content / "escape")                 # a folder link out of content
    os.symlink(outside / "passwd", recordings / "pw.wav")     # a file link out of recordings
    files = ScriptFiles(roots={"content": content, "recordings": recordings})
    return files, content, recordings, outside


def run(files: ScriptFiles, body: str) -> Session:
    s = Session(extras=ScriptExtras(files=files))
    s.run(f"<Response>{body}<Speak>done</Speak></Response>")
    return s


def test_delete_and_move_inside_the_folders(box):
    files, content, recordings, _ = box
    s = run(files, '<MoveFile Source="recordings/a1.wav" Target="content/greetings/"/>'
                   '<DeleteFile>content/intro.wav</DeleteFile>')
    assert s.errors == []
    assert (content / "greetings" / "a1.wav").read_bytes() == b"RIFFa1"
    assert not (recordings / "a1.wav").exists() and not (content / "intro.wav").exists()
    assert s.leg.spoken == ["done"]                          # the script went on


def test_a_move_onto_a_file_name_replaces_it(box):
    files, content, recordings, _ = box
    run(files, '<MoveFile Source="recordings/a1.wav" Target="content/intro.wav"/>')
    assert (content / "intro.wav").read_bytes() == b"RIFFa1"


@pytest.mark.parametrize("verb, named", [
    ("<DeleteFile>../../etc/passwd</DeleteFile>", "Path=../../etc/passwd"),
    ("<DeleteFile>content/../../etc/passwd</DeleteFile>", "Path=content/../../etc/passwd"),
    ("<DeleteFile>content/../recordings/a1.wav</DeleteFile>", "Path=content/../recordings/a1.wav"),
    ("<DeleteFile>/etc/passwd</DeleteFile>", "Path=/etc/passwd"),
    ("<DeleteFile>content/escape/passwd</DeleteFile>", "Path=content/escape/passwd"),
    ("<DeleteFile>recordings/pw.wav</DeleteFile>", "Path=recordings/pw.wav"),
    ("<DeleteFile>etc/passwd</DeleteFile>", "Path=etc/passwd"),
    ("<DeleteFile>content</DeleteFile>", "Path=content"),
    ('<MoveFile Source="content/escape/passwd" Target="content/x"/>', "Source=content/escape/passwd"),
    ('<MoveFile Source="recordings/a1.wav" Target="content/escape/"/>', "Target=content/escape/"),
    ('<MoveFile Source="recordings/a1.wav" Target="/tmp/a1.wav"/>', "Target=/tmp/a1.wav"),
    ('<MoveFile Source="recordings/a1.wav" Target="..\\..\\etc\\a1.wav"/>', "Target=..\\..\\etc\\a1.wav"),
])
def test_escapes_are_refused_with_302_naming_the_path(box, verb, named):
    files, content, recordings, outside = box
    s = run(files, verb)
    command = "MoveFile" if verb.startswith("<MoveFile") else "DeleteFile"
    [(code, msg)] = [(code, msg) for code, msg, _ in s.errors]
    # Ozeki's wording first; what exactly is wrong follows it (InvalidParameter's detail).
    assert code == 302 and msg.startswith(f"Missing or invalid parameter '{named}' for command '{command}'")
    assert (outside / "passwd").read_text() == "root:x:0:0"   # untouched
    assert sorted(p.name for p in outside.iterdir()) == ["passwd"]
    assert (recordings / "a1.wav").exists() and (content / "intro.wav").exists()
    assert s.leg.spoken == ["done"]                          # reported, and the script went on


def test_a_missing_file_is_302_too(box):
    files, *_ = box
    with pytest.raises(InvalidParameter) as err:
        files.delete("recordings/none.wav")
    assert err.value.code == 302 and "recordings/none.wav" in err.value.message


def test_file_verbs_are_not_for_third_party_scripts():
    from pigate.ozml import check
    assert [e.code for e in check("<Response><DeleteFile>content/a.wav</DeleteFile></Response>",
                                  context="CallChanged")] == [303]
    assert check("<Response><DeleteFile>content/a.wav</DeleteFile></Response>", context="IncomingSMS") == []
