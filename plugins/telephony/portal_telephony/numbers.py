"""The number pool: import, search, reserve, assign, release, quarantine, history, billing.

A number lives ``free`` → ``reserved`` (a client picked it; it waits ``reservation_days`` for
the client to confirm) → ``assigned`` (to the client's PBX service; the PBX is told) →
``quarantine`` (released; callers of the old holder still dial it for ``quarantine_days``) →
``free`` again (the daily job ``telephony.numbers``). Every move is **one conditional UPDATE**
whose WHERE clause holds the state the number must be in (and, for a reservation, its client):
of two clients who pick the same number at the same moment one UPDATE changes a row and the
other changes none and is told the number was just taken — on SQLite and PostgreSQL alike, no
lock held between reading the list and picking. Every move also writes a
:class:`~portal_telephony.models.NumberEvent`, the number's history (who held it, from when).

Billing (README.md, "How numbers are billed"): the PBX plan is a usage-billed product, so each
renewal invoice also carries, in arrears for the period just ended, the monthly fee of every
number the service held on any day of that period and the connection fee of every number
assigned to it during that period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update

from portal.billing import Period, UsageCharge
from portal.plugin_api import (
    Client,
    ProvisioningAction,
    Service,
    now,
    queue_provisioning,
    session,
    today,
)
from portal_telephony import plan_months
from portal_telephony.categories import CODES, category_of, label
from portal_telephony.models import NumberCategory, NumberEvent, NumberState, PhoneNumber
from portal_telephony.settings import settings
from portal_telephony.tariff_admin import fee_coefficients, with_coefficient

#: The fees a pool starts with when the category rows are missing (the migration inserts the
#: same; staff change them on the pool page): connection fee, monthly fee, in RUB.
DEFAULT_FEES = {
    "ordinary": (Decimal("2200.00"), Decimal("970.00")),
    "bronze": (Decimal("5000.00"), Decimal("970.00")),
    "silver": (Decimal("10000.00"), Decimal("1200.00")),
    "gold": (Decimal("25000.00"), Decimal("1500.00")),
    "platinum": (Decimal("50000.00"), Decimal("2500.00")),
}
#: The most numbers one range of an import may hold (a typo must not create millions).
MAX_RANGE = 100_000
#: Digits of a number in E.164 without '+'.
MIN_DIGITS, MAX_DIGITS = 5, 15

ASSIGN_NUMBER, RELEASE_NUMBER = "assign_number", "release_number"


class NumberError(ValueError):
    """A pool operation that cannot be done, with a message fit to show."""


@dataclass
class ImportResult:
    added: int = 0
    existing: int = 0
    errors: list[str] = field(default_factory=list)


# --- categories ---------------------------------------------------------------------------------


def categories() -> list[NumberCategory]:
    """The five categories, cheapest first; rows missing (a fresh test database) are created
    with :data:`DEFAULT_FEES`. Joins the caller's transaction."""
    found = {c.code: c for c in session().scalars(select(NumberCategory))}
    for rank, code in enumerate(CODES):
        if code not in found:
            once, monthly = DEFAULT_FEES[code]
            found[code] = NumberCategory(
                code=code, rank=rank, connection_fee=once, monthly_fee=monthly
            )
            session().add(found[code])
    return sorted(found.values(), key=lambda c: c.rank)


def fees(code: str) -> NumberCategory:
    return next(c for c in categories() if c.code == code)


def set_fees(code: str, *, connection_fee: Decimal, monthly_fee: Decimal) -> None:
    """Staff's new fees of a category. Commits."""
    category = fees(code)
    category.connection_fee, category.monthly_fee = connection_fee, monthly_fee
    session().commit()


# --- import -------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """``+7 (495) 123-45-67`` → ``74951234567``; NumberError when it is not a number."""
    digits = re.sub(r"[\s()+\-.]", "", text)
    if not digits.isdigit() or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise NumberError(_("“%(text)s” is not a phone number.", text=text.strip()))
    return digits


