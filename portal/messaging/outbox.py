"""Queue e-mail in the caller's transaction; deliver it later over SMTP, once, with retries.

``queue_email`` only adds a row to the session: the mail is committed with the change it reports
or rolled back with it. ``deliver_outbox`` sends the messages that are due, in small batches. A
batch is *claimed* first (a committed update only one sender can win, ``portal.core.work_queue``;
on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``): each won message gets this
sender's name and a fresh claim token, and is hidden for ``CLAIM_LEASE``. Right before sending a
message the sender renews its claim with one conditional UPDATE ("still mine": same sender,
same token); a sender whose lease ran out and whose message another sender has claimed since
finds the token changed and skips it. The message is marked sent in its own commit right after
the server accepted it. So a slow server, a long batch or ``portal mail send`` running beside
the ``mail.send`` job never sends a message twice; only a sender that dies between the server's
"250 OK" and that commit causes one duplicate after the lease (SMTP cannot be exactly-once).

A failure leaves the message queued and retries it with a doubling backoff; ``mail_give_up_hours``
after the first failed attempt it is marked failed for staff to send again (one by one or in
bulk on Utilities → E-mail queue, or ``portal mail retry --failed``). The schedule is the
``mail_retry`` runtime setting (``portal.messaging.mail_settings``, docs/automation.md).
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, String, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts import audit
from portal.core import work_queue
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.messaging.mail_settings import RetryPolicy, retry_policy
from portal.messaging.models.outbox import OutboundAttachment, OutboundMessage, OutboundStatus
from portal.messaging.sources import sources
from portal.platform.jobs.runs import this_worker
from portal.web.paging import Page, keyset_page

STATUS_LABELS = {
    OutboundStatus.QUEUED: _l("Queued"),
    OutboundStatus.SENT: _l("Sent"),
    OutboundStatus.FAILED: _l("Failed"),
}
#: How many due messages a sender claims at a time: a slow server holds few of them back.
CLAIM_BATCH = 20
#: How long a claimed message stays invisible to other senders; renewed before each message, so
#: it needs to outlast the sending of one message only (``smtp_timeout`` is 10 s by default).
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
    #: Claimed, then found taken by another sender (this one's lease had run out): not sent.
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _config() -> Mapping[str, Any]:
    return current_app.config["PORTAL"]


def mail_domain() -> str:
    """The domain of our Message-IDs: the ``mail_domain`` setting, else the domain of
    ``mail_from``, else the host of the portal's public address; never the machine's name (a
    message id on ``localhost`` or an internal host name looks forged to spam filters)."""
    cfg = _config()
    configured = (cfg.get("mail_domain") or "").strip()
    if configured:
        return configured
    sender = cfg["mail_from"].rpartition("@")[2]
    if sender and sender != "localhost":
        return sender
    base = (cfg.get("base_url") or "").strip()
    if not base and has_request_context():
        base = request.host_url
    return urlsplit(base).hostname or "localhost"


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
        "language": "" if compose else _written_in(),
    }


def _written_in() -> str:
    """The language the letter being queued was just rendered in: the locale in force
    (a client's letter is rendered under ``force_locale`` of its language)."""
    locale = get_locale() if has_app_context() else None
    return str(locale) if locale is not None else ""


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
    language: str | None = None,
) -> OutboundMessage:
    """Add a message to the outbox in the current transaction (the caller commits).
    ``language``: what it is written in, if not the locale in force.

    With a ``dedupe_key`` already used, nothing is added and the existing message is returned:
    that is how a job that runs twice sends its mail once.
    """
    values = _row(
        to=to, subject=subject, text=text, html=html, cc=cc, reply_to=reply_to,
        from_addr=from_addr, headers=headers, client_id=client_id, dedupe_key=dedupe_key,
        message_id=message_id, now=now or clock().now(),
    )  # fmt: skip
    if language is not None:
        values["language"] = language
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
    row: OutboundMessage, to: str, cc: Iterable[str], subject: str, text: str, language: str
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
    row.subject, row.text, row.language = values["subject"], values["text"], language
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
    """Fill in the attachments rendered at delivery (invoice PDFs), in the client's language,
    and attach the documents that go with each (the plugins' attachments of the invoice,
    ``portal.messaging.sources.register_companions``).

    The invoicing area registers the renderers (``portal.messaging.sources.register_document``):
    messaging never imports it. The bytes are kept on the row, so a retry sends the same
    documents without rendering them again; all are rendered before any is kept, so a failure
    leaves the row as it was for the retry.
    """
    pending = [item for item in row.attachments if item.invoice_id is not None and not item.data]
    if not pending:
        return
    found = sources()
    render = found.documents.get("invoice")
    if render is None:
        raise RuntimeError("no area registered how to render an invoice for mail")
    companions = found.companions.get("invoice")
    invoice_ids = [item.invoice_id for item in pending if item.invoice_id is not None]
    rendered = [render(invoice_id) for invoice_id in invoice_ids]
    extra = [
        OutboundAttachment(message_id=row.id, filename=name, content_type=kind, data=data)
        for invoice_id in (dict.fromkeys(invoice_ids) if companions else ())
        for name, kind, data in companions(invoice_id)  # type: ignore[misc]
    ]
    for item, data in zip(pending, rendered, strict=True):
        item.data = data
    row.attachments.extend(extra)


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


