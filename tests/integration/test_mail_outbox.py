"""The e-mail outbox on a real SMTP server (aiosmtpd on loopback): queued in the caller's
transaction, delivered with its headers, CC and attachments, exactly once per dedupe key, and
a dead server delays mail without losing it."""

import json
import socket
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.messaging import mail_settings
from portal.messaging.models import OutboundMessage, OutboundStatus
from portal.messaging.outbox import (
    CLAIM_LEASE,
    Attachment,
    Claim,
    DeliveryReport,
    _claim,
    _Connection,
    _deliver_one,
    deliver_outbox,
    queue_email,
    retry_failed,
)
from portal.testing import databases

BACKOFF_BASE = timedelta(minutes=mail_settings.RetryPolicy().first_delay_minutes)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the socket is closed


def _queue(**overrides) -> OutboundMessage:
    values = {"to": "ivan@romashka.example", "subject": "Счёт № 71475", "text": "Добрый день!"}
    values.update(overrides)
    message = queue_email(**values)
    db.session.commit()
    return message


def test_headers_cc_and_attachments_arrive(app: Flask, mailbox, clock) -> None:
    row = _queue(
        cc=["buh@romashka.example", "IVAN@romashka.example"],
        html="<p>Добрый <b>день</b>!</p>",
        headers={"In-Reply-To": "<a@client.example>", "References": "<a@client.example>"},
        attachments=[Attachment("Счёт № 71475.pdf", "application/pdf", b"%PDF-1.4 test")],
        reply_to="support@portal.test",
    )
    assert row.cc_addrs == ["buh@romashka.example"]  # the To address is not copied again
    report = deliver_outbox(clock.now())
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (mail,) = mailbox
    assert mail["Message-ID"] == row.message_id
    assert mail["To"] == "ivan@romashka.example" and mail["Cc"] == "buh@romashka.example"
    assert mail["Subject"] == "Счёт № 71475" and mail["Reply-To"] == "support@portal.test"
    assert mail["In-Reply-To"] == "<a@client.example>"
    assert mail.get_body(("plain",)).get_content().strip() == "Добрый день!"
    assert "<b>день</b>" in mail.get_body(("html",)).get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "Счёт № 71475.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"
    db.session.refresh(row)
    assert row.status is OutboundStatus.SENT and row.sent_at == clock.now() and row.attempts == 1


def test_message_ids_are_chosen_once_with_the_mail_from_domain(app: Flask, mailbox, clock) -> None:
    from portal.messaging.smtp import send_email

    row = _queue()
    assert row.message_id.endswith("@portal.test>")  # mail_from is billing@portal.test
    deliver_outbox(clock.now())
    sent_now = send_email(to="ivan@romashka.example", subject="Ссылка", text="…")
    assert sent_now.endswith("@portal.test>")
    assert [m["Message-ID"] for m in mailbox] == [row.message_id, sent_now]


def test_queueing_joins_the_callers_transaction(app: Flask) -> None:
    queue_email(to="a@example.com", subject="s", text="t")
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


def test_dedupe_key_makes_a_mail_exactly_once(app: Flask, mailbox, clock) -> None:
    first = _queue(dedupe_key="invoice-reminder:71475:first")
    second = _queue(dedupe_key="invoice-reminder:71475:first", subject="другая тема")
    assert first.id == second.id and second.subject == "Счёт № 71475"
    _queue(dedupe_key=None)
    _queue(dedupe_key=None)  # no key: every call is a message
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 3
    deliver_outbox(clock.now())
    deliver_outbox(clock.now())
    assert len(mailbox) == 3


def test_header_injection_is_impossible(app: Flask, mailbox, clock) -> None:
    _queue(subject="Привет\r\nBcc: victim@example.com")
    deliver_outbox(clock.now())
    (mail,) = mailbox
    assert mail["Bcc"] is None and "victim" in mail["Subject"]


def test_dead_server_delays_mail_and_never_loses_it(app: Flask, make_app, mailbox, clock) -> None:
    row = _queue()
    down = make_app(smtp_port=_closed_port(), smtp_timeout=2)
    with down.app_context():
        report = deliver_outbox(clock.now())
    assert (report.sent, report.retried) == (0, 1) and report.errors
    db.session.expire_all()
    row = db.session.get(OutboundMessage, row.id)
    assert row.status is OutboundStatus.QUEUED and row.attempts == 1
    assert row.next_attempt_at == clock.now() + BACKOFF_BASE and row.last_error

    assert deliver_outbox(clock.now()).sent == 0  # not due yet, even with the server back
    clock.advance(BACKOFF_BASE)
    with down.app_context():
        deliver_outbox(clock.now())
    db.session.expire_all()
    row = db.session.get(OutboundMessage, row.id)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + 2 * BACKOFF_BASE
    assert mailbox == []

    clock.advance(2 * BACKOFF_BASE)
    assert deliver_outbox(clock.now()).sent == 1
    clock.advance(timedelta(hours=1))
    assert deliver_outbox(clock.now()).sent == 0
    assert len(mailbox) == 1  # delivered exactly once
    db.session.expire_all()
    assert db.session.get(OutboundMessage, row.id).status is OutboundStatus.SENT


