"""Settings → E-mail templates in the admin area: list, edit with preview on sample data, a
broken template refused with Jinja's message and the text kept, reset; welcome mails on
registration and when staff create a client; every queued mail on the client's E-mails tab."""

import html
import re

from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry, Client
from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.outbox import deliver_outbox
from portal.testing.factories import make_staff
from portal.testing.web import WebClient

URL = "/admin/settings/mail-templates"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _mails() -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_the_list_shows_every_template_and_the_edited_languages(staff_web: WebClient) -> None:
    assert URL in staff_web.get("/admin/section/settings").get_data(as_text=True)
    page = _text(staff_web.get(URL))
    for label in ("Invoice issued (PDF attached)", "Payment received", "Welcome (new account)"):
        assert label in page
    row = re.search(r'data-template="welcome".*?</tr>', page, re.S).group(0)
    assert "built-in" in row and f"{URL}/welcome/ru" in row and f"{URL}/welcome/en" in row

    staff_web.submit(f"{URL}/welcome/ru", {"subject": "Привет", "body": "{{ login_link }}"})
    row = re.search(r'data-template="welcome".*?</tr>', _text(staff_web.get(URL)), re.S).group(0)
    assert ">RU<" in row and ">EN<" not in row.split('class="edited"')[1].split("</td>")[0]


def test_edit_page_shows_the_built_in_source_variables_and_a_preview(staff_web) -> None:
    page = _text(staff_web.get(f"{URL}/payment_received/en"))
    assert "Built-in text" in page
    assert "{{ _('Hello, %(name)s!', name=client.person_name) }}" in page  # the source to edit
    variables = re.search(r'id="template-variables">.*?</table>', page, re.S).group(0)
    for name in ("client", "company", "payment", "invoices", "to_credit"):
        assert "{{ " + name + " }}" in variables
    subject = re.search(r'id="preview-subject">([^<]*)<', page).group(1)
    # sample data, formatted as English money (the currency code apart from the number)
    assert subject.replace("\u00a0", " ") == "Payment of RUB 15,500.00 received"
    assert "Invoice 2026-000123 is paid in full." in page


