"""Invoice and act as printable HTML and as PDF (xhtml2pdf), in Russian or English.

The templates are rendered by a Jinja2 environment of our own, not Flask's, so a document can be
printed by a background job or the CLI without an app or a request; autoescaping is on because
every name and address in a document came from a client.

Cyrillic in a PDF needs an embedded TrueType font: ReportLab's built-in Helvetica has no Cyrillic
glyphs and prints black squares. The templates declare DejaVu Sans with ``@font-face`` by absolute
path, and the render passes xhtml2pdf 0.2.28 a resource policy whose only readable directory is
the font directory; without it xhtml2pdf refuses to read a file outside the document's own
directory, logs a warning and silently falls back to Helvetica. We check the render's log and
raise :class:`DocumentError` instead of returning squares. Fonts are not fetched through
``link_callback``: xhtml2pdf reads fonts past it, only the policy governs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.documents.data import (
    ActDocument,
    DocumentLine,
    InvoiceDocument,
    ReconciliationDocument,
    line_sum,
)
from portal.documents.errors import DocumentError
from portal.documents.formatting import (
    format_money,
    format_percent,
    format_price,
    format_quantity,
    long_date,
    short_date,
)
from portal.documents.labels import LABELS
from portal.documents.words import amount_in_words, currency_label

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"

#: The regular and the bold face, in this order.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
#: Where the fonts are looked for: shipped with the package first, then the Debian/Ubuntu
#: package fonts-dejavu-core, so a build that left the package's fonts out still prints Cyrillic.
FONT_DIRS = (PACKAGE_DIR / "fonts", Path("/usr/share/fonts/truetype/dejavu"))


def font_dir(candidates: Iterable[Path] = FONT_DIRS) -> Path:
    """The first directory holding both DejaVu Sans faces; a PDF without them is unreadable."""
    for directory in candidates:
        if all((directory / name).is_file() for name in FONT_FILES):
            return directory.resolve()
    searched = ", ".join(str(directory) for directory in candidates)
    raise DocumentError(f"DejaVu Sans ({', '.join(FONT_FILES)}) not found in {searched}.")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=format_money,
        price=format_price,
        quantity=format_quantity,
        short_date=short_date,
    )
    return env


ENVIRONMENT = _environment()


@dataclass(frozen=True, slots=True)
class TotalRow:
    """One row of the totals under the table, already formatted."""

    label: str
    value: str
    strong: bool = False


def _tax_by_rate(lines: Iterable[DocumentLine]) -> list[tuple[Decimal, Decimal]]:
    """Tax per rate, lowest rate first; lines without a rate (no tax) are left out."""
    rates: dict[Decimal, Decimal] = {}
    for line in lines:
        if line.tax_percent is not None:
            rates[line.tax_percent] = rates.get(line.tax_percent, Decimal(0)) + line.tax_amount
    return sorted(rates.items())


def _tax_rows(
    lines: Iterable[DocumentLine], tax_inclusive: bool, currency: str, labels: Mapping[str, str]
) -> list[TotalRow]:
    rates = _tax_by_rate(lines)
    if not rates:
        return [TotalRow(labels["no_vat"], labels["no_vat_value"])]
    key = "vat_included" if tax_inclusive else "vat_added"
    return [
        TotalRow(labels[key].format(rate=format_percent(rate)), format_money(tax, currency))
        for rate, tax in rates
    ]


def _purpose(doc: InvoiceDocument, labels: Mapping[str, str], currency_name: str) -> str:
    """The payment purpose to quote: the document's own, or one naming number, date and VAT."""
    if doc.payment_purpose:
        return doc.payment_purpose
    rates = _tax_by_rate(doc.lines)
    if rates:
        tax = ", ".join(
            labels["purpose_vat"].format(
                rate=format_percent(rate),
                amount=format_money(amount, doc.currency),
                currency=currency_name,
            )
            for rate, amount in rates
        )
    else:
        tax = labels["purpose_no_vat"]
    text = labels["purpose"].format(
        number=doc.number,
        date=short_date(doc.issue_date),
        amount=format_money(doc.amount_due, doc.currency),
        currency=currency_name,
        tax=tax,
    )
    return text if text.endswith(".") else f"{text}."  # "руб." already ends the sentence