def parse_line(line: str) -> tuple[str, str] | None:
    """One line of an import: a number, or a range ``first..last`` / ``first;last`` /
    ``first,last`` / ``first <tab> last`` (a CSV's first two columns). None for a blank line or
    a comment (``#``)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = [p for p in re.split(r"\.\.|[;,\t]|\s[-–]\s", text) if p.strip()]
    if len(parts) > 2:
        raise NumberError(_("“%(text)s”: a number or a range first..last.", text=text))
    first = normalise(parts[0])
    last = normalise(parts[-1])
    if len(first) != len(last) or int(last) < int(first):
        raise NumberError(_("“%(text)s”: the range ends before it starts.", text=text))
    if int(last) - int(first) + 1 > MAX_RANGE:
        raise NumberError(
            _("“%(text)s”: more than %(count)s numbers in one range.", text=text, count=MAX_RANGE)
        )
    return first, last


def import_numbers(lines: Iterable[str], *, actor: str) -> ImportResult:
    """Add the numbers of ``lines`` (numbers and ranges) to the pool as free, each in the
    category its digits give; numbers already in the pool are left as they are. A line that
    cannot be read is reported and skipped. Commits."""
    result = ImportResult()
    categories()
    moment, day = now(), today()
    for line in lines:
        try:
            parsed = parse_line(line)
        except NumberError as error:
            result.errors.append(str(error))
            continue
        if parsed is None:
            continue
        first, last = parsed
        width = len(first)
        wanted = [str(n).zfill(width) for n in range(int(first), int(last) + 1)]
        for chunk_start in range(0, len(wanted), 1000):
            chunk = wanted[chunk_start : chunk_start + 1000]
            there = set(
                session().scalars(select(PhoneNumber.number).where(PhoneNumber.number.in_(chunk)))
            )
            fresh = [
                PhoneNumber(
                    number=number,
                    category=category_of(number),
                    state=NumberState.FREE.value,
                    extension="",
                    changed_at=moment,
                    created_at=moment,
                )
                for number in chunk
                if number not in there
            ]
            session().add_all(fresh)
            session().flush()
            session().add_all(
                NumberEvent(
                    number_id=row.id,
                    at=moment,
                    day=day,
                    state=NumberState.FREE.value,
                    actor=actor,
                    note="import",
                )
                for row in fresh
            )
            result.added += len(fresh)
            result.existing += len(there)
    session().commit()
    return result


# --- reading ------------------------------------------------------------------------------------


#: The pool's order, cheapest category first, then by number: the keys of its keyset pages.
POOL_ORDER = (NumberCategory.rank, PhoneNumber.number)


def search_query(
    *, digits: str = "", category: str | None = None, state: str | None = None
) -> Select[tuple[PhoneNumber]]:
    """Numbers whose digits contain ``digits``, of ``category`` and ``state`` (None: any),
    cheapest category first, then by number (the staff list pages it by ``POOL_ORDER``)."""
    query = select(PhoneNumber).join(NumberCategory)
    wanted = re.sub(r"\D", "", digits)
    if wanted:
        query = query.where(PhoneNumber.number.contains(wanted, autoescape=True))
    if category:
        query = query.where(PhoneNumber.category == category)
    if state:
        query = query.where(PhoneNumber.state == state)
    return query.order_by(*POOL_ORDER)


def search(
    *,
    digits: str = "",
    category: str | None = None,
    state: str | None = NumberState.FREE.value,
    limit: int | None = 50,
) -> list[PhoneNumber]:
    """:func:`search_query`'s first ``limit`` numbers (free ones unless ``state`` says)."""
    query = search_query(digits=digits, category=category, state=state)
    return list(session().scalars(query.limit(limit) if limit else query))


def counts() -> dict[str, int]:
    """Numbers per state."""
    rows = (
        session().execute(select(PhoneNumber.state, func.count()).group_by(PhoneNumber.state)).all()
    )
    return {state.value: 0 for state in NumberState} | {state: n for state, n in rows}


def numbers_of(client_id: int) -> list[PhoneNumber]:
    """The client's reserved and assigned numbers."""
    held = (NumberState.RESERVED.value, NumberState.ASSIGNED.value)
    return list(
        session().scalars(
            select(PhoneNumber)
            .where(PhoneNumber.client_id == client_id, PhoneNumber.state.in_(held))
            .order_by(PhoneNumber.number)
        )
    )


def number_of(client_id: int, number_id: int) -> PhoneNumber | None:
    """The client's own reserved or assigned number ``number_id``."""
    found = session().get(PhoneNumber, number_id)
    held = (NumberState.RESERVED.value, NumberState.ASSIGNED.value)
    return found if found and found.client_id == client_id and found.state in held else None


def history(number: PhoneNumber) -> list[NumberEvent]:
    return list(
        session().scalars(
            select(NumberEvent)
            .where(NumberEvent.number_id == number.id)
            .order_by(NumberEvent.id.desc())  # the order they happened in
        )
    )


