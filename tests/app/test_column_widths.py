"""Issue 11: nothing a planner reads is clipped. Settings keys ran past their column, the
Tracking header "Forecast attainment" was cut, the Customer Map's order value ran into the
budget months ("1,2791"). Every table header (two lines, bold, beside its filter button), every
sub-header (the other language and unit, two small lines) and every value (one line, as its
number format shows it) of the demo's workbooks, in both languages, and of the templates fits
its column.

The measure here is independent of XLPlan's own: character widths from Unicode's East Asian
width property, the number as Excel's format string would print it.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter, range_boundaries

from xlplan.app import demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-widths")
    demo.run_demo(out, date(2026, 11, 21))
    return out


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _two_lines(text: str) -> int:
    """The narrowest column that shows ``text`` on two lines, breaking at a space or beside a
    wide character (never inside a Latin word)."""
    best = _width(text)
    for i in range(1, len(text)):
        a, b = text[i - 1], text[i]
        if " " in (a, b) or _width(a) == 2 or _width(b) == 2:
            best = min(best, max(_width(text[:i].rstrip()), _width(text[i:].lstrip())))
    return best


def _shown(value: object, number_format: str) -> str:
    """What Excel shows for ``value`` under ``number_format`` (the formats XLPlan uses)."""
    if isinstance(value, bool):
        return "FALSE"
    if isinstance(value, datetime | date):
        return "2027-12-31"
    if not isinstance(value, int | float):
        return str(value)
    number_format = number_format.split(";")[0]  # the positive section; negatives add a sign
    sign = "-" if value < 0 else ""
    value = abs(value)
    if "%" in number_format:
        places = number_format.split("%")[0].split(".")[1].count("0") if "." in number_format else 0
        return f"{sign}{value * 100:,.{places}f}%"
    if number_format.startswith("#,##0.00"):
        text = f"{value:,.8f}".rstrip("0") if "#" in number_format[8:] else f"{value:,.2f}"
        head, _, tail = text.partition(".")
        return f"{sign}{head}.{tail.ljust(2, '0')}"
    if number_format.startswith("#,##0"):
        return f"{sign}{value:,.0f}"
    if number_format == "0":
        return f"{sign}{value:.0f}"
    return f"{sign}{value:.10g}"[:11]


def _column_widths(ws: object) -> dict[int, float]:
    widths: dict[int, float] = {}
    for dim in ws.column_dimensions.values():  # type: ignore[attr-defined]
        if dim.width and dim.min:
            for c in range(dim.min, dim.max + 1):
                widths[c] = float(dim.width)
    return widths


def clipped(path: Path) -> list[str]:
    """Every table header, sub-header and value of ``path`` wider than its column."""
    wb = openpyxl.load_workbook(path)
    found: list[str] = []
    for ws in wb.worksheets:
        widths = _column_widths(ws)
        for table in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(table.ref)
            for c in range(c1, c2 + 1):
                width = widths.get(c, 8.43)
                where = f"{ws.title}!{get_column_letter(c)}"
                header = ws.cell(r1, c).value
                if header is not None and _two_lines(str(header)) * 1.1 + 2 > width:
                    found.append(f"{where}{r1} header {header!r} in {width:.1f}")
                sub = ws.cell(r1 - 1, c).value if r1 > 1 else None
                if isinstance(sub, str) and _two_lines(sub) * 0.85 > width:
                    found.append(f"{where}{r1 - 1} sub-header {sub!r} in {width:.1f}")
                for r in range(r1 + 1, r2 + 1):
                    cell = ws.cell(r, c)
                    value = cell.value
                    if value is None or (isinstance(value, str) and value.startswith("=")):
                        continue
                    if cell.alignment is not None and cell.alignment.wrap_text:
                        continue  # wraps in its cell, its row grown
                    text = _shown(value, cell.number_format)
                    if _width(text) + (0.5 if isinstance(value, str) else 1) > width:
                        found.append(f"{where}{r} value {text!r} in {width:.1f}")
                        break
    return found


@pytest.mark.parametrize("name", ["demo-plan.xlsx", "demo-plan-zh.xlsx"])
def test_nothing_in_the_demo_is_clipped(written: Path, name: str) -> None:
    assert clipped(written / name) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_in_the_templates_is_clipped(lang: str) -> None:
    assert clipped(ROOT / "workbooks" / f"xlplan-template-{lang}.xlsx") == []


def test_the_measure_sees_a_clipped_column(tmp_path: Path) -> None:
    """The check itself fails on what users saw: an order value running over its column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["订单均值", "预算月份"])
    ws.append([12791.25, 3])
    ws["A2"].number_format = "#,##0.00"
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 20
    from openpyxl.worksheet.table import Table

    ws.add_table(Table(displayName="tblT", ref="A1:B2"))
    wb.save(tmp_path / "t.xlsx")
    found = clipped(tmp_path / "t.xlsx")
    assert any("A2 value '12,791.25'" in f for f in found)
    assert any("A1 header '订单均值'" in f for f in found)


def overflowing_notes(path: Path) -> list[str]:
    """Notes above tables that wrap (merged over the table's columns) but need more lines than
    their row holds."""
    wb = openpyxl.load_workbook(path)
    found: list[str] = []
    for ws in wb.worksheets:
        widths = _column_widths(ws)
        for merged in ws.merged_cells.ranges:
            cell = ws.cell(merged.min_row, merged.min_col)
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            width = sum(widths.get(c, 8.43) for c in range(merged.min_col, merged.max_col + 1))
            height = ws.row_dimensions[merged.min_row].height or 15
            lines = max(1, round(height / 13.5))
            if _width(cell.value) > width * 1.2 * lines:
                found.append(f"{ws.title}!{cell.coordinate} needs more than {lines} lines")
    return found


@pytest.mark.parametrize("name", ["demo-plan.xlsx", "demo-plan-zh.xlsx"])
def test_long_notes_wrap_over_their_table(written: Path, name: str) -> None:
    """A table's note longer than the table (the customer tiers' formula) wraps over the
    table's columns, its row as tall as its lines, instead of running off the printed page."""
    wb = openpyxl.load_workbook(written / name)
    sheet = "Customer Map Result" if name == "demo-plan.xlsx" else "客户地图结果"
    assert any(m.min_col == 1 and m.max_col > 5 for m in wb[sheet].merged_cells.ranges)
    assert overflowing_notes(written / name) == []