def _invoice_context(doc: InvoiceDocument) -> dict[str, Any]:
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    money = format_money
    subtotal = line_sum(doc.lines)  # doc.subtotal may be the net sum; "Итого" is what is printed
    rows = [TotalRow(labels["subtotal"], money(subtotal, doc.currency))]
    rows += _tax_rows(doc.lines, doc.tax_inclusive, doc.currency, labels)
    if doc.credit_applied:
        if doc.total != subtotal:
            rows.append(TotalRow(labels["total"], money(doc.total, doc.currency)))
        rows.append(TotalRow(labels["credit_applied"], money(doc.credit_applied, doc.currency)))
    rows.append(TotalRow(labels["total_due"], money(doc.amount_due, doc.currency), strong=True))
    summary_key = "items_summary_due" if doc.credit_applied else "items_summary"
    return {
        "title": labels["invoice_title"].format(
            number=doc.number, date=long_date(doc.issue_date, doc.language)
        ),
        "totals": rows,
        "summary": labels[summary_key].format(
            count=len(doc.lines),
            amount=money(doc.total, doc.currency),
            due=money(doc.amount_due, doc.currency),
            currency=currency,
        ),
        "in_words": amount_in_words(doc.amount_due, doc.currency, doc.language),
        "pay_by": labels["pay_by"].format(date=long_date(doc.due_date, doc.language)),
        "purpose": _purpose(doc, labels, currency),
        "discount_note": labels["discount_note"].format(
            amount=money(doc.discount, doc.currency), currency=currency
        )
        if doc.discount
        else "",
    }


def _act_context(doc: ActDocument) -> dict[str, Any]:
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    subtotal = line_sum(doc.lines)
    rows = [TotalRow(labels["subtotal"], format_money(subtotal, doc.currency))]
    rows += _tax_rows(doc.lines, doc.tax_inclusive, doc.currency, labels)
    if doc.total != subtotal:
        rows.append(
            TotalRow(labels["total_with_vat"], format_money(doc.total, doc.currency), strong=True)
        )
    return {
        "title": labels["act_title"].format(
            number=doc.number, date=long_date(doc.act_date, doc.language)
        ),
        "period": labels["period"].format(
            start=short_date(doc.period_start), end=short_date(doc.period_end)
        ),
        "basis": labels["basis_invoice"].format(number=doc.invoice_number)
        if doc.invoice_number
        else "",
        "totals": rows,
        "summary": labels["services_summary"].format(
            count=len(doc.lines), amount=format_money(doc.total, doc.currency), currency=currency
        ),
        "in_words": amount_in_words(doc.total, doc.currency, doc.language),
    }


_TEMPLATES: dict[type, str] = {InvoiceDocument: "invoice.html", ActDocument: "act.html"}


def _render(doc: InvoiceDocument | ActDocument, kind: type, fonts: Path | None) -> str:
    """The template for ``doc``; ``fonts`` is the font directory when the HTML is for a PDF."""
    if not isinstance(doc, kind):
        raise TypeError(f"Expected {kind.__name__}, got {type(doc).__name__}.")
    context = _invoice_context(doc) if isinstance(doc, InvoiceDocument) else _act_context(doc)
    fonts_css = None
    if fonts is not None:
        fonts_css = {"regular": fonts / FONT_FILES[0], "bold": fonts / FONT_FILES[1]}
    return ENVIRONMENT.get_template(_TEMPLATES[kind]).render(
        doc=doc,
        t=LABELS[doc.language],
        currency=doc.currency,
        fonts=fonts_css,
        **context,
    )


#: How xhtml2pdf 0.2.28 says a font was not read or not used (it only logs). A character that
#: DejaVu Sans lacks (a CJK name, say) is logged as "can draw" and left as a box: that one name
#: is the client's, and refusing the whole invoice for it would help nobody.
_FONT_WARNINGS = ("@font-face for", "font families", "Cannot embed the font", "font embed")


