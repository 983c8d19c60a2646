"""Queue e-mail in the caller's transaction; deliver it later over SMTP with retries.

``queue_email`` only adds a row to the session: the mail is committed with the change it reports
or rolled back with it. ``deliver_outbox`` sends the messages that are due. Each message is
claimed first (``attempts`` and ``next_attempt_at`` move forward in a committed update that only
one worker can win; on PostgreSQL the candidates are read with ``FOR UPDATE SKIP LOCKED`` so
several senders share a large queue), then sent, then marked. A failure leaves it queued with
an exponential backoff; after ``MAX_ATTEMPTS`` it is marked failed for staff to look at. A worker
that dies between sending and marking causes one duplicate after the claim lease: SMTP offers no
way to be exactly-once, so we err on the side of delivering.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal.core import work_queue
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.messaging.models.outbox import OutboundAttachment, OutboundMessage, OutboundStatus
from portal.messaging.sources import sources

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
#: With the backoff above, the last attempt comes about 17 hours after the first.
MAX_ATTEMPTS = 10
#: How long a claimed message stays invisible to other senders while this one sends it.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = b""
    #: The invoice whose PDF this is, rendered when the message is delivered (``data`` empty):
    #: a billing run queues thousands of invoice mails without rendering a PDF for each.
    invoice_id: int | None = None


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _config() -> Mapping[str, Any]:
    return current_app.config["PORTAL"]


def mail_domain() -> str:
    return _config()["mail_from"].rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    return make_msgid(domain=mail_domain())


def default_sender(name: str | None = None) -> str:
    cfg = _config()
    return formataddr((name or cfg["company_name"], cfg["mail_from"]))


def _one_line(value: str) -> str:
    """Header values never carry line breaks (no header injection through a subject)."""
    return " ".join(str(value).split())


def _addresses(value: str | Iterable[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    seen: list[str] = []
    for item in items:
        item = _one_line(item)
        if item and item.lower() not in (s.lower() for s in seen):
            seen.append(item)
    return seen


def _row(
    *,
    to: str | Iterable[str],
    subject: str,
    text: str,
    html: str | None,
    cc: Iterable[str],
    reply_to: str,
    from_addr: str | None,
    headers: Mapping[str, str] | None,
    client_id: int | None,
    dedupe_key: str | None,
    message_id: str | None,
    now: datetime,
    compose: tuple[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The outbox row's values: addresses cleaned, header values on one line. A letter to
    ``compose`` (template, arguments) at delivery has no recipients or text yet."""
    recipients = _addresses(to)
    copies = [a for a in _addresses(cc) if a.lower() not in {r.lower() for r in recipients}]
    if not recipients and compose is None:
        raise ValueError("an e-mail needs at least one recipient")
    template, compose_args = compose or (None, None)
    return {
        "from_addr": _one_line(from_addr or default_sender()),
        "to_addrs": recipients,
        "cc_addrs": copies,
        "reply_to": _one_line(reply_to),
        "subject": _one_line(subject)[:500],
        "text": text,
        "html": html,
        "headers": {_one_line(k): _one_line(v) for k, v in (headers or {}).items()},
        "message_id": message_id or new_message_id(),
        "client_id": client_id,
        "status": OutboundStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
        "dedupe_key": dedupe_key,
        "template": template,
        "compose_args": compose_args,
    }


def _attachment_row(message_id: int, item: Attachment) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "filename": item.filename,
        "content_type": item.content_type,
        "data": item.data,
        "invoice_id": item.invoice_id,
    }


def _insert_ignoring_repeats() -> Any:
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    return insert(OutboundMessage.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])


def queue_email(
    *,
    to: str | Iterable[str],
    subject: str,
    text: str,
    html: str | None = None,
    cc: Iterable[str] = (),
    reply_to: str = "",
    from_addr: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    client_id: int | None = None,
    dedupe_key: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """Add a message to the outbox in the current transaction (the caller commits).

    With a ``dedupe_key`` already used, nothing is added and the existing message is returned:
    that is how a job that runs twice sends its mail once.
    """
    values = _row(
        to=to, subject=subject, text=text, html=html, cc=cc, reply_to=reply_to,
        from_addr=from_addr, headers=headers, client_id=client_id, dedupe_key=dedupe_key,
        message_id=message_id, now=now or clock().now(),
    )  # fmt: skip
    if dedupe_key is None:
        message = OutboundMessage(**values)
        db.session.add(message)
        db.session.flush()
    else:
        db.session.flush()
        stmt = _insert_ignoring_repeats().values(**values).returning(OutboundMessage.id)
        new_id = db.session.execute(stmt).scalar()
        found = db.session.scalar(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)
        )
        assert found is not None
        if new_id is None:
            return found
        message = found
    for item in attachments:
        message.attachments.append(OutboundAttachment(**_attachment_row(message.id, item)))
    db.session.flush()
    return message


