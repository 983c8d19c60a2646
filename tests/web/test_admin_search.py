"""The admin search boxes (portal/platform/search.py): parts of names, companies, e-mails, phones
and INNs in any case; identifiers typed whole take the exact path; LIKE wildcards are literal;
blank and overlong text; and, on PostgreSQL, the trigram indexes serve the search."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from portal import billing
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.invoicing import bank_statements, invoices
from portal.invoicing.models import Invoice
from portal.platform import search
from portal.support import tickets
from portal.testing.factories import make_client, make_department

TODAY = date(2026, 11, 2)


def _found_clients(staff_web, query: str) -> set[int]:
    response = staff_web.get("/admin/clients", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {int(n) for n in re.findall(r'href="/admin/clients/(\d+)"', page)}


def _issued(client: Client) -> Invoice:
    draft = invoices.create_draft(
        client, [(billing.charge_line("Диск 5 ГБ", Decimal("860.00"), "RUB"), None)]
    )
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


@pytest.fixture
def people(app, clock) -> dict[str, Client]:
    found = {
        "ivan": make_client(
            clock,
            first_name="Иван",
            last_name="Петров",
            company="ООО «Ромашка»",
            email="ivan.petrov@romashka.example",
        ),
        "anna": make_client(
            clock,
            first_name="Анна",
            last_name="Сидорова",
            company="100% Скидка",
            email="a_b@shop.example",
        ),
        "boris": make_client(
            clock,
            first_name="Борис",
            last_name="Петровский",
            company="1000 Скидок",
            email="axb@shop.example",
        ),
    }
    found["ivan"].phone, found["ivan"].inn = "+7 (495) 123-45-67", "7707083893"
    found["anna"].inn = "770708389312"  # contains Ivan's INN
    found["boris"].phone = "+7 916 555-00-11"
    db.session.commit()
    return found


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("иван", {"ivan"}),  # first name, other case
        ("ПЕТРОВ", {"ivan", "boris"}),  # last name (Петровский contains it)
        ("ромаш", {"ivan"}),  # company, Cyrillic, lower case
        ("romashka.EXAMPLE", {"ivan"}),  # part of an e-mail
        ("123-45", {"ivan"}),  # part of a phone as stored
        ("0708389", {"ivan", "anna"}),  # part of an INN
        ("Иван Петров", {"ivan"}),  # every word somewhere
        ("Петров Ромашка", {"ivan"}),
        ("скид", {"anna", "boris"}),
    ],
)
def test_parts_of_names_companies_emails_phones_and_inns(
    staff_web, people, query: str, expected: set[str]
) -> None:
    assert _found_clients(staff_web, query) == {people[name].id for name in expected}


def test_identifiers_typed_whole_take_the_exact_path(staff_web, people, clock) -> None:
    ivan, anna = people["ivan"], people["anna"]
    assert _found_clients(staff_web, f"#{anna.id}") == {anna.id}
    assert _found_clients(staff_web, "#99999999999") == set()
    # the exact e-mail, though another address contains it
    make_client(clock, email="xivan.petrov@romashka.example")
    assert _found_clients(staff_web, "Ivan.Petrov@Romashka.example") == {ivan.id}
    # a whole INN: Anna's 12-digit INN contains Ivan's 10 digits, the exact path ignores it
    assert _found_clients(staff_web, "7707083893") == {ivan.id}
    assert _found_clients(staff_web, "770708389312") == {anna.id}
    # an invoice number finds the client it was issued to
    invoice = _issued(anna)
    assert _found_clients(staff_web, invoice.number) == {anna.id}
    # a 10-digit number that is no INN is searched as text (a phone without formatting, say)
    assert _found_clients(staff_web, "9165550011") == set()


def test_like_wildcards_are_literal(staff_web, people) -> None:
    assert _found_clients(staff_web, "100%") == {people["anna"].id}
    assert _found_clients(staff_web, "a_b") == {people["anna"].id}
    assert _found_clients(staff_web, "%") == {people["anna"].id}
    assert _found_clients(staff_web, "\\") == set()


def test_blank_and_overlong_text(staff_web, people) -> None:
    everyone = {client.id for client in people.values()}
    assert _found_clients(staff_web, "") == everyone
    assert _found_clients(staff_web, "   ") == everyone
    long = "я" * (search.MAX_LENGTH + 1)
    response = staff_web.get("/admin/clients", query_string={"q": long})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The search text is too long" in page
    assert not re.findall(r'href="/admin/clients/(\d+)"', page)
    russian = staff_web.get(
        "/admin/clients", query_string={"q": long}, headers={"Accept-Language": "ru"}
    ).get_data(as_text=True)
    assert "Слишком длинный текст поиска" in russian
    for url in ("/admin/billing/invoices", "/admin/support", "/admin/services"):
        response = staff_web.get(url, query_string={"q": long})
        assert response.status_code == 200, url
        assert "The search text is too long" in response.get_data(as_text=True), url
    many_words = " ".join(["Иван"] * 10)  # past MAX_WORDS, within MAX_LENGTH
    assert _found_clients(staff_web, many_words) == {people["ivan"].id}


def test_invoice_list_by_number_part_of_number_and_client(staff_web, people) -> None:
    first, second = _issued(people["ivan"]), _issued(people["anna"])

    def found(query: str) -> set[int]:
        response = staff_web.get("/admin/billing/invoices", query_string={"q": query})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/admin/billing/invoices/(\d+)"', page)}

    assert found(first.number) == {first.id}
    assert found(second.number.lower()) == {second.id}
    assert found(first.number[-3:]) >= {first.id}
    assert found("ромашка") == {first.id}
    assert found(f"#{people['anna'].id}") == {second.id}
    assert found("%") == {second.id}  # Anna's company is "100% Скидка"


def test_tickets_by_subject_client_and_literal_wildcards(app, staff_web, people) -> None:
    desk = make_department("Поддержка")
    db.session.commit()
    about_vat = tickets.open_ticket(
        subject="Вопрос про НДС 22%", body="?", department_id=desk.id, client=people["ivan"]
    )
    other = tickets.open_ticket(
        subject="Другое", body="?", department_id=desk.id, client=people["boris"]
    )
    db.session.commit()

    def found(query: str) -> set[int]:
        response = staff_web.get("/admin/support", query_string={"queue": "all", "q": query})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/admin/support/(\d+)"', page)}

    assert found("ндс 22%") == {about_vat.id}
    assert found("ромашка") == {about_vat.id}
    assert found("петровский") == {other.id}
    assert found("2_%") == set()


def test_bank_statement_link_box_uses_the_same_search(app, people) -> None:
    assert [c.id for c in bank_statements.find_clients("ромашка")] == [people["ivan"].id]
    assert bank_statements.find_clients("%") == [people["anna"]]
    assert bank_statements.find_clients("я" * 500) == []


def test_postgresql_searches_through_the_trigram_indexes(app, people) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    indexes = set(
        db.session.scalars(
            text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")
        )
    )
    assert {
        "ix_client_search_first_name",
        "ix_client_search_company",
        "ix_client_search_email",
        "ix_client_search_phone",
        "ix_client_search_inn",
        "ix_invoice_search_number",
        "ix_ticket_search_subject",
    } <= indexes
    stmt = select(Client.id).where(search.client_condition(search.parse("ромашка")))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {sql}")))
    assert "ix_client_search_company" in plan and "Seq Scan" not in plan
