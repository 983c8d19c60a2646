"""Benchmark of the documents: invoice PDFs (and pages) per second, and printable HTML per second.

Usage: ``python bench/documents.py [N]`` (N invoices, default 50). Renders invoice #71475 (one
page, 4 lines) N times, then a 60-line invoice (3 pages) N // 5 times, then the printable HTML N
times. Prints figures only; nothing is asserted. xhtml2pdf renders one document at a time per
process (it holds a lock around ReportLab's global font tables), so more throughput means more
worker processes, not threads.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from decimal import Decimal
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader

from portal.documents import DocumentLine, InvoiceDocument, invoice_html, invoice_pdf
from portal.documents.examples import invoice_71475


def long_invoice(lines: int = 60) -> InvoiceDocument:
    """``lines`` lines at 1 220,00 with 22 % VAT included, as a big client's monthly invoice."""
    line = DocumentLine(
        "Виртуальный сервер «Стандарт» (01.11.2026 - 30.11.2026)",
        Decimal(1),
        "мес.",
        Decimal("1220.00"),
        Decimal("1220.00"),
        Decimal(22),
        Decimal("220.00"),
        ("Оперативная память: 4 x ГБ",),
    )
    total = Decimal("1220.00") * lines
    return dataclasses.replace(
        invoice_71475(),
        lines=(line,) * lines,
        subtotal=total,
        discount=Decimal("0.00"),
        tax_total=Decimal("220.00") * lines,
        total=total,
        amount_due=total,
        tax_inclusive=True,
    )


def bench_pdf(doc: InvoiceDocument, n: int) -> tuple[float, int, int]:
    """Documents per second, pages of one document, bytes of one document."""
    invoice_pdf(doc)  # warm up: templates compiled, modules imported
    started = time.perf_counter()
    for _ in range(n):
        data = invoice_pdf(doc)
    rate = n / (time.perf_counter() - started)
    return rate, len(PdfReader(BytesIO(data)).pages), len(data)


def bench_html(doc: InvoiceDocument, n: int) -> float:
    invoice_html(doc)
    started = time.perf_counter()
    for _ in range(n):
        invoice_html(doc)
    return n / (time.perf_counter() - started)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    print(f"portal.documents, Python {sys.version.split()[0]}")
    for label, doc, count in (
        ("invoice PDF, 4 lines ", invoice_71475(), n),
        ("invoice PDF, 60 lines", long_invoice(), max(n // 5, 1)),
    ):
        rate, pages, size = bench_pdf(doc, count)
        print(
            f"{label}: {count:>5} in {count / rate:6.2f} s = {rate:6.1f} invoices/s, "
            f"{rate * pages:6.1f} pages/s ({pages} page(s), {size / 1024:.0f} KiB each)"
        )
    rate = bench_html(invoice_71475(), n)
    print(f"invoice HTML, 4 lines: {n:>5} in {n / rate:6.2f} s = {rate:8.1f} pages/s")


if __name__ == "__main__":
    main()
