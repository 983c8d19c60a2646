"""Mail in through `portal mail pipe`: real RFC 822 messages open tickets, add replies, reopen,
keep attachments, decode Russian in every common encoding, and ignore machine mail and loops."""

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.messaging.outbox import build_message
from portal.support import attachments
from portal.support.models import (
    DepartmentSupport,
    MessageKind,
    MessageSource,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from tests.fixtures.mail.desk import FIXTURE_REFERENCE, eml, make_desk, pipe


@pytest.fixture
def desk(app: Flask, clock):
    return make_desk(clock)


def _only_ticket() -> Ticket:
    rows = db.session.scalars(select(Ticket)).all()
    assert len(rows) == 1, rows
    return rows[0]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_plain_message_from_a_client_opens_a_ticket_and_is_acknowledged(app, desk) -> None:
    output = pipe(app, eml("plain_utf8.eml"))
    ticket = _only_ticket()
    assert output == f"opened #{ticket.reference}"
    assert ticket.client_id == desk.client.id and ticket.contact_id is None
    assert ticket.department_id == desk.support.id
    assert ticket.subject == "Не запускается 1С: Бухгалтерия"
    assert ticket.status is TicketStatus.OPEN
    assert ticket.cc == ["buh@romashka.example"]  # the Cc of the mail is kept on the ticket
    (message,) = ticket.messages
    assert message.kind is MessageKind.CLIENT and message.source is MessageSource.EMAIL
    assert "«Ошибка лицензирования»" in message.body
    assert message.author_email == "ivan@romashka.example"

    ack = db.session.scalar(select(OutboundMessage))
    assert ack.to_addrs == ["ivan@romashka.example"] and ack.cc_addrs == ["buh@romashka.example"]
    assert ack.subject == f"[#{ticket.reference}] Не запускается 1С: Бухгалтерия"
    assert ack.headers["In-Reply-To"] == "<20261102090102.GA1234@romashka.example>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.client_id == desk.client.id
    assert "support@portal.test" in ack.from_addr and ack.reply_to == "support@portal.test"
    assert "Пишите ответ выше этой строки" in ack.text  # the client chose Russian


def test_html_mail_from_a_contact_is_sanitised_and_trimmed(app, desk) -> None:
    pipe(app, eml("html_only.eml"))
    ticket = _only_ticket()
    assert ticket.client_id == desk.client.id and ticket.contact_id == desk.contact.id
    assert ticket.subject == "Счёт на продление"
    message = ticket.messages[0]
    html = message.body_html
    assert "<b>счёт</b>" in html and 'href="https://romashka.example/rekvizity"' in html
    for bad in (
        "<script",
        "alert(",
        "onclick",
        "javascript:",
        "<img",
        "<form",
        "<style",
        "tracker.example",
    ):
        assert bad not in html, bad
    assert "Старое письмо" not in html and "Старое письмо" not in message.body  # quoted history
    assert message.body.startswith("Здравствуйте!") and "Наши реквизиты" in message.body
    assert message.author_name == "Ольга Бухгалтер"


def test_attachments_are_kept_outside_the_web_root_and_executables_refused(app, desk) -> None:
    pipe(app, eml("multipart_attachments.eml"))
    ticket = _only_ticket()
    client_message = ticket.messages[0]
    assert client_message.body.startswith("Добрый день! Во вложении скриншот")
    names = sorted(a.filename for a in client_message.attachments)
    assert names == ["license.log", "screenshot.png", "Счёт № 71475.pdf"]
    pdf = next(a for a in client_message.attachments if a.filename.endswith(".pdf"))
    assert pdf.content_type == "application/pdf"
    path = attachments.path_of(pdf)
    assert path.read_bytes().startswith(b"%PDF-1.4")
    assert Path(app.instance_path) / "attachments" in path.parents
    assert not path.suffix  # stored under a random name, never with the sender's extension
    note = next(m for m in ticket.messages if m.kind is MessageKind.NOTE)
    assert "fix_license.exe" in note.body and "not accepted" in note.body
    assert _count(TicketAttachment) == 3


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("windows1251.eml", "Дисковое пространство", "пакет дискового пространства 5 ГБ"),
        ("koi8r.eml", "Не работает телефония", "Перестала работать IP-телефония"),
        ("raw_8bit_cp1251.eml", "Акт сверки за октябрь", "Пришлите, пожалуйста, акт сверки"),
        ("plain_utf8.eml", "Не запускается 1С: Бухгалтерия", "После обновления 1С"),
    ],
)
def test_cyrillic_in_every_common_encoding(app, desk, name, subject, text) -> None:
    pipe(app, eml(name))
    ticket = _only_ticket()
    assert ticket.subject == subject
    assert text in ticket.messages[0].body


def _close(ticket: Ticket) -> None:
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, ticket.created_at
    db.session.commit()


def test_reply_with_the_reference_in_the_subject_reopens_a_closed_ticket(app, desk, clock) -> None:
    pipe(app, eml("plain_utf8.eml"))
    ticket = _only_ticket()
    ticket.reference = FIXTURE_REFERENCE
    _close(ticket)
    output = pipe(app, eml("reply_reference.eml"))
    assert output == f"replied #{FIXTURE_REFERENCE}"
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.CUSTOMER_REPLY and ticket.closed_at is None
    reply = ticket.messages[-1]
    assert reply.body == "Спасибо, заработало! Но есть ещё вопрос по счёту."  # history trimmed
    assert ticket.response_due_at is not None  # the SLA clock runs again
    reopened = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.reopen"))
    assert reopened.entity_id == str(ticket.id)
    assert _count(Ticket) == 1