def _pdf(html: str, fonts: Path) -> bytes:
    """Convert our own HTML; only the font directory may be read, nothing remote."""
    # Imported on the first PDF: xhtml2pdf (with ReportLab) takes about a second to import,
    # which every web process and every ``portal`` command would pay otherwise.
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    policy = ResourceAccessPolicy.server(base_dir=fonts, allow_remote=False)
    out = BytesIO()
    result = pisa.pisaDocument(html, dest=out, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise DocumentError(f"The PDF could not be rendered ({result.err} errors).")
    font_problems = [
        message
        for _, _, message, _ in result.log
        if any(marker in message for marker in _FONT_WARNINGS)
    ]
    if font_problems:
        # A font that did not load means Helvetica and black squares instead of Cyrillic.
        raise DocumentError(f"The PDF font was not embedded: {font_problems[0]}")
    return out.getvalue()


def invoice_html(doc: InvoiceDocument) -> str:
    """The invoice as a standalone printable HTML page (the browser's fonts, print CSS)."""
    return _render(doc, InvoiceDocument, None)


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice as an A4 PDF with DejaVu Sans embedded."""
    fonts = font_dir()
    return _pdf(_render(doc, InvoiceDocument, fonts), fonts)


def act_html(doc: ActDocument) -> str:
    """The act as a standalone printable HTML page."""
    return _render(doc, ActDocument, None)


def act_pdf(doc: ActDocument) -> bytes:
    """The act as an A4 PDF with DejaVu Sans embedded."""
    fonts = font_dir()
    return _pdf(_render(doc, ActDocument, fonts), fonts)


def _reconciliation_context(doc: ReconciliationDocument) -> dict[str, Any]:
    """The sentences around the table: title, parties, and who owes whom at the end."""
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    end = short_date(doc.period_end)
    if doc.closing:
        creditor = doc.seller if doc.closing > 0 else doc.buyer
        conclusion = labels["recon_debt"].format(
            seller=doc.seller.name,
            date=end,
            creditor=creditor.name,
            # Kept on one line: "5 491,66" broken after "5" reads as two numbers.
            amount=format_money(abs(doc.closing), doc.currency).replace(" ", "\u00a0"),
            currency=currency,
            words=amount_in_words(abs(doc.closing), doc.currency, doc.language),
        )
    else:
        conclusion = labels["recon_no_debt"].format(seller=doc.seller.name, date=end)
    return {
        "title": labels["recon_title"],
        "subtitle": labels["recon_subtitle"].format(start=short_date(doc.period_start), end=end),
        "between": labels["recon_between"].format(seller=doc.seller.name, buyer=doc.buyer.name),
        "intro": labels["recon_intro"].format(seller=doc.seller.name, buyer=doc.buyer.name),
        "seller_side": labels["recon_side"].format(name=doc.seller.name, currency=currency),
        "buyer_side": labels["recon_side"].format(name=doc.buyer.name, currency=currency),
        "conclusion": conclusion,
    }


def _reconciliation(doc: ReconciliationDocument, fonts: Path | None) -> str:
    if not isinstance(doc, ReconciliationDocument):
        raise TypeError(f"Expected ReconciliationDocument, got {type(doc).__name__}.")
    fonts_css = None
    if fonts is not None:
        fonts_css = {"regular": fonts / FONT_FILES[0], "bold": fonts / FONT_FILES[1]}
    return ENVIRONMENT.get_template("reconciliation.html").render(
        doc=doc,
        t=LABELS[doc.language],
        currency=doc.currency,
        fonts=fonts_css,
        **_reconciliation_context(doc),
    )


def reconciliation_html(doc: ReconciliationDocument) -> str:
    """The reconciliation statement as a standalone printable HTML page."""
    return _reconciliation(doc, None)


def reconciliation_pdf(doc: ReconciliationDocument) -> bytes:
    """The reconciliation statement as an A4 PDF with DejaVu Sans embedded."""
    fonts = font_dir()
    return _pdf(_reconciliation(doc, fonts), fonts)
