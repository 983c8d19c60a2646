"""Staff tariff administration: tariffs, destinations imported from a CSV of prefix lists,
rates versioned by their effective date, minutes packages per plan, each client's
coefficients and the PBX tokens. Every function that changes something commits (views stay
thin). The CSV format is in plugins/telephony/README.md, "Tariff administration"."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from portal.plugin_api import Client, Product, session, set_personal_coefficient
from portal_telephony.rating import apply_coefficient, destination_rows
from portal_telephony.rating_models import (
    ClientTerms,
    Destination,
    IncludedMinutes,
    Pbx,
    Prefix,
    Rate,
    Tariff,
)
from portal_telephony.settings import PLUGIN

#: The header of a destinations CSV; ``prefixes`` are separated by spaces or ``;``.
COLUMNS = ("name", "group", "prefixes")
MAX_PREFIX = 15


@dataclass
class ParsedDestinations:
    """A destinations CSV read whole: the rows, or the per-row errors (then nothing is saved)."""

    rows: list[tuple[str, str, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_destinations(text: str) -> ParsedDestinations:
    """Read ``name,group,prefixes`` rows (``;`` or ``,`` delimited, a header line first) and
    check every row: a name, digits-only prefixes of at most 15 digits, no name or prefix twice.
    Each row goes through :func:`portal_telephony.rating.destination_rows`, the one parser."""
    result = ParsedDestinations()
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        result.errors.append(_("The first line must be the header: name, group, prefixes."))
        return result
    reader.fieldnames = header
    names: dict[str, int] = {}
    prefixes: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        try:
            ((name, group, found),) = destination_rows([row])
        except ValueError:
            result.errors.append(
                _("Line %(line)s: a destination needs a name and prefixes.", line=line)
            )
            continue
        bad = [p for p in found if not p.isdigit() or len(p) > MAX_PREFIX]
        if bad:
            result.errors.append(
                _(
                    "Line %(line)s: a prefix is digits only, at most 15: %(prefix)s.",
                    line=line,
                    prefix=", ".join(bad),
                )
            )
            continue
        if name in names:
            result.errors.append(
                _(
                    "Line %(line)s: «%(name)s» is already on line %(first)s.",
                    line=line,
                    name=name,
                    first=names[name],
                )
            )
            continue
        names[name] = line
        twice = [p for p in found if p in prefixes]
        if twice:
            result.errors.append(
                _(
                    "Line %(line)s: prefix %(prefix)s is already on line %(first)s.",
                    line=line,
                    prefix=twice[0],
                    first=prefixes[twice[0]],
                )
            )
            continue
        prefixes.update((p, line) for p in found)
        result.rows.append((name[:120], group[:60], found))
    if not result.rows and not result.errors:
        result.errors.append(_("The file has no destinations."))
    return result


def import_destinations(tariff: Tariff, rows: list[tuple[str, str, list[str]]]) -> int:
    """Add the destinations to ``tariff``; a destination already there (by name) keeps its
    rates and gets the file's group and prefixes. Returns how many rows were saved. Commits."""
    existing = {
        d.name: d
        for d in session().scalars(select(Destination).where(Destination.tariff_id == tariff.id))
    }
    for name, group, prefixes in rows:
        destination = existing.get(name)
        if destination is None:
            destination = Destination(tariff_id=tariff.id, name=name, group_name=group)
            session().add(destination)
            session().flush()
        else:
            destination.group_name = group
            session().execute(delete(Prefix).where(Prefix.destination_id == destination.id))
        session().add_all(Prefix(destination_id=destination.id, prefix=p) for p in prefixes)
    session().commit()
    return len(rows)


def save_tariff(tariff: Tariff | None, **values: object) -> Tariff:
    """Create (``tariff`` None) or change a tariff; one default tariff at most. Commits."""
    if tariff is None:
        tariff = Tariff()
        session().add(tariff)
    for key, value in values.items():
        setattr(tariff, key, value)
    if tariff.is_default:
        session().flush()
        for other in session().scalars(select(Tariff).where(Tariff.id != tariff.id)):
            other.is_default = False
    session().commit()
    return tariff


#: A destination of :func:`create_tariff`: name, group, prefixes and its rate's values
#: (the columns of :class:`Rate` but its destination and effective moment).
DestinationSpec = tuple[str, str, Sequence[str], Mapping[str, Any]]


def create_tariff(
    name: str,
    destinations: Iterable[DestinationSpec],
    *,
    since: datetime,
    time_zone: str = "Europe/Moscow",
) -> Tariff:
    """The default tariff ``name`` with ``destinations``, each with one rate from ``since``:
    the demo's tariff and the tests' (staff build theirs on the tariff pages). Commits."""
    specs = list(destinations)
    tariff = save_tariff(None, name=name, currency="RUB", time_zone=time_zone, is_default=True)
    import_destinations(
        tariff, [(label, group, list(prefixes)) for label, group, prefixes, _ in specs]
    )
    saved = {
        destination.name: destination
        for destination in session().scalars(
            select(Destination).where(Destination.tariff_id == tariff.id)
        )
    }
    for label, _group, _prefixes, values in specs:
        add_rate(saved[label], since, **values)
    return tariff


