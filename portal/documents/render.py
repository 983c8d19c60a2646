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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.billing import DocumentFigures, PriceBasis
from portal.billing.money import scale
from portal.documents.data import (
    ActDocument,
    CorrectionDocument,
    InvoiceDocument,
    ReconciliationDocument,
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


#: Where the shell serves :func:`browser_stylesheet` (portal/web/security_headers.py).
BROWSER_STYLESHEET = "/assets/document.css"


def browser_stylesheet() -> str:
    """The documents' styles for their printable pages in a browser, which the Content-Security-
    Policy forbids inline (the PDFs keep theirs inline, with the embedded fonts)."""
    return ENVIRONMENT.get_template("_browser.css").render()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["BROWSER_STYLESHEET"] = BROWSER_STYLESHEET
    env.filters.update(
        money=format_money,
        price=format_price,
        quantity=format_quantity,
        percent=format_percent,
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


def _total_rows(figures: DocumentFigures, labels: Mapping[str, str]) -> list[TotalRow]:
    """ "Итого", the VAT per rate and, for a mixed document, "Всего с НДС" (see
    ``portal.billing.document_lines`` for the three bases)."""
    money = partial(format_money, currency=figures.currency)
    mixed = figures.basis is PriceBasis.MIXED
    rows = [TotalRow(labels["subtotal_net" if mixed else "subtotal"], money(figures.printed_sum))]
    if not figures.tax_by_rate:
        rows.append(TotalRow(labels["no_vat"], labels["no_vat_value"]))
    key = "vat_included" if figures.basis is PriceBasis.INCLUSIVE else "vat_added"
    rows += [
        TotalRow(labels[key].format(rate=format_percent(rate)), money(tax))
        for rate, tax in figures.tax_by_rate
    ]
    if mixed:
        rows.append(TotalRow(labels["total_with_vat"], money(figures.gross)))
    return rows


def _purpose(doc: InvoiceDocument, labels: Mapping[str, str], currency_name: str) -> str:
    """The payment purpose to quote: the document's own, or one naming number, date, the amount
    due and the VAT in it (the invoice's VAT when all of it is due, its share otherwise)."""
    if doc.payment_purpose:
        return doc.payment_purpose
    rates = doc.figures.tax_by_rate
    if rates:
        tax = ", ".join(
            labels["purpose_vat"].format(
                rate=format_percent(rate),
                amount=format_money(
                    amount
                    if doc.amount_due == doc.total or not doc.total
                    else scale(amount, doc.amount_due, doc.total, doc.currency),
                    doc.currency,
                ),
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
    return _sentence(text)


def _sentence(text: str) -> str:
    """``text`` ending with one full stop: "руб." and "г." already end a sentence."""
    return text if text.endswith(".") else f"{text}."


def _invoice_context(doc: InvoiceDocument) -> dict[str, Any]:
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    money = partial(format_money, currency=doc.currency)
    rows = _total_rows(doc.figures, labels)
    received = doc.credit_applied or doc.amount_paid
    if (
        received
        and doc.total != doc.figures.printed_sum
        and doc.figures.basis is not PriceBasis.MIXED
    ):
        rows.append(TotalRow(labels["total"], money(doc.total)))
    if doc.credit_applied:
        rows.append(TotalRow(labels["credit_applied"], money(doc.credit_applied)))
    if doc.amount_paid:
        rows.append(TotalRow(labels["amount_paid"], money(doc.amount_paid)))
    rows.append(TotalRow(labels["total_due"], money(doc.amount_due), strong=True))
    summary_key = "items_summary_due" if doc.amount_due != doc.total else "items_summary"
    settled = doc.amount_due == 0 and doc.total > 0
    paid = ""
    if settled:
        paid = (
            _sentence(labels["paid_on"].format(date=long_date(doc.paid_date, doc.language)))
            if doc.paid_date
            else labels["paid"]
        )
    return {
        "title": labels["invoice_title"].format(
            number=doc.number, date=long_date(doc.issue_date, doc.language)
        ),
        "totals": rows,
        "summary": labels[summary_key].format(
            count=len(doc.lines),
            amount=money(doc.total),
            due=money(doc.amount_due),
            currency=currency,
        ),
        # the invoice's sum: "Ноль рублей" for a paid invoice would say it cost nothing
        "in_words": amount_in_words(doc.total, doc.currency, doc.language),
        "paid": paid,
        "pay_by": ""
        if settled
        else labels["pay_by"].format(date=long_date(doc.due_date, doc.language)),
        "purpose": "" if settled else _purpose(doc, labels, currency),
        "discount_note": labels["discount_note"].format(
            amount=money(doc.discount), currency=currency
        )
        if doc.discount
        else "",
    }


def _act_context(doc: ActDocument) -> dict[str, Any]:
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    rows = _total_rows(doc.figures, labels)
    if doc.total != doc.figures.printed_sum and doc.figures.basis is not PriceBasis.MIXED:
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


def _correction_context(doc: CorrectionDocument) -> dict[str, Any]:
    labels = LABELS[doc.language]
    currency = currency_label(doc.currency, doc.language)
    money = partial(format_money, currency=doc.currency)
    rows = _total_rows(doc.figures, labels)
    rows.append(TotalRow(labels["correction_total"], money(doc.total), strong=True))
    original = {
        "number": doc.original_number,
        "date": long_date(doc.original_date, doc.language),
    }
    return {
        "title": labels["correction_title"].format(
            number=doc.number, date=long_date(doc.issue_date, doc.language)
        ),
        "basis": labels["correction_basis"].format(**original),
        "totals": rows,
        "summary": labels["correction_summary"].format(
            count=len(doc.lines), amount=money(doc.total), currency=currency
        ),
        "in_words": amount_in_words(doc.total, doc.currency, doc.language),
        "statement": _sentence(
            labels["correction_statement"].format(
                **original, amount=money(doc.total), currency=currency
            )
        ),
    }


Document = InvoiceDocument | ActDocument | CorrectionDocument

_TEMPLATES: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    InvoiceDocument: ("invoice.html", _invoice_context),
    ActDocument: ("act.html", _act_context),
    CorrectionDocument: ("correction.html", _correction_context),
}


def _render(doc: Document, kind: type, fonts: Path | None) -> str:
    """The template for ``doc``; ``fonts`` is the font directory when the HTML is for a PDF."""
    if not isinstance(doc, kind):
        raise TypeError(f"Expected {kind.__name__}, got {type(doc).__name__}.")
    template, make_context = _TEMPLATES[kind]
    context = make_context(doc)
    fonts_css = None
    if fonts is not None:
        fonts_css = {"regular": fonts / FONT_FILES[0], "bold": fonts / FONT_FILES[1]}
    return ENVIRONMENT.get_template(template).render(
        doc=doc,
        rows=list(zip(doc.lines, doc.figures.lines, strict=True)),
        mixed=doc.figures.basis is PriceBasis.MIXED,
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


def correction_html(doc: CorrectionDocument) -> str:
    """The correction (credit note) as a standalone printable HTML page."""
    return _render(doc, CorrectionDocument, None)


def correction_pdf(doc: CorrectionDocument) -> bytes:
    """The correction (credit note) as an A4 PDF with DejaVu Sans embedded."""
    fonts = font_dir()
    return _pdf(_render(doc, CorrectionDocument, fonts), fonts)


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
