"""The client list and card cost the same number of SQL queries with 10 000 clients as with 10."""

from datetime import UTC, datetime

import sqlalchemy as sa

from portal.accounts.models import Client, ClientGroup, Contact, Note
from portal.core.extensions import db
from portal.testing.queries import counted


def _add_clients(start: int, count: int, staff_id: int, group_id: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "email": f"bulk{n}@example.com",
            "first_name": f"Клиент{n}",
            "last_name": "",
            "company": f"ООО Компания {n}",
            "password_hash": "x",
            "session_token": f"t{n}",
            "created_at": now,
            "manager_id": staff_id,
            "group_id": group_id,
        }
        for n in range(start, start + count)
    ]
    db.session.execute(sa.insert(Client), rows)
    db.session.commit()


def _pages(staff_web, client_id: int) -> dict[str, int]:
    urls = {
        "list": "/admin/clients",
        "list sorted and filtered": "/admin/clients?sort=company&dir=asc&status=active&q=ООО",
        "summary": f"/admin/clients/{client_id}",
        "profile": f"/admin/clients/{client_id}/profile",
        "contacts": f"/admin/clients/{client_id}/contacts",
        "notes": f"/admin/clients/{client_id}/notes",
    }
    counts = {}
    for name, url in urls.items():
        with counted() as statements:
            assert staff_web.get(url).status_code == 200
        counts[name] = len(statements)
    return counts


def test_query_counts_do_not_grow_with_the_data(staff_web, staff_member, clock) -> None:
    group = ClientGroup(name="VIP")
    db.session.add(group)
    db.session.commit()
    _add_clients(0, 10, staff_member.id, group.id)
    first = db.session.scalar(sa.select(Client.id).order_by(Client.id))
    for n in range(3):
        db.session.add(
            Contact(
                client_id=first, first_name=f"К{n}", email=f"c{n}@x.example", created_at=clock.now()
            )
        )
        db.session.add(
            Note(
                client_id=first,
                body=f"n{n}",
                important=True,
                author_id=staff_member.id,
                created_at=clock.now(),
            )
        )
    db.session.commit()
    small = _pages(staff_web, first)

    _add_clients(10, 9_990, staff_member.id, group.id)
    for n in range(3, 40):
        db.session.add(
            Contact(
                client_id=first, first_name=f"К{n}", email=f"c{n}@x.example", created_at=clock.now()
            )
        )
        db.session.add(
            Note(
                client_id=first,
                body=f"n{n}",
                important=True,
                author_id=staff_member.id,
                created_at=clock.now(),
            )
        )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 10_000
    large = _pages(staff_web, first)
    assert large == small
    page = staff_web.get("/admin/clients").get_data(as_text=True)
    assert "10000 in total" in page
