"""The client area's 1C pages and the staff's 1C tab, through the web: organisations with INN/KPP
checked by the portal (errors in the client's language), bases and users (each change queues
the cloud's command), licences with end dates, "ask for more users" on the core's change page
with its preview; everything scoped to the signed-in client, every form with CSRF."""

from __future__ import annotations

from datetime import date

import pytest
from portal_onec import demo
from portal_onec.models import BaseState, InformationBase, Organisation
from portal_onec.organisations import add_base, organisations_of, primary_organisation
from sqlalchemy import select

from portal.plugin_api import (
    RequisitesError,
    add_demo_service,
    session,
    validate_requisites,
)
from portal.testing import actions
from portal.testing.factories import PASSWORD, make_client, make_staff


@pytest.fixture
def tariff(customer, catalogue):
    service = add_demo_service(
        customer, catalogue[demo.TARIFF_START], cycle="monthly", start=date(2026, 11, 1)
    )
    session().commit()
    return service


@pytest.fixture
def browser(app, customer):
    web = app.test_client()
    web.sign_in_client(customer.email, PASSWORD)
    return web


def test_validate_requisites_is_the_cores_check(app) -> None:
    assert validate_requisites(inn=" 7701 234560 ", kpp="770101001") == ("7701234560", "770101001")
    assert validate_requisites(inn="500100732259") == ("500100732259", "")
    with pytest.raises(RequisitesError) as wrong:
        validate_requisites(inn="7701234567", kpp="770101001")
    assert wrong.value.field == "inn"
    with pytest.raises(RequisitesError) as missing:
        validate_requisites(inn="7701234560")
    assert missing.value.field == "kpp"
    with pytest.raises(RequisitesError) as extra:
        validate_requisites(inn="500100732259", kpp="770101001")
    assert extra.value.field == "kpp"


def test_a_client_adds_organisations_with_checked_requisites_in_russian(browser, customer) -> None:
    page = browser.get("/onec/").get_data(as_text=True)
    assert "ООО «Ромашка»" in page and "7701234560" in page
    form = "/onec/organisations/new"
    refused = browser.submit(
        form, {"name": "ООО «Вектор»", "inn": "7812345670", "kpp": "781201001"}
    )
    assert refused.status_code == 200
    assert "Неверные контрольные цифры ИНН" in refused.get_data(as_text=True)
    refused = browser.submit(form, {"name": "ООО «Вектор»", "inn": "7812345675", "kpp": "78120"})
    assert "КПП содержит 9 символов, а не 5." in refused.get_data(as_text=True)
    assert len(organisations_of(customer.id)) == 1
    no_token = browser.post(form, data={"name": "X", "inn": "7812345675", "kpp": "781201001"})
    assert no_token.status_code in (302, 400)
    assert len(organisations_of(customer.id)) == 1

    done = browser.submit(
        form, {"name": "ООО «Вектор»", "inn": "7812345675", "kpp": "781201001", "primary": "y"}
    )
    assert done.status_code == 302
    primary = primary_organisation(customer.id)
    assert (primary.name, primary.inn) == ("ООО «Вектор»", "7812345675")
    assert [o.is_primary for o in organisations_of(customer.id)] == [True, False]


def test_another_clients_organisations_and_bases_are_not_found(
    app, browser, customer, tariff, clock
) -> None:
    stranger = make_client(clock, email="stranger@example.com")
    from portal_onec.organisations import add_organisation

    theirs = add_organisation(stranger, name="ООО «Чужое»", inn="5409123459", kpp="540901001")
    assert browser.get(f"/onec/organisations/{theirs.id}").status_code == 404
    assert "ООО «Чужое»" not in browser.get("/onec/").get_data(as_text=True)
    mine = primary_organisation(customer.id)
    base = add_base(mine, name="Бухгалтерия", configuration="Розница", service=tariff)
    other = app.test_client()
    other.sign_in_client(stranger.email, PASSWORD)
    token_page = "/onec/organisations/new"
    answer = other.submit(f"/onec/bases/{base.id}/users", {"login": "spy"}, form_page=token_page)
    assert answer.status_code == 404
    assert base.accesses == []