@dataclass(frozen=True)
class Claim:
    """Who holds a batch: the sender ("host:pid") and the batch's token."""

    sender: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def _claim(now: datetime, limit: int, claim: Claim) -> list[int]:
    """Ids of due messages this sender won, each stamped with its claim; committed before
    anything is sent."""
    due = (OutboundMessage.status == OutboundStatus.QUEUED) & (
        OutboundMessage.next_attempt_at <= now
    )
    return work_queue.claim_due(
        OutboundMessage,
        due,
        now=clock().now(),
        limit=limit,
        lease=CLAIM_LEASE,
        claimed={"claimed_by": claim.sender, "claim_token": claim.token},
    )


def _still_mine(row_id: int, claim: Claim, *, renew: bool) -> bool:
    """One conditional UPDATE: does this claim still hold the message? With ``renew``
    the lease starts again from now. The row stays locked until the caller commits, so what the
    caller wrote to it in this transaction is kept only if the claim held (else roll back)."""
    values: dict[str, Any] = {"claim_token": claim.token}
    if renew:
        values["next_attempt_at"] = clock().now() + CLAIM_LEASE
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == row_id,
            OutboundMessage.claimed_by == claim.sender,
            OutboundMessage.claim_token == claim.token,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _commit_if_mine(row_id: int, claim: Claim, report: DeliveryReport, *, renew: bool) -> bool:
    """Commit what was written to the message if the claim held; else roll it back."""
    if _still_mine(row_id, claim, renew=renew):
        db.session.commit()
        return True
    db.session.rollback()
    report.skipped += 1
    return False


def _failed(
    row: OutboundMessage,
    now: datetime,
    error: BaseException,
    report: DeliveryReport,
    policy: RetryPolicy,
) -> None:
    """Retry after the backoff, the last retry exactly at the give-up time; fail at it."""
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.failing_since = row.failing_since or now
    give_up_at = row.failing_since + policy.give_up_after
    if now >= give_up_at:
        row.status = OutboundStatus.FAILED
        report.failed += 1
    else:
        row.next_attempt_at = min(now + policy.delay(row.attempts), give_up_at)
        report.retried += 1
    report.errors.append(f"#{row.id}: {row.last_error}")


def _ready(
    row: OutboundMessage, now: datetime, report: DeliveryReport, policy: RetryPolicy
) -> bool:
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
        _failed(row, now, exc, report, policy)
        return False
    return True


