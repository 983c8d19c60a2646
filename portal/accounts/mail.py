"""What the mail layer needs from accounts: a letter's client and who else receives it.

Registered by ``portal.accounts.register`` (messaging never imports this area; see
``portal.messaging.sources``).
"""

from __future__ import annotations

from flask import Flask

from portal.accounts import contacts
from portal.accounts.models import Client, Staff
from portal.core.extensions import db
from portal.messaging.sources import (
    Sample,
    register_addressee,
    register_template_fields,
    register_variable,
)


def sample_client(sample: Sample) -> Client:
    """The client of a template preview (in memory, never added to the session)."""
    return Client(
        id=1001,
        email="client@example.com",
        first_name=sample.first_name,
        last_name=sample.last_name,
        company=sample.company,
        language=sample.locale,
        currency=sample.currency,
    )


def register_mail_sources(app: Flask) -> None:
    """Tell messaging what it needs of this area (called by ``portal.accounts.register``)."""
    register_addressee(
        app,
        load=lambda client_id: db.session.get(Client, client_id),
        recipients=contacts.recipients,
    )
    register_variable(app, "client", sample=sample_client)
    register_template_fields(app, Client, CLIENT_FIELDS)
    register_template_fields(app, Staff, STAFF_FIELDS)


#: What a staff-edited e-mail template may read of a client and of its managers
#: (docs/automation.md, "E-mail templates").
CLIENT_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "full_name",
    "person_name",
    "display_name",
    "company",
    "email",
    "phone",
    "inn",
    "kpp",
    "currency",
    "language",
    "manager",
)
STAFF_FIELDS = ("first_name", "last_name", "full_name", "email")