def test_a_client_adds_a_base_and_users_which_queues_the_clouds_commands(
    browser, customer, tariff
) -> None:
    page = browser.get("/onec/bases/new").get_data(as_text=True)
    assert "Бухгалтерия предприятия" in page and "Комплексная автоматизация" in page
    organisation = primary_organisation(customer.id)
    answer = browser.submit(
        "/onec/bases/new",
        {
            "organisation_id": organisation.id,
            "name": "Бухгалтерия",
            "configuration": "Бухгалтерия предприятия",
            "service_id": tariff.id,
        },
    )
    assert answer.status_code == 302
    base = session().scalar(select(InformationBase).where(InformationBase.name == "Бухгалтерия"))
    assert base.base_state is BaseState.CREATING
    assert actions.provisioning_tasks()[-1].payload["onec_command"] == "create_base"

    answer = browser.submit(
        f"/onec/bases/{base.id}/users",
        {"login": "ivanova", "full_name": "Иванова Мария"},
        form_page="/onec/",
    )
    assert answer.status_code == 302
    page = browser.get("/onec/").get_data(as_text=True)
    assert "ivanova" in page and "Иванова Мария" in page
    assert actions.provisioning_tasks()[-1].payload["values"]["login"] == "ivanova"
    user = base.users[0]
    browser.submit(f"/onec/bases/{base.id}/users/{user.id}/remove", {}, form_page="/onec/")
    session().refresh(base)
    assert base.users == []
    assert actions.provisioning_tasks()[-1].payload["onec_command"] == "remove_user"


def test_the_tariffs_limits_hold(browser, customer, tariff) -> None:
    """«Старт» allows 2 bases and 5 users: a third base is refused with the reason."""
    organisation = primary_organisation(customer.id)
    for name in ("Первая", "Вторая"):
        add_base(organisation, name=name, configuration="Розница", service=tariff)
    refused = browser.submit(
        "/onec/bases/new",
        {
            "organisation_id": organisation.id,
            "name": "Третья",
            "configuration": "Розница",
            "service_id": tariff.id,
        },
    )
    assert refused.status_code == 200
    assert "2" in refused.get_data(as_text=True)
    assert session().scalar(select(InformationBase).where(InformationBase.name == "Третья")) is None


def test_licences_with_end_dates_and_more_users_through_the_core_preview(
    browser, customer, catalogue, tariff
) -> None:
    its = add_demo_service(customer, catalogue[demo.ITS], cycle="annual", start=date(2026, 3, 1))
    from portal_onec.licences import ensure_licence

    ensure_licence(its).registration_number = "ИТС-42"
    session().commit()
    page = browser.get("/onec/").get_data(as_text=True)
    assert "ИТС-42" in page and "01.03.2027" in page
    more = f"/services/{tariff.id}/change"
    assert f'href="{more}"' in page
    preview = browser.get(
        f"{more}?product_id={catalogue[demo.TARIFF_BUSINESS].id}&cycle=monthly&action=preview"
    ).get_data(as_text=True)
    assert catalogue[demo.TARIFF_BUSINESS].name in preview
    dashboard = browser.get("/").get_data(as_text=True)
    assert 'href="/onec/"' in dashboard


def test_staff_see_the_1c_tab_and_edit_organisations(app, customer, tariff, clock) -> None:
    add_base(
        primary_organisation(customer.id), name="Склад", configuration="Розница", service=tariff
    )
    staff = make_staff(clock)
    web = app.test_client()
    web.sign_in_staff(staff.email)
    card = web.get(f"/admin/clients/{customer.id}").get_data(as_text=True)
    assert f'href="/admin/clients/{customer.id}/tab/onec"' in card
    tab = web.get(f"/admin/clients/{customer.id}/tab/onec").get_data(as_text=True)
    assert "ООО «Ромашка»" in tab and "Склад" in tab and "7701234560" in tab
    organisation = primary_organisation(customer.id)
    url = f"/admin/onec/clients/{customer.id}/organisations/{organisation.id}"
    refused = web.submit(url, {"name": "ООО «Ромашка»", "inn": "7701234560", "kpp": "12"})
    assert refused.status_code == 200 and "invalid-feedback" in refused.get_data(as_text=True)
    saved = web.submit(url, {"name": "ООО «Ромашка+»", "inn": "7701234560", "kpp": "770101002"})
    assert saved.headers["Location"].endswith(f"/admin/clients/{customer.id}/tab/onec")
    session().refresh(organisation)
    assert (organisation.name, organisation.kpp) == ("ООО «Ромашка+»", "770101002")

    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get(f"/admin/clients/{customer.id}/tab/onec").status_code == 200
    assert web.get(url).status_code == 403
    assert session().scalar(select(Organisation.name).where(Organisation.id == organisation.id))


