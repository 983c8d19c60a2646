"""Ids are never reused: a client created after a merge gets a new id, not the merged one's,
so it does not inherit the merged client's audit history (SQLite AUTOINCREMENT, migration 0016;
PostgreSQL never reuses sequence values)."""

from sqlalchemy import select

from portal.accounts.models import AuditEntry, Client
from portal.core.extensions import db
from portal.testing.factories import make_client


def test_a_client_created_after_a_merge_gets_a_new_id_and_no_history(staff_web, clock) -> None:
    target = make_client(clock, first_name="Главный")
    source = make_client(clock, first_name="Дубль", company="ООО Дубль")  # the highest id
    target_id, source_id = target.id, source.id
    staff_web.submit(f"/admin/clients/{source_id}/notes", {"body": "звонил про счёт Дубля"})
    source_log = staff_web.get(f"/admin/clients/{source_id}/log").get_data(as_text=True)
    assert "added a note" in source_log  # the history that must not pass to a newcomer

    url = f"/admin/clients/{target_id}"
    merged = staff_web.submit(
        f"{url}/merge", {"source_id": source_id, "confirm": "y"}, form_page=url
    )
    assert merged.status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, source_id) is None

    newcomer = make_client(clock, first_name="Новый")
    assert newcomer.id > source_id
    log = staff_web.get(f"/admin/clients/{newcomer.id}/log").get_data(as_text=True)
    assert "added a note" not in log and "звонил" not in log
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.client_id == newcomer.id))
    assert {entry.action for entry in entries} <= {"client.register", "client.create"}


def test_a_client_created_after_a_delete_gets_a_new_id(staff_web, clock) -> None:
    gone = make_client(clock, first_name="Удалённый")
    gone_id = gone.id
    url = f"/admin/clients/{gone_id}"
    assert staff_web.submit(f"{url}/delete", {}, form_page=url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, gone_id) is None
    assert make_client(clock).id > gone_id
