"""Nothing twice: senders in real processes share the outbox through a slow SMTP server whose
pace outlasts the claim lease, and every message still reaches the server exactly once
(counted by Message-ID at the server). See docs/automation.md, "Delivering e-mail"."""

from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.extensions import db
from portal.messaging.models import OutboundMessage, OutboundStatus
from portal.messaging.outbox import queue_email
from portal.testing.concurrency import deliver_mail, run_in_processes

MESSAGES = 30
#: Shorter than the time one sender needs for its claimed mail on the slow server.
LEASE_SECONDS = 1.0


@pytest.mark.parametrize("senders", [("job", "cli"), ("cli", "cli")])
def test_a_lease_running_out_mid_send_sends_nothing_twice(
    app: Flask, slow_mailbox, smtp_server, portal_database_url, tmp_path: Path, senders
) -> None:
    for n in range(MESSAGES):
        queue_email(to=f"client{n}@example.com", subject=f"Счёт {n}", text="Счёт во вложении")
    db.session.commit()
    queued = set(db.session.scalars(select(OutboundMessage.message_id)))
    db.session.remove()

    taken_over = run_in_processes(
        deliver_mail,
        [
            (
                portal_database_url,
                str(tmp_path / f"sender{n}"),
                smtp_server[1],
                via,
                LEASE_SECONDS,
                90,
            )
            for n, via in enumerate(senders)
        ],
    )

    delivered = Counter(str(message["Message-ID"]) for message in slow_mailbox)
    assert {mid: count for mid, count in delivered.items() if count > 1} == {}
    assert set(delivered) == queued  # every message, once
    assert sum(taken_over) > 0  # a lease did run out and the other sender took messages over
    statuses = set(db.session.scalars(select(OutboundMessage.status)))
    assert statuses == {OutboundStatus.SENT}
