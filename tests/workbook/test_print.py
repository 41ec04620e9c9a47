"""Issue 11: printing. Landed Cost's 48 input columns printed one A3 page wide came out as an
unreadable strip. A sheet wider than a page now prints at 80% on A4 landscape, broken between
columns, its label columns (SKU, market, channel) and header rows repeated on every page; a
narrower one, and a dashboard, prints one page wide."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlplan.app import templates
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_SHEET
from xlplan.workbook import render


@pytest.fixture(scope="module")
def template() -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(templates.template_bytes("en")))


def test_a_wide_sheet_prints_in_readable_pages(template: openpyxl.Workbook) -> None:
    ws = template["Landed Cost"]
    assert ws.page_setup.scale == render.PRINT_SCALE
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is None or not fit.fitToPage  # not shrunk into one strip
    breaks = [b.id for b in ws.col_breaks.brk]
    assert len(breaks) >= 3
    # the live result block starts a page of its own
    assert len(LANDED_COST.columns) in breaks
    assert ws.print_title_cols == "$A:$C"  # SKU, market, channel on every page
    assert ws.print_title_rows == "$5:$6"


def test_stacked_tables_repeat_no_header_rows(template: openpyxl.Workbook) -> None:
    """The Monthly Plan holds three tables: the plan's header repeated over the event dates
    would label them wrongly. Its label columns (bucket, map, owner) still repeat."""
    ws = template["Monthly Plan"]
    assert ws.print_title_rows is None
    assert ws.print_title_cols == "$A:$C"
    assert template["Landed Cost Results"].print_title_rows == "$5:$6"  # one table


def test_each_page_fits_its_columns(template: openpyxl.Workbook) -> None:
    """No page holds more than A4 landscape takes at 80%, the repeated columns included."""
    ws = template["Landed Cost"]
    widths: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            for c in range(dim.min, dim.max + 1):
                widths[c] = float(dim.width) - 0.71  # the padding XlsxWriter adds
    px = {c: int(w * 7 + 5) for c, w in widths.items()}
    label = sum(px.get(c, 64) for c in (1, 2, 3))
    edges = [3, *[b.id for b in ws.col_breaks.brk], max(widths)]
    for first, last in zip(edges, edges[1:], strict=False):
        page = label + sum(px.get(c, 64) for c in range(first + 1, last + 1))
        assert page <= render.PRINTABLE_PIXELS * 100 / render.PRINT_SCALE


def test_narrow_sheets_and_dashboards_print_one_page_wide(template: openpyxl.Workbook) -> None:
    for name in ("Tracking", "Dashboard"):
        ws = template[name]
        fit = ws.sheet_properties.pageSetUpPr
        assert fit is not None and fit.fitToPage, name
        assert ws.page_setup.fitToWidth in (None, 1) and not ws.col_breaks.brk


@pytest.mark.soffice
def test_libreoffice_breaks_the_pages_where_planned(soffice: Any, tmp_path: Path) -> None:
    """LibreOffice prints the 48 landed-cost columns on exactly the planned pages, each with
    the SKU column (with Carlito, which has Calibri's metrics, as `.ci/run` installs)."""
    fonts = subprocess.run(["fc-list"], capture_output=True, check=False).stdout
    if shutil.which("pdftotext") is None or b"Carlito" not in fonts:
        pytest.skip("pdftotext or the Carlito font is missing")
    src = tmp_path / "wide.xlsx"
    buf = io.BytesIO()
    wb = render.new_workbook(buf)
    fmt = render.Formats(wb)
    lines = landed_cost_sheets.sample_lines()
    ws = render.write_tables_sheet(wb, fmt, LANDED_COST_SHEET, [(LANDED_COST, lines)], "en")
    planned = len(ws.vbreaks) + 1
    wb.close()
    src.write_bytes(buf.getvalue())
    (pdf,) = soffice.convert([src], tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert planned >= 3 and len(pages) == planned
    assert all("SKU" in p and "PB-10K" in p for p in pages)
