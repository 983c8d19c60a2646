"""Call rating: pure arithmetic, no database, no Flask (plugins/telephony/README.md, "Rating").

Everything a CDR needs to become money lives here so that the rules can be tested alone and
the importer can rate a million calls without a query per call: the tariff is loaded once into
a :class:`Tariff` (a :class:`PrefixIndex` plus the rates of each destination sorted by their
effective moment) and :func:`rate_call` is a function of plain values.

The rules, in the order they apply (the README's worked examples run as a test):

1. A call shorter than the tariff's ``free_under`` seconds (3 by default) costs nothing, not
   even the connect fee: it is a misdial or a voicemail hang-up.
2. The rate is the one in force when the call *started* (a rate that changes at midnight does
   not split a call that crosses it); weekend or night prices apply by the start, too.
3. Billed seconds: the first increment is charged whole, then whole next increments
   (60/60: 61 s = 120 s; 1/1: 61 s = 61 s; 60/1: 61 s = 60 + 1 s).
4. Included minutes (a plan's package, optionally only for some destination groups) cover
   billed seconds before money; a call covered entirely costs nothing, a call that uses up the
   package pays for the rest only, with the connect fee.
5. ``connect_fee + per_minute x paid seconds / 60``, at least ``minimum_charge``, times the
   client's per-duration coefficient, is rounded **once** to kopecks, half up (ROUND_HALF_UP).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
SIXTY = Decimal(60)
CENT = Decimal("0.01")
#: A free call's cost, rounded like any other: ``Decimal('0.00')``.
FREE = ZERO.quantize(CENT)
#: A number never has more digits than E.164 allows; the index never looks more than this.
MAX_PREFIX = 15

#: The billing increments offered in the tariff admin, (first, next) seconds.
INCREMENTS = ((60, 60), (1, 1), (60, 1), (30, 30))


class RatingError(ValueError):
    """A call that cannot be rated; ``reason`` is the rejects queue's code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def round_kopecks(amount: Decimal, places: int = 2) -> Decimal:
    """Round once, half up (0.005 -> 0.01): the portal's rule for every money line."""
    unit = CENT if places == 2 else Decimal(1).scaleb(-places)
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def apply_coefficient(amount: Decimal, coefficient: Decimal, places: int = 2) -> Decimal:
    """``amount x coefficient`` rounded once: 1 000 x 0.1111 = 111.10 (MangoBilling's
    per-component coefficients carry 4 decimals; recurring, setup and per-duration each)."""
    return round_kopecks(amount * coefficient, places)