def test_saving_an_edit_is_audited_and_used(staff_web, app: Flask) -> None:
    response = staff_web.submit(
        f"{URL}/invoice_issued/ru",
        {"subject": "Счёт {{ invoice.number }}!", "body": "Оплатите {{ invoice.number }}."},
    )
    assert response.status_code == 302 and response.location.endswith("/invoice_issued/ru")
    page = _text(staff_web.get(f"{URL}/invoice_issued/ru"))
    assert "Edited by staff" in page and "Оплатите 2026-000123." in page
    assert "Built-in text" in _text(staff_web.get(f"{URL}/invoice_issued/en"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail_template.save"))
    assert entry.actor_type == "staff" and entry.after["body"] == "Оплатите {{ invoice.number }}."


def test_a_broken_template_is_refused_with_the_jinja_message_and_kept(staff_web) -> None:
    body = "Строка 1\n{% for line in invoice.lines %}{{ line.description }}"
    response = staff_web.submit(
        f"{URL}/invoice_issued/en", {"subject": "Invoice {{ invoice.number }}", "body": body}
    )
    assert response.status_code == 200
    page = _text(response)
    assert "Unexpected end of template" in page and "(line 2)" in page
    assert body in page  # nothing the staff member typed is lost
    assert db.session.scalar(select(MailTemplate)) is None

    unsafe = staff_web.submit(
        f"{URL}/invoice_issued/en", {"subject": "{{ client.__init__ }}", "body": "ok"}
    )
    assert "is unsafe" in _text(unsafe) and db.session.scalar(select(MailTemplate)) is None


def test_preview_button_and_live_preview_save_nothing(staff_web) -> None:
    data = {"subject": "Заказ {{ order.id }}", "body": "Итого: {{ client.full_name }}"}
    page = _text(staff_web.submit(f"{URL}/order_accepted/ru", {**data, "action": "preview"}))
    assert re.search(r'id="preview-subject">([^<]*)<', page).group(1) == "Заказ 1234"
    assert "Итого: Иван Петров" in page and 'value="Заказ {{ order.id }}"' in page

    live = staff_web.submit(
        f"{URL}/order_accepted/ru/preview", data, form_page=f"{URL}/order_accepted/ru"
    )
    assert live.get_json() == {"subject": "Заказ 1234", "body": "Итого: Иван Петров"}
    broken = staff_web.submit(
        f"{URL}/order_accepted/ru/preview",
        {"subject": "x", "body": "{{ order.id"},
        form_page=f"{URL}/order_accepted/ru",
    )
    assert "unexpected end of template" in broken.get_json()["error"]
    assert db.session.scalar(select(MailTemplate)) is None


def test_reset_to_built_in(staff_web) -> None:
    staff_web.submit(f"{URL}/welcome/en", {"subject": "Hi", "body": "{{ login_link }}"})
    assert db.session.scalar(select(MailTemplate)) is not None
    response = staff_web.submit(f"{URL}/welcome/en/reset", {}, form_page=f"{URL}/welcome/en")
    assert response.status_code == 302
    assert db.session.scalar(select(MailTemplate)) is None
    assert "Built-in text" in _text(staff_web.get(f"{URL}/welcome/en"))
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"mail_template.save", "mail_template.reset"} <= actions


def test_unknown_templates_and_languages_are_404(staff_web) -> None:
    assert staff_web.get(f"{URL}/nope/en").status_code == 404
    assert staff_web.get(f"{URL}/welcome/de").status_code == 404


def test_only_staff_who_manage_settings_edit_templates(app: Flask, clock) -> None:
    support = app.test_client()
    support.sign_in_staff(make_staff(clock, role="support").email)
    assert support.get(URL).status_code == 403
    assert support.get(f"{URL}/welcome/en").status_code == 403


def test_registration_queues_the_welcome_mail_shown_on_the_e_mails_tab(
    app: Flask, web: WebClient, staff_web: WebClient
) -> None:
    form = {
        "first_name": "Ольга",
        "email": "olga@example.com",
        "password": "long enough password",
        "confirm": "long enough password",
    }
    assert web.submit("/register", form, headers={"Accept-Language": "ru"}).status_code == 302
    [confirm] = _mails()  # registration is finished from the mailed link (docs/security.md)
    assert confirm.text.startswith("Здравствуйте!")  # in the language of the registration
    link = re.search(r"http://localhost(/register/\S+)", confirm.text).group(1)
    assert web.submit(link, {}).status_code == 302
    client = db.session.scalar(select(Client).where(Client.email == "olga@example.com"))
    [message] = [m for m in _mails() if m.id != confirm.id]
    assert message.client_id == client.id and message.to_addrs == ["olga@example.com"]
    assert "Billing Portal" in message.subject
    assert message.text.startswith("Здравствуйте, Ольга!")  # the client's language
    assert "http://localhost/login" in message.text

    tab = _text(staff_web.get(f"/admin/clients/{client.id}/emails"))
    assert message.subject in tab and "Здравствуйте, Ольга!" in tab


def test_staff_create_a_client_with_or_without_the_welcome_mail(staff_web) -> None:
    new = {"first_name": "Пётр", "email": "petr@example.com", "country": "RU", "currency": "RUB"}
    new |= {"language": "en", "status": "active", "rating": "normal", "legal_type": "individual"}
    assert staff_web.submit("/admin/clients/new", new).status_code == 302
    assert _mails() == []
    other = {**new, "email": "anna@example.com", "first_name": "Анна", "send_welcome": "y"}
    assert staff_web.submit("/admin/clients/new", other).status_code == 302
    [message] = _mails()
    assert message.to_addrs == ["anna@example.com"] and message.subject.startswith("Welcome to")


def test_password_reset_uses_the_staff_version(
    app: Flask, web: WebClient, staff_web: WebClient, client_account, mailbox
) -> None:
    staff_web.submit(
        f"{URL}/password_reset/en",
        {"subject": "New password for {{ client.first_name }}", "body": "Open {{ link }}"},
    )
    assert web.submit("/password/reset", {"email": client_account.email}).status_code == 302
    deliver_outbox()  # queued, never sent in the request
    [message] = mailbox
    assert message["Subject"] == "New password for Иван"
    assert re.fullmatch(r"Open http://localhost/password/reset/\S+\s*", message.get_content())
