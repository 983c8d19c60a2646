"""Utilities → E-mail queue: failed mail found by status, date, kind and recipient and sent
again in bulk (ticked or all that match), in Russian, for staff who manage settings, with CSRF,
in the audit log; ``portal mail retry --failed``; Settings → Outgoing mail (retry schedule)."""

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.messaging import mail_settings
from portal.messaging.models import OutboundMessage, OutboundStatus
from portal.messaging.outbox import deliver_outbox, queue_email
from portal.platform import runtime_settings
from portal.testing.factories import make_staff
from portal.testing.web import csrf_token_from

URL = "/admin/outbox"
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
MSK = timedelta(hours=3)


def _mail(clock, day: str, to: str, *, template: str | None = None, status=OutboundStatus.FAILED):
    clock.set(datetime.fromisoformat(f"{day}T09:00:00+03:00"))
    row = queue_email(to=to, subject=f"Письмо для {to}", text="текст")
    row.template, row.status = template, status
    row.attempts, row.last_error = 7, "SMTPServerDisconnected: Connection unexpectedly closed"
    db.session.commit()
    return row.id


def _outbox(clock) -> dict[str, int]:
    """Failed invoice mails to Ромашка on 2, 3 and 5 November, others that the filter leaves."""
    return {
        "nov2": _mail(clock, "2026-11-02", "buh@romashka.example", template="invoice_issued"),
        "nov3": _mail(clock, "2026-11-03", "ivan@ROMASHKA.example", template="invoice_issued"),
        "nov5": _mail(clock, "2026-11-05", "buh@romashka.example", template="invoice_issued"),
        "other_kind": _mail(clock, "2026-11-03", "buh@romashka.example", template="welcome"),
        "other_client": _mail(clock, "2026-11-03", "info@lютик.example", template="invoice_issued"),
        "no_template": _mail(clock, "2026-11-03", "buh@romashka.example"),
        "sent": _mail(
            clock, "2026-11-03", "buh@romashka.example", template="invoice_issued",
            status=OutboundStatus.SENT,
        ),
    }  # fmt: skip


def _statuses() -> dict[int, OutboundStatus]:
    db.session.expire_all()
    return dict(db.session.execute(select(OutboundMessage.id, OutboundMessage.status)).all())


FILTER = {
    "status": "failed",
    "since": "2026-11-02",
    "until": "2026-11-03",
    "template": "invoice_issued",
    "to": "Romashka",
}


def test_all_failed_mail_the_filter_finds_is_sent_again(
    staff_web, clock, mailbox, staff_member
) -> None:
    ids = _outbox(clock)
    page = staff_web.get(URL, query_string=FILTER, headers=RU).get_data(as_text=True)
    assert "Очередь писем" in page and "Не доставлено" in page
    assert "Отправить снова все 2 найденных недоставленных письма" in page
    assert "info@lютик.example" not in page and "Поставлено в очередь с" in page

    token = csrf_token_from(page)
    response = staff_web.post(
        f"{URL}/retry", data={**FILTER, "scope": "matching", "csrf_token": token}, headers=RU
    )
    assert response.status_code == 302 and "status=failed" in response.location
    landing = staff_web.get(response.location, headers=RU).get_data(as_text=True)
    assert "2 письма будут отправлены снова." in landing

    statuses = _statuses()
    assert statuses[ids["nov2"]] is statuses[ids["nov3"]] is OutboundStatus.QUEUED
    left = ("nov5", "other_kind", "other_client", "no_template")
    assert all(statuses[ids[name]] is OutboundStatus.FAILED for name in left)
    assert statuses[ids["sent"]] is OutboundStatus.SENT
    retried = db.session.get(OutboundMessage, ids["nov2"])
    assert retried.attempts == 0 and retried.next_attempt_at == clock.now()

    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
    assert entry.actor_id == staff_member.id
    assert entry.after["ids"] == sorted([ids["nov2"], ids["nov3"]])
    assert entry.after["filter"]["recipient"] == "Romashka"

    assert deliver_outbox(clock.now()).sent == 2
    assert sorted(str(m["To"]) for m in mailbox) == [
        "buh@romashka.example",
        "ivan@ROMASHKA.example",
    ]


