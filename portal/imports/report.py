"""What an import did, per source table, and the sums that show nothing was lost.

Every source row ends in exactly one of four counts: created, changed, unchanged, refused. A
refused row is listed with its id and the reason, never dropped silently; a row imported with
one value left out (an invalid ИНН) stays counted as created or changed and its value is listed
as refused too, with the field named. The sums are computed twice, from the source and from
what the portal holds after the import, so staff can compare them line by line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

OUTCOMES = ("created", "changed", "unchanged", "refused")


@dataclass
class TableCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.created + self.changed + self.unchanged + self.refused


@dataclass(frozen=True)
class Refusal:
    table: str
    source_id: str
    reason: str
    #: The column whose value was refused while the row itself was imported; None: the row.
    field: str | None = None

    def __str__(self) -> str:
        what = f"{self.table} #{self.source_id}"
        if self.field:
            what += f" {self.field}"
        return f"{what}: {self.reason}"


@dataclass
class Sums:
    """Counts and per-currency money totals of one side (the source, or the portal)."""

    counts: dict[str, int] = field(default_factory=dict)
    #: (what, currency) -> amount, e.g. ("invoices", "RUB") -> Decimal("12345.60")
    money: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def count(self, what: str, number: int) -> None:
        self.counts[what] = number

    def add(self, what: str, currency: str, amount: Decimal) -> None:
        self.money[(what, currency)] += amount


@dataclass
class ImportReport:
    dry_run: bool = False
    tables: dict[str, TableCounts] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    source: Sums = field(default_factory=Sums)
    imported: Sums = field(default_factory=Sums)

    def _counts(self, table: str) -> TableCounts:
        return self.tables.setdefault(table, TableCounts())

    def created(self, table: str) -> None:
        self._counts(table).created += 1

    def changed(self, table: str) -> None:
        self._counts(table).changed += 1

    def unchanged(self, table: str) -> None:
        self._counts(table).unchanged += 1

    def refused(self, table: str, source_id: object, reason: str) -> None:
        """The whole row was not imported."""
        self._counts(table).refused += 1
        self.refusals.append(Refusal(table, str(source_id), reason))

    def refused_value(self, table: str, source_id: object, column: str, reason: str) -> None:
        """The row was imported without this value (kept visibly elsewhere, as the step says)."""
        self.refusals.append(Refusal(table, str(source_id), reason, field=column))

    def refusals_of(self, table: str) -> list[Refusal]:
        return [refusal for refusal in self.refusals if refusal.table == table]

    def sum_lines(self) -> list[tuple[str, str, str]]:
        """(what, in the source, imported) for every count and money total either side has."""
        lines = []
        for what in dict.fromkeys([*self.source.counts, *self.imported.counts]):
            lines.append(
                (what, str(self.source.counts.get(what, 0)), str(self.imported.counts.get(what, 0)))
            )
        for key in sorted({*self.source.money, *self.imported.money}):
            what, currency = key
            lines.append(
                (
                    f"{what} {currency}",
                    str(self.source.money.get(key, Decimal(0))),
                    str(self.imported.money.get(key, Decimal(0))),
                )
            )
        return lines

    def lines(self) -> list[str]:
        """The report as text: per table, the refusals, the sums."""
        head = "would be " if self.dry_run else ""
        out = [
            f"{'table':<26} {head + 'created':>16} {'changed':>9} {'unchanged':>10} {'refused':>8}"
        ]
        for table, counts in self.tables.items():
            out.append(
                f"{table:<26} {counts.created:>16} {counts.changed:>9} "
                f"{counts.unchanged:>10} {counts.refused:>8}"
            )
        if self.refusals:
            out.append("")
            out.append("Refused (not imported, or imported without the value named):")
            out.extend(f"  {refusal}" for refusal in self.refusals)
        sums = self.sum_lines()
        if sums:
            out.append("")
            out.append(f"{'sums':<26} {'source':>16} {'imported':>16}")
            out.extend(f"{what:<26} {left:>16} {right:>16}" for what, left, right in sums)
        return out
