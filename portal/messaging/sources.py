"""What a letter is made of, supplied by the areas that own it.

Messaging never imports the areas whose mail it sends (an import contract holds it; see
docs/architecture.md). A caller passes what a letter shows when it sends one
(``portal.messaging.templates.send``). What messaging has to find by itself is registered when
the app starts, from the ``register(app)`` of the area that owns the data:

- the addressee (accounts): the client a letter composed at delivery goes to, loaded by id, and
  the addresses that receive a kind of mail (the client and the contacts who opted in);
- a template variable's row by id (invoicing: ``invoice``), for letters composed at delivery;
- a document rendered at delivery and attached (invoicing: the invoice PDF), and the documents
  that go with it (invoicing: the plugins' attachments of the invoice);
- the sample value of a variable, built in memory, for the template editor's preview.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from flask import Flask, current_app


class MailKind(enum.StrEnum):
    """Kinds of e-mail a contact can opt into (the account owner always receives all)."""

    GENERAL = "general"
    INVOICES = "invoices"
    SUPPORT = "support"
    SERVICES = "services"


class Addressee(Protocol):
    """The client a letter goes to, as messaging sees it."""

    id: Any
    #: The client's language, or None for the portal's default.
    language: Any


@dataclass(frozen=True)
class Sample:
    """The facts a preview's sample objects share, in the template's language."""

    locale: str
    today: date
    currency: str
    first_name: str
    last_name: str
    company: str
    product: str
    reference: str
    #: The sample client, once built: the other samples belong to it.
    client: Any = None


Loader = Callable[[int], Any]
Recipients = Callable[[Any, MailKind], list[str]]
Renderer = Callable[[int], bytes]
#: (file name, content type, bytes) of each document that goes with a document, by its id.
Companions = Callable[[int], list[tuple[str, str, bytes]]]
SampleBuilder = Callable[[Sample], Any]


@dataclass
class MailSources:
    """The registrations of one app (``app.extensions``)."""

    addressee: Loader | None = None
    recipients: Recipients | None = None
    #: Variable name -> its row by id (letters composed at delivery).
    rows: dict[str, Loader] = field(default_factory=dict)
    #: Document kind -> its bytes by id (attachments rendered at delivery).
    documents: dict[str, Renderer] = field(default_factory=dict)
    #: Document kind -> the documents attached next to it (rendered at delivery too).
    companions: dict[str, Companions] = field(default_factory=dict)
    #: Variable name -> its sample value (the template editor's preview).
    samples: dict[str, SampleBuilder] = field(default_factory=dict)
    #: Model class -> the attributes a staff-edited template may read of its rows.
    fields: dict[type, frozenset[str]] = field(default_factory=dict)


def sources(app: Flask | None = None) -> MailSources:
    """What the areas registered with ``app`` (the current app by default)."""
    extensions = (app or current_app).extensions
    return extensions.setdefault("portal.messaging.sources", MailSources())


def register_addressee(app: Flask, *, load: Loader, recipients: Recipients) -> None:
    """How to load a letter's client by id, and who receives a kind of mail for a client."""
    found = sources(app)
    found.addressee, found.recipients = load, recipients


def register_variable(
    app: Flask, name: str, *, load: Loader | None = None, sample: SampleBuilder | None = None
) -> None:
    """Template variable ``name``: its row by id (then a letter composed at delivery may name
    it) and its sample value for previews."""
    found = sources(app)
    if load is not None:
        found.rows[name] = load
    if sample is not None:
        found.samples[name] = sample


def register_template_fields(app: Flask, model: type, names: Iterable[str]) -> None:
    """The attributes of ``model`` rows a staff-edited template may read, e.g. a client's
    ``first_name``. Anything not named (``password_hash``, ``totp_secret``, methods) does not
    exist for such a template; a relationship named here shows its rows by their own
    registered fields, and a model with none registered shows as nothing. docs/automation.md
    lists the fields."""
    sources(app).fields[model] = frozenset(names)


def register_document(app: Flask, kind: str, render: Renderer) -> None:
    """How to render a document of ``kind`` by id when a letter attaching it is delivered."""
    sources(app).documents[kind] = render


def register_companions(app: Flask, kind: str, render: Companions) -> None:
    """The documents attached next to a document of ``kind`` rendered at delivery, by its id:
    (file name, content type, bytes) each, rendered when the letter is delivered."""
    sources(app).companions[kind] = render
