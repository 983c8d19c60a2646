"""Keyset pages and capped counts (portal/web/paging.py): a walk by next or previous cursors
meets every row exactly once, ties in the sort key included; a cursor that is not one answers
the first page; a long list says "over N"; "last" reaches the end without OFFSET."""

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask import render_template_string

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.web.paging import keyset_page, nulls_last, offset_page

ROWS = 23
PER_PAGE = 5


@pytest.fixture
def clients(app) -> list[int]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(
        sa.insert(Client),
        [
            {
                "email": f"p{n}@example.com",
                "first_name": f"К{n}",
                "company": f"ООО {n % 3}",  # three values: ties on every page
                "password_hash": "x",
                "session_token": f"p{n}",
                "created_at": now,
            }
            for n in range(ROWS)
        ],
    )
    db.session.commit()
    return list(db.session.scalars(sa.select(Client.id)))


def _expected(descending: bool) -> list[int]:
    rows = db.session.execute(sa.select(Client.company, Client.id)).all()
    return [row.id for row in sorted(rows, reverse=descending)]


def _page(args: dict, *, descending: bool, cap: int = 10_000):
    return keyset_page(
        sa.select(Client),
        sort=Client.company,
        id_column=Client.id,
        descending=descending,
        per_page=PER_PAGE,
        cap=cap,
        args={key: str(value) for key, value in args.items()},
    )


@pytest.mark.parametrize("descending", [True, False])
def test_next_and_previous_walk_every_row_once(app, clients, descending) -> None:
    expected = _expected(descending)
    with app.test_request_context("/"):
        seen: list[int] = []
        args: dict = {}
        numbers = []
        while True:
            page = _page(args, descending=descending)
            seen += [client.id for client in page]
            numbers.append(page.number)
            if not page.has_next:
                break
            args = page.next_args
        assert seen == expected
        assert numbers == [1, 2, 3, 4, 5]
        assert page.pages == 5 and page.total == ROWS and not page.capped

        back: list[int] = []
        page = _page({"last": "1"}, descending=descending)
        assert page.number == 5 and not page.has_next and page.has_prev
        while True:
            back = [client.id for client in page] + back
            if not page.has_prev:
                break
            page = _page(page.prev_args, descending=descending)
        assert back == expected
        assert page.number == 1


def test_links_keep_the_filters_and_drop_old_paging(app, clients) -> None:
    with app.test_request_context("/"):
        page = _page({}, descending=True)
        second = _page(page.next_args, descending=True)
        link = second.url("admin_clients.index", "next", sort="company", after="1", page="9")
        query = dict(parse_qsl(urlsplit(link).query))
        assert query == {"sort": "company", "after": str(second.items[-1].id), "page": "3"}
        assert second.url("admin_clients.index", "first", sort="company").endswith("?sort=company")
        assert page.url("admin_clients.index", "prev") is None


@pytest.mark.parametrize(
    "args",
    [
        {"after": "abc"},
        {"after": "99999999"},  # no such row
        {"before": "-1"},
        {"after": "1e5"},
        {"after": "99999999999999999999"},  # past INTEGER
        {"before": "１２"},  # not ASCII digits
        {"last": "yes"},
        {"page": "-3"},
    ],
)
def test_a_cursor_that_is_not_one_answers_the_first_page(app, clients, args) -> None:
    with app.test_request_context("/"):
        page = _page(args, descending=True)
        assert [client.id for client in page] == _expected(True)[:PER_PAGE]
        assert page.number == 1 and not page.has_prev


def test_a_forged_cursor_is_the_first_page_on_the_web(staff_web, clients) -> None:
    for query in ("after=abc", "before=99999999", "after=1%27%3B--", "last=1&after=x"):
        response = staff_web.get(f"/admin/clients?sort=company&{query}")
        assert response.status_code == 200


def test_a_long_list_is_counted_up_to_the_cap(app, clients) -> None:
    with app.test_request_context("/"):
        page = _page({}, descending=True, cap=10)
        assert page.capped and page.total == 10
        html = render_template_string(
            '{% from "macros/shell.html" import pagination with context %}'
            "{{ pagination(page, 'admin_clients.index') }}",
            page=page,
        )
        assert "Over 10 in total" in html
        assert "Page 1 of more than 2" in html
        last = _page({"last": "1"}, descending=True, cap=10)
        assert last.number is None  # unknown past the cap
        assert [c.id for c in last] == _expected(True)[-PER_PAGE:]