def test_retries_follow_the_settings_and_give_up_at_the_give_up_time(
    app: Flask, make_app, mailbox, clock
) -> None:
    """Retries 5, 10, 20, 20 minutes apart (first delay 5, longest 20), the last exactly one
    hour after the first failed attempt; failing then, the message is failed."""
    policy = mail_settings.save(
        {"first_delay_minutes": 5, "max_delay_minutes": 20, "give_up_hours": 1}
    )
    expected = [timedelta(minutes=m) for m in (5, 15, 35, 55, 60)]
    assert policy.retries() == expected
    row = _queue()
    first_failure = clock.now()
    down = make_app(smtp_port=_closed_port(), smtp_timeout=2)
    for offset in expected:
        with down.app_context():
            assert deliver_outbox(clock.now()).retried == 1
        db.session.expire_all()
        row = db.session.get(OutboundMessage, row.id)
        assert row.status is OutboundStatus.QUEUED
        assert row.next_attempt_at == first_failure + offset
        clock.set(row.next_attempt_at - timedelta(seconds=1))
        with down.app_context():
            assert deliver_outbox(clock.now()) == DeliveryReport()  # not due a second early
        clock.set(row.next_attempt_at)
    with down.app_context():
        assert deliver_outbox(clock.now()).failed == 1
    db.session.expire_all()
    row = db.session.get(OutboundMessage, row.id)
    assert row.status is OutboundStatus.FAILED and row.attempts == len(expected) + 1
    clock.advance(timedelta(days=1))
    assert deliver_outbox(clock.now()).sent == 0  # failed mail waits for staff
    assert retry_failed(ids=[row.id]) == 1  # staff send it again: a fresh round
    assert deliver_outbox(clock.now()).sent == 1 and len(mailbox) == 1
    db.session.expire_all()
    assert db.session.get(OutboundMessage, row.id).failing_since is None


def test_a_claimed_message_is_not_taken_by_a_second_sender(app: Flask, mailbox, clock) -> None:
    row = _queue()
    first = Claim("first:1")
    assert _claim(clock.now(), 10, first) == [row.id]  # a sender claimed it and is busy sending
    assert deliver_outbox(clock.now()).sent == 0  # the second sender finds nothing due
    clock.advance(CLAIM_LEASE)  # the first sender stalled: after the lease the mail goes out
    assert deliver_outbox(clock.now()).sent == 1 and len(mailbox) == 1
    # The first sender wakes up and goes on with its batch: its claim is gone, it sends nothing.
    report = DeliveryReport()
    _deliver_one(row.id, first, _Connection(), report, mail_settings.retry_policy())
    assert (report.sent, report.skipped) == (0, 1) and len(mailbox) == 1


WORKER = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.messaging.outbox import deliver_outbox

    settings, now, instance = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    clock = FrozenClock(datetime.fromisoformat(now))
    app = create_app(settings, clock=clock, instance_path=instance)
    with app.app_context():
        sent = 0
        while True:
            report = deliver_outbox(clock.now(), limit=3)
            if not report.sent and not report.retried:
                break
            sent += report.sent
        print(sent)
    """
)


@pytest.mark.postgres_only
def test_several_sender_processes_share_the_queue_without_duplicates(
    app: Flask, mailbox, clock, portal_settings, tmp_path
) -> None:
    assert databases.backend() == "postgres"
    for n in range(30):
        queue_email(to=f"client{n}@example.com", subject=f"Письмо {n}", text="текст")
    db.session.commit()
    db.session.remove()
    settings, now = json.dumps(portal_settings), clock.now().isoformat()
    workers = []
    for n in range(3):
        command = [sys.executable, "-c", WORKER, settings, now, str(tmp_path / f"worker{n}")]
        workers.append(
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    assert sum(int(out.strip().splitlines()[-1]) for out, _err in outputs) == 30
    subjects = sorted(str(m["Subject"]) for m in mailbox)
    assert subjects == sorted(f"Письмо {n}" for n in range(30))  # each exactly once
