"""The instance folder, the SQLite file (and its WAL), the generated secret key and uploaded
files are created readable by the portal's user only, whatever the umask."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.core.app import create_app
from portal.core.extensions import db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask, under which SQLite and mkdir would make files every user can read."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_instance_folder_and_sqlite_file_are_private(
    tmp_path: Path, open_umask, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "SECRET_KEY", "SETTINGS_FILE"):
        monkeypatch.delenv(f"PORTAL_{name}", raising=False)
    instance = tmp_path / "srv" / "instance"
    app = create_app({"plugins": []}, instance_path=instance)
    with app.app_context():
        with db.engine.begin() as connection:  # SQLite writes its WAL file beside it
            connection.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            connection.execute(sa.text("INSERT INTO probe DEFAULT VALUES"))
        assert mode(instance) == 0o700 and mode(instance.parent) == 0o700
        assert mode(instance / "portal.db") == 0o600
        assert mode(instance / "secret_key") == 0o600
        wal = instance / "portal.db-wal"
        assert wal.exists() and mode(wal) == 0o600
        db.engine.dispose()


def test_an_existing_database_file_keeps_its_mode(tmp_path: Path, open_umask) -> None:
    database = tmp_path / "chosen.db"
    database.touch(mode=0o640)
    create_app(
        {"plugins": [], "database_url": f"sqlite:///{database}", "secret_key": "k"},
        instance_path=tmp_path / "instance",
    )
    assert mode(database) == 0o640  # the operator's choice


def test_upload_folders_and_files_are_private(tmp_path: Path, open_umask) -> None:
    from portal.core.private_files import make_private_dir, open_private_file

    folder = tmp_path / "attachments" / "2026" / "12"
    make_private_dir(folder)
    with open_private_file(folder / "file") as fh:
        fh.write(b"data")
    assert [mode(p) for p in (folder, folder.parent, folder.parent.parent)] == [0o700] * 3
    assert mode(folder / "file") == 0o600
    with pytest.raises(FileExistsError):
        open_private_file(folder / "file")