def billed_seconds(seconds: int, first: int, step: int) -> int:
    """Seconds charged for ``seconds`` of talk with increments ``first``/``step``."""
    if seconds <= 0:
        return 0
    if seconds <= first:
        return first
    rest = seconds - first
    return first + -(-rest // step) * step


def draw_allowances(allowances: Iterable[Allowance], group: str, billed: int) -> int:
    """Included seconds for a call of ``billed`` seconds to ``group``, drawn in place from the
    packages in order (rule 4); shared by :func:`rate_call` and the importer's compiled rater
    (:mod:`portal_telephony.fast_rating`) so that both draw alike."""
    included = 0
    for allowance in allowances:
        if billed - included <= 0:
            break
        if allowance.seconds > 0 and allowance.covers(group):
            used = min(allowance.seconds, billed - included)
            allowance.seconds -= used
            included += used
    return included


def charge(
    connect_fee: Decimal, price: Decimal, paid: int, minimum: Decimal, coefficient: Decimal
) -> Decimal:
    """Rule 5: ``connect_fee + price x paid seconds / 60``, at least ``minimum``, times the
    coefficient, rounded once; nothing to pay costs :data:`FREE`. Shared like
    :func:`draw_allowances`: the money arithmetic exists once."""
    if not paid:
        return FREE
    return round_kopecks(max(connect_fee + price * paid / SIXTY, minimum) * coefficient)


def normalise_number(raw: str, *, country: str = "7", trunk: str = "8", national: int = 10) -> str:
    """Digits of a dialled number in international form: ``+7 (495) 123-45-67``,
    ``84951234567`` and ``4951234567`` all become ``74951234567``; ``810...`` (the old Russian
    international exit) and ``00...`` lose their exit code. Other lengths keep their digits."""
    digits = raw if raw.isdigit() else "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("810") and len(digits) > 11:
        return digits[3:]
    if digits.startswith("00"):
        return digits[2:]
    if len(digits) == national + len(trunk) and trunk and digits.startswith(trunk):
        return country + digits[len(trunk) :]
    if len(digits) == national:
        return country + digits
    return digits


class PrefixIndex:
    """Longest-prefix match with a dict per prefix length: at most 15 dict lookups per number,
    longest first, and only for the lengths some prefix has."""

    def __init__(self, prefixes: Iterable[tuple[str, int]] = ()) -> None:
        self._by_length: dict[int, dict[str, int]] = {}
        self._lengths: list[int] = []
        for prefix, destination in prefixes:
            self.add(prefix, destination)

    def add(self, prefix: str, destination: int) -> None:
        if not prefix.isdigit() or len(prefix) > MAX_PREFIX:
            raise ValueError(f"not a prefix: {prefix!r}")
        self._by_length.setdefault(len(prefix), {})[prefix] = destination
        self._lengths = sorted(self._by_length, reverse=True)

    def tables(self) -> list[tuple[int, dict[str, int]]]:
        """``(length, {prefix: destination id})``, longest first: what :meth:`lookup` walks, for
        a compiled rater (:mod:`portal_telephony.fast_rating`)."""
        return [(length, self._by_length[length]) for length in self._lengths]

    def lookup(self, number: str) -> int | None:
        """The destination of the longest prefix of ``number``, or None."""
        size = len(number)
        for length in self._lengths:
            if length <= size:
                found = self._by_length[length].get(number[:length])
                if found is not None:
                    return found
        return None

    def __len__(self) -> int:
        return sum(len(table) for table in self._by_length.values())


@dataclass(frozen=True, slots=True)
class Rate:
    """The price of a destination from ``effective_from`` (aware) until the next rate."""

    destination_id: int
    effective_from: datetime
    per_minute: Decimal
    connect_fee: Decimal = ZERO
    first_increment: int = 60
    next_increment: int = 60
    minimum_charge: Decimal = ZERO
    night_per_minute: Decimal | None = None
    weekend_per_minute: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Destination:
    id: int
    name: str
    group: str


@dataclass(slots=True)
class Tariff:
    """A tariff in memory: destinations, their prefixes and their dated rates."""

    currency: str = "RUB"
    free_under: int = 3
    night_start: time = time(22, 0)
    night_end: time = time(8, 0)
    destinations: dict[int, Destination] = field(default_factory=dict)
    index: PrefixIndex = field(default_factory=PrefixIndex)
    _rates: dict[int, list[Rate]] = field(default_factory=dict)
    _starts: dict[int, list[datetime]] = field(default_factory=dict)

    def add_destination(self, destination: Destination, prefixes: Iterable[str]) -> None:
        self.destinations[destination.id] = destination
        for prefix in prefixes:
            self.index.add(prefix, destination.id)

    def add_rate(self, rate: Rate) -> None:
        rates = self._rates.setdefault(rate.destination_id, [])
        starts = self._starts.setdefault(rate.destination_id, [])
        position = bisect.bisect_right(starts, rate.effective_from)
        rates.insert(position, rate)
        starts.insert(position, rate.effective_from)

    def rate_at(self, destination_id: int, moment: datetime) -> Rate | None:
        """The rate in force at ``moment`` (the last one that started at or before it)."""
        starts = self._starts.get(destination_id)
        if not starts:
            return None
        position = bisect.bisect_right(starts, moment)
        return self._rates[destination_id][position - 1] if position else None

    def rates_of(self, destination_id: int) -> tuple[list[datetime], list[Rate]]:
        """A destination's rates and the moments they take effect, both in that order."""
        return self._starts.get(destination_id, []), self._rates.get(destination_id, [])

    def price_per_minute(self, rate: Rate, local_start: datetime) -> Decimal:
        """Weekend price on Saturday and Sunday, night price in the night window, else the day
        price; a missing special price falls back to the day price."""
        if rate.weekend_per_minute is not None and local_start.weekday() >= 5:
            return rate.weekend_per_minute
        if rate.night_per_minute is not None and self._is_night(local_start.time()):
            return rate.night_per_minute
        return rate.per_minute

    def _is_night(self, moment: time) -> bool:
        if self.night_start <= self.night_end:
            return self.night_start <= moment < self.night_end
        return moment >= self.night_start or moment < self.night_end


@dataclass(slots=True)
class Allowance:
    """Included minutes left this period, as seconds, for some destination groups (an empty
    ``groups`` means every destination). Rating draws from it in place."""

    seconds: int
    groups: frozenset[str] = frozenset()

    def covers(self, group: str) -> bool:
        return not self.groups or group in self.groups


@dataclass(frozen=True, slots=True)
class RatedCall:
    destination_id: int
    destination: str
    group: str
    billed_seconds: int
    included_seconds: int
    cost: Decimal
    rate: Rate | None


def rate_call(
    tariff: Tariff,
    number: str,
    start: datetime,
    seconds: int,
    *,
    local_start: datetime | None = None,
    allowances: Iterable[Allowance] = (),
    coefficient: Decimal = ONE,
) -> RatedCall:
    """Rate one answered call to ``number`` (normalised digits) that started at ``start``
    (aware) and lasted ``seconds`` of talk; ``local_start`` (the provider's wall clock) picks
    night and weekend prices. Raises :class:`RatingError` for no destination or no rate."""
    if seconds < 0:
        raise RatingError("negative_duration")
    destination_id = tariff.index.lookup(number)
    if destination_id is None:
        raise RatingError("no_destination")
    destination = tariff.destinations[destination_id]
    rate = tariff.rate_at(destination_id, start)
    if rate is None:
        raise RatingError("no_rate")
    if seconds < tariff.free_under:
        return RatedCall(destination_id, destination.name, destination.group, 0, 0, FREE, rate)
    billed = billed_seconds(seconds, rate.first_increment, rate.next_increment)
    included = draw_allowances(allowances, destination.group, billed)
    paid = billed - included
    price = tariff.price_per_minute(rate, local_start or start) if paid else ZERO
    cost = charge(rate.connect_fee, price, paid, rate.minimum_charge, coefficient)
    return RatedCall(
        destination_id, destination.name, destination.group, billed, included, cost, rate
    )


def destination_rows(rows: Iterable[Mapping[str, str]]) -> Iterable[tuple[str, str, list[str]]]:
    """Destinations from a CSV of ``name,group,prefixes`` (prefixes separated by spaces or
    ``;``): ``(name, group, [prefix, ...])``, for the tariff import."""
    for row in rows:
        name = (row.get("name") or "").strip()
        prefixes = [p for p in (row.get("prefixes") or "").replace(";", " ").split() if p]
        if not name or not prefixes:
            raise ValueError(f"a destination needs a name and prefixes: {dict(row)!r}")
        yield name, (row.get("group") or "").strip() or name, prefixes
