"""The importer's fast path gives exactly what the pure rating module gives: the compiled rater
(:mod:`portal_telephony.fast_rating`) against :func:`rating.rate_call`, the hour-cached time
parser against :func:`parse_moment`, and a generated Master.csv imported on the test database
(SQLite or PostgreSQL) against the reference rating of the same rows. No timing here:
bench/telephony_rating.py measures."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from portal_telephony.cdr_formats import Cdr, MomentParser, parse_asterisk, parse_moment
from portal_telephony.cdr_import import import_file
from portal_telephony.fast_rating import CompiledTariff, international
from portal_telephony.plan_months import month_of
from portal_telephony.rating import (
    INCREMENTS,
    Allowance,
    Destination,
    Rate,
    RatingError,
    Tariff,
    normalise_number,
    rate_call,
)
from portal_telephony.rating_models import Call
from rating_fixtures import NUMBER, make_line, make_tariff, master_row, write_master
from sqlalchemy import select

from portal.plugin_api import business_zone, session

T0 = datetime(2026, 1, 1, tzinfo=UTC)
COEFFICIENTS = (D(1), D("0.1111"), D("0.9500"), D("1.2345"), D("0.0001"))


def random_tariff(rng: random.Random, zone: str) -> Tariff:
    """40 destinations with nested prefixes, each rate dated twice, every increment, night
    and weekend prices present or not, connect fees, minimum charges, odd prices."""
    tariff = Tariff(
        free_under=rng.choice((0, 3, 5)),
        night_start=rng.choice((time(22), time(23, 30))),
        night_end=rng.choice((time(8), time(6, 15))),
    )
    for n in range(40):
        prefixes = {f"7{n:02d}", f"7{n:02d}{rng.randrange(10)}{rng.randrange(10)}"}
        tariff.add_destination(
            Destination(n, f"D{n}", ("local", "mobile", "intl")[n % 3]), prefixes
        )
        first, step = INCREMENTS[n % len(INCREMENTS)]
        for since in (T0, datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)):
            tariff.add_rate(
                Rate(
                    n,
                    since,
                    per_minute=D(rng.randrange(1, 99999)) / 1000,
                    connect_fee=rng.choice((D(0), D("0.10"), D("0.5050"))),
                    first_increment=first,
                    next_increment=step,
                    minimum_charge=rng.choice((D(0), D(0), D("0.3333"))),
                    night_per_minute=rng.choice((None, D("0.6000"), D("0.0333"))),
                    weekend_per_minute=rng.choice((None, D("0.2500"))),
                )
            )
    return tariff


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Europe/Berlin", "Australia/Lord_Howe"])
def test_the_compiled_rater_rates_as_rate_call(zone: str) -> None:
    rng = random.Random(zone)
    tariff = random_tariff(rng, zone)
    compiled = CompiledTariff(tariff, ZoneInfo(zone))
    # two sets of packages drawn alike by both sides
    ours = [Allowance(3000, frozenset({"local"})), Allowance(1800)]
    theirs = [Allowance(3000, frozenset({"local"})), Allowance(1800)]
    for _ in range(4000):
        number = (
            rng.choice(("7", "8", ""))
            + f"{rng.randrange(45):02d}"
            + "".join(rng.choices("0123456789", k=rng.choice((4, 8))))
        )
        start = T0 + timedelta(
            seconds=rng.randrange(-3600, 365 * 86400), microseconds=rng.choice((0, 0, 0, 7))
        )
        seconds = rng.choice((0, 1, 2, 3, 4, 59, 60, 61, 119, 120, 121, rng.randrange(-2, 4000)))
        coefficient = rng.choice(COEFFICIENTS)
        packages = rng.random() < 0.3
        got = compiled.rate(
            international(number), start, seconds, ours if packages else [], coefficient
        )
        try:
            want = rate_call(
                tariff,
                normalise_number(number),
                start,
                seconds,
                local_start=start.astimezone(ZoneInfo(zone)),
                allowances=theirs if packages else [],
                coefficient=coefficient,
            )
        except RatingError as error:
            assert got == error.reason
            continue
        expected = (want.destination, want.group, want.billed_seconds, want.included_seconds)
        assert got == (*expected, want.cost), (number, start, seconds, coefficient)
        assert str(got[4]) == str(want.cost)  # the same Decimal, down to its exponent
    assert [a.seconds for a in ours] == [a.seconds for a in theirs]


def test_numbers_in_international_form_as_normalise_number() -> None:
    for raw in ("74951234567", "84951234567", "4951234567", "+7 (495) 123-45-67", "7495", "٧"):
        assert international(raw) == normalise_number(raw)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "Europe/Berlin", "Australia/Lord_Howe"])
def test_the_hour_cache_parses_as_parse_moment(zone: str) -> None:
    """Every quarter hour of 2026 (both DST changes, Lord Howe's half hour) and texts that
    are not wall-clock times."""
    parser = MomentParser(ZoneInfo(zone) if zone != "UTC" else UTC)
    moment = datetime(2026, 1, 1)
    while moment.year == 2026:
        for text in (moment.strftime("%Y-%m-%d %H:%M:%S"), moment.strftime("%Y-%m-%dT%H:%M:59")):
            assert parser(text) == parse_moment(text, parser.zone)
        moment += timedelta(minutes=15)
    for text in ("2026-13-01 10:00:00", "2026-02-30 10:00:00", "2026-11-01 10:60:00", "junk"):
        with pytest.raises(ValueError):
            parser(text)
    for text in ("2026-11-01 10:00:00+03:00", "1764547200", " 2026-11-01 10:00:00"):
        assert parser(text) == parse_moment(text, parser.zone)


def test_a_generated_file_imports_to_the_reference_costs(app, clock, tmp_path) -> None:
    """2 000 calls through the whole import (parsing, compiled rating, COPY or executemany)
    cost what :func:`rate_call` says for the same parsed rows, night and weekend included,
    with a package of 300 local minutes drawn by plan month: the plan renews on the 15th, its
    months are read in the portal's time zone (:mod:`portal_telephony.plan_months`)."""
    from portal_telephony.cdr_import import Importer

    make_tariff()
    make_line(clock, prepaid=False, included_minutes=300, start=date(2026, 11, 15))
    rng = random.Random(18)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        master_row(
            f"g{i}",
            dst=rng.choice(("8495", "8499", "8916", "7903")) + f"{rng.randrange(10**7):07d}",
            start=start + timedelta(seconds=rng.randrange(60 * 86400)),
            billsec=rng.choice((1, 2, 3, 59, 60, 61, rng.randrange(1, 3600))),
        )
        for i in range(2000)
    ]
    path = write_master(tmp_path / "m.csv", rows)
    assert import_file(path, zone="Europe/Moscow").rated == 2000
    got = dict(session().execute(select(Call.call_id, Call.cost)).all())
    importer = Importer()
    tariff, zone = importer.tariffs[importer.default_tariff]
    with path.open() as stream:
        cdrs = list(parse_asterisk(stream, source="default", zone=ZoneInfo("Europe/Moscow")))
    assert all(isinstance(cdr, Cdr) and cdr.src == NUMBER for cdr in cdrs)
    business = business_zone()
    packages: dict[date, list[Allowance]] = {}
    want = {}
    for cdr in cdrs:  # in the file's order, as the import draws
        month = month_of(cdr.start.astimezone(business).date(), 15)
        package = packages.setdefault(month.start, [Allowance(300 * 60, frozenset({"local"}))])
        want[cdr.call_id] = rate_call(
            tariff,
            normalise_number(cdr.dst),
            parse_moment(cdr.raw.split(",")[9].strip('"'), ZoneInfo("Europe/Moscow")),
            cdr.billsec,
            local_start=cdr.start.astimezone(zone),
            allowances=package,
        ).cost
    assert got == want
    assert sum(got.values()) > 0
    # three plan months (15 Oct - 15 Nov, 15 Nov - 15 Dec, 15 Dec - 15 Jan), each drawn from
    assert sorted(packages) == [date(2026, 10, 15), date(2026, 11, 15), date(2026, 12, 15)]
    assert all(package[0].seconds < 300 * 60 for package in packages.values())


def test_a_row_with_a_newline_in_its_id_is_still_deduplicated(app, clock, tmp_path) -> None:
    """The ids of a batch go to PostgreSQL joined by newlines unless one holds a newline."""
    make_tariff()
    make_line(clock, prepaid=False)
    row = master_row("two\nlines")
    path = write_master(tmp_path / "m.csv", [row, master_row("plain")])
    assert import_file(path).rated == 2
    assert import_file(path).duplicates == 2


def test_an_hour_cached_file_reads_like_the_reference() -> None:
    text = "".join(
        master_row(
            f"u{i}", start=datetime(2026, 3, 29, 0, 0, tzinfo=UTC) + timedelta(minutes=7 * i)
        )
        for i in range(100)
    )
    zone = ZoneInfo("Europe/Berlin")
    for cdr in parse_asterisk(io.StringIO(text), source="s", zone=zone):
        assert cdr.start == parse_moment(cdr.raw.split(",")[9].strip('"'), zone)
