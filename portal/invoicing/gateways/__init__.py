"""Payment gateways: how a client pays an invoice (bank transfer, a card acquirer, ...).

A gateway is an object a plugin returns from ``register_payment_gateways``. The core shows each
gateway's ``instructions`` on the client's invoice page, sends the client to ``start_payment``
when the gateway needs a redirect, and routes ``/gateways/<name>/callback`` to
``handle_callback``. A gateway records money only through ``portal.invoicing.payments``
(``record_payment`` with the gateway's transaction id as the reference, whose normal form —
portal/invoicing/payment_references.py — is unique per gateway), so a callback delivered twice
records one payment and ``recorded_now`` on the result tells the two deliveries apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from portal.invoicing.models import Invoice, Payment


@dataclass(frozen=True)
class CallbackResult:
    """What a callback did: the HTTP answer the gateway expects, and the payment if any."""

    body: str = "OK"
    status: int = 200
    payment_id: int | None = None


class PaymentGateway:
    """Base class: override what your gateway supports. ``name`` is its stable id."""

    name: str = ""
    label: str = ""

    def instructions(self, invoice: Invoice) -> Markup:
        """HTML shown under the invoice (bank details, a "Pay by card" button...)."""
        return Markup("")

    def start_payment(self, invoice: Invoice) -> str | None:
        """The URL to send the client to, or None when the gateway needs no redirect."""
        return None

    def handle_callback(
        self, form: Mapping[str, Any], headers: Mapping[str, str]
    ) -> CallbackResult:
        """Verify a notification from the gateway and record the payment it reports."""
        return CallbackResult("not supported", 404)

    def refund(self, payment: Payment, amount: Decimal) -> str:
        """Give money back through the gateway; returns the gateway's refund reference."""
        raise NotImplementedError(f"{self.name} cannot refund online; refund by hand")


def gateways() -> dict[str, PaymentGateway]:
    """Every registered gateway by name; a plugin's gateway replaces a built-in of that name."""
    from portal.core.app_state import plugins

    found: dict[str, PaymentGateway] = {}
    for gateway in plugins().collect("register_payment_gateways"):
        if not gateway.name:
            raise ValueError(f"payment gateway {gateway!r} has no name")
        found.setdefault(gateway.name, gateway)  # plugins come before the trylast built-ins
    return found


def method_labels() -> dict[str, str]:
    """Each gateway's label by name, for a list of payments: the gateways are collected once
    for the page instead of once a row (docs/performance.md, "Per-row work")."""
    return {name: str(gateway.label) for name, gateway in gateways().items() if gateway.label}


def method_label(method: str, labels: Mapping[str, str] | None = None) -> str:
    """How staff and clients read a payment's method: its gateway's label ("Банковский
    перевод"), or the stored code when no gateway of that name is installed any more.
    ``labels`` is :func:`method_labels` taken once for a list."""
    return (method_labels() if labels is None else labels).get(method, method)
