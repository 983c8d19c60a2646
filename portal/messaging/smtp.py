"""SMTP delivery with the ``smtp_*`` settings, for the few messages that must go out at once
(a password reset link) instead of through the outbox."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

from portal.messaging.outbox import connect_smtp, new_message_id


def send_email(*, to: str, subject: str, text: str, html: str | None = None) -> str:
    """Send one message now; returns its Message-ID (with the domain of ``mail_from``, as the
    outbox's). Raises on SMTP failure."""
    msg = EmailMessage()
    msg["From"] = current_app.config["PORTAL"]["mail_from"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = new_message_id()
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    with connect_smtp() as smtp:
        smtp.send_message(msg)
    return msg["Message-ID"]
