"""Issued documents rendered once: issuing queues the PDF, the ``documents.render`` job stores
it, downloads stream the stored file; a payment after issue prints in the next download."""

import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from flask import Flask

from portal import billing
from portal.core.app_state import clock as app_clock
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments, stored_documents
from portal.invoicing.models import Invoice
from portal.platform.jobs.registry import jobs
from tests.web.test_invoice_documents import invoice_day, pdf_text


@pytest.fixture
def renders(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The documents the renderer was asked for (it still renders: a spy, not a stand-in),
    with an empty store."""
    shutil.rmtree(stored_documents.root(), ignore_errors=True)
    calls: list[str] = []
    render = stored_documents._render

    def counting(data):  # type: ignore[no-untyped-def]
        calls.append(data.number)
        return render(data)

    monkeypatch.setattr(stored_documents, "_render", counting)
    yield calls


def _issued(client_account, amount: str = "5000.00") -> Invoice:
    line = billing.charge_line("Хостинг", D(amount), "RUB", line_tax=billing.LineTax(D(22)))
    draft = invoices.create_draft(client_account, [(line, None)])
    db.session.commit()
    assert draft.id not in stored_documents.pending()  # a draft is never queued
    return invoices.issue_invoice(draft, today=invoice_day(draft))


def _stored(invoice: Invoice) -> list[Path]:
    return sorted((stored_documents.root() / str(invoice.id)).glob("*.pdf"))


def test_issuing_queues_the_render_and_downloads_stream_the_stored_file(
    app: Flask, staff_web, client_web, client_account, renders, tmp_path
) -> None:
    client_account.language = "ru"
    db.session.commit()
    invoice = _issued(client_account)
    # issuing rendered nothing; it queued the document
    assert renders == [] and _stored(invoice) == []
    assert stored_documents.pending() == [invoice.id]
    report = jobs()["documents.render"].run(invoice_day(invoice))
    assert report == {"rendered": 1, "failed": 0}
    assert renders == [invoice.number] and stored_documents.pending() == []
    (path,) = _stored(invoice)
    assert path.stat().st_mode & 0o777 == 0o600
    stored = path.read_bytes()
    text = pdf_text(stored)
    assert f"№ {invoice.number}" in text and "Всего к оплате: 6 100,00" in text
    # pdftoppm draws the stored file
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    assert (tmp_path / "p-1.png").stat().st_size > 1000
    # both areas get the stored bytes; the renderer is not called again
    for web, url in (
        (staff_web, f"/admin/billing/invoices/{invoice.id}/pdf"),
        (client_web, f"/invoices/{invoice.id}/pdf"),
    ):
        response = web.get(url)
        assert response.status_code == 200 and response.data == stored, url
    assert renders == [invoice.number]


def test_a_download_before_the_job_renders_and_stores_it(
    app: Flask, staff_web, client_account, renders
) -> None:
    invoice = _issued(client_account)
    url = f"/admin/billing/invoices/{invoice.id}/pdf"
    first = staff_web.get(url).data
    assert renders == [invoice.number] and len(_stored(invoice)) == 1
    assert staff_web.get(url).data == first and renders == [invoice.number]
    # another language is another file, rendered once too
    english = staff_web.get(f"{url}?lang=en").data
    assert english != first and staff_web.get(f"{url}?lang=en").data == english
    assert len(renders) == 2 and len(_stored(invoice)) == 2
    # the queued render finds the client's-language file and does not draw it again
    jobs()["documents.render"].run(invoice_day(invoice))
    assert stored_documents.pending() == [] and len(renders) == 2


def test_a_payment_after_issue_prints_in_the_next_download(
    app: Flask, staff_web, client_web, client_account, renders
) -> None:
    client_account.language = "ru"
    db.session.commit()
    invoice = _issued(client_account)
    jobs()["documents.render"].run(invoice_day(invoice))
    url = f"/invoices/{invoice.id}/pdf"
    assert "Всего к оплате: 6 100,00" in pdf_text(client_web.get(url).data)
    payments.record_payment(
        client_account,
        amount=D("1000.00"),
        method="bank",
        reference="п/п 7",
        payment_date=invoice.issue_date,
        invoices=[invoice],
    )
    text = pdf_text(client_web.get(url).data)
    assert "Оплачено: 1 000,00" in text and "Всего к оплате: 5 100,00" in text
    assert len(renders) == 2 and len(_stored(invoice)) == 2  # the issued version is kept
    payments.record_payment(
        client_account,
        amount=D("5100.00"),
        method="bank",
        reference="п/п 8",
        payment_date=invoice.issue_date,
        invoices=[invoice],
    )
    assert "Счёт оплачен" in pdf_text(
        staff_web.get(f"/admin/billing/invoices/{invoice.id}/pdf").data
    )
    # the act of a paid invoice is stored on its first download
    act = client_web.get(f"/documents/{invoice.id}/act.pdf").data
    assert "Всего (с учётом НДС): 6 100,00" in pdf_text(act)
    assert client_web.get(f"/documents/{invoice.id}/act.pdf").data == act
    assert len(renders) == 4


def test_a_credit_note_is_queued_and_stored_as_a_correction(
    app: Flask, staff_web, client_account, renders
) -> None:
    client_account.language = "ru"
    db.session.commit()
    invoice = _issued(client_account)
    note = credit_notes.issue_credit_note(
        invoice, D("1220.00"), "перерасчёт", today=invoice_day(invoice)
    )
    db.session.commit()
    assert stored_documents.pending() == [invoice.id, note.id]
    assert jobs()["documents.render"].run(invoice_day(note))["rendered"] == 2
    (path,) = _stored(note)
    assert "Сумма корректировки: 1 220,00" in pdf_text(path.read_bytes())
    assert staff_web.get(f"/admin/billing/invoices/{note.id}/pdf").data == path.read_bytes()
    assert len(renders) == 2


def test_a_claimed_render_is_not_rendered_by_a_second_worker(
    app: Flask, client_account, renders
) -> None:
    from portal.core.work_queue import claim_due
    from portal.invoicing.models import DocumentRender

    invoice = _issued(client_account)
    db.session.commit()
    now = app_clock().now()
    # worker A claims the row (and is still rendering it); worker B finds nothing to do
    assert (
        claim_due(
            DocumentRender,
            DocumentRender.next_attempt_at <= now,
            now=now,
            limit=10,
            lease=stored_documents.LEASE,
        )
        != []
    )
    assert stored_documents.render_due(now) == {"rendered": 0, "failed": 0}
    assert renders == []
    # A died: after its lease another worker renders it, once
    later = now + stored_documents.LEASE
    assert stored_documents.render_due(later)["rendered"] == 1
    assert stored_documents.render_due(later)["rendered"] == 0 and renders == [invoice.number]


@pytest.mark.postgres_only
def test_worker_processes_share_a_run_and_render_each_document_once(
    app: Flask, client_account, portal_database_url
) -> None:
    from portal.testing.concurrency import render_documents, run_in_processes

    shutil.rmtree(stored_documents.root(), ignore_errors=True)
    issued = [_issued(client_account, f"{100 + n}.00") for n in range(12)]
    db.session.commit()
    now = app_clock().now().isoformat()
    done = run_in_processes(
        render_documents, [(portal_database_url, app.instance_path, now) for _n in range(3)]
    )
    assert sum(done) == 12  # each document rendered by exactly one process
    assert stored_documents.pending() == []
    for invoice in issued:
        assert len(_stored(invoice)) == 1