@dataclass(frozen=True)
class LetterToCompose:
    """A template letter to a client, composed when it is delivered (:func:`queue_to_compose`)."""

    client_id: int
    #: The template's variables as row ids, e.g. ``{"invoice": 71475}``.
    variables: Mapping[str, int]
    dedupe_key: str | None = None
    #: Documents rendered at delivery only (``Attachment.invoice_id``, no data).
    attachments: Sequence[Attachment] = ()


def queue_to_compose(
    template: str, letters: Sequence[LetterToCompose], now: datetime | None = None
) -> None:
    """Queue letters that get their recipients, subject, text and attachment rows when the
    outbox delivers them (``portal.messaging.templates.compose_letter``): the billing run's invoice
    mails, one plain insert for a batch, rendered at the pace they are sent. A dedupe key used
    before adds nothing."""
    if any(item.invoice_id is None or item.data for x in letters for item in x.attachments):
        raise ValueError("a letter composed at delivery attaches only documents rendered then")
    now = now or clock().now()
    sender = default_sender()
    rows = [
        _row(to=(), subject="", text="", html=None, cc=(), reply_to="", from_addr=sender,
             headers=None, client_id=letter.client_id, dedupe_key=letter.dedupe_key,
             message_id=None, now=now, compose=(template, _compose_args(letter)))
        for letter in letters
    ]  # fmt: skip
    if rows:
        # No RETURNING: the attachment rows are written when the letter is composed.
        db.session.execute(_insert_ignoring_repeats(), rows)


def _compose_args(letter: LetterToCompose) -> dict[str, Any]:
    return {
        "variables": dict(letter.variables),
        "attachments": [
            [item.filename, item.content_type, item.invoice_id] for item in letter.attachments
        ],
    }


def fill_composed(
    row: OutboundMessage, to: str, cc: Iterable[str], subject: str, text: str
) -> None:
    """Complete a letter queued by :func:`queue_to_compose` (addresses and subject cleaned as
    :func:`queue_email` cleans them, its documents attached); it is then an ordinary message."""
    assert row.compose_args is not None
    values = _row(
        to=to, subject=subject, text=text, html=None, cc=cc, reply_to="", from_addr=row.from_addr,
        headers=None, client_id=row.client_id, dedupe_key=row.dedupe_key,
        message_id=row.message_id, now=row.next_attempt_at,
    )  # fmt: skip
    row.to_addrs, row.cc_addrs = values["to_addrs"], values["cc_addrs"]
    row.subject, row.text = values["subject"], values["text"]
    for filename, content_type, invoice_id in row.compose_args["attachments"]:
        item = Attachment(filename, content_type, invoice_id=invoice_id)
        row.attachments.append(OutboundAttachment(**_attachment_row(row.id, item)))
    row.compose_args = None


def build_message(row: OutboundMessage, now: datetime) -> EmailMessage:
    """The RFC 5322 message for an outbox row."""
    msg = EmailMessage()
    msg["From"] = row.from_addr
    msg["To"] = ", ".join(row.to_addrs)
    if row.cc_addrs:
        msg["Cc"] = ", ".join(row.cc_addrs)
    if row.reply_to:
        msg["Reply-To"] = row.reply_to
    msg["Subject"] = row.subject
    msg["Message-ID"] = row.message_id
    msg["Date"] = format_datetime(now)
    for name, value in row.headers.items():
        msg[name] = value
    msg.set_content(row.text)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
    for item in row.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(
            item.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=item.filename,
        )
    return msg


def render_pending_attachments(row: OutboundMessage) -> None:
    """Fill in the attachments rendered at delivery (invoice PDFs), in the client's language.

    The invoicing area registers the renderer (``portal.messaging.sources.register_document``):
    messaging never imports it. The bytes are kept on the row, so a retry sends the same
    document without rendering it again.
    """
    pending = [item for item in row.attachments if item.invoice_id is not None and not item.data]
    if not pending:
        return
    render = sources().documents.get("invoice")
    if render is None:
        raise RuntimeError("no area registered how to render an invoice for mail")
    for item in pending:
        item.data = render(item.invoice_id)  # type: ignore[arg-type]


