"""E-mail templates: built-ins in both languages, staff versions per language in the sandbox,
preview and reset; the mails sent on events (payment received, welcome, invoice issued with its
PDF rendered only when the outbox delivers it)."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import AuditEntry, Client
from portal.accounts.sign_in import queue_welcome_email
from portal.core.extensions import db
from portal.invoicing import invoice_documents, invoices, payments
from portal.invoicing.models import Invoice, InvoiceStatus, Payment
from portal.messaging import mail_templates, templates
from portal.messaging.models import OutboundMessage
from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.models.outbox import OutboundAttachment
from portal.messaging.outbox import Attachment, LetterToCompose, deliver_outbox
from portal.messaging.sources import register_variable, sources
from portal.messaging.templates import TEMPLATES, MailTemplateError
from portal.orders.models.order import Order

D = Decimal
TODAY = date(2026, 11, 2)


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace collapsed (pypdf splits table cells with newlines)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _issued(client, amount: str = "860.00") -> Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def _sent(**where) -> list[OutboundMessage]:
    stmt = select(OutboundMessage).order_by(OutboundMessage.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(OutboundMessage, key) == value)
    return list(db.session.scalars(stmt))


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_built_in_renders_in_russian_and_english(app: Flask, name: str) -> None:
    for locale, hello in (("ru", "Здравствуйте"), ("en", "Hello")):
        variables = mail_templates.sample_variables(name, locale)
        subject, body = templates.render(name, locale, variables)
        assert subject and "\n" not in subject
        assert hello in body
        # The built-in text passes the strict sandbox check unchanged: staff may start from it.
        source = mail_templates.draft(name, locale)
        assert not source.edited
        assert mail_templates.preview(name, locale, source.subject, source.body) == (subject, body)


def test_built_in_subjects_follow_the_language(app: Flask) -> None:
    ru = mail_templates.sample_variables("invoice_issued", "ru")
    en = mail_templates.sample_variables("invoice_issued", "en")
    assert templates.render("invoice_issued", "ru", ru)[0] == "Счёт 2026-000123"
    assert templates.render("invoice_issued", "en", en)[0] == "Invoice 2026-000123"
    subject, body = templates.render(
        "payment_received", "en", mail_templates.sample_variables("payment_received", "en")
    )
    assert "15,500.00" in subject
    assert "Invoice 2026-000123 is paid in full." in body
    assert "250.00 has been added to your credit balance." in body


def test_samples_are_dated_on_the_providers_business_day(app: Flask, clock) -> None:
    """At 01:30 on 1 January in Moscow (still 31 December in UTC) the previews show 2027."""
    clock.set(datetime(2027, 1, 1, 1, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    invoice = mail_templates.sample_variables("invoice_issued", "en")["invoice"]
    assert (invoice.number, invoice.issue_date) == ("2027-000123", date(2027, 1, 1))


def test_a_staff_edit_replaces_only_its_language(app: Flask, client_account, mailbox) -> None:
    mail_templates.save(
        "invoice_issued",
        "ru",
        "Ваш счёт № {{ invoice.number }} от {{ company }}",
        "Добрый день, {{ client.first_name }}! Сумма: {{ invoice.total|money(invoice.currency) }}",
    )
    invoice = _issued(client_account)
    client_account.language = "ru"
    invoice_documents.queue_invoice_emails([invoice])
    db.session.commit()
    assert deliver_outbox(limit=10).sent == 1
    [message] = _sent(client_id=client_account.id)
    assert message.subject == f"Ваш счёт № {invoice.number} от Billing Portal"
    assert message.text == "Добрый день, Иван! Сумма: 860,00\xa0₽"
    assert mailbox[0]["Subject"] == message.subject

    english = templates.render(
        "invoice_issued", "en", {"client": client_account, "invoice": invoice}
    )
    assert english[0] == f"Invoice {invoice.number}"  # the built-in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail_template.save"))
    assert entry.before is None and entry.after["subject"].startswith("Ваш счёт")


@pytest.mark.parametrize(
    ("subject", "body", "field", "message"),
    [
        ("{{ client.__class__ }}", "ok", "subject", "unsafe"),
        ("ok", "{{ client.set_password('x') }}", "body", "no field 'set_password'"),
        ("ok", "{{ client.metadata.clear() }}", "body", "no field 'metadata'"),
        ("ok", "{{ client.manager.password_hash }}", "body", "'password_hash'"),
        ("ok", "{{ invoce.number }}", "body", "'invoce' is undefined"),
        ("ok", "line one\n{% if invoice %}never closed", "body", "line 2"),
        ("ok", "{{ 'x' * 1000000000 }}", "body", "too long"),
        ("ok", "{{ 10 ** 100000 }}", "body", "power"),
        ("ok", "{{ invoice.total|money(1, 2, 3) }}", "body", "TypeError"),
    ],
)
def test_a_broken_or_unsafe_template_is_refused_and_nothing_changes(
    app: Flask, subject: str, body: str, field: str, message: str
) -> None:
    mail_templates.save("invoice_issued", "en", "Kept {{ invoice.number }}", "Kept body")
    with pytest.raises(MailTemplateError) as refused:
        mail_templates.save("invoice_issued", "en", subject, body)
    assert refused.value.field == field
    assert message in str(refused.value)
    row = db.session.scalar(select(MailTemplate))
    assert (row.subject, row.body) == ("Kept {{ invoice.number }}", "Kept body")


@pytest.mark.parametrize(
    "expression",
    [
        "client.manager.password_hash",
        "client.manager['password_hash']",
        "client.manager.totp_secret",
        "client.password_hash",
        "client['password_hash']",
        "client.manager|attr('password_hash')",
        "invoice.client.password_hash",
        "client.__dict__",
    ],
)
def test_a_staff_template_cannot_reach_secrets(
    app: Flask, client_account, staff_member, mailbox, clock, expression: str
) -> None:
    """Anyone allowed to edit templates could otherwise mail out a colleague's password hash or
    TOTP secret: a saved template sees registered fields only, on real data too."""
    staff_member.totp_secret = "JBSWY3DPEHPK3PXP"
    client_account.manager = staff_member
    db.session.commit()
    with pytest.raises(MailTemplateError):  # the strict check refuses it outright
        mail_templates.save("invoice_issued", "en", "Invoice", "{{ " + expression + " }}")
    # Stored anyway (an old row, an edit made before this check): the letter carries nothing.
    db.session.add(
        MailTemplate(
            name="invoice_issued",
            locale="en",
            subject="Invoice {{ invoice.number }}",
            body="Manager: {{ client.manager.full_name }} [{{ " + expression + " }}]",
            created_at=clock.now(),
        )
    )
    db.session.commit()
    invoice = _issued(client_account)
    invoice_documents.queue_invoice_emails([invoice])
    db.session.commit()
    assert deliver_outbox(limit=10).sent == 1
    [message] = _sent()
    for secret in (staff_member.password_hash, client_account.password_hash):
        assert secret and secret not in message.text
    # Read as empty, or (a field of a missing field) the template fails and the built-in goes.
    assert message.text == "Manager: Мария Бухгалтер []" or message.text.startswith("Hello")


def test_registered_template_fields_hold_no_secrets(app: Flask) -> None:
    """The fields areas expose to staff templates (docs/automation.md) name no secret."""
    registered = sources().fields
    assert {model.__name__ for model in registered} >= {"Client", "Invoice", "Payment", "Service"}
    for model, names in registered.items():
        for name in names:
            assert not any(word in name for word in ("password", "secret", "token", "key")), (
                model.__name__,
                name,
            )


def test_a_staff_version_that_fails_on_real_data_sends_the_built_in_text(
    app: Flask, client_account, mailbox
) -> None:
    # Renders on the sample invoice (15 250.00) but divides by zero on a real one of 860.00.
    mail_templates.save(
        "invoice_issued", "en", "Invoice {{ invoice.number }}", "{{ 1 / (invoice.total - 860) }}"
    )
    invoice = _issued(client_account, "860.00")
    invoice_documents.queue_invoice_emails([invoice])
    db.session.commit()
    assert deliver_outbox(limit=10).sent == 1
    [message] = _sent()
    assert message.text.startswith("Hello, Иван Петров!")  # the built-in body went out


def test_preview_uses_samples_in_memory_and_writes_nothing(app: Flask, client_account) -> None:
    counts = [
        db.session.scalar(select(func.count(m.id))) for m in (Client, Invoice, Order, Payment)
    ]
    subject, body = mail_templates.preview(
        "order_accepted",
        "ru",
        "Заказ {{ order.id }}",
        "{% for item in order.items %}{{ item.description }}{% endfor %} {{ client.full_name }}",
    )
    db.session.commit()
    assert subject == "Заказ 1234"
    assert body == "Виртуальный сервер «Старт» Иван Петров"
    after = [db.session.scalar(select(func.count(m.id))) for m in (Client, Invoice, Order, Payment)]
    assert after == counts
    assert db.session.scalar(select(func.count(MailTemplate.id))) == 0


def test_reset_brings_the_built_in_text_back(app: Flask) -> None:
    mail_templates.save("welcome", "ru", "Привет", "Текст {{ login_link }}")
    assert mail_templates.draft("welcome", "ru").edited
    assert mail_templates.reset("welcome", "ru") is True
    assert mail_templates.reset("welcome", "ru") is False
    restored = mail_templates.draft("welcome", "ru")
    assert not restored.edited and restored.body.startswith("{{ _('Hello, %(name)s!'")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["mail_template.save", "mail_template.reset"]


def test_payment_received_is_queued_once_per_payment(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "860.00")
    pay = dict(amount=D("1000.00"), method="bank", payment_date=TODAY, invoices=[invoice])
    first = payments.record_payment(client_account, reference="п/п 17", **pay)
    again = payments.record_payment(client_account, reference="п/п 17", **pay)
    assert again.id == first.id
    [message] = _sent(dedupe_key=f"payment-received:{first.id}")
    assert message.client_id == client_account.id and message.to_addrs == [client_account.email]
    assert f"Invoice {invoice.number} is paid in full." in message.text
    assert "140.00 has been added to your credit balance." in message.text

    second = payments.record_payment(
        client_account, amount=D("50.00"), method="bank", reference="п/п 18", payment_date=TODAY
    )
    assert len(_sent(dedupe_key=f"payment-received:{second.id}")) == 1
    assert len(_sent()) == 2


def test_welcome_is_queued_once_per_client(app: Flask, client_account) -> None:
    queue_welcome_email(client_account)
    queue_welcome_email(client_account)
    db.session.commit()
    [message] = _sent()
    assert message.dedupe_key == f"welcome:{client_account.id}"
    assert "http://localhost/login" in message.text
    assert "http://localhost/password/reset" in message.text


def test_invoice_pdf_is_rendered_when_the_outbox_delivers_it(
    app: Flask, client_account, mailbox
) -> None:
    client_account.language = "ru"
    invoice = _issued(client_account, "48336.00")
    invoice_documents.queue_invoice_emails([invoice])
    invoice_documents.queue_invoice_emails([invoice])  # the automatic path sends it once
    db.session.commit()
    [message] = _sent()
    assert message.dedupe_key == f"invoice-issued:{invoice.id}"
    assert message.attachments == []  # attached and rendered when it is sent

    assert deliver_outbox(limit=10).sent == 1
    [attachment] = message.attachments
    assert attachment.invoice_id == invoice.id
    [mail] = mailbox
    assert mail["Subject"] == f"Счёт {invoice.number}"
    [pdf] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == f"invoice-{invoice.number}.pdf"
    data = pdf.get_content()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert invoice.number in text and "Счёт на оплату" in text  # the client's language
    assert "Сорок восемь тысяч триста тридцать шесть рублей 00 копеек" in text
    db.session.expire_all()
    assert db.session.get(OutboundAttachment, attachment.id).data == data  # kept for a retry


def test_the_invoice_mail_is_written_when_it_is_sent(
    app: Flask, client_account, staff_web, mailbox
) -> None:
    """The billing run queues invoice mails without rendering them: recipients, subject and
    text come at delivery, from the data and the client's language as they are then."""
    client_account.language = "en"
    invoice = _issued(client_account, "860.00")
    invoice_documents.queue_invoice_emails([invoice])
    db.session.commit()
    [queued] = _sent()
    assert (queued.template, queued.compose_args) == (
        "invoice_issued",
        {
            "variables": {"invoice": invoice.id},
            "attachments": [[f"invoice-{invoice.number}.pdf", "application/pdf", invoice.id]],
        },
    )
    assert (queued.to_addrs, queued.subject, queued.text, queued.attachments) == ([], "", "", [])
    page = staff_web.get(f"/admin/clients/{client_account.id}/emails").get_data(as_text=True)
    assert "Invoice issued (PDF attached) (written when it is sent)" in page

    client_account.language = "ru"  # changed before the sender's next minute
    db.session.commit()
    assert deliver_outbox(limit=10).sent == 1
    [mail] = mailbox
    db.session.refresh(queued)
    assert queued.composed and queued.to_addrs == [client_account.email]
    waiting = select(func.count()).where(OutboundMessage.compose_args.is_not(None))
    assert db.session.scalar(waiting) == 0  # SQL NULL once composed, not JSON null
    assert mail["Subject"] == queued.subject == f"Счёт {invoice.number}"
    assert mail["To"] == client_account.email
    assert f"Во вложении счёт {invoice.number} на сумму 860,00" in queued.text
    page = staff_web.get(f"/admin/clients/{client_account.id}/emails").get_data(as_text=True)
    assert f"Счёт {invoice.number}" in page and "written when it is sent" not in page


