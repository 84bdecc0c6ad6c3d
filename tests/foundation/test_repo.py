"""The repository stands on its own: it cites no document it does not contain and speaks of code, not of the
team that wrote it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Citations of documents outside the repository, and comments about who should review or wire what.
FORBIDDEN = re.compile(r"REFERENCE\.md|\bthe lead\b|\bfor the lead\b|\bthe seed\b|\bseed's\b", re.IGNORECASE)
TEXT = {".py", ".md", ".toml", ".cfg", ".sh", ".txt", ".example", ".service", ".rules"}


def _repo_files():
    for top in ("firmware/pigate", "docs", "systemd", "hw", "scripts", "image", "tests"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and (path.suffix in TEXT or path.parent.name == "scripts") and "__pycache__" not in path.parts:
                yield path
    yield ROOT / "README.md"


def test_no_file_cites_an_outside_document_or_a_team_role():
    me = Path(__file__).resolve()
    hits = []
    for path in _repo_files():
        if path.resolve() == me:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []
