"""The plugin's long lists cost the same number of SQL queries with a few rows as with
hundreds, and a deep page what the first one does (docs/performance.md): the number pool, the
rejects queue, the CDR uploads, a tariff's destinations and the client's calls, each a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from portal_telephony import numbers as pool
from portal_telephony.models import PhoneNumber
from portal_telephony.rating_models import Call, CdrImport, Destination, Reject
from rating_fixtures import make_tariff

from portal.plugin_api import session
from portal.testing.queries import queries_per_page

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _seed(start: int, count: int, client_id: int, tariff_id: int) -> None:
    """``count`` rows of every listed table, sort keys repeating (ties on every page)."""
    numbers = range(start, start + count)
    pool.categories()  # the five categories the numbers belong to
    insert = session().execute
    insert(
        sa.insert(PhoneNumber),
        [
            {
                "number": f"7495{n:07d}",
                "category": ("ordinary", "bronze")[n % 2],
                "changed_at": NOW,
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Reject),
        [
            {
                "call_id": f"r{n}",
                "reason": "unknown_account",
                "fmt": "master",
                "source": "test",
                "raw": "x",
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(CdrImport),
        [
            {
                "filename": f"{n}.csv",
                "path": "/x",
                "fmt": "master",
                "source": "t",
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Destination),
        [
            {"tariff_id": tariff_id, "name": f"Направление {n}", "group_name": f"g{n % 3}"}
            for n in numbers
        ],
    )
    insert(
        sa.insert(Call),
        [
            {
                "call_id": f"c{n}",
                "client_id": client_id,
                "src": "74950000000",
                "dst": "84951234567",
                "started_at": NOW + timedelta(minutes=n % 7),
                "billsec": 60,
                "billed_seconds": 60,
                "destination": "Москва",
                "group_name": "local",
                "cost": Decimal("1.00"),
                "currency": "RUB",
                "prepaid": False,
            }
            for n in numbers
        ],
    )
    session().commit()


def _admin_urls(tariff_id: int) -> list[str]:
    return [
        "/admin/telephony/numbers",
        "/admin/telephony/numbers?state=free&category=bronze",
        "/admin/telephony/rejects",
        "/admin/telephony/cdr-imports",
        f"/admin/telephony/tariffs/{tariff_id}",
    ]


CLIENT_URLS = ["/telephony/calls/", "/telephony/calls/?group=local"]


def test_every_plugin_list_costs_the_same_queries_at_two_sizes(
    staff_web, client_web, client_account
) -> None:
    tariff = make_tariff()
    _seed(0, 4, client_account.id, tariff.id)
    admin_small = queries_per_page(staff_web, _admin_urls(tariff.id))
    client_small = queries_per_page(client_web, CLIENT_URLS)
    _seed(4, 300, client_account.id, tariff.id)
    admin_large = queries_per_page(staff_web, _admin_urls(tariff.id))
    client_large = queries_per_page(client_web, CLIENT_URLS)
    assert admin_large == admin_small
    assert client_large == client_small
    for web, url in [(staff_web, u) for u in admin_large] + [(client_web, u) for u in CLIENT_URLS]:
        assert 'rel="next"' in web.get(url).get_data(as_text=True), url  # a page, not 300 rows


def test_a_deep_plugin_page_costs_what_the_first_does(
    staff_web, client_web, client_account
) -> None:
    tariff = make_tariff()
    _seed(0, 300, client_account.id, tariff.id)
    for web, url in [(staff_web, u) for u in _admin_urls(tariff.id)] + [
        (client_web, CLIENT_URLS[0])
    ]:
        first = queries_per_page(web, [url])[url]
        last_url = url + ("&" if "?" in url else "?") + "last=1"
        html = web.get(last_url).get_data(as_text=True)
        assert 'rel="prev"' in html and 'rel="next"' not in html, url
        assert queries_per_page(web, [last_url])[last_url] == first, url
        prev = html.split('rel="prev" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert queries_per_page(web, [prev])[prev] == first, prev


def test_the_pool_walks_by_a_joined_tables_key_and_meets_every_number_once(
    staff_web, client_account
) -> None:
    """The pool's keyset key is the category's rank (a joined table) then the number: page
    after page, by the next links, every number once, cheapest category first."""
    tariff = make_tariff()
    _seed(0, 130, client_account.id, tariff.id)
    ranks = {c.code: c.rank for c in pool.categories()}
    expected = [
        n.number
        for n in sorted(
            session().scalars(sa.select(PhoneNumber)), key=lambda n: (ranks[n.category], n.number)
        )
    ]
    seen: list[str] = []
    url: str | None = "/admin/telephony/numbers"
    while url:
        html = staff_web.get(url).get_data(as_text=True)
        seen += re.findall(r">\+(\d{11})</a>", html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == expected
    assert {ranks[c] for c in ("ordinary", "bronze")} == {0, 1}