def test_the_demo_is_idempotent_with_two_organisations_bases_and_licences(app) -> None:
    from portal.plugin_api import Client

    today = date(2026, 11, 2)
    assert demo.load(today) == demo.load(today)
    client = session().scalar(select(Client).where(Client.email == demo.EMAIL))
    organisations = organisations_of(client.id)
    assert len(organisations) == 2 and organisations[0].is_primary
    for organisation in organisations:
        assert validate_requisites(inn=organisation.inn, kpp=organisation.kpp)
    from portal_onec.licences import licences_of
    from portal_onec.organisations import bases_of

    bases = bases_of(client.id)
    assert len(bases) == 3 and all(b.users for b in bases)
    licences = licences_of(client.id)
    assert {x.product_line for x in licences} == {"1С:ИТС", "1С-Отчётность"}
    its = next(x for x in licences if x.product_line == "1С:ИТС")
    assert 0 < (its.service.next_due_date - today).days <= 60  # in its renewal window


def test_a_merged_clients_organisations_bases_and_users_follow(
    app, customer, catalogue, tariff, clock
) -> None:
    from portal_onec.organisations import add_organisation, bases_of, grant_access, users_of

    source = make_client(clock, email="old-account@example.com")
    same = add_organisation(source, name="ООО «Ромашка»", inn="7701234560", kpp="770101001")
    other = add_organisation(source, name="ООО «Вектор»", inn="7812345675", kpp="781201001")
    theirs = add_demo_service(
        source, catalogue[demo.TARIFF_BUSINESS], cycle="monthly", start=date(2026, 11, 1)
    )
    session().commit()
    base = add_base(same, name="Старая база", configuration="Розница", service=theirs)
    grant_access(base, login="ivanova")
    mine = add_base(
        primary_organisation(customer.id), name="Новая", configuration="Розница", service=tariff
    )
    grant_access(mine, login="ivanova")
    actions.merge_clients(customer, source)
    organisations = organisations_of(customer.id)
    assert [(o.name, o.is_primary) for o in organisations] == [
        ("ООО «Ромашка»", True),
        ("ООО «Вектор»", False),
    ]
    assert other.id in {o.id for o in organisations}
    assert {b.name for b in bases_of(customer.id)} == {"Старая база", "Новая"}
    [user] = users_of(customer.id)
    assert {a.base.name for a in user.accesses} == {"Старая база", "Новая"}


def test_product_fields_and_settings_are_checked(app) -> None:
    from portal_onec.settings import OnecProductForm, OnecSettings
    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        fields = {
            "kind": "licence",
            "product_line": "",
            "bases_limit": "0",
            "sessions_limit": "0",
            "renewal_window_days": "70",
            "inactivity_days": "30",
        }
        form = OnecProductForm(MultiDict(fields), meta={"csrf": False})
        assert not form.validate()
        assert set(form.errors) == {"product_line", "renewal_window_days"}
        fields.update(product_line="1С:ИТС", renewal_window_days="40")
        assert OnecProductForm(MultiDict(fields), meta={"csrf": False}).validate()
        settings = OnecSettings(
            MultiDict({"backend": "http", "url": "", "timeout": "30", "department": ""}),
            meta={"csrf": False},
        )
        assert not settings.validate() and set(settings.errors) == {"url"}
        settings = OnecSettings(
            MultiDict({"backend": "http", "url": "http://127.0.0.1:9/api", "timeout": "30"}),
            meta={"csrf": False},
        )
        settings.department.data = ""
        assert settings.validate(), settings.errors