def test_ticked_and_single_messages_are_sent_again_and_sent_mail_never(staff_web, clock) -> None:
    ids = _outbox(clock)
    page = staff_web.get(URL, query_string={"status": "failed"}, headers=RU)
    token = csrf_token_from(page.get_data(as_text=True))
    ticked = [ids["nov5"], ids["no_template"], ids["sent"]]
    response = staff_web.post(
        f"{URL}/retry",
        data={"scope": "selected", "ids": ticked, "status": "failed", "csrf_token": token},
        headers=RU,
        follow_redirects=True,
    )
    assert "2 письма будут отправлены снова." in response.get_data(as_text=True)
    statuses = _statuses()
    assert statuses[ids["nov5"]] is statuses[ids["no_template"]] is OutboundStatus.QUEUED
    assert statuses[ids["sent"]] is OutboundStatus.SENT and statuses[ids["nov2"]].value == "failed"

    bad_date = {"scope": "matching", "status": "failed", "since": "31.02.2026", "csrf_token": token}
    refused = staff_web.post(f"{URL}/retry", data=bad_date, headers=RU, follow_redirects=True)
    assert "Сначала исправьте условия поиска" in refused.get_data(as_text=True)
    assert _statuses()[ids["nov2"]] is OutboundStatus.FAILED

    nothing = staff_web.post(
        f"{URL}/retry",
        data={"scope": "selected", "csrf_token": token},
        headers=RU,
        follow_redirects=True,
    )
    assert "Не выбрано ни одного недоставленного письма" in nothing.get_data(as_text=True)


def test_retry_needs_the_csrf_token_and_the_settings_permission(app: Flask, staff_web, clock):
    ids = _outbox(clock)
    forged = staff_web.post(f"{URL}/retry", data={**FILTER, "scope": "matching"})
    assert forged.status_code == 400
    assert _statuses()[ids["nov2"]] is OutboundStatus.FAILED

    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get(URL).status_code == 403
    token = csrf_token_from(web.get("/admin/").get_data(as_text=True))
    denied = web.post(f"{URL}/retry", data={**FILTER, "scope": "matching", "csrf_token": token})
    assert denied.status_code == 403
    assert all(status is not OutboundStatus.QUEUED for status in _statuses().values())


def test_portal_mail_retry_failed_since_a_day(app: Flask, clock) -> None:
    ids = _outbox(clock)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["mail", "retry"])
    assert refused.exit_code == 2 and "--failed" in refused.output
    result = runner.invoke(args=["mail", "retry", "--failed", "--since", "2026-11-04"])
    assert result.exit_code == 0, result.output
    assert "1 failed messages will be sent again" in result.output
    statuses = _statuses()
    assert statuses[ids["nov5"]] is OutboundStatus.QUEUED
    assert sum(status is OutboundStatus.QUEUED for status in statuses.values()) == 1


SETTINGS_URL = "/admin/settings/mail"


def test_retry_settings_are_checked_shown_and_audited(app: Flask, staff_web, clock) -> None:
    bad = {"first_delay_minutes": "0", "max_delay_minutes": "60", "give_up_hours": "12"}
    page = staff_web.submit(SETTINGS_URL, bad, headers=RU).get_data(as_text=True)
    assert "Первая повторная попытка — через 1–1440 минут." in page
    assert 'value="60"' in page and 'value="12"' in page  # what was typed stays in the form
    assert runtime_settings.get("mail_retry") is None

    slower = {"first_delay_minutes": "30", "max_delay_minutes": "10", "give_up_hours": "12"}
    page = staff_web.submit(SETTINGS_URL, slower, headers=RU).get_data(as_text=True)
    assert "Наибольшая пауза — не меньше первой" in page

    good = {"first_delay_minutes": "5", "max_delay_minutes": "120", "give_up_hours": "12"}
    assert staff_web.submit(SETTINGS_URL, good, headers=RU).status_code == 302
    assert mail_settings.retry_policy() == mail_settings.RetryPolicy(5, 120, 12)
    page = staff_web.get(SETTINGS_URL, headers=RU).get_data(as_text=True)
    # Waits of 5, 10, 20, 40, 80 minutes, then 2 hours each, the last attempt at 12 hours.
    schedule = "5 мин, 15 мин, 35 мин, 1 ч 15 мин, 2 ч 35 мин, 4 ч 35 мин, 6 ч 35 мин, "
    assert schedule + "8 ч 35 мин, 10 ч 35 мин, 12 ч 00 мин" in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting.update"))
    assert entry.after == {"mail_retry": {"first_delay_minutes": 5, "max_delay_minutes": 120,
                                          "give_up_hours": 12}}  # fmt: skip

    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get(SETTINGS_URL).status_code == 403