def _mark_sent(row_id: int, claim: Claim, now: datetime) -> None:
    """The server took the message: record it at once, in its own commit. It was sent even if
    the claim ran out during the SMTP dialogue (a lease shorter than one message's sending),
    which is logged: that is the only way left to send it twice."""
    if not _still_mine(row_id, claim, renew=False):
        current_app.logger.warning("outbound message #%s: claim lost while sending", row_id)
    db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id)
        .values(status=OutboundStatus.SENT, sent_at=now, last_error="", failing_since=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


class _Connection:
    """One SMTP connection for a run, opened when the first message is ready; ``down`` keeps
    the error once the server could not be reached (every later message waits)."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.down: BaseException | None = None

    def get(self) -> smtplib.SMTP | None:
        if self.smtp is None and self.down is None:
            try:
                self.smtp = connect_smtp()
            except (OSError, smtplib.SMTPException) as exc:
                self.down = exc
        return self.smtp

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _deliver_one(
    row_id: int,
    claim: Claim,
    connection: _Connection,
    report: DeliveryReport,
    policy: RetryPolicy,
) -> None:
    """Compose, renew the claim, send, mark: each step committed only while the claim holds."""
    row = db.session.get(OutboundMessage, row_id)
    now = clock().now()
    if row is None or row.claim_token != claim.token:
        db.session.rollback()
        report.skipped += 1  # deleted, or another sender took it after this one's lease
        return
    smtp = connection.get()
    if smtp is None:
        _failed(row, now, connection.down or RuntimeError("no connection"), report, policy)
        _commit_if_mine(row_id, claim, report, renew=False)
        return
    if not _ready(row, now, report, policy):
        _commit_if_mine(row_id, claim, report, renew=False)
        return
    message = build_message(row, now)
    # The composed letter and the renewed lease are committed together, or neither.
    if not _commit_if_mine(row_id, claim, report, renew=True):
        return
    try:
        smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        if not isinstance(
            exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError
        ):
            connection.drop()  # the connection is broken: reconnect for the next message
        row = db.session.get(OutboundMessage, row_id)
        assert row is not None
        _failed(row, clock().now(), exc, report, policy)
        _commit_if_mine(row_id, claim, report, renew=False)
    else:
        _mark_sent(row_id, claim, clock().now())
        report.sent += 1


def deliver_outbox(now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` messages due at ``now``, claimed ``CLAIM_BATCH`` at a time; returns
    what happened. Safe to run from many senders at once (the ``mail.send`` job, ``portal mail
    send``, several schedulers): none sends a message another one holds."""
    now = now or clock().now()
    policy = retry_policy()
    report = DeliveryReport()
    connection = _Connection()
    claimed = 0
    try:
        while claimed < limit:
            claim = Claim(this_worker())
            batch = _claim(now, min(CLAIM_BATCH, limit - claimed), claim)
            if not batch:
                break
            claimed += len(batch)
            for row_id in batch:
                _deliver_one(row_id, claim, connection, report, policy)
    finally:
        db.session.rollback()
        connection.close()
    return report


def sent_to_client(client_id: int) -> Page:
    """A page of what was queued or sent to the client, newest first (the client card's E-mails
    tab; a keyset page by id, docs/performance.md)."""
    return keyset_page(
        select(OutboundMessage).where(OutboundMessage.client_id == client_id),
        id_column=OutboundMessage.id,
    )


@dataclass(frozen=True)
class OutboxFilter:
    """What staff look for on Utilities → E-mail queue and send again in bulk."""

    status: OutboundStatus | None = None
    #: Queued on or after / on or before these days (the provider's time zone).
    since: date | None = None
    until: date | None = None
    #: A mail template's name, ``NO_TEMPLATE`` for mail written without one (ticket replies).
    template: str | None = None
    #: Part of a recipient's address (To or CC), any case.
    recipient: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        zone = ZoneInfo(_config()["default_timezone"])
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(OutboundMessage.status == self.status)
        if self.since is not None:
            found.append(OutboundMessage.created_at >= datetime.combine(self.since, time(), zone))
        if self.until is not None:
            next_day = datetime.combine(self.until + timedelta(days=1), time(), zone)
            found.append(OutboundMessage.created_at < next_day)
        if self.template == NO_TEMPLATE:
            found.append(OutboundMessage.template.is_(None))
        elif self.template:
            found.append(OutboundMessage.template == self.template)
        if self.recipient.strip():
            term = self.recipient.strip().lower()
            found.append(
                func.lower(cast(OutboundMessage.to_addrs, String)).contains(term, autoescape=True)
                | func.lower(cast(OutboundMessage.cc_addrs, String)).contains(term, autoescape=True)
            )
        return found

    def describe(self) -> dict[str, Any]:
        """The filter as the audit log shows it."""
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}


#: ``OutboxFilter.template`` for mail written without a template.
NO_TEMPLATE = "-"


def failed_count(matching: OutboxFilter) -> int:
    """How many failed messages the filter finds, whatever status it asks for (what "send
    again all matching" would take)."""
    failed = replace(matching, status=OutboundStatus.FAILED)
    return (
        db.session.scalar(select(func.count(OutboundMessage.id)).where(*failed.conditions())) or 0
    )


def outbox_messages(matching: OutboxFilter) -> Select[tuple[OutboundMessage]]:
    """The queue as staff search it, newest first."""
    return select(OutboundMessage).where(*matching.conditions()).order_by(OutboundMessage.id.desc())


@unit_of_work()
def retry_failed(*, ids: Sequence[int] = (), matching: OutboxFilter | None = None) -> int:
    """Staff's "send again": every *failed* message among ``ids`` and/or ``matching`` gets a
    fresh round of attempts, due now, in one UPDATE (a message that is queued or sent meanwhile
    is left alone). Returns how many; the action is in the audit log with their ids."""
    if not ids and matching is None:
        return 0
    conditions = [OutboundMessage.status == OutboundStatus.FAILED]
    if ids:
        conditions.append(OutboundMessage.id.in_(list(ids)))
    if matching is not None:
        conditions.extend(replace(matching, status=None).conditions())
    retried = db.session.scalars(
        update(OutboundMessage)
        .where(*conditions)
        .values(
            status=OutboundStatus.QUEUED,
            attempts=0,
            failing_since=None,
            next_attempt_at=clock().now(),
        )
        .returning(OutboundMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if retried:
        after = {"messages": len(retried), "ids": sorted(retried)}
        if matching is not None:
            after["filter"] = matching.describe()
        entity_id = retried[0] if len(retried) == 1 else "bulk"
        audit.record("outbox.retry", "outbound_message", entity_id, after=after)
    return len(retried)
