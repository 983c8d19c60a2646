"""How order and service entries in the audit log read (portal.accounts.audit_sentences)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as pgettext_l

from portal.accounts import audit_sentences as a
from portal.catalog.catalog import CYCLE_LABELS, DAY_COUNT_LABELS
from portal.orders.forms import ORDER_STATUS_LABELS
from portal.orders.models.service import SERVICE_STATUS_LABELS


def register_audit_sentences() -> None:
    a.register_entity("service", _l("the service #%(id)s"))
    a.register_entity("order", _l("the order #%(id)s"))
    a.register_field("status", _l("Status"), a.enum_labels(SERVICE_STATUS_LABELS), entity="service")
    a.register_field("status", _l("Status"), a.enum_labels(ORDER_STATUS_LABELS), entity="order")
    a.register_field("cycle", _l("Billing cycle"), a.enum_labels(CYCLE_LABELS))
    a.register_field("day_count", _l("Day-count convention"), a.enum_labels(DAY_COUNT_LABELS))
    a.register_fields(
        {
            "price": _l("Price"),
            "credit": _l("Credit"),
            "charge": _l("Charge"),
            "difference": _l("Difference"),
            "recurring_amount": _l("Recurring amount"),
            "price_override": _l("Price override"),
        },
        a.amount_text,
    )
    a.register_fields(
        {
            "product": _l("Product"),
            "product_id": _l("Product"),
            "options": _l("Options"),
            "order": _l("Order"),
            "next_due_date": _l("Next due date"),
            "period_start": _l("Period start"),
            "items": pgettext_l("order", "Items"),
            "services": _l("Services"),
            "promo": _l("Promo code"),
            "generate_invoice": pgettext_l("order", "Invoice generated"),
        }
    )
    a.register_field(
        "source",
        pgettext_l("order", "Placed in"),
        {"client_area": _l("Client area"), "staff": pgettext_l("order", "Admin area")},
        entity="order",
    )

    a.register_sentences(
        {
            "order.create": _l("%(actor)s placed the order %(object)s"),
            "order.accept": _l("%(actor)s accepted the order"),
            "order.cancel": _l("%(actor)s cancelled the order"),
            "order.fraud": _l("%(actor)s marked the order as fraud"),
            "service.update": _l("%(actor)s changed the service"),
            "service.move": _l("%(actor)s moved the service to another client"),
            "service.change_ordered": _l(
                "%(actor)s ordered a change of the service: %(old_product)s → %(product)s"
            ),
            "service.change_applied": _l("The service change was applied"),
            "service.addon_ordered": _l("%(actor)s ordered an add-on"),
        }
    )
    a.register_entity("provisioning_task", _l("the provisioning task #%(id)s"))
    a.register_sentences(
        {
            "provisioning.retry": _l("%(actor)s retried the provisioning task"),
            "provisioning.mark_done": _l("%(actor)s marked the provisioning task as done by hand"),
            "service.addon_activated": _l("The add-on was activated"),
        }
    )
