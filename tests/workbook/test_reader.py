"""Reading tables from workbook files: typed columns, cells as they are, error cells."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.core.errors import records
from xlplan.workbook import reader as reader_module
from xlplan.workbook.io import FilePort, read_workbook_tables
from xlplan.workbook.package.cellscan import NOT_AVAILABLE, not_available_strings, special_cells


def _template(tmp_path: Path, lang: str = "en") -> tuple[openpyxl.Workbook, Path]:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return openpyxl.load_workbook(path), path


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for key in a.columns:
        left = [None if pd.isna(v) else v for v in a[key].tolist()]
        right = [None if pd.isna(v) else v for v in b[key].tolist()]
        assert left == right, key


def test_typed_columns_read_what_the_cells_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every template table read as typed columns equals the same table read cell by cell."""
    for lang in templates.LANGS:
        path = tmp_path / f"t-{lang}.xlsx"
        path.write_bytes(templates.template_bytes(lang))
        typed = read_workbook_tables(path, CATALOG)
        with monkeypatch.context() as m:
            m.setattr(reader_module.WorkbookReader, "_typed_columns", lambda *a: None)
            cells = read_workbook_tables(path, CATALOG)
        assert typed.keys() == cells.keys()
        for key in typed:
            _same(typed[key].frame, cells[key].frame)
        # numbers come as float64 columns: one array for the parser, not a cell at a time
        assert typed["landed_cost"].frame["unit_cost"].dtype == np.float64


def test_a_table_with_room_at_its_end_and_cells_around_it_reads_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typed read takes the table's rectangle from its sheet: cells beside and below the
    table are not read, and rows the table spans past the sheet's last used row (room left
    for more lines) read as blank rows, as cell by cell."""
    wb, path = _template(tmp_path)
    ws = wb["Landed Cost"]
    table = ws.tables["tblLandedCost"]
    first, last = table.ref.split(":")
    end = int("".join(ch for ch in last if ch.isdigit()))
    table.ref = f"{first}:{''.join(ch for ch in last if ch.isalpha())}{end + 30}"
    ws.cell(8, ws.max_column + 2, "a note beside the table")
    wb.save(path)
    typed_reads: list[object] = []
    original = reader_module.WorkbookReader._typed_columns

    def spy(self: object, *args: object) -> object:
        block = original(self, *args)
        typed_reads.append(block)
        return block

    with monkeypatch.context() as m:
        m.setattr(reader_module.WorkbookReader, "_typed_columns", spy)
        typed = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    assert typed_reads and all(b is not None for b in typed_reads)
    with monkeypatch.context() as m:
        m.setattr(reader_module.WorkbookReader, "_typed_columns", lambda *a: None)
        cells = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    _same(typed, cells)
    assert typed["unit_cost"].dtype == np.float64
    ws.cell(end + 45, 1, "below the table")  # the sheet now runs past the table's end
    wb.save(path)
    below = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    _same(below, cells)


def test_a_table_whose_end_column_has_no_cells_reads_as_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's last column with neither a header cell nor a value is outside the sheet's
    cells: the table still reads (cell by cell), the same as ever, never refused."""
    wb, path = _template(tmp_path)
    ws = wb["Landed Cost"]
    first, last = ws.tables["tblLandedCost"].ref.split(":")
    top = int("".join(ch for ch in first if ch.isdigit()))
    col = openpyxl.utils.column_index_from_string("".join(ch for ch in last if ch.isalpha()))
    for row in ws.iter_rows(min_row=top, min_col=col, max_col=col):
        for cell in row:
            cell.value = None
    wb.save(path)
    typed = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    with monkeypatch.context() as m:
        m.setattr(reader_module.WorkbookReader, "_typed_columns", lambda *a: None)
        cells = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    _same(typed, cells)