def test_reply_threaded_by_references_header(app, desk) -> None:
    pipe(app, eml("plain_utf8.eml"))
    assert pipe(app, eml("reply_thread.eml")).startswith("replied")
    ticket = _only_ticket()
    assert [m.body for m in ticket.messages][-1] == (
        "Ещё одна деталь: ошибка появляется только у второго пользователя."
    )
    assert ticket.status is TicketStatus.CUSTOMER_REPLY


def test_a_reference_from_a_stranger_does_not_reach_the_ticket(app, desk) -> None:
    pipe(app, eml("plain_utf8.eml"))
    ticket = _only_ticket()
    ticket.reference = FIXTURE_REFERENCE
    db.session.commit()
    stranger = eml("reply_reference.eml").replace(
        b"From: Ivan Petrov <ivan@romashka.example>", b"From: Mallory <mallory@evil.example>"
    )
    assert pipe(app, stranger).startswith("opened")  # a new guest ticket, not a reply
    assert len(ticket.messages) == 1
    assert _count(Ticket) == 2


@pytest.mark.parametrize("name", ["bounce.eml", "autoreply.eml"])
def test_bounces_and_auto_replies_are_ignored(app, desk, name) -> None:
    pipe(app, eml("plain_utf8.eml"))
    ticket = _only_ticket()
    ticket.reference = FIXTURE_REFERENCE  # both carry the reference: they must still be ignored
    db.session.commit()
    outbox_before = _count(OutboundMessage)
    assert pipe(app, eml(name)).startswith("ignored")
    assert _count(Ticket) == 1 and _count(TicketMessage) == 1
    assert _count(OutboundMessage) == outbox_before  # and never answered: no mail loop


def test_unknown_sender_opens_a_guest_ticket_or_is_rejected(app, desk) -> None:
    assert pipe(app, eml("guest.eml")).startswith("opened")
    ticket = _only_ticket()
    assert ticket.client_id is None and ticket.guest_email == "sergey@newcomer.example"
    assert ticket.guest_name == "Сергей Новиков" and ticket.department_id == desk.sales.id
    ack = db.session.scalar(select(OutboundMessage))
    assert ack.to_addrs == ["sergey@newcomer.example"] and ack.client_id is None

    db.session.add(DepartmentSupport(department_id=desk.sales.id, accept_guests=False))
    db.session.commit()
    second = eml("guest.eml").replace(b"<guest-1@newcomer.example>", b"<guest-2@newcomer.ex>")
    assert pipe(app, second).startswith("rejected")
    assert _count(Ticket) == 1


def test_the_same_message_twice_is_filed_once(app, desk) -> None:
    pipe(app, eml("multipart_attachments.eml"))
    assert pipe(app, eml("multipart_attachments.eml")).startswith("duplicate")
    assert _count(Ticket) == 1 and _count(TicketAttachment) == 3


def test_our_own_mail_coming_back_is_ignored(app, desk, clock) -> None:
    pipe(app, eml("plain_utf8.eml"))
    ack = db.session.scalar(select(OutboundMessage))
    raw = build_message(ack, clock.now()).as_bytes()
    assert pipe(app, raw).startswith("ignored")
    # even with a forged From, a Message-ID we issued is recognised
    parsed = message_from_bytes(raw, policy=policy.default)
    parsed.replace_header("From", "ivan@romashka.example")
    del parsed["Auto-Submitted"]
    assert pipe(app, parsed.as_bytes()).startswith("ignored")
    assert _count(TicketMessage) == 1


def test_a_failure_asks_the_mta_to_try_again(app, desk, monkeypatch) -> None:
    from portal.support import mail_intake

    def broken(raw, now=None):
        raise RuntimeError("database is down")

    monkeypatch.setattr(mail_intake, "receive", broken)
    result = app.test_cli_runner().invoke(args=["mail", "pipe"], input=eml("plain_utf8.eml"))
    assert result.exit_code == 75  # EX_TEMPFAIL: the MTA keeps the message and retries


def _mail_from(address: str, name: str, subject: str, text: str) -> bytes:
    from email.message import EmailMessage
    from email.utils import formataddr

    message = EmailMessage()
    message["From"] = formataddr((name, address))
    message["To"] = "support@portal.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((address, subject)))}@romashka.example>"
    message.set_content(text)
    return message.as_bytes()


def test_letters_greet_the_person_and_a_contacts_reply_carries_the_contacts_name(app, desk) -> None:
    pipe(app, eml("plain_utf8.eml"))  # from the client himself, a company
    ticket = _only_ticket()
    ack = db.session.scalar(select(OutboundMessage))
    assert "Здравствуйте, Иван Петров!" in ack.text and "Здравствуйте, ООО" not in ack.text
    assert ticket.messages[0].author_name == "Иван Петров"
    # the accountant (a contact) answers from a mailbox called by the company's name
    raw = _mail_from(
        desk.contact.email, "ООО «Ромашка»", f"Re: [#{ticket.reference}] 1С", "Счёт оплатили."
    )
    assert pipe(app, raw) == f"replied #{ticket.reference}"
    db.session.refresh(ticket)
    reply = ticket.messages[-1]
    assert reply.author_name == "Ольга Бухгалтер" and reply.author_email == desk.contact.email


def test_a_ticket_a_contact_opens_greets_the_contact(app, desk) -> None:
    pipe(app, eml("html_only.eml"))
    ack = db.session.scalar(select(OutboundMessage))
    assert "Здравствуйте, Ольга Бухгалтер!" in ack.text
