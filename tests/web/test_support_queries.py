"""Support pages cost the same number of SQL queries with many tickets and messages as with few."""

from portal.core.extensions import db
from portal.support import attachments, tickets
from portal.support.models import Ticket
from portal.testing.factories import make_client, make_staff
from portal.testing.queries import counted
from tests.fixtures.mail.desk import make_desk


def _grow(desk, clock, staff, count: int) -> int:
    first = None
    for n in range(count):
        client = make_client(clock) if n % 2 else desk.client
        ticket = tickets.open_ticket(
            subject=f"Вопрос {n}",
            body="текст",
            client=client,
            department_id=desk.support.id,
            uploads=[attachments.Upload(f"скан{n}.png", b"png")],
        )
        tickets.update_ticket(ticket, staff, {"assigned_staff_id": staff.id, "tags": f"t{n}, x"})
        tickets.staff_reply(ticket, staff, f"Ответ {n}")
        tickets.add_note(ticket, staff, f"Заметка {n}")
        tickets.client_reply(ticket, body="ещё", author_name="Иван", author_email="i@x.example")
        first = first or ticket.id
    return first  # type: ignore[return-value]


def _pages(web, client_web, ticket_id: int, reference: str, client_id: int) -> dict[str, int]:
    urls = {
        "awaiting": (web, "/admin/support"),
        "all": (web, "/admin/support?queue=all&q=Вопрос"),
        "ticket": (web, f"/admin/support/{ticket_id}"),
        "client card tickets": (web, f"/admin/clients/{client_id}/tickets"),
        "client list": (client_web, "/tickets"),
        "client ticket": (client_web, f"/tickets/{reference}"),
    }
    counts = {}
    for name, (who, url) in urls.items():
        with counted() as statements:
            response = who.get(url)
            assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    return counts


def test_query_counts_do_not_grow(app, clock, staff_web, staff_member) -> None:
    desk = make_desk(clock)
    other_staff = make_staff(clock)
    client_web = app.test_client()
    client_web.sign_in_client(desk.client.email)
    first = _grow(desk, clock, staff_member, 4)
    reference = db.session.get(Ticket, first).reference
    small = _pages(staff_web, client_web, first, reference, desk.client.id)
    _grow(desk, clock, other_staff, 30)
    first_ticket = db.session.get(Ticket, first)
    for n in range(20):  # a long conversation on the first ticket
        tickets.client_reply(
            first_ticket,
            body=f"ещё {n}",
            author_name="Иван",
            author_email="ivan@romashka.example",
            uploads=[attachments.Upload(f"лог{n}.txt", b"log")],
        )
        tickets.staff_reply(first_ticket, other_staff, f"ответ {n}")
    large = _pages(staff_web, client_web, first, reference, desk.client.id)
    assert large == small