def test_the_capped_count_in_russian(app, clients) -> None:
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("ru"):
        page = _page({}, descending=True, cap=10)
        html = render_template_string(
            '{% from "macros/shell.html" import pagination with context %}'
            "{{ pagination(page, 'admin_clients.index') }}",
            page=page,
        )
        assert "Всего: более 10" in html
        assert "Страница 1 из более чем 2" in html and "Последняя страница" in html


def test_numbered_pages_for_lists_ordered_by_more_than_one_column(app, clients) -> None:
    statement = sa.select(Client).order_by(Client.company, Client.id)
    with app.test_request_context("/"):
        pages = [offset_page(statement, per_page=10, args={"page": str(n)}) for n in (1, 2, 3)]
        assert [c.id for p in pages for c in p] == [
            row for _, row in sorted(db.session.execute(sa.select(Client.company, Client.id)).all())
        ]
        assert pages[2].has_prev and not pages[2].has_next and pages[2].pages == 3
        past = offset_page(statement, per_page=10, args={"page": "999"})
        assert past.number == 3 and len(past) == 3
        assert offset_page(statement, per_page=10, args={"last": "1"}).number == 3


def test_plugins_page_through_the_plugin_api(app, clients) -> None:
    from portal.plugin_api import paginate

    with app.test_request_context("/?after=abc"):
        keyset = paginate(
            sa.select(Client), per_page=PER_PAGE, sort=Client.company, id_column=Client.id
        )
        assert [c.id for c in keyset] == _expected(True)[:PER_PAGE]
        assert keyset.next_args == {"after": keyset.items[-1].id, "page": 2}
    with app.test_request_context("/?page=3"):
        numbered = paginate(sa.select(Client).order_by(Client.id), per_page=10)
        assert [c.id for c in numbered] == sorted(clients)[20:]
        assert numbered.number == 3 and numbered.total == ROWS and not numbered.has_next


def test_a_list_computed_in_python_is_rendered_a_page_at_a_time(app) -> None:
    from portal.plugin_api import paginate_list

    rows = [f"r{n}" for n in range(23)]
    with app.test_request_context("/?page=2"):
        page = paginate_list(rows, per_page=10)
        assert list(page) == rows[10:20] and page.number == 2 and page.pages == 3
        assert page.prev_args == {"page": 1} and page.next_args == {"page": 3}
        html = render_template_string(
            '{% from "macros/shell.html" import pagination with context %}'
            "{{ pagination(page, 'admin.dashboard') }}",
            page=page,
        )
        assert 'rel="next" href="/admin/?page=3"' in html and "23" in html
    with app.test_request_context("/?last=1"):
        last = paginate_list(rows, per_page=10)
        assert list(last) == rows[20:] and not last.has_next and last.has_prev


def _walk(keys, *, descending: bool) -> tuple[list[int], list[int]]:
    """Every id by next cursors from the first page, and by previous ones from the last."""

    def page(args: dict):
        return keyset_page(
            sa.select(Client),
            sort=keys,
            id_column=Client.id,
            descending=descending,
            per_page=PER_PAGE,
            args={key: str(value) for key, value in args.items()},
        )

    forward: list[int] = []
    current = page({})
    forward += [c.id for c in current]
    while current.has_next:
        current = page(current.next_args)
        forward += [c.id for c in current]
    back: list[int] = []
    current = page({"last": "1"})
    back = [c.id for c in current]
    while current.has_prev:
        current = page(current.prev_args)
        back = [c.id for c in current] + back
    return forward, back


@pytest.mark.parametrize("descending", [True, False])
def test_several_keys_and_a_null_read_as_last_walk_every_row_once(app, clients, descending):
    """The services list and the awaiting queue: a nullable date as ``nulls_last`` (no date
    after every date), and a client's notes: two keys before the id."""
    for n, client_id in enumerate(clients):
        # a third without a date, the others on three days: ties on the date and on the company
        day = None if n % 3 == 0 else datetime(2026, 1, 1 + n % 4, tzinfo=UTC).date()
        db.session.execute(
            sa.update(Client).where(Client.id == client_id).values(no_suspend_until=day)
        )
    db.session.commit()
    rows = db.session.execute(sa.select(Client.no_suspend_until, Client.company, Client.id)).all()
    expected = [
        row.id
        for row in sorted(
            rows,
            key=lambda r: (r.no_suspend_until is None, r.no_suspend_until or 0, r.company, r.id),
            reverse=descending,
        )
    ]
    assert None in {row.no_suspend_until for row in rows}
    with app.test_request_context("/"):
        keys = (nulls_last(Client.no_suspend_until), Client.company)
        forward, back = _walk(keys, descending=descending)
    assert forward == expected
    assert back == expected
