"""The call detail report («детализация звонков») of a renewal invoice: the postpaid calls its
"Calls: ..." lines charge for, as CSV and as a PDF printed with the core's fonts. The calls are
those of the invoice's telephony plan services in the periods the invoice bills in arrears, so
the report's total is the sum of those lines (each call rounded once when rated; README,
"Balances")."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.billing import Cycle, Period, next_due
from portal.plugin_api import (
    Invoice,
    InvoiceLine,
    Service,
    business_zone,
    pdf_fonts,
    render_pdf,
    session,
)
from portal_telephony import plan_months
from portal_telephony.plans import kind_of
from portal_telephony.rating_models import Call
from portal_telephony.settings import PLAN


@dataclass(frozen=True)
class CallDetail:
    invoice: Invoice
    calls: list[Call]

    @property
    def total(self) -> Decimal:
        return sum((c.cost for c in self.calls), Decimal("0.00"))

    @property
    def groups(self) -> list[tuple[str, int, Decimal]]:
        """(group, calls, sum) per destination group: the invoice's "Calls: ..." lines."""
        found: dict[str, tuple[int, Decimal]] = {}
        for call in self.calls:
            count, total = found.get(call.group_name, (0, Decimal("0.00")))
            found[call.group_name] = (count + 1, total + call.cost)
        return [(g, n, t) for g, (n, t) in sorted(found.items())]


def invoice_detail(invoice: Invoice) -> CallDetail:
    """The postpaid calls an invoice charges for (none for an invoice without a plan). A
    renewal's lines carry the period billed in advance; the calls are those of the period
    before it (``[previous due date, period_start)``), the one the usage collector was asked
    for (docs/billing.md, usage in arrears)."""
    spans = set()
    for line in session().scalars(
        select(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.service_id.is_not(None)
        )
    ):
        service = session().get(Service, line.service_id)
        if line.period_start is None or service is None or kind_of(service.product) != PLAN:
            continue
        cycle = Cycle.parse(service.cycle)
        if cycle is Cycle.FREE:
            continue
        start = next_due(line.period_start, cycle, -1, anchor_day=service.anchor_day)
        spans.add((service.id, start, line.period_start))
    calls: list[Call] = []
    zone = business_zone()
    for service_id, start, end in sorted(spans):
        first, last = plan_months.moments(Period(start, end), zone)
        calls += session().scalars(
            select(Call)
            .where(
                Call.service_id == service_id,
                Call.prepaid.is_(False),
                Call.started_at >= first,
                Call.started_at < last,
            )
            .order_by(Call.started_at, Call.id)
        )
    return CallDetail(invoice, calls)


CSV_COLUMNS = (
    "started_at",
    "src",
    "dst",
    "destination",
    "group",
    "billsec",
    "billed_seconds",
    "cost",
)


def detail_csv(detail: CallDetail) -> bytes:
    """The report as CSV (UTF-8 with a BOM for Excel; plain decimal amounts; a total row)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in detail.calls:
        writer.writerow(
            [
                c.started_at.isoformat(),
                c.src,
                c.dst,
                c.destination,
                c.group_name,
                c.billsec,
                c.billed_seconds,
                f"{c.cost:.2f}",
            ]
        )
    writer.writerow(["total", "", "", "", "", "", "", f"{detail.total:.2f}"])
    return out.getvalue().encode("utf-8")


def detail_pdf(detail: CallDetail) -> bytes:
    """The report as a PDF (A4, DejaVu Sans from the core, so Cyrillic prints)."""
    html = render_template("telephony/call_detail_pdf.html", detail=detail, fonts=pdf_fonts())
    return render_pdf(html)


detail_pages = Blueprint("telephony_detail", __name__, url_prefix="/telephony/invoices")
detail_pages.portal_area = "client"  # type: ignore[attr-defined]


def detail_invoices(client_id: int, limit: int = 12) -> list[Invoice]:
    """The client's latest issued invoices that bill a telephony plan: those with a report."""
    plan_services = [
        s.id
        for s in session().scalars(select(Service).where(Service.client_id == client_id))
        if kind_of(s.product) == PLAN
    ]
    if not plan_services:
        return []
    billed = select(InvoiceLine.invoice_id).where(InvoiceLine.service_id.in_(plan_services))
    return list(
        session().scalars(
            select(Invoice)
            .where(
                Invoice.client_id == client_id,
                Invoice.number.is_not(None),
                Invoice.id.in_(billed),
            )
            .order_by(Invoice.id.desc())
            .limit(limit)
        )
    )


@detail_pages.app_context_processor
def report_links() -> dict[str, object]:
    """``telephony_detail_invoices(client_id)`` for the calls page (called only there)."""
    return {"telephony_detail_invoices": detail_invoices}


@detail_pages.route("/<int:invoice_id>/calls.<any(csv, pdf):kind>")
def download(invoice_id: int, kind: str) -> Response:
    """The client's own invoice's call detail report; another client's invoice is a 404."""
    invoice = session().get(Invoice, invoice_id)
    if invoice is None or invoice.client_id != current_user.id or invoice.number is None:
        abort(404)
    detail = invoice_detail(invoice)
    body = detail_csv(detail) if kind == "csv" else detail_pdf(detail)
    mimetype = "text/csv" if kind == "csv" else "application/pdf"
    name = f"calls-{invoice.number}.{kind}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )
