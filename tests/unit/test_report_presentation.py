"""The report API's pieces without a web request: typed columns, totals, the SVG charts
(negative values, stacked bars, thinned labels) and the CSV cells."""

import re
from datetime import date
from decimal import Decimal

import pytest

from portal.platform.report_charts import axis_range
from portal.platform.report_export import csv_cell, report_csv
from portal.platform.reports import Chart, Column, Link, ReportResult

D = Decimal


def _rects(svg: str) -> list[dict[str, float]]:
    """The bars of a chart (legend keys are 10×10 and carry no tooltip)."""
    found = []
    for match in re.finditer(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"'
                             r' fill="[^"]+"><title>', svg):  # fmt: skip
        x, y, w, h = (float(v) for v in match.groups())
        found.append({"x": x, "y": y, "w": w, "h": h})
    return found


def _zero_line(svg: str) -> float:
    """The y of the darker grid line (zero)."""
    return float(re.search(r'y1="([\d.]+)" y2="[\d.]+" stroke="#6c757d"', svg).group(1))


def test_the_value_axis_is_round_and_holds_negatives() -> None:
    assert axis_range(0, 137) == (0, 150, 50)
    assert axis_range(-30, 90) == (-50, 100, 50)
    bottom, top, step = axis_range(-1200, 4500)
    assert bottom <= -1200 and top >= 4500 and bottom % step == 0 and top % step == 0
    assert axis_range(0, 0) == (0, 1, 0.25)


def test_stacked_bars_go_up_and_down_from_zero() -> None:
    chart = Chart(
        "stacked",
        ["янв", "фев"],
        [
            ("New", [D("100"), D("50")]),
            ("Expansion", [D("20"), 0]),
            ("Churn", [D("-40"), D("-70")]),
        ],
        title="MRR movements",
    )
    svg = str(chart.svg())
    zero = _zero_line(svg)
    bars = _rects(svg)
    assert len(bars) == 5  # the zero expansion in February draws nothing
    january = [b for b in bars if b["x"] < bars[0]["x"] + 1]
    above = [b for b in january if b["y"] + b["h"] <= zero + 0.01]
    below = [b for b in january if b["y"] >= zero - 0.01]
    assert len(above) == 2 and len(below) == 1
    # stacked: expansion starts where "new" ends
    new, expansion = sorted(above, key=lambda b: -b["y"])
    assert abs(new["y"] - (expansion["y"] + expansion["h"])) < 0.2
    assert "MRR movements" in svg and svg.count("<text") > 6
    assert "style=" not in svg


def test_side_by_side_bars_take_negative_values() -> None:
    svg = str(Chart("bar", ["a", "b"], [("x", [D("10"), D("-5")])]).svg())
    zero = _zero_line(svg)
    up, down = _rects(svg)
    assert abs(up["y"] + up["h"] - zero) < 0.2 and abs(down["y"] - zero) < 0.2
    assert up["h"] == pytest.approx(2 * down["h"], rel=0.02)


def test_crowded_labels_are_thinned_and_lines_have_points() -> None:
    labels = [f"{day:02d}.10.2026" for day in range(1, 32)]
    svg = str(Chart("line", labels, [("x", list(range(31)))]).svg(360, 200))
    shown = [label for label in labels if f">{label}<" in svg]
    assert labels[0] in shown and 3 <= len(shown) < 31
    assert svg.count("<circle") == 31 and "<polyline" in svg


def test_a_chart_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="chart kind"):
        Chart("pie", ["a"], [("x", [1])])


def test_columns_and_totals() -> None:
    result = ReportResult(["Client", Column("Owed", "money")], [["a", D("1")]], totals=[None, D(1)])
    assert [c.kind for c in result.columns] == ["text", "money"]
    with pytest.raises(ValueError):
        Column("x", "colour")
    with pytest.raises(ValueError, match="totals has 1 cells for 2 columns"):
        ReportResult(["a", "b"], [], totals=[1])
    multi = ReportResult(
        [Column("Currency"), Column("Owed", "money", currency_column=0)],
        [["USD", D("5")]],
        currency="RUB",
    )
    assert multi.currency_of(multi.columns[1], multi.rows[0]) == "USD"


def test_csv_cells_are_plain_for_programs() -> None:
    money, month, text = Column("m", "money"), Column("d", "month"), Column("t")
    assert csv_cell(money, D("1234.5000")) == "1234.50"
    assert csv_cell(money, D("0.1111")) == "0.1111"
    assert csv_cell(money, D("-1220.00")) == "-1220.00"
    assert csv_cell(month, date(2026, 3, 1)) == "2026-03"
    assert csv_cell(Column("d", "date"), date(2026, 3, 1)) == "2026-03-01"
    assert csv_cell(text, "=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell(Column("c", "link"), Link("ООО «Ромашка»", "/admin/clients/1")) == (
        "ООО «Ромашка»"
    )
    assert csv_cell(Column("c", "link"), ("Лютик", "/admin/clients/2")) == "Лютик"
    assert csv_cell(text, None) == ""
    data = report_csv(
        ReportResult(
            ["Name", Column("Sum", "money")], [["a, b", D("1.00")]], totals=[None, D("1.00")]
        )
    )
    assert data.decode("utf-8-sig") == 'Name,Sum\r\n"a, b",1.00\r\n,1.00\r\n'
