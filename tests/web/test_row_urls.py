"""Per-row helpers built once per page (docs/performance.md, "Per-row work"): ``row_url``
answers what ``url_for`` would for every id, and ``short_date`` of a moment, built from its
remembered day and time of day, reads as Babel formats the whole moment."""

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date, format_time
from flask import Flask, url_for
from flask_babel import force_locale, get_timezone

from portal.web.formatting import short_date
from portal.web.row_urls import row_url


def test_row_url_matches_url_for(app: Flask) -> None:
    with app.test_request_context("/admin/"):
        ticket_url = row_url("admin_support.view", "ticket_id")
        client_url = row_url("admin_clients.summary", "client_id")
        for row_id in (1, 7, 123_456, 10**12):
            assert ticket_url(row_id) == url_for("admin_support.view", ticket_id=row_id)
            assert client_url(row_id) == url_for("admin_clients.summary", client_id=row_id)


def test_row_url_keeps_the_other_arguments_and_takes_ids_only(app: Flask) -> None:
    with app.test_request_context("/admin/"):
        refund = row_url("admin_billing.payment_refund", "payment_id", next="x")
        assert refund(5) == url_for("admin_billing.payment_refund", payment_id=5, next="x")
        with pytest.raises(TypeError):
            refund(None)  # type: ignore[arg-type]
        by_client = row_url("admin_support.index", "client", queue="all")  # a query argument
        assert by_client(9) == url_for("admin_support.index", client=9, queue="all")


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_a_moment_reads_as_babel_formats_it(app: Flask, locale: str) -> None:
    start = datetime(2026, 3, 29, 0, 30, 15, 500_000, tzinfo=UTC)
    with app.test_request_context("/"), force_locale(locale):
        zone = get_timezone()
        for step in range(0, 48 * 3600, 2_777):  # across a day, seconds and microseconds
            moment = start + timedelta(seconds=step, microseconds=step)
            local = moment.astimezone(zone)
            day = format_date(local, "short", locale=locale)
            time = format_time(local, "short", locale=locale)
            shown = short_date(moment)
            assert day in shown and time in shown, (shown, day, time)
            assert shown == short_date(moment)  # remembered: the same text again
