"""The rating rules by hand-computed oracles (issue #18's acceptance list), no database."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from portal_telephony.cdr_formats import (
    BadRow,
    Cdr,
    parse_asterisk,
    parse_freeswitch,
    parse_generic,
)
from portal_telephony.rating import (
    Allowance,
    Destination,
    PrefixIndex,
    Rate,
    RatingError,
    Tariff,
    apply_coefficient,
    billed_seconds,
    normalise_number,
    rate_call,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def tariff(**rate) -> Tariff:
    t = Tariff()
    t.add_destination(Destination(1, "Moscow", "local"), ["7495", "7499"])
    t.add_destination(Destination(2, "Russia mobile", "mobile"), ["79"])
    t.add_destination(Destination(3, "MTS Moscow", "mobile"), ["7916"])
    values = {"per_minute": D("1.00")} | rate
    for destination in (1, 2, 3):
        t.add_rate(Rate(destination, T0, **values))
    return t


@pytest.mark.parametrize(
    ("seconds", "first", "step", "billed"),
    [
        (61, 60, 60, 120),
        (61, 1, 1, 61),
        (61, 60, 1, 61),
        (61, 30, 30, 90),
        (59, 60, 1, 60),
        (60, 60, 60, 60),
        (0, 60, 60, 0),
        (1, 30, 30, 30),
    ],
)
def test_billing_increments(seconds, first, step, billed):
    assert billed_seconds(seconds, first, step) == billed


def test_61_seconds_at_60_60_is_two_minutes():
    call = rate_call(tariff(), "74951234567", WEDNESDAY_NOON, 61)
    assert (call.billed_seconds, call.cost) == (120, D("2.00"))


def test_61_seconds_at_1_1_is_61_seconds():
    call = rate_call(tariff(first_increment=1, next_increment=1), "74951234567", WEDNESDAY_NOON, 61)
    assert (call.billed_seconds, call.cost) == (61, D("1.02"))  # 61/60 = 1.0166.. -> 1.02


def test_61_seconds_at_60_1_is_60_plus_1():
    call = rate_call(
        tariff(first_increment=60, next_increment=1, per_minute=D("6.00")),
        "74951234567",
        WEDNESDAY_NOON,
        61,
    )
    assert (call.billed_seconds, call.cost) == (61, D("6.10"))


def test_two_second_call_is_free_even_of_the_connect_fee():
    call = rate_call(tariff(connect_fee=D("0.50")), "74951234567", WEDNESDAY_NOON, 2)
    assert (call.billed_seconds, call.cost) == (0, D("0.00"))
    call = rate_call(tariff(connect_fee=D("0.50")), "74951234567", WEDNESDAY_NOON, 3)
    assert call.cost == D("1.50")


def test_connect_fee_is_charged_once_per_call():
    call = rate_call(tariff(connect_fee=D("0.50")), "74951234567", WEDNESDAY_NOON, 300)
    assert call.cost == D("5.50")  # 0.50 + 5 x 1.00, not 0.50 per minute


def test_minimum_charge():
    t = tariff(per_minute=D("0.10"), first_increment=1, next_increment=1, minimum_charge=D("0.30"))
    assert rate_call(t, "74951234567", WEDNESDAY_NOON, 10).cost == D("0.30")
    assert rate_call(t, "74951234567", WEDNESDAY_NOON, 600).cost == D("1.00")


def test_a_rate_change_at_midnight_splits_nothing():
    t = tariff()
    midnight = datetime(2026, 12, 3, tzinfo=UTC)
    t.add_rate(Rate(1, midnight, per_minute=D("2.00")))
    before = rate_call(t, "74951234567", midnight - timedelta(minutes=1), 600)
    assert before.cost == D("10.00")  # all ten minutes at the old 1.00
    assert rate_call(t, "74951234567", midnight, 600).cost == D("20.00")


def test_no_rate_before_the_first_effective_date():
    with pytest.raises(RatingError) as error:
        rate_call(tariff(), "74951234567", T0 - timedelta(seconds=1), 60)
    assert error.value.reason == "no_rate"


def test_weekend_and_night_prices_by_the_start():
    t = tariff(night_per_minute=D("0.50"), weekend_per_minute=D("0.25"))
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    night = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert rate_call(t, "74951234567", saturday, 60).cost == D("0.25")
    assert rate_call(t, "74951234567", night, 60).cost == D("0.50")
    assert rate_call(t, "74951234567", WEDNESDAY_NOON, 60).cost == D("1.00")


def test_coefficient_with_four_decimals():
    assert apply_coefficient(D("1000"), D("0.1111")) == D("111.10")
    t = tariff(per_minute=D("100.00"))
    call = rate_call(t, "74951234567", WEDNESDAY_NOON, 600, coefficient=D("0.1111"))
    assert call.cost == D("111.10")


def test_included_minutes_are_used_before_money():
    t = tariff()
    package = Allowance(seconds=90)
    first = rate_call(t, "74951234567", WEDNESDAY_NOON, 60, allowances=[package])
    assert (first.included_seconds, first.cost, package.seconds) == (60, D("0.00"), 30)
    second = rate_call(t, "74951234567", WEDNESDAY_NOON, 120, allowances=[package])
    assert (second.included_seconds, second.cost, package.seconds) == (30, D("1.50"), 0)


def test_included_minutes_limited_to_destination_groups():
    package = Allowance(seconds=600, groups=frozenset({"local"}))
    mobile = rate_call(tariff(), "79161234567", WEDNESDAY_NOON, 60, allowances=[package])
    assert (mobile.included_seconds, mobile.cost, package.seconds) == (0, D("1.00"), 600)


def test_longest_prefix_wins_and_unknown_is_rejected():
    t = tariff()
    assert rate_call(t, "79161234567", WEDNESDAY_NOON, 60).destination == "MTS Moscow"
    assert rate_call(t, "79031234567", WEDNESDAY_NOON, 60).destination == "Russia mobile"
    with pytest.raises(RatingError) as error:
        rate_call(t, "4420", WEDNESDAY_NOON, 60)
    assert error.value.reason == "no_destination"


def test_prefix_index_looks_at_most_15_lengths():
    index = PrefixIndex(("1" * n, n) for n in range(1, 16))
    assert index.lookup("1" * 20) == 15
    assert index.lookup("12") == 1
    with pytest.raises(ValueError):
        index.add("1" * 16, 16)


def test_numbers_are_normalised():
    for raw in ("+7 (495) 123-45-67", "84951234567", "4951234567", "74951234567"):
        assert normalise_number(raw) == "74951234567"
    assert normalise_number("810441234567890") == "441234567890"
    assert normalise_number("00441234567890") == "441234567890"


MASTER = (
    '"1001","74951110000","84951234567","from-internal","""Office"" <100>","SIP/100-1",'
    '"SIP/trunk-2","Dial","SIP/trunk/84951234567","2026-12-02 12:00:00","2026-12-02 12:00:05",'
    '"2026-12-02 12:01:06","66","61","ANSWERED","DOCUMENTATION","1764676800.1",""\n'
    '"1001","74951110000","84951234567","from-internal","","SIP/100-1","","Dial","",'
    '"not a date","","","10","5","ANSWERED","DOCUMENTATION"\n'
    '"1001","74951110000","84951234567","from-internal","","SIP/100-1","","Dial","",'
    '"2026-12-02 12:00:00","","","10","-5","ANSWERED","DOCUMENTATION"\n'
    "short,row\n"
)


