"""Prepaid balances (plugins/telephony/README.md, "Balances").

A prepaid client's calls are debited from the core's credit balance as they are rated
(``use_credit``, once per import batch). After each debit:

* the balance at or below the client's ``low_balance`` threshold sends one letter per
  crossing (``crossings`` is in the letter's dedupe key; a payment that lifts the balance
  above the threshold re-arms it);
* the balance at or below ``-credit_limit`` (zero by default) blocks every telephony service
  of the client through the provisioner (``block_service``): outgoing calls stop on the PBX
  while the core service stays active — it is paid for; only calls are out of money.

A payment (``payment_received``) that brings the balance back above ``-credit_limit``
unblocks them (``unblock_service``). Both run in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from portal.plugin_api import (
    Client,
    Payment,
    Product,
    Service,
    ServiceStatus,
    client_locale,
    credit_balance,
    email_client,
    session,
)
from portal_telephony.rating_models import ClientTerms


def _services(client_id: int) -> list[Service]:
    return list(
        session().scalars(
            select(Service)
            .join(Product, Product.id == Service.product_id)
            .where(
                Service.client_id == client_id,
                Product.module == "telephony",
                Service.status == ServiceStatus.ACTIVE,
            )
            .order_by(Service.id)
        )
    )


def _command(service: Service, block: bool) -> None:
    """Through the PBX provisioner (:mod:`portal_telephony.provisioning`): the service stays
    active in the portal, the PBX stops (or resumes) its outgoing calls."""
    from portal_telephony import provisioning

    if block:
        provisioning.block_service(service, reason="balance")
    else:
        provisioning.unblock_service(service)


@dataclass(slots=True)
class TermsView:
    """What rating reads of a client's terms, as plain values for a whole import."""

    client_id: int
    prepaid: bool
    tariff_id: int | None
    coefficient: Decimal
    low_balance: Decimal
    credit_limit: Decimal
    low_notified: bool
    blocked: bool

    @classmethod
    def of(cls, terms: ClientTerms) -> TermsView:
        return cls(
            terms.client_id,
            terms.prepaid,
            terms.tariff_id,
            terms.coefficient_duration,
            terms.low_balance,
            terms.credit_limit,
            terms.low_notified,
            terms.blocked,
        )

    def needs_action(self, balance: Decimal) -> bool:
        return (balance <= self.low_balance and not self.low_notified) or (
            balance <= -self.credit_limit and not self.blocked
        )


def after_debits(left: dict[int, Decimal], views: dict[int, TermsView]) -> None:
    """After a batch's debits (``left``: the new balances): only the clients that cross a line
    are read and acted on."""
    for client_id, balance in left.items():
        view = views.get(client_id)
        if view is None or not view.needs_action(balance):
            continue
        terms = session().get(ClientTerms, client_id)
        after_debit(session().get(Client, client_id), terms, balance)
        views[client_id] = TermsView.of(terms)


def after_debit(client: Client, terms: ClientTerms, balance: Decimal) -> None:
    """Warn and block after a debit left ``balance``."""
    if balance <= terms.low_balance and not terms.low_notified:
        terms.low_notified = True
        terms.crossings += 1
        with client_locale(client):
            email_client(
                client,
                subject=_("Your balance is low"),
                text=_(
                    "Your balance for calls is %(balance)s %(currency)s. Top it up to keep "
                    "calling: at zero outgoing calls are blocked.",
                    balance=balance,
                    currency=client.currency,
                ),
                kind="invoices",
                dedupe_key=f"telephony:low-balance:{client.id}:{terms.crossings}",
            )
    if balance <= -terms.credit_limit and not terms.blocked:
        terms.blocked = True
        for service in _services(client.id):
            _command(service, True)


def after_payment(client: Client) -> bool:
    """Unblock (and re-arm the low-balance letter) when the balance is back; True when the
    services were unblocked."""
    terms = session().get(ClientTerms, client.id)
    if terms is None or not terms.prepaid:
        return False
    balance = credit_balance(client)
    if balance > terms.low_balance:
        terms.low_notified = False
    if terms.blocked and balance > -terms.credit_limit:
        terms.blocked = False
        for service in _services(client.id):
            _command(service, False)
        return True
    return False


def payment_received(payment: Payment) -> None:
    """The ``payment_received`` hook's work (registered in ``portal_telephony.rating_hooks``)."""
    client = session().get(Client, payment.client_id)
    if client is not None:
        after_payment(client)
