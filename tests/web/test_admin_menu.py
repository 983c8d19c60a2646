"""The admin menu is built once per process, language and set of permissions
(portal.platform.admin.home.menu): a changed role and another language still get their own."""

import re

from portal.accounts.models import Permission
from portal.core.extensions import db
from portal.testing.factories import make_staff


def _links(web, language: str) -> list[str]:
    page = web.get("/admin/", headers={"Accept-Language": language}).get_data(as_text=True)
    menu = page[page.index('id="admin-menu"') : page.index("header-counters")]
    return re.findall(r'class="dropdown-item" href="[^"]*">([^<]+)</a>', menu)


def test_the_menu_follows_the_role_and_the_language(app, clock) -> None:
    staff = make_staff(clock, role="support", first_name="Саппорт")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    assert "Roles" not in _links(web, "en")
    assert "Роли" not in _links(web, "ru")
    role = staff.role
    role.permission_names = [*role.permission_names, Permission.STAFF_MANAGE.value]
    db.session.commit()
    assert "Roles" in _links(web, "en")
    assert "Роли" in _links(web, "ru")
    assert "Roles" not in _links(web, "ru")