def test_a_letter_about_something_gone_fails_at_once(app: Flask, client_account, mailbox) -> None:
    letter = LetterToCompose(client_account.id, {"invoice": 987654}, dedupe_key="gone")
    templates.send_composed_at_delivery("invoice_issued", [letter])
    templates.send_composed_at_delivery("invoice_issued", [letter])  # the key: once
    queue_welcome_email(client_account)
    db.session.commit()
    report = deliver_outbox(limit=10)
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    gone = db.session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == "gone"))
    assert gone.status.value == "failed" and "invoice #987654" in gone.last_error
    assert not gone.composed  # staff see what it was about; nothing half-written
    with pytest.raises(ValueError, match="payment"):
        templates.send_composed_at_delivery(
            "payment_received", [LetterToCompose(client_account.id, {"payment": 1})]
        )
    with pytest.raises(ValueError, match="rendered then"):
        log = Attachment("log.txt", "text/plain", b"data")
        templates.send_composed_at_delivery(
            "invoice_issued", [LetterToCompose(client_account.id, {}, attachments=[log])]
        )


def test_an_area_registers_what_a_letter_composed_at_delivery_may_name(
    app: Flask, client_account, mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messaging loads a letter's rows through what the owning area registered
    (``portal.messaging.sources``), never by importing it: a variable becomes composable at
    delivery once its area registers a loader, and the letter shows the row as it is then."""
    client_account.language = "ru"
    invoice = _issued(client_account, "860.00")
    payment = payments.record_payment(
        client_account, amount=D("860.00"), method="bank", reference="п/п 9", payment_date=TODAY,
        invoices=[invoice],
    )  # fmt: skip
    db.session.commit()
    letter = LetterToCompose(client_account.id, {"payment": payment.id, "invoice": invoice.id})
    with pytest.raises(ValueError, match="payment"):
        templates.send_composed_at_delivery("payment_received", [letter])

    registered = sources(app)
    monkeypatch.setattr(registered, "rows", dict(registered.rows))  # the shared app forgets it
    register_variable(app, "payment", load=lambda row_id: db.session.get(Payment, row_id))
    templates.send_composed_at_delivery("payment_received", [letter])
    db.session.commit()
    client_account.language = "en"
    db.session.commit()
    assert deliver_outbox(limit=10).sent == 2  # the payment's own letter and this one
    queued_first, composed = mailbox
    assert not queued_first["Subject"].startswith("Payment of")  # written when queued, in Russian
    assert composed["Subject"].startswith("Payment of") and "860.00" in composed["Subject"]
    assert composed["To"] == client_account.email


def test_staff_send_again_sends_again(app: Flask, client_account) -> None:
    invoice = _issued(client_account)
    invoice_documents.queue_invoice_emails([invoice])
    invoice_documents.send_invoice(invoice)
    invoice_documents.send_invoice(invoice)
    messages = _sent()
    assert len(messages) == 3
    assert [m.dedupe_key for m in messages] == [f"invoice-issued:{invoice.id}", None, None]


def test_an_attachment_that_cannot_be_rendered_delays_only_its_message(
    app: Flask, client_account, mailbox
) -> None:
    invoice = _issued(client_account)
    invoice_documents.queue_invoice_emails([invoice])
    queue_welcome_email(client_account)
    db.session.commit()
    invoice_message, welcome = _sent()
    invoice.status = InvoiceStatus.DRAFT  # a draft is no document: its PDF cannot be rendered
    db.session.commit()
    report = deliver_outbox(limit=10)
    assert (report.sent, report.retried) == (1, 1)
    assert [m["Subject"] for m in mailbox] == [welcome.subject]
    db.session.refresh(invoice_message)
    assert (
        invoice_message.status.value == "queued"
        and "only issued invoices" in invoice_message.last_error
    )
