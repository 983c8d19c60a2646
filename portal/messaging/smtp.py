"""SMTP delivery with the ``smtp_*`` settings."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app


def send_email(*, to: str, subject: str, text: str, html: str | None = None) -> str:
    """Send one message now; returns its Message-ID. Raises on SMTP failure."""
    cfg = current_app.config["PORTAL"]
    msg = EmailMessage()
    msg["From"] = cfg["mail_from"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=cfg["mail_from"].rpartition("@")[2] or None)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    smtp_class = smtplib.SMTP_SSL if cfg["smtp_ssl"] else smtplib.SMTP
    with smtp_class(cfg["smtp_host"], cfg["smtp_port"], timeout=cfg["smtp_timeout"]) as smtp:
        if cfg["smtp_starttls"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["smtp_user"]:
            smtp.login(cfg["smtp_user"], cfg["smtp_password"])
        smtp.send_message(msg)
    return msg["Message-ID"]