def test_a_column_mixing_types_is_read_cell_by_cell(tmp_path: Path) -> None:
    wb, path = _template(tmp_path)
    ws = wb["Landed Cost"]
    ws["D8"] = "twelve"  # a text among the unit costs
    ws["E9"] = date(2026, 1, 2)  # a date among the currencies
    wb.save(path)
    lines = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    assert lines["unit_cost"].tolist()[:3] == [62.0, "twelve", lines["unit_cost"][2]]
    assert lines["cost_currency"][2] == date(2026, 1, 2)
    port = FilePort(path, CATALOG, lang="en")
    report = actions.run(port, date(2026, 12, 2), ["landed_cost"])
    where = {port.locate(r) for r in records(report.errors)}
    assert {"Landed Cost!D8", "Landed Cost!E9"} <= where


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_error_cells_are_reported_not_blank(tmp_path: Path, lang: str) -> None:
    """An error value (#N/A) reads as its text, as Excel hands it to a UDF; both readers
    underneath would hand over a blank, and a blank unit cost is not what the cell holds."""
    wb, path = _template(tmp_path, lang)
    ws = wb["Landed Cost" if lang == "en" else "落地成本"]
    ws["D7"] = "#N/A"
    ws["D7"].data_type = "e"
    wb.save(path)
    lines = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    assert lines["unit_cost"][0] == "#N/A"
    port = FilePort(path, CATALOG, lang=lang)
    report = actions.run(port, date(2026, 12, 2), ["landed_cost"])
    hit = [r for r in records(report.errors) if port.locate(r) == f"{ws.title}!D7"]
    assert hit and "#N/A" in hit[0].en


