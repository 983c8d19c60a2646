"""The client dashboard: what a client comes for (services, invoices to pay, open tickets, credit,
recent documents, quick actions), in Russian with Babel's figures, in as many queries with a
long history as with a short one, and helpful empty states only when there is nothing."""

from contextlib import contextmanager

from sqlalchemy import event

from portal.core.extensions import db
from portal.testing.factories import make_client
from tests.fixtures.dashboard import fill

RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}
EMPTY_STATES = ('id="nothing-to-pay"', 'id="no-services"', 'id="no-tickets"', 'id="no-documents"')


@contextmanager
def counted():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_the_dashboard_shows_everything_in_russian(client_web, client_account, clock) -> None:
    fill(client_account, clock, 0, 3)
    page = client_web.get("/", headers=RUSSIAN).get_data(as_text=True)
    for empty in EMPTY_STATES:
        assert empty not in page  # data exists: no "nothing" anywhere
    services = page.split('id="dashboard-services"')[1].split("</table>")[0]
    assert "Облачный сервер №0" in services and "Активно" in services
    assert "07.11.2026" in services and "1\xa0234,50\xa0₽" in services  # 2 Nov + 5 days
    unpaid = page.split('id="unpaid-invoices"')[1].split("</ul>")[0]
    assert "2026-Н00000" in unpaid and "12\xa0000,00\xa0₽" in unpaid  # the balance due
    assert "просрочен с 23.10.2026" in unpaid  # n=1 issued 20 days ago, due 10 days later
    assert unpaid.count("pay-invoice") == 3 and "Итого к оплате" in unpaid
    assert "36\xa0000,00\xa0₽" in unpaid  # three balances
    assert 'id="pay-all-due"' in page
    tickets = page.split('id="dashboard-tickets"')[1].split("</ul>")[0]
    assert "#T000001" in tickets and "Поддержка ответила" in tickets
    assert "Ждёт ответа поддержки" in tickets
    credit = page.split('id="dashboard-credit-card"')[1].split("</ul>")[0]
    assert "3\xa0000,75\xa0₽" in credit and "31,50\xa0$" in credit
    documents = page.split('id="dashboard-documents"')[1]
    assert "Документы с 01.10.2026" in documents
    assert "Акт № 2026-П00000" in documents and "/documents/" in documents
    assert "Счёт 2026-Н00000" in documents and "/pdf" in documents
    assert "Заказать услугу" in page and "Открыть тикет" in page and "Пополнить баланс" in page


def test_an_empty_dashboard_says_what_to_do(client_web) -> None:
    page = client_web.get("/", headers=RUSSIAN).get_data(as_text=True)
    for empty in EMPTY_STATES:
        assert empty in page
    assert 'id="pay-all-due"' not in page and 'id="dashboard-credit"' in page
    assert "Выберите в каталоге" in page


def test_another_clients_data_stays_out(client_web, client_account, clock) -> None:
    other = make_client(clock, email="other@example.ru")
    db.session.commit()
    fill(other, clock, 0, 2)
    page = client_web.get("/", headers=RUSSIAN).get_data(as_text=True)
    for empty in EMPTY_STATES:
        assert empty in page
    assert "2026-Н00000" not in page and "T000000" not in page


def test_queries_do_not_grow_with_the_data(client_web, client_account, clock) -> None:
    fill(client_account, clock, 0, 2)
    with counted() as small:
        assert client_web.get("/").status_code == 200
    fill(client_account, clock, 2, 60)
    with counted() as large:
        page = client_web.get("/", headers=RUSSIAN).get_data(as_text=True)
    assert len(large) == len(small)
    assert "Все услуги (62)" in page and "Все тикеты (62)" in page
    assert page.count('data-invoice="') == 5  # the first five, the rest behind "All invoices"
