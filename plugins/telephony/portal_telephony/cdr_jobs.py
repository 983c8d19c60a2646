"""The ``telephony.cdrs`` job (every minute): imports the uploads staff queued on the CDR
imports page, then the watched folder ``<instance>/telephony/incoming/<pbx>/*.csv``
(Asterisk ``Master.csv`` rotations a PBX copies there; ``*.fs.csv`` for FreeSWITCH). A file is
moved to ``done/`` before it is imported, so two workers never take the same one; a failed
import is listed as failed on the CDR imports page with its path, and importing it again
charges nothing twice (call ids)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.plugin_api import now, session
from portal_telephony.cdr_import import import_file
from portal_telephony.rating_models import CdrImport

SCHEDULE = "* * * * *"


def incoming_dir() -> Path:
    return Path(current_app.instance_path) / "telephony" / "incoming"


def run(as_of: date) -> dict[str, int]:
    """Import what is queued and what is in the watched folder; returns the counts."""
    counts = {"uploads": 0, "files": 0, "rated": 0}
    queued = list(session().scalars(select(CdrImport).where(CdrImport.status == "queued")))
    for record in queued:
        stats = import_file(Path(record.path), fmt=record.fmt, source=record.source, record=record)
        counts["uploads"] += 1
        counts["rated"] += stats.rated
    root = incoming_dir()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for path in sorted(folder.glob("*.csv")):
                fmt = "freeswitch" if path.name.endswith(".fs.csv") else "asterisk"
                done = folder / "done"
                done.mkdir(exist_ok=True)
                target = done / f"{now():%Y%m%d%H%M%S}-{path.name}"
                path.rename(target)  # first, so a second worker never takes the same file
                stats = import_file(target, fmt=fmt, source=folder.name)
                counts["files"] += 1
                counts["rated"] += stats.rated
    return counts