def service_numbers(service: Service) -> list[PhoneNumber]:
    return list(
        session().scalars(
            select(PhoneNumber)
            .where(
                PhoneNumber.service_id == service.id,
                PhoneNumber.state == NumberState.ASSIGNED.value,
            )
            .order_by(PhoneNumber.number)
        )
    )


# --- moving a number ----------------------------------------------------------------------------


def _move(
    number_id: int,
    *,
    expected: Sequence[NumberState],
    state: NumberState,
    actor: str,
    client_id: int | None = None,
    service_id: int | None = None,
    free_on: date | None = None,
    of_client: int | None = None,
    extension: str | None = None,
    note: str = "",
) -> bool:
    """The conditional UPDATE every move is: True when this call moved the number."""
    condition = [
        PhoneNumber.id == number_id,
        PhoneNumber.state.in_([s.value for s in expected]),
    ]
    if of_client is not None:
        condition.append(
            or_(PhoneNumber.client_id == of_client, PhoneNumber.state == NumberState.FREE.value)
        )
    values: dict[str, object] = {
        "state": state.value,
        "client_id": client_id,
        "service_id": service_id,
        "free_on": free_on,
        "changed_at": now(),
    }
    if extension is not None:
        values["extension"] = extension
    done = session().execute(
        update(PhoneNumber)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session().add(
        NumberEvent(
            number_id=number_id,
            at=now(),
            day=today(),
            state=state.value,
            client_id=client_id,
            service_id=service_id,
            actor=actor,
            note=note,
        )
    )
    return True


def _refresh(number_id: int) -> PhoneNumber:
    number = session().get(PhoneNumber, number_id)
    assert number is not None
    session().refresh(number)
    return number


def _taken() -> NumberError:
    return NumberError(_("This number has just been taken by someone else: choose another one."))


def reserve(number_id: int, client: Client, *, actor: str) -> PhoneNumber:
    """Reserve a free number for ``client`` for ``reservation_days``. Commits."""
    days = int(settings()["reservation_days"])
    moved = _move(
        number_id,
        expected=(NumberState.FREE,),
        state=NumberState.RESERVED,
        actor=actor,
        client_id=client.id,
        free_on=today() + timedelta(days=days),
    )
    if not moved:
        session().rollback()
        raise _taken()
    session().commit()
    return _refresh(number_id)


def assign(
    number_id: int,
    service: Service,
    *,
    actor: str,
    extension: str = "",
    note: str = "",
    provision: bool = True,
) -> PhoneNumber:
    """Assign a free number, or one reserved for the service's client, to the PBX ``service``
    and tell the PBX (``assign_number``; not with ``provision=False``: demo data, a number the
    PBX already routes). Commits."""
    moved = _move(
        number_id,
        expected=(NumberState.FREE, NumberState.RESERVED),
        state=NumberState.ASSIGNED,
        actor=actor,
        client_id=service.client_id,
        service_id=service.id,
        of_client=service.client_id,
        extension=extension,
        note=note,
    )
    if not moved:
        session().rollback()
        raise _taken()
    number = _refresh(number_id)
    if provision:
        queue_provisioning(
            service,
            ProvisioningAction.CHANGE_PACKAGE,
            payload={
                "command": ASSIGN_NUMBER,
                "values": {"number": number.number, "extension": number.extension},
            },
        )
    session().commit()
    return number


def release(number_id: int, *, actor: str, client_id: int | None = None, note: str = "") -> None:
    """Release an assigned number into quarantine (the PBX is told) or cancel a reservation
    (the number is free at once). ``client_id``: only if it is that client's. Commits."""
    number = session().get(PhoneNumber, number_id)
    if number is None or (client_id is not None and number.client_id != client_id):
        raise NumberError(_("This number is not yours."))
    service = number.service
    if number.state == NumberState.RESERVED.value:
        moved = _move(
            number_id,
            expected=(NumberState.RESERVED,),
            state=NumberState.FREE,
            actor=actor,
            note=note,
        )
    else:
        days = int(settings()["quarantine_days"])
        moved = _move(
            number_id,
            expected=(NumberState.ASSIGNED,),
            state=NumberState.QUARANTINE,
            actor=actor,
            free_on=today() + timedelta(days=days),
            extension="",
            note=note,
        )
        if moved and service is not None:
            queue_provisioning(
                service,
                ProvisioningAction.CHANGE_PACKAGE,
                payload={"command": RELEASE_NUMBER, "values": {"number": number.number}},
            )
    if not moved:
        session().rollback()
        raise NumberError(_("The number has changed meanwhile: look again."))
    session().commit()


def free_now(number_id: int, *, actor: str) -> None:
    """Staff end a quarantine early. Commits."""
    if not _move(
        number_id, expected=(NumberState.QUARANTINE,), state=NumberState.FREE, actor=actor
    ):
        session().rollback()
        raise NumberError(_("Only a number in quarantine can be freed."))
    session().commit()


def release_service(service: Service, *, actor: str = "system") -> int:
    """Every number of a terminated PBX goes to quarantine. Joins the caller's transaction."""
    days = int(settings()["quarantine_days"])
    count = 0
    for number in service_numbers(service):
        count += _move(
            number.id,
            expected=(NumberState.ASSIGNED,),
            state=NumberState.QUARANTINE,
            actor=actor,
            free_on=today() + timedelta(days=days),
            extension="",
            note="service terminated",
        )
    return count


def free_due(as_of: date) -> dict[str, int]:
    """The ``telephony.numbers`` job: numbers whose quarantine or reservation ended on or
    before ``as_of`` become free. Running it twice for a date changes nothing. Commits."""
    due = (
        session()
        .scalars(
            select(PhoneNumber.id).where(
                PhoneNumber.state.in_((NumberState.QUARANTINE.value, NumberState.RESERVED.value)),
                PhoneNumber.free_on.is_not(None),
                PhoneNumber.free_on <= as_of,
            )
        )
        .all()
    )
    freed = 0
    for number_id in due:
        freed += _move(
            number_id,
            expected=(NumberState.QUARANTINE, NumberState.RESERVED),
            state=NumberState.FREE,
            actor="system",
            note="quarantine or reservation ended",
        )
    session().commit()
    return {"freed": freed}


# --- billing ------------------------------------------------------------------------------------


def period_charges(service: Service, period: Period) -> list[UsageCharge]:
    """What the numbers of ``service`` cost in ``period`` (ended): the monthly fee of each
    number for every plan month of the period it held the number on any day of
    (:func:`plan_months.months_of`: one for a monthly plan, three for a quarterly one), the
    connection fee of each assigned to it during the period."""
    events = (
        session()
        .scalars(
            select(NumberEvent)
            .where(NumberEvent.day < period.end)
            .where(
                NumberEvent.number_id.in_(
                    select(NumberEvent.number_id).where(NumberEvent.service_id == service.id)
                )
            )
            .order_by(NumberEvent.number_id, NumberEvent.id)
        )
        .all()
    )
    by_number: dict[int, list[NumberEvent]] = {}
    for event in events:
        by_number.setdefault(event.number_id, []).append(event)
    months = plan_months.months_of(period, plan_months.anchor_of(service))
    charges: list[UsageCharge] = []
    recurring, setup = fee_coefficients(service.client_id)  # README, "Tariff administration"
    for number_id, changes in by_number.items():
        held = _held_months(changes, service.id, months)
        connected = any(
            event.day >= period.start and _is_assignment(event, service.id) for event in changes
        )
        if not (held or connected):
            continue
        number = session().get(PhoneNumber, number_id)
        assert number is not None
        category = fees(number.category)
        name = label(number.category)
        if connected:
            charges.append(
                UsageCharge(
                    _(
                        "Connection of number %(number)s (%(category)s)",
                        number=number.number,
                        category=name,
                    ),
                    Decimal(1),
                    with_coefficient(category.connection_fee, setup),
                )
            )
        if held:
            charges.append(
                UsageCharge(
                    _(
                        "Number %(number)s (%(category)s), monthly fee",
                        number=number.number,
                        category=name,
                    ),
                    Decimal(len(held)),
                    with_coefficient(category.monthly_fee, recurring),
                    unit=_("month"),
                    details=tuple(month.label() for month in held) if len(months) > 1 else (),
                )
            )
    return charges


def _is_assignment(event: NumberEvent, service_id: int) -> bool:
    return event.state == NumberState.ASSIGNED.value and event.service_id == service_id


def _held_months(
    changes: Sequence[NumberEvent], service_id: int, months: Sequence[Period]
) -> list[Period]:
    """The ``months`` on any day of which the number was assigned to the service; the day it
    is released still counts as held (released on 20 April, April is paid; on 1 May, May)."""
    spans: list[tuple[date, date | None]] = []  # [assigned on, released on]
    since: date | None = None
    for event in changes:
        mine = _is_assignment(event, service_id)
        if mine and since is None:
            since = event.day
        elif not mine and since is not None:
            spans.append((since, event.day))
            since = None
    if since is not None:
        spans.append((since, None))
    return [
        month
        for month in months
        if any(first < month.end and (last is None or last >= month.start) for first, last in spans)
    ]
