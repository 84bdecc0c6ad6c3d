"""The folders OzML's DeleteFile and MoveFile may touch, and the confinement of every path a script names.

A script names a file as `<folder>/<relative path>`, e.g. `recordings/3f2a....wav` or `content/menu/intro.wav`.
Refused with 302 naming the path: an empty or absolute path, a `..` component, an unknown folder, and any
path whose real location (symlinks followed) is outside its folder.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Mapping

from pigate.errors import InvalidParameter

log = logging.getLogger(__name__)


class ScriptFiles:
    """`roots` maps a folder name (`content`, `recordings`) to its directory."""

    def __init__(self, *, roots: Mapping[str, Path]) -> None:
        self._roots = {name.lower(): Path(path) for name, path in roots.items()}

    @property
    def folders(self) -> tuple[str, ...]:
        return tuple(self._roots)

    def resolve(self, text: str, *, param: str, command: str, folder_ok: bool = False) -> Path:
        """The real path `text` names, inside one of the folders (or the folder itself, with `folder_ok`);
        InvalidParameter (302) naming it otherwise."""

        def refuse(why: str) -> InvalidParameter:
            log.warning("%s refused %s=%r: %s", command, param, text, why)
            return InvalidParameter(f"{param}={text}", command, detail=why)

        raw = text.strip().replace("\\", "/")
        if not raw or "\x00" in raw:
            raise refuse("empty")
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
            raise refuse("an absolute path")
        parts = PurePosixPath(raw).parts
        if ".." in parts:
            raise refuse("'..' is not allowed")
        root = self._roots.get(parts[0].lower())
        if root is None:
            raise refuse(f"not in a script folder ({', '.join(self._roots)})")
        real_root = Path(os.path.realpath(root))
        if len(parts) < 2:
            if folder_ok:
                return real_root
            raise refuse("names a folder, not a file")
        real = Path(os.path.realpath(real_root.joinpath(*parts[1:])))
        if real_root not in real.parents and not (folder_ok and real == real_root):
            raise refuse("outside its folder")
        return real

    def delete(self, text: str, *, command: str = "DeleteFile") -> Path:
        path = self.resolve(text, param="Path", command=command)
        if not path.is_file():
            raise InvalidParameter(f"Path={text}", command, detail="no such file")
        path.unlink()
        log.info("%s: deleted %s", command, path)
        return path

    def move(self, source: str, target: str, *, command: str = "MoveFile") -> Path:
        """Move a file to `target`: a file path, or a folder (existing, or written with a trailing /) that keeps
        the name. An existing target file is replaced. Folders on the way are made."""
        src = self.resolve(source, param="Source", command=command)
        if not src.is_file():
            raise InvalidParameter(f"Source={source}", command, detail="no such file")
        dest = self.resolve(target, param="Target", command=command, folder_ok=True)
        if dest.is_dir() or target.strip().endswith(("/", "\\")):
            dest = dest / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise InvalidParameter(f"Target={target}", command, detail=str(exc)) from exc
            shutil.move(str(src), str(dest))  # the folders are on different file systems
        log.info("%s: moved %s to %s", command, src, dest)
        return dest
