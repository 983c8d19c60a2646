"""Outgoing e-mail. For now sent straight over SMTP; the outbox arrives with automation."""

from portal.mail.smtp import send_email

__all__ = ["send_email"]