def name_taken(name: str, tariff_id: int | None) -> bool:
    found = session().scalar(select(Tariff.id).where(Tariff.name == name))
    return found is not None and found != tariff_id


class RateExists(ValueError):
    """A rate with that effective moment already exists: rates are never edited."""


def add_rate(
    destination: Destination, effective_from: datetime, **values: Decimal | int | None
) -> Rate:
    """A new price from ``effective_from``; the older rates stay as they were (calls are rated
    at their start by the rate in force then). Commits."""
    taken = session().scalar(
        select(Rate.id).where(
            Rate.destination_id == destination.id, Rate.effective_from == effective_from
        )
    )
    if taken is not None:
        raise RateExists(effective_from)
    rate = Rate(destination_id=destination.id, effective_from=effective_from, **values)
    session().add(rate)
    session().commit()
    return rate


def rates_of(destination_id: int) -> list[Rate]:
    return list(
        session().scalars(
            select(Rate)
            .where(Rate.destination_id == destination_id)
            .order_by(Rate.effective_from.desc())
        )
    )


def add_package(product_id: int, minutes: int, groups: str) -> IncludedMinutes:
    """Minutes a plan includes each month for some destination groups (comma-separated; empty:
    every destination). Commits."""
    clean = ",".join(g.strip() for g in groups.split(",") if g.strip())
    package = IncludedMinutes(product_id=product_id, minutes=minutes, groups=clean)
    session().add(package)
    session().commit()
    return package


def remove_package(package_id: int) -> None:
    session().execute(delete(IncludedMinutes).where(IncludedMinutes.id == package_id))
    session().commit()


def terms_of(client_id: int) -> ClientTerms:
    """The client's terms, a fresh (unsaved) default when there are none yet."""
    terms = session().get(ClientTerms, client_id)
    if terms is None:
        terms = ClientTerms(
            client_id=client_id,
            prepaid=True,
            coefficient_recurring=Decimal(1),
            coefficient_setup=Decimal(1),
            coefficient_duration=Decimal(1),
            low_balance=Decimal("100.00"),
            credit_limit=Decimal(0),
        )
    return terms


#: Marks the core personal discounts that carry a client's recurring coefficient.
COEFFICIENT_NOTE = "telephony: recurring coefficient"


def apply_recurring_coefficient(client: Client, coefficient: Decimal) -> None:
    """The recurring coefficient on the plans' (and trunks', add-ons') own prices: a core
    personal discount per telephony product, so invoices, renewals and change previews price
    it (README, "Tariff administration"). Raises ``DiscountError`` (above 1, ...). Commits."""
    for product in session().scalars(select(Product).where(Product.module == PLUGIN)):
        set_personal_coefficient(client, product, coefficient, note=COEFFICIENT_NOTE)


def fee_coefficients(client_id: int) -> tuple[Decimal, Decimal]:
    """(recurring, setup): what the numbers' monthly and connection fees are multiplied by."""
    terms = session().get(ClientTerms, client_id)
    if terms is None:
        return Decimal(1), Decimal(1)
    return terms.coefficient_recurring, terms.coefficient_setup


def setup_coefficient_of(client: Client, product: Product) -> Decimal | None:
    """The setup coefficient of ``client``'s terms for a telephony product's own setup fee (the
    core's ``setup_coefficient`` hook), or None: list price (no terms, 1, another module)."""
    if product.module != PLUGIN or client.id is None:
        return None
    terms = session().get(ClientTerms, client.id)
    if terms is None or terms.coefficient_setup == 1:
        return None
    return terms.coefficient_setup


def with_coefficient(amount: Decimal, coefficient: Decimal) -> Decimal:
    """``amount`` times the coefficient, rounded once to kopecks (1 000 x 0.1111 = 111.10)."""
    return amount if coefficient == 1 else apply_coefficient(amount, coefficient)


def save_terms(client_id: int, **values: object) -> ClientTerms:
    """Store the client's telephony terms (tariff, prepaid, coefficients, limits). Commits."""
    terms = terms_of(client_id)
    for key, value in values.items():
        setattr(terms, key, value)
    session().add(terms)
    session().commit()
    return terms


def revoke_pbx(pbx_id: int) -> bool:
    """Forget a PBX's token: its posts are refused from now on. Commits."""
    done = session().execute(delete(Pbx).where(Pbx.id == pbx_id)).rowcount
    session().commit()
    return bool(done)
