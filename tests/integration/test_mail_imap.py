"""The IMAP poller against a real IMAP server on loopback (pymap, started by the test): real
messages become tickets and replies, machine mail is skipped, every message is taken in once,
and one that fails stays unseen for the next poll."""

import imaplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.support.models import Ticket, TicketAttachment, TicketMessage, TicketStatus
from tests.fixtures.mail.desk import eml, make_desk

USER, PASSWORD = "support@portal.test", "imap-secret"
SERVER = "import sys; from pymap.main import main; sys.exit(main())"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[tuple[str, int]]:
    """pymap's in-memory backend in its own process, listening on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "--no-service",
            "admin",
            "dict",
            "--demo-user",
            USER,
            "--demo-password",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"pymap did not start: {error!r}") from exc
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def mailbox_client(imap_server) -> Iterator[imaplib.IMAP4]:
    """A second IMAP client, as the mail server would deliver: an emptied INBOX to append to."""
    client = imaplib.IMAP4(*imap_server)
    client.login(USER, PASSWORD)
    client.select("INBOX")
    if client.search(None, "ALL")[1][0]:
        client.store("1:*", "+FLAGS", "(\\Deleted)")
        client.expunge()
    try:
        yield client
    finally:
        client.logout()


@pytest.fixture
def poller(app: Flask, make_app, imap_server, clock):
    make_desk(clock)
    other = make_app(
        imap_host=imap_server[0],
        imap_port=imap_server[1],
        imap_ssl=False,
        imap_user=USER,
        imap_password=PASSWORD,
    )

    def poll() -> str:
        with other.app_context():  # the command runs in the app that has the IMAP settings
            result = other.test_cli_runner().invoke(args=["mail", "poll"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return result.output

    return poll


def _append(client: imaplib.IMAP4, *names: str) -> None:
    for name in names:
        status, _data = client.append("INBOX", None, None, eml(name))
        assert status == "OK"


def _unseen(client: imaplib.IMAP4) -> list[bytes]:
    client.select("INBOX")
    return client.uid("SEARCH", None, "UNSEEN")[1][0].split()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_poll_files_messages_once_and_threads_replies(poller, mailbox_client) -> None:
    _append(
        mailbox_client,
        "plain_utf8.eml",
        "multipart_attachments.eml",
        "koi8r.eml",
        "bounce.eml",
        "autoreply.eml",
    )
    output = poller()
    assert "fetched 5, handled 5, failed 0" in output
    subjects = sorted(db.session.scalars(select(Ticket.subject)))
    assert subjects == sorted(
        ["Не запускается 1С: Бухгалтерия", "Ошибка лицензии — скриншот", "Не работает телефония"]
    )
    assert _count(TicketAttachment) == 3
    assert output.count("ignored") == 2  # the bounce and the auto-reply
    assert _unseen(mailbox_client) == []  # all marked \\Seen on the server

    assert "fetched 0" in poller()  # nothing new

    # the server shows one message as new again (another client reset it): filed once anyway
    uid = mailbox_client.uid("SEARCH", None, "ALL")[1][0].split()[0]
    mailbox_client.uid("STORE", uid, "-FLAGS", "(\\Seen)")
    assert "duplicate" in poller()
    assert _count(Ticket) == 3

    ticket = db.session.scalar(select(Ticket).where(Ticket.subject.startswith("Не запускается")))
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, ticket.created_at
    db.session.commit()
    _append(mailbox_client, "reply_thread.eml")
    assert f"replied #{ticket.reference}" in poller()
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.CUSTOMER_REPLY and ticket.closed_at is None
    assert ticket.messages[-1].body.startswith("Ещё одна деталь")


def test_a_message_that_fails_stays_unseen_for_the_next_poll(
    poller, mailbox_client, monkeypatch
) -> None:
    from portal.support import mail_intake

    real = mail_intake.receive
    calls = []

    def flaky(raw, now=None):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarted")
        return real(raw, now)

    monkeypatch.setattr(mail_intake, "receive", flaky)
    _append(mailbox_client, "windows1251.eml", "guest.eml")
    output = poller()
    assert "handled 1, failed 1" in output and "database restarted" in output
    assert len(_unseen(mailbox_client)) == 1
    assert "handled 1, failed 0" in poller()
    assert _unseen(mailbox_client) == []
    assert sorted(db.session.scalars(select(Ticket.subject))) == [
        "Дисковое пространство",
        "Сколько стоит 1С в облаке?",
    ]
    assert _count(TicketMessage) == 2
