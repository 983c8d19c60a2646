"""The provisioning queue: module commands for services, run later with retries (DESIGN §5).

``queue`` is called by whoever decides a command (an order paid, a suspension, a change), in
that caller's transaction. Services whose product has no ``module`` need no command: nothing is
queued for them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.app_state import clock
from portal.extensions import db
from portal.models import Product, Service
from portal.models.provisioning import ProvisioningAction, ProvisioningTask


def queue(
    service: Service,
    action: ProvisioningAction,
    *,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    service_addon_id: int | None = None,
) -> ProvisioningTask | None:
    """Queue ``action`` for ``service`` through its product's module (joins the transaction).

    Returns None when the product has no module, or when ``dedupe_key`` was queued before.
    """
    product = service.product or db.session.get(Product, service.product_id)
    if not product.module:
        return None
    if dedupe_key is not None and db.session.scalar(
        select(ProvisioningTask.id).where(ProvisioningTask.dedupe_key == dedupe_key)
    ):
        return None
    now = clock().now()
    task = ProvisioningTask(
        service_id=service.id,
        service_addon_id=service_addon_id,
        action=action,
        module=product.module,
        payload=payload or {},
        next_attempt_at=now,
        created_at=now,
        dedupe_key=dedupe_key,
    )
    db.session.add(task)
    return task
