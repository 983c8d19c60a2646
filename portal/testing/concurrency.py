"""Helpers that run portal work in several real processes, to prove exactly-once properties.

Threads sharing one interpreter would not show what two gunicorn workers or two schedulers do;
these functions run in processes started with the ``spawn`` method, each with its own app and
database connections.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any


def _app(database_url: str, instance_path: str):  # type: ignore[no-untyped-def]
    from portal.app import create_app

    return create_app(
        {"database_url": database_url, "secret_key": "concurrency", "plugins": []},
        instance_path=instance_path,
    )


def issue_drafts(
    database_url: str, instance_path: str, invoice_ids: Sequence[int], day: str
) -> list[str]:
    """Issue the given drafts one by one; returns the numbers they got."""
    from portal.extensions import db
    from portal.models import Invoice
    from portal.services.invoices import issue_invoice

    app = _app(database_url, instance_path)
    numbers = []
    with app.app_context():
        for invoice_id in invoice_ids:
            invoice = db.session.get(Invoice, invoice_id)
            numbers.append(issue_invoice(invoice, today=date.fromisoformat(day)).number)
    return numbers


def run_in_processes(function: Callable[..., Any], argument_sets: Sequence[tuple]) -> list[Any]:
    """Run ``function(*args)`` for each argument set in its own process, all at once."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(argument_sets)) as pool:
        return pool.starmap(function, argument_sets)
