"""The importer's rater: a :class:`rating.Tariff` compiled into plain tuples for the inner loop
of a CDR import (plugins/telephony/README.md, "Benchmark").

:func:`portal_telephony.rating.rate_call` states the rules and stays the reference (the README's
examples and the oracles test it). Rating a million calls through it costs objects per call
(a :class:`~portal_telephony.rating.RatedCall`, an aware local datetime for the night and
weekend check), so the importer rates with :class:`CompiledTariff` instead, which gives the
same answers (``tests/test_fast_rating.py`` compares both on thousands of generated calls):

* the prefix tables are walked inline, longest first, as :meth:`PrefixIndex.lookup` does;
* each destination is ``(name, group, effective moments, rate tuples)``; the rate in force is
  still the ``bisect_right`` of the call's start among the moments;
* the provider's wall clock is read only when the rate has a night or weekend price, from the
  UTC offset of the call's hour, learnt once per hour (an hour whose offset changes inside it,
  and a start with microseconds, go through :meth:`Tariff.price_per_minute` itself);
* included minutes and money go through the same functions as the reference,
  :func:`rating.draw_allowances` and :func:`rating.charge`: the arithmetic is not repeated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal

from portal_telephony.rating import (
    FREE,
    ZERO,
    Allowance,
    Tariff,
    billed_seconds,
    charge,
    draw_allowances,
    normalise_number,
)

#: What :meth:`CompiledTariff.rate` answers for a rated call.
Rated = tuple[str, str, int, int, Decimal]

_UNSEEN = object()
#: 1 January 1970 was a Thursday (``weekday() == 3``).
_EPOCH_WEEKDAY = 3


def international(raw: str) -> str:
    """:func:`rating.normalise_number` with its defaults (Russia: ``7``, trunk ``8``, 10
    national digits); an 11-digit ``7...`` number, the usual case, is returned as it is."""
    if len(raw) == 11 and raw[0] == "7" and raw.isdigit():
        return raw
    return normalise_number(raw)


def _second_of_day(moment: time) -> int | None:
    """Whole seconds since midnight, or None when the wall-clock shortcut cannot be exact."""
    if moment.microsecond or moment.tzinfo is not None:
        return None
    return moment.hour * 3600 + moment.minute * 60 + moment.second


class CompiledTariff:
    """One tariff ready for :meth:`rate`; built once per import from a loaded
    :class:`rating.Tariff` and the tariff's time zone."""

    __slots__ = (
        "_destinations",
        "_free_under",
        "_night",
        "_offsets",
        "_tables",
        "currency",
        "tariff",
        "zone",
    )

    def __init__(self, tariff: Tariff, zone: tzinfo) -> None:
        self.tariff = tariff
        self.zone = zone
        self.currency = tariff.currency
        self._free_under = tariff.free_under
        self._tables = tariff.index.tables()
        self._destinations: dict[int, tuple[str, str, list[datetime], list[tuple]]] = {}
        for destination_id, destination in tariff.destinations.items():
            starts, rates = tariff.rates_of(destination_id)
            compiled = [
                (
                    rate.per_minute,
                    rate.connect_fee,
                    rate.first_increment,
                    rate.next_increment,
                    rate.minimum_charge,
                    rate.night_per_minute,
                    rate.weekend_per_minute,
                    rate,
                )
                for rate in rates
            ]
            self._destinations[destination_id] = (
                destination.name,
                destination.group,
                starts,
                compiled,
            )
        start, end = _second_of_day(tariff.night_start), _second_of_day(tariff.night_end)
        self._night = None if start is None or end is None else (start, end)
        self._offsets: dict[int, int | None] = {}

    def rate(
        self,
        number: str,
        start: datetime,
        seconds: int,
        allowances: Iterable[Allowance],
        coefficient: Decimal,
    ) -> Rated | str:
        """``(destination, group, billed seconds, included seconds, cost)`` of a call, as
        :func:`rating.rate_call` rates it, or the reject reason instead of raising it."""
        if seconds < 0:
            return "negative_duration"
        size = len(number)
        for length, table in self._tables:
            if length <= size:
                destination_id = table.get(number[:length])
                if destination_id is not None:
                    break
        else:
            return "no_destination"
        name, group, starts, rates = self._destinations[destination_id]
        position = bisect_right(starts, start)
        if not position:
            return "no_rate"
        rate = rates[position - 1]
        if seconds < self._free_under:
            return name, group, 0, 0, FREE
        billed = billed_seconds(seconds, rate[2], rate[3])
        included = draw_allowances(allowances, group, billed) if allowances else 0
        paid = billed - included
        price = self._price(rate, start) if paid else ZERO
        return name, group, billed, included, charge(rate[1], price, paid, rate[4], coefficient)

    def _price(self, rate: tuple, start: datetime) -> Decimal:
        """:meth:`Tariff.price_per_minute` at ``start`` on the tariff's wall clock."""
        per_minute, night, weekend = rate[0], rate[5], rate[6]
        if night is None and weekend is None:
            return per_minute
        if start.microsecond or self._night is None:
            return self.tariff.price_per_minute(rate[7], start.astimezone(self.zone))
        moment = int(start.timestamp())
        hour = moment // 3600
        offset = self._offsets.get(hour, _UNSEEN)
        if offset is _UNSEEN:
            offset = self._offsets[hour] = self._offset(hour)
        if offset is None:
            return self.tariff.price_per_minute(rate[7], start.astimezone(self.zone))
        day, second = divmod(moment + offset, 86400)  # type: ignore[operator]
        if weekend is not None and (day + _EPOCH_WEEKDAY) % 7 >= 5:
            return weekend
        if night is not None:
            night_start, night_end = self._night
            if night_start <= night_end:
                at_night = night_start <= second < night_end
            else:
                at_night = second >= night_start or second < night_end
            if at_night:
                return night
        return per_minute

    def _offset(self, hour: int) -> int | None:
        """The zone's UTC offset in whole seconds through the UTC hour ``hour`` (hours since
        the epoch), or None when it changes inside the hour (or has fractions of a second)."""
        first = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.zone).utcoffset()
        last = datetime.fromtimestamp(hour * 3600 + 3599, UTC).astimezone(self.zone).utcoffset()
        if first is None or first != last or first.microseconds:
            return None
        return first.days * 86400 + first.seconds
