"""Files and folders only the portal's own user may read: the instance folder (secret key,
SQLite database), uploads. See docs/security.md, "Two-factor sign-in and secrets at rest".

Why not rely on the umask: a typical umask (022) leaves new files readable by every local user,
and the SQLite file holds password hashes, encrypted secrets and client data. Modes are given
at creation (``os.open``/``mkdir`` with a mode), never widened later; what an operator already
set on an existing file or folder is left alone.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (existing ones are left as they
    are; ``Path.mkdir(parents=True)`` would give the parents the umask's mode)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process was quicker
            folder.mkdir(mode=DIR_MODE)


def open_private_file(path: Path) -> BinaryIO:
    """A new file (never an existing one: ``FileExistsError``) opened for binary writing,
    with mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(fd, "wb")


def prepare_sqlite_file(database_url: str) -> None:
    """For a SQLite database file that does not exist yet, create its folder (0700) and the empty
    file (0600) before SQLite does, which would make it 0644; SQLite gives its journal and WAL
    files the mode of the database file. Other databases: nothing to do."""
    url = make_url(database_url)
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith("file:"):
        return
    path = Path(name)
    if path.exists():
        return
    make_private_dir(path.parent.resolve())
    with contextlib.suppress(FileExistsError), open_private_file(path):
        pass