def connect_smtp() -> smtplib.SMTP:
    """An SMTP connection with the ``smtp_*`` settings (as ``portal.messaging.smtp`` uses them)."""
    cfg = _config()
    smtp_class = smtplib.SMTP_SSL if cfg["smtp_ssl"] else smtplib.SMTP
    smtp = smtp_class(cfg["smtp_host"], cfg["smtp_port"], timeout=cfg["smtp_timeout"])
    try:
        if cfg["smtp_starttls"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["smtp_user"]:
            smtp.login(cfg["smtp_user"], cfg["smtp_password"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the n-th failed attempt, at most ``BACKOFF_MAX``."""
    return work_queue.backoff(attempts, BACKOFF_BASE, BACKOFF_MAX)


def _claim(now: datetime, limit: int) -> list[int]:
    """Ids of due messages this worker won; each claim is committed before anything is sent."""
    due = (OutboundMessage.status == OutboundStatus.QUEUED) & (
        OutboundMessage.next_attempt_at <= now
    )
    return work_queue.claim_due(OutboundMessage, due, now=now, limit=limit, lease=CLAIM_LEASE)


def _failed(
    row: OutboundMessage, now: datetime, error: BaseException, report: DeliveryReport
) -> None:
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = OutboundStatus.FAILED
        report.failed += 1
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        report.retried += 1
    report.errors.append(f"#{row.id}: {row.last_error}")


def _ready(row: OutboundMessage, now: datetime, report: DeliveryReport) -> bool:
    """Compose the letter and render its documents if that waited for delivery."""
    try:
        if not row.composed:
            from portal.messaging.templates import compose_letter

            compose_letter(row)
        render_pending_attachments(row)
    except LookupError as exc:  # what the letter is about is gone: no retry can send it
        row.status, row.last_error = OutboundStatus.FAILED, f"{exc}"[:2000]
        report.failed += 1
        report.errors.append(f"#{row.id}: {row.last_error}")
        return False
    except Exception as exc:  # a letter or document that cannot be rendered delays this one only
        current_app.logger.exception("outbound message #%s not composed", row.id)
        _failed(row, now, exc, report)
        return False
    return True


def deliver_outbox(now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` due messages; returns what happened. Safe to run from many workers."""
    now = now or clock().now()
    report = DeliveryReport()
    claimed = _claim(now, limit)
    rows = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.id.in_(claimed)).order_by(OutboundMessage.id)
    ).all()
    smtp: smtplib.SMTP | None = None
    down: BaseException | None = None  # the server cannot be reached: every message waits
    try:
        for row in rows:
            if smtp is None and down is None:
                try:
                    smtp = connect_smtp()
                except (OSError, smtplib.SMTPException) as exc:
                    down = exc
            if down is not None or smtp is None:
                _failed(row, now, down or RuntimeError("no connection"), report)
            elif _ready(row, now, report):
                try:
                    smtp.send_message(build_message(row, now))
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as exc:
                    _failed(row, now, exc, report)  # this message; the connection is fine
                except (OSError, smtplib.SMTPException) as exc:
                    _failed(row, now, exc, report)
                    smtp.close()
                    smtp = None  # reconnect for the next message
                else:
                    row.status, row.sent_at, row.last_error = OutboundStatus.SENT, now, ""
                    report.sent += 1
            db.session.commit()
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return report


def requeue(row: OutboundMessage, now: datetime | None = None) -> None:
    """Give a failed message another round of attempts (staff action); the caller commits."""
    row.status = OutboundStatus.QUEUED
    row.attempts = 0
    row.next_attempt_at = now or clock().now()


def sent_to_client(client_id: int) -> list[OutboundMessage]:
    """What was queued or sent to the client, newest first, at most 200 (the client card's
    E-mails tab)."""
    return list(
        db.session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.client_id == client_id)
            .order_by(OutboundMessage.id.desc())
            .limit(200)
        )
    )


@unit_of_work()
def retry_failed(row: OutboundMessage) -> bool:
    """Staff's "send again" for a message that failed for good; False if it had not failed."""
    if row.status is not OutboundStatus.FAILED:
        return False
    requeue(row)
    return True
