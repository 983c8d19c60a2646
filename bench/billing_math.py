"""Benchmark of the billing math: prorations and change quotes per second.

Usage: ``python bench/billing_math.py [N]`` (N prorations per convention, default 1_000_000;
quote_change runs N // 10 times). Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.billing import Cycle, DayCount, Period, Terms, next_due, prorate, quote_change

CASES = 4096


def _cases() -> list[tuple[Decimal, date, date, date]]:
    """A fixed spread of amounts, periods (all cycles, 31st anchors, leap Februaries) and days."""
    cycles = [Cycle.MONTHLY, Cycle.QUARTERLY, Cycle.SEMI_ANNUAL, Cycle.ANNUAL]
    cases = []
    for i in range(CASES):
        cycle = cycles[i % len(cycles)]
        start = date(2019, 1, 1) + timedelta(days=(i * 37) % 2000)
        end = next_due(start, cycle)
        day = start + timedelta(days=(i * 13) % (end - start).days)
        cases.append((Decimal(f"{(i * 7919) % 100000}.{i % 100:02d}"), start, end, day))
    return cases


def bench_prorate(n: int, day_count: DayCount) -> float:
    cases = _cases()
    started = time.perf_counter()
    for i in range(n):
        amount, start, end, day = cases[i & (CASES - 1)]
        prorate(amount, start, end, day, day_count, "RUB")
    return n / (time.perf_counter() - started)


def bench_quote_change(n: int, day_count: DayCount) -> float:
    cases = _cases()
    started = time.perf_counter()
    for i in range(n):
        amount, start, end, day = cases[i & (CASES - 1)]
        cycle = Cycle.MONTHLY  # any recurring cycle: the quote does not look at its length
        quote_change(
            Terms(cycle, amount),
            Terms(cycle, amount + 100),
            day,
            Period(start, end),
            day_count,
            "RUB",
        )
    return n / (time.perf_counter() - started)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"portal.billing math, Python {sys.version.split()[0]}")
    for day_count in DayCount:
        rate = bench_prorate(n, day_count)
        print(
            f"prorate        {day_count.value:>7}: {n:>9,} in {n / rate:6.2f} s = {rate:>10,.0f}/s"
        )
    quotes = max(n // 10, 1)
    for day_count in DayCount:
        rate = bench_quote_change(quotes, day_count)
        print(
            f"quote_change   {day_count.value:>7}: {quotes:>9,} in {quotes / rate:6.2f} s = "
            f"{rate:>10,.0f}/s"
        )


if __name__ == "__main__":
    main()
