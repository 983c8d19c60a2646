"""Staff tariff administration through the web: tariffs, the destinations CSV (per-row Russian
errors, nothing saved on error), versioned rates, minutes packages, client terms with
4-decimal coefficients, PBX tokens shown once and revoked; permissions and CSRF on each."""

from __future__ import annotations

import io
from decimal import Decimal

from portal_telephony import demo
from portal_telephony.rating_models import (
    ClientTerms,
    Destination,
    IncludedMinutes,
    Pbx,
    Prefix,
    Rate,
    Tariff,
)
from portal_telephony.rating_views import pbx_for
from portal_telephony.tariff_admin import parse_destinations
from sqlalchemy import func, select

from portal.plugin_api import session
from portal.testing.factories import PASSWORD, make_client, make_staff

D = Decimal
CSV = "name,group,prefixes\nМосква,local,7495 7499\nМобильные,mobile,79\nМТС Москва,mobile,7916\n"


def count(model) -> int:
    return session().scalar(select(func.count()).select_from(model))


def staff_web(app, clock, role="administrator"):
    staff = make_staff(clock, role=role, email=f"{role}@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    web.submit("/language", {"language": "ru", "next": "/admin/"}, form_page="/admin/")
    return web


def new_tariff(web, name="Базовый") -> Tariff:
    sent = web.submit(
        "/admin/telephony/tariffs",
        {
            "name": name,
            "free_under": "3",
            "night_start": "22:00",
            "night_end": "08:00",
            "time_zone": "Europe/Moscow",
            "is_default": "y",
        },
        form_page="/admin/telephony/tariffs",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    return session().scalar(select(Tariff).where(Tariff.name == name))


def upload(web, tariff, text):
    return web.submit(
        f"/admin/telephony/tariffs/{tariff.id}/destinations",
        {"file": (io.BytesIO(text.encode()), "d.csv")},
        form_page=f"/admin/telephony/tariffs/{tariff.id}",
        content_type="multipart/form-data",
    )


def test_the_parser_reports_each_bad_line_in_russian(app) -> None:
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        parsed = parse_destinations(
            "name;group;prefixes\nМосква;local;7495\n;local;7499\nМобильные;mobile;79x\n"
            "Москва;local;7812\nПитер;local;7495\n"
        )
    assert parsed.errors == [
        "Строка 3: у направления должны быть название и префиксы.",
        "Строка 4: префикс — только цифры, не больше 15: 79x.",
        "Строка 5: «Москва» уже есть в строке 2.",
        "Строка 6: префикс 7495 уже есть в строке 2.",
    ]
    assert parse_destinations("a,b\n1,2\n").errors and not parse_destinations(CSV).errors
    assert parse_destinations(CSV).rows[0] == ("Москва", "local", ["7495", "7499"])


def test_tariff_destinations_and_versioned_rates(app, clock) -> None:
    web = staff_web(app, clock)
    tariff = new_tariff(web)
    assert tariff.is_default and tariff.free_under == 3
    assert web.post("/admin/telephony/tariffs", data={"name": "x"}).status_code == 400  # CSRF
    twice = web.submit(
        "/admin/telephony/tariffs",
        {
            "name": "Базовый",
            "free_under": "3",
            "night_start": "25:00",
            "night_end": "08:00",
            "time_zone": "UTC",
        },
        form_page="/admin/telephony/tariffs",
    ).get_data(as_text=True)
    assert "Введите время в виде ЧЧ:ММ." in twice and count(Tariff) == 1

    bad = upload(web, tariff, CSV + "Плохое,mobile,79a\n")
    assert bad.status_code == 200
    assert "Строка 5: префикс — только цифры" in bad.get_data(as_text=True)
    assert count(Destination) == 0 and count(Prefix) == 0  # nothing saved on error
    assert upload(web, tariff, CSV).status_code == 302
    assert count(Destination) == 3 and count(Prefix) == 4
    page = web.get(f"/admin/telephony/tariffs/{tariff.id}").get_data(as_text=True)
    assert "МТС Москва" in page and "7495 7499" in page

    moscow = session().scalar(select(Destination).where(Destination.name == "Москва"))
    url = f"/admin/telephony/destinations/{moscow.id}"
    rate = {
        "effective_from": "2026-01-01",
        "per_minute": "1.50",
        "connect_fee": "0.25",
        "first_increment": "60",
        "next_increment": "1",
        "minimum_charge": "0",
        "night_per_minute": "0.75",
        "weekend_per_minute": "",
    }
    assert web.submit(url + "/rates", rate, form_page=url).status_code == 302
    again = web.submit(url + "/rates", {**rate, "per_minute": "2"}, form_page=url)
    assert "Ставка с этой даты уже есть" in again.get_data(as_text=True)
    negative = web.submit(
        url + "/rates", {**rate, "effective_from": "2026-02-01", "per_minute": "-1"}, form_page=url
    )
    assert "Введите число цифрами, например 1500 или 1500,50" in negative.get_data(as_text=True)
    assert (
        web.submit(
            url + "/rates",
            {**rate, "effective_from": "2026-03-01", "per_minute": "1,7000"},
            form_page=url,
        ).status_code
        == 302
    )
    rates = session().scalars(select(Rate).order_by(Rate.effective_from)).all()
    assert [r.per_minute for r in rates] == [D("1.5"), D("1.7")]  # the older one kept as it was
    assert rates[0].connect_fee == D("0.25") and rates[0].night_per_minute == D("0.75")
    assert rates[0].weekend_per_minute is None and rates[0].next_increment == 1

    # a re-upload keeps the rates and changes the prefixes
    assert upload(web, tariff, "name,group,prefixes\nМосква,city,7495\n").status_code == 302
    session().expire_all()
    assert session().get(Destination, moscow.id).group_name == "city" and count(Rate) == 2
    assert count(Prefix) == 3


def test_packages_terms_and_tokens(app, clock, catalogue, customer) -> None:
    web = staff_web(app, clock)
    plan = catalogue[demo.DEPARTMENT]
    sent = web.submit(
        "/admin/telephony/packages",
        {"product": str(plan.id), "minutes": "300", "groups": "local, mobile"},
        form_page="/admin/telephony/packages",
    )
    assert sent.status_code == 302
    package = session().scalar(select(IncludedMinutes))
    assert (package.product_id, package.minutes, package.groups) == (plan.id, 300, "local,mobile")
    web.submit(
        f"/admin/telephony/packages/{package.id}/delete", {}, form_page="/admin/telephony/packages"
    )
    assert count(IncludedMinutes) == 0

    url = f"/admin/telephony/clients/{customer.id}/terms"
    terms = {
        "tariff": "0",
        "coefficient_recurring": "0.1111",
        "coefficient_setup": "1.5",
        "coefficient_duration": "0.9",
        "low_balance": "50",
        "credit_limit": "0",
    }
    assert web.submit(url, terms, form_page=url).status_code == 302
    saved = session().get(ClientTerms, customer.id)
    assert saved.coefficient_recurring == D("0.1111") and not saved.prepaid
    wrong = web.submit(url, {**terms, "coefficient_setup": "-2"}, form_page=url).get_data(
        as_text=True
    )
    assert "Введите число цифрами" in wrong  # a minus is not a coefficient

    created = web.submit(
        "/admin/telephony/pbx", {"name": "office"}, form_page="/admin/telephony/pbx"
    )
    page = created.get_data(as_text=True)
    token = page.split('id="pbx-token"')[1].split("<code>")[1].split("</code>")[0]
    pbx = pbx_for(f"Bearer {token}")
    assert (
        pbx is not None
        and pbx.token_hash != token
        and token not in web.get("/admin/telephony/pbx").get_data(as_text=True)
    )
    web.submit(f"/admin/telephony/pbx/{pbx.id}/revoke", {}, form_page="/admin/telephony/pbx")
    assert count(Pbx) == 0 and pbx_for(f"Bearer {token}") is None


def test_permissions(app, clock, customer) -> None:
    support = staff_web(app, clock, role="support")
    assert support.get("/admin/telephony/pbx").status_code == 403
    client = app.test_client()
    client.sign_in_client(customer.email, PASSWORD)
    for url in (
        "/admin/telephony/tariffs",
        "/admin/telephony/packages",
        f"/admin/telephony/clients/{customer.id}/terms",
    ):
        assert client.get(url).status_code in (302, 403)
    anonymous = app.test_client()
    assert anonymous.get("/admin/telephony/tariffs").status_code in (302, 403)
    other = make_client(clock, email="x@example.com")
    assert other.id != customer.id


def test_the_imports_page_loads_its_polling_script(app, clock) -> None:
    web = staff_web(app, clock)
    page = web.get("/admin/telephony/cdr-imports").get_data(as_text=True)
    assert "cdr-imports.js" in page and "<script>" not in page
    script = web.get("/admin/telephony/telephony-static/cdr-imports.js")
    assert script.status_code == 200 and b"fetch(" in script.data
