"""The call detail report («детализация звонков») of a renewal invoice: the postpaid calls its
"Calls: ..." lines charge for, as CSV and as a PDF printed with the core's fonts. The calls are
those of the invoice's telephony plan services in the periods the invoice bills in arrears, so
the report's total is the sum of those lines (each call rounded once when rated; README,
"Balances").

Both files reach the client through the core's ``invoice_attachments`` hook
(:func:`invoice_attachments`, docs/hooks.md): links on the invoice page of both areas, the
core's download routes with their access checks, and attachments of the invoice e-mail rendered
when it is delivered. README, "Call detail report"."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select

from portal.billing import Cycle, Period, next_due
from portal.plugin_api import (
    Invoice,
    InvoiceAttachment,
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


Span = tuple[int, date, date]


def _spans(invoice: Invoice) -> list[Span]:
    """(service, start, end) of each plan period the invoice bills in arrears. A renewal's
    lines carry the period billed in advance; the calls are those of the period before it
    (``[previous due date, period_start)``), the one the usage collector was asked for
    (docs/billing.md, usage in arrears)."""
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
    return sorted(spans)


def _postpaid_in(span: Span) -> ColumnElement[bool]:
    """The postpaid calls of a span: those started on its business dates (the portal's zone)."""
    service_id, start, end = span
    first, last = plan_months.moments(Period(start, end), business_zone())
    return (
        (Call.service_id == service_id)
        & Call.prepaid.is_(False)
        & (Call.started_at >= first)
        & (Call.started_at < last)
    )


def invoice_detail(invoice: Invoice) -> CallDetail:
    """The postpaid calls an invoice charges for (none for an invoice without a plan)."""
    calls: list[Call] = []
    for span in _spans(invoice):
        calls += session().scalars(
            select(Call).where(_postpaid_in(span)).order_by(Call.started_at, Call.id)
        )
    return CallDetail(invoice, calls)


def has_calls(invoice: Invoice) -> bool:
    """Whether the invoice carries "Calls: ..." lines: a postpaid call that cost something in a
    period it bills in arrears (one query, asked on every view of an invoice page)."""
    spans = _spans(invoice)
    if not spans:
        return False
    found = select(Call.id).where(Call.cost > 0, or_(*map(_postpaid_in, spans))).limit(1)
    return session().scalar(found) is not None


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


def detail_invoices(client_id: int, limit: int = 12) -> list[Invoice]:
    """The client's latest issued invoices that bill postpaid calls: those with a report (the
    calls page links them; at most ``limit`` invoices of a plan are looked at)."""
    plan_services = [
        s.id
        for s in session().scalars(select(Service).where(Service.client_id == client_id))
        if kind_of(s.product) == PLAN
    ]
    if not plan_services:
        return []
    billed = select(InvoiceLine.invoice_id).where(InvoiceLine.service_id.in_(plan_services))
    latest = session().scalars(
        select(Invoice)
        .where(
            Invoice.client_id == client_id,
            Invoice.number.is_not(None),
            Invoice.id.in_(billed),
        )
        .order_by(Invoice.id.desc())
        .limit(limit)
    )
    return [invoice for invoice in latest if has_calls(invoice)]


#: The attachments' names: the end of their download URLs (``/invoices/<id>/attachments/...``).
PDF_NAME, CSV_NAME = "calls.pdf", "calls.csv"


def invoice_attachments(invoice: Invoice) -> list[InvoiceAttachment]:
    """The call detail report of an invoice that bills postpaid calls, as PDF and CSV (the
    ``invoice_attachments`` hook); rendered only when downloaded or mailed."""
    if not has_calls(invoice):
        return []
    return [
        InvoiceAttachment(
            PDF_NAME,
            _l("Call detail report (PDF)"),
            f"calls-{invoice.number}.pdf",
            "application/pdf",
            lambda: detail_pdf(invoice_detail(invoice)),
        ),
        InvoiceAttachment(
            CSV_NAME,
            _l("Call detail report (CSV)"),
            f"calls-{invoice.number}.csv",
            "text/csv",
            lambda: detail_csv(invoice_detail(invoice)),
        ),
    ]
