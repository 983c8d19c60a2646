"""Ticket attachments: checked, renamed and kept outside the web root.

Files go to ``<instance>/attachments/<yyyy>/<mm>/<random>`` with no extension of their own, so
nothing uploaded is ever served by the web server or run; the views stream them, with the sanitised
name, as downloads, and only to staff or the ticket's client. The type is judged by the extension
(never by what the sender claims) against an allow-list, and executable types are refused even
if an administrator adds them to it. Several web nodes share the directory (see DESIGN.md §10).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.core.extensions import db
from portal.core.private_files import make_private_dir, open_private_file
from portal.support.models.ticket import TicketAttachment, TicketMessage

#: Allowed unless ``support_attachment_extensions`` lists others: documents, images, archives,
#: logs, e-mails and 1C files (configurations, extensions, infobase dumps, signatures).
DEFAULT_EXTENSIONS = frozenset(
    {
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "bmp",
        "pdf",
        "txt",
        "log",
        "csv",
        "xml",
        "json",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "odt",
        "ods",
        "rtf",
        "zip",
        "7z",
        "rar",
        "gz",
        "eml",
        "cf",
        "cfe",
        "cfu",
        "dt",
        "epf",
        "erf",
        "sig",
        "p7s",
    }
)
#: Never accepted: things a browser, a shell or Windows would run.
EXECUTABLE = frozenset(
    {
        "exe",
        "com",
        "bat",
        "cmd",
        "scr",
        "pif",
        "msi",
        "msp",
        "dll",
        "cpl",
        "hta",
        "lnk",
        "reg",
        "js",
        "jse",
        "vbs",
        "vbe",
        "wsf",
        "wsh",
        "ps1",
        "psm1",
        "sh",
        "bash",
        "jar",
        "apk",
        "app",
        "php",
        "phtml",
        "py",
        "pl",
        "cgi",
        "asp",
        "aspx",
        "jsp",
        "html",
        "htm",
        "xhtml",
        "shtml",
        "svg",
        "swf",
    }
)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


class AttachmentError(ValueError):
    """An upload refused for its type or size; the message says which file and why."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sanitise_filename(name: str) -> str:
    """A safe display name: no directories, control or reserved characters, leading dots."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 140 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name or "attachment"


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def allowed_extensions() -> frozenset[str]:
    configured = current_app.config["PORTAL"]["support_attachment_extensions"]
    chosen = frozenset(e.lower().lstrip(".") for e in configured) if configured else None
    return (chosen or DEFAULT_EXTENSIONS) - EXECUTABLE


def max_bytes() -> int:
    return int(current_app.config["PORTAL"]["support_attachment_max_mb"]) * 1024 * 1024


def check(upload: Upload) -> str:
    """The sanitised name if the upload may be stored; AttachmentError otherwise."""
    name = sanitise_filename(upload.filename)
    ext = extension(name)
    if ext in EXECUTABLE or ext not in allowed_extensions():
        raise AttachmentError(_("%(name)s: files of this type are not accepted.", name=name))
    if len(upload.data) > max_bytes():
        raise AttachmentError(
            _(
                "%(name)s: the file is larger than %(limit)s MB.",
                name=name,
                limit=current_app.config["PORTAL"]["support_attachment_max_mb"],
            )
        )
    if not upload.data:
        raise AttachmentError(_("%(name)s: the file is empty.", name=name))
    return name


def root() -> Path:
    return Path(current_app.instance_path) / "attachments"


def path_of(attachment: TicketAttachment) -> Path:
    path = (root() / attachment.storage_key).resolve()
    if root().resolve() not in path.parents:
        raise AttachmentError("attachment outside the storage directory")
    return path


def content_type_for(name: str) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def store(
    message: TicketMessage, uploads: Iterable[Upload], now: datetime, *, written: list[Path]
) -> list[TicketAttachment]:
    """Write the files and add their rows to the session (the caller commits).

    Every path written is appended to ``written`` so that a caller whose transaction fails can
    remove them with :func:`discard`.
    """
    rows = []
    for upload in uploads:
        name = check(upload)
        key = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
        path = root() / key
        make_private_dir(path.parent)
        with open_private_file(path) as fh:
            fh.write(upload.data)
        written.append(path)
        row = TicketAttachment(
            ticket_id=message.ticket_id,
            filename=name,
            content_type=content_type_for(name),
            size=len(upload.data),
            storage_key=key,
            sha256=hashlib.sha256(upload.data).hexdigest(),
            created_at=now,
        )
        message.attachments.append(row)
        rows.append(row)
    db.session.flush()
    return rows


def discard(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def partition(uploads: Iterable[Upload]) -> tuple[list[Upload], list[str]]:
    """Split uploads into those that may be stored and the reasons for the others (e-mail
    attachments are filtered rather than refusing the whole message)."""
    accepted, refused = [], []
    for upload in uploads:
        try:
            check(upload)
        except AttachmentError as exc:
            refused.append(str(exc))
        else:
            accepted.append(upload)
    return accepted, refused


def send_attachment(row: TicketAttachment) -> Response:
    """Always a download with a safe name, never rendered inline (no HTML/SVG tricks)."""
    path = path_of(row)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=row.content_type,
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