def test_asterisk_master_csv():
    rows = list(parse_asterisk(io.StringIO(MASTER), source="pbx"))
    call = rows[0]
    assert isinstance(call, Cdr)
    assert (call.call_id, call.account, call.dst, call.billsec) == (
        "pbx:1764676800.1",
        "1001",
        "84951234567",
        61,
    )
    assert call.start == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert [r.reason for r in rows[1:]] == ["bad_date", "negative_duration", "bad_row"]
    assert all(isinstance(r, BadRow) for r in rows[1:])
    # no uniqueid: the row's digest, the same every time
    again = list(parse_asterisk(io.StringIO(MASTER), source="pbx"))
    assert rows[1].call_id == again[1].call_id != rows[2].call_id


def test_freeswitch_csv():
    line = (
        '"Office","100","84951234567","default","2026-12-02 12:00:00","2026-12-02 12:00:05",'
        '"2026-12-02 12:01:06","66","61","NORMAL_CLEARING","a1b2","","1001","PCMA","PCMA"\n'
    )
    (call,) = parse_freeswitch(io.StringIO(line), source="fs")
    assert (call.call_id, call.account, call.billsec, call.answered) == (
        "fs:a1b2",
        "1001",
        61,
        True,
    )


def test_generic_csv_with_mapping():
    text = "Id,Number,When,Talk\nx1,84951234567,2026-12-02T12:00:00+03:00,61\n"
    mapping = {"call_id": "Id", "dst": "Number", "start": "When", "billsec": "Talk"}
    (call,) = parse_generic(io.StringIO(text), source="g", mapping=mapping)
    assert call.call_id == "g:x1"
    assert call.start == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