def test_error_cells_of_a_plain_range(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Landed Cost"
    ws.append(["SKU", "Market", "Unit cost", "Price"])
    ws.append(["A", "US", 5, 20])
    ws.append(["B", "DE", "#DIV/0!", 30])
    ws["C3"].data_type = "e"
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    lines = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    assert lines["unit_cost"].tolist() == [5, "#DIV/0!"]


XML = (
    b'<sheetData><row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1" s="2"><v>1</v></c>'
    b'<c r="AB1" s="3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row><row r="2">'
    b'<c r="C2" t="inlineStr"><is><t>t="e"</t></is></c><c r="D2" t="e"><v>#REF!</v></c>'
    b'<c s="1" t="inlineStr"><is><t xml:space="preserve">n/a</t></is></c><c s="1"/>'
    b'<c t="s"><v>7</v></c><c t="str"><f>A1</f><v>NULL</v></c><c><v>7</v></c>'
    b'<c t="inlineStr"><is><t>&lt;NA&gt;</t></is></c><c t="inlineStr"><is><t>n/a!</t></is></c>'
    b'</row><row r="3"><c r="B3" t="inlineStr"><is><t xml:space=\'preserve\' >NA</t></is></c>'
    b'<c t="inlineStr"><is><t\nxml:space="default">nan</t></is></c>'
    b'<c t="inlineStr"><is><t id="x" xml:space="preserve">null</t></is></c>'
    b'<c t="inlineStr"><is><t xml:space="preserve">NAN</t></is></c>'
    b"</row></sheetData>"
)
FOUND = {
    (1, 1): "#N/A",
    (1, 28): "#DIV/0!",
    (2, 4): "#REF!",
    (2, 5): "n/a",  # no r: the cell after D2
    (2, 7): "None",  # shared string 7
    (2, 8): "NULL",  # a formula's text
    (2, 10): "<NA>",
    (3, 2): "NA",  # the <t> written with other quotes, spacing, or attributes
    (3, 3): "nan",
    (3, 4): "null",
}


@given(st.lists(st.integers(1, len(XML) - 1), max_size=6))
def test_special_cells_found_across_any_chunking(cuts: list[int]) -> None:
    """Error values and "not available" texts, wherever the stream is cut."""
    bounds = [0, *sorted(set(cuts)), len(XML)]
    chunks = [XML[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert special_cells(chunks, {7: "None"}) == FOUND


@pytest.mark.parametrize("text", [t for t in NOT_AVAILABLE if t])
def test_each_not_available_text_found_and_nothing_near_it(text: str) -> None:
    """Every text of the list is found as an inline string, escaped as written; a text that
    only starts or ends like it, or is cut short, is an ordinary text."""
    near = {text[:-1], text + "x", "x" + text, text + " ", text.swapcase()} - set(NOT_AVAILABLE)
    cells = [text, *sorted(near)]
    escaped = [t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for t in cells]
    row = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{t}</t></is></c>'
        for i, t in enumerate(escaped)
    )
    xml = f'<sheetData><row r="1">{row}</row></sheetData>'.encode()
    assert special_cells([xml]) == {(1, 1): text}


def test_not_available_shared_strings() -> None:
    table = b"<sst><si><t>US</t></si><si/><si><t>None</t></si><si><t>n/a</t></si></sst>"
    assert not_available_strings(table) == {2: "None", 3: "n/a"}


@pytest.mark.parametrize("typed", ["n/a", "NA", "null", "#N/A", "None"])
def test_a_not_available_text_among_numbers_is_reported(tmp_path: Path, typed: str) -> None:
    """fastexcel would read these texts in a number column as blanks: a blank duty rate means
    "the market's rate", which is not what the planner typed."""
    wb, path = _template(tmp_path)
    wb["Landed Cost"]["I7"] = typed  # Duty rate, first line
    wb.save(path)
    lines = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"].frame
    assert lines["duty_rate"][0] == typed
    port = FilePort(path, CATALOG, lang="en")
    report = actions.run(port, date(2026, 12, 2), ["landed_cost"])
    assert "Landed Cost!I7" in {port.locate(r) for r in records(report.errors)}


def test_prefetch_starts_the_small_tables_first(tmp_path: Path) -> None:
    """A run's tables start reading smallest first: the settings and rule tables are at hand
    while a big table parses."""
    _, path = _template(tmp_path)
    port = FilePort(path, CATALOG)
    port.prefetch(actions.inputs(["landed_cost"]))
    assert port._reader is not None
    started = list(port._reader._column_jobs)  # in the order they were handed to the worker
    found = port._reader.tables
    sizes = [found[name.casefold()].cells for name in started]
    assert sizes == sorted(sizes) and started[0] != "tblLandedCost" and len(started) > 5


def test_a_run_reads_up_front_only_what_its_actions_read() -> None:
    assert actions.inputs(["kpi"]) == []
    landed = actions.inputs(["landed_cost"])
    assert landed[-1] == "landed_cost" and {"settings", "fx", "tariff"} <= set(landed)
    assert set(landed) <= set(actions.inputs(None)) and len(set(landed)) == len(landed)
    assert set(actions.inputs(None)) <= set(CATALOG.tables)  # each one a table a port can read


def test_a_table_read_cell_by_cell_does_not_wait_behind_a_typed_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Settings' values mix types (read cell by cell, by calamine) while the lines parse
    (by fastexcel): each library has its own worker, so the Settings come first."""
    import threading

    _, path = _template(tmp_path)
    release = threading.Event()
    typed = reader_module.WorkbookReader._load_columns

    def held(self: reader_module.WorkbookReader, found: object, *args: object) -> object:
        if getattr(found, "name", "") == "tblLandedCost":
            assert release.wait(30)  # the lines' parse holds its worker until released
        return typed(self, found, *args)

    monkeypatch.setattr(reader_module.WorkbookReader, "_load_columns", held)
    port = FilePort(path, CATALOG)
    port.prefetch(["landed_cost", "settings"])
    port.prefetch(["landed_cost"])  # started once, whatever the order of the calls
    try:
        settings = port.read_table("settings")
        assert settings is not None and "rules_date" in settings["setting"].tolist()
        assert not release.is_set()
    finally:
        release.set()
    lines = port.read_table("landed_cost")
    assert lines is not None
