"""The live port against an in-memory double of xlwings' books, sheets, tables and ranges."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from xlwings_double import Book, book_from_file

from udfs.live import LivePort, book_lang
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.core.errors import ErrorRecord, InputError
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS
from xlplan.workbook.io import FilePort
from xlplan.workbook.schema import Kind

TODAY = date(2026, 11, 21)
LC = LANDED_COST
# Sheets the file port renders with their own writers (flag words, charts): the live port
# writes their tables' plain values, so they are compared by shape, not by cell.
CUSTOM_SHEETS = set(CATALOG.writers)


def landed_cost_book(lang: str = "en") -> Book:
    """A workbook with a Landed Cost table at C4 (not A1), headers in ``lang``."""
    book = Book("plan.xlsx")
    sheet = book.sheets.add(CATALOG.sheets["landed_cost"].title(lang))
    extra = [c for c in LC.columns[5:] if c.required]  # e.g. the price
    header = [c.header(lang) for c in (*LC.columns[:5], *extra)]
    rows = [
        ["A-1", "US", "amazon", 10.0, "CNY", *[20.0] * len(extra)],
        ["A-2", None, "amazon", 12.5, "CNY", *[20.0] * len(extra)],
    ]
    sheet.range("C4").value = [header, *rows]
    sheet.tables.add(source=sheet.range("C4").resize(3, len(header)), name=LC.name)
    return book


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_table_is_read_by_name_with_either_languages_headers(lang: str) -> None:
    port = LivePort(landed_cost_book(lang))
    frame = port.read_table("landed_cost")
    assert frame is not None
    assert list(frame.columns) == LC.keys
    assert frame["sku"].tolist() == ["A-1", "A-2"]
    assert frame["unit_cost"].tolist() == [10.0, 12.5]
    assert frame["market"].tolist() == ["US", None]
    assert port.lang == lang


def test_a_missing_table_reads_as_none() -> None:
    assert LivePort(landed_cost_book()).read_table("fx") is None


def test_an_error_points_at_its_cell() -> None:
    port = LivePort(landed_cost_book())
    port.read_table("landed_cost")
    title = CATALOG.sheets["landed_cost"].en
    assert port.locate(ErrorRecord("landed_cost", 1, "market", "缺", "missing")) == f"{title}!D6"
    assert port.locate(ErrorRecord("landed_cost", 0, "", "行", "row")) == f"{title}!5:5"
    assert port.locate(ErrorRecord("fx", 2, "rate", "", "")) == "fx row 3"


def test_locate_finds_a_table_not_read_yet() -> None:
    port = LivePort(landed_cost_book())
    record = ErrorRecord("landed_cost", 0, "unit_cost", "", "")
    assert port.locate(record) == f"{CATALOG.sheets['landed_cost'].en}!F5"


def test_a_table_without_a_required_column_is_refused() -> None:
    book = Book()
    sheet = book.sheets.add("Mine")
    sheet.range("A1").value = [["SKU", "Channel"], ["A-1", "amazon"]]
    sheet.tables.add(source=sheet.range("A1").resize(2, 2), name="tblLandedCost")
    with pytest.raises(InputError) as info:
        LivePort(book).read_table("landed_cost")
    assert "Mine!A1" in info.value.en and "Market" in info.value.en


def results_frame(n: int) -> pd.DataFrame:
    table = LANDED_COST_RESULTS
    data: dict[str, list[object]] = {key: [None] * n for key in table.keys}
    data["sku"] = [f"S-{i}" for i in range(n)]
    data["market"] = ["US"] * n
    return pd.DataFrame(data)


def test_a_missing_output_table_is_created_on_its_owned_sheet() -> None:
    book = landed_cost_book("zh")
    port = LivePort(book)
    port.write_table("landed_cost_results", results_frame(3))
    sheet = book.sheets[CATALOG.sheets["landed_cost_results"].zh]
    table = sheet.tables[LANDED_COST_RESULTS.name]
    header = table.header_row_range.value
    assert header == [c.zh for c in LANDED_COST_RESULTS.columns]
    assert table.data_body_range is not None
    assert [r[0] for r in table.data_body_range.value] == ["S-0", "S-1", "S-2"]
    again = LivePort(book)  # a later run reads what was written, not the cache
    frame = again.read_table("landed_cost_results")
    assert frame is not None and frame["sku"].tolist() == ["S-0", "S-1", "S-2"]


def test_an_existing_output_table_is_replaced_and_shrinks() -> None:
    book = landed_cost_book()
    LivePort(book).write_table("landed_cost_results", results_frame(4))
    port = LivePort(book)
    port.write_table("landed_cost_results", results_frame(2))
    sheet = book.sheets[CATALOG.sheets["landed_cost_results"].en]
    table = sheet.tables[LANDED_COST_RESULTS.name]
    assert table.range.shape == (3, len(LANDED_COST_RESULTS.columns))
    below = table.range.last_cell.row + 1
    assert sheet.range((below, table.range.column)).value is None  # old rows cleared
    record = ErrorRecord("landed_cost_results", 1, "market", "", "")
    col = 1 + LANDED_COST_RESULTS.keys.index("market")
    assert port.locate(record) == f"{sheet.name}!{chr(64 + col)}{table.range.row + 2}"


def test_an_empty_output_keeps_the_tables_columns() -> None:
    book = landed_cost_book()
    LivePort(book).write_table("landed_cost_results", results_frame(2))
    LivePort(book).write_table("landed_cost_results", results_frame(0))
    sheet = book.sheets[CATALOG.sheets["landed_cost_results"].en]
    table = sheet.tables[LANDED_COST_RESULTS.name]
    assert table.range.shape == (2, len(LANDED_COST_RESULTS.columns))
    frame = LivePort(book).read_table("landed_cost_results")
    assert frame is not None and frame.empty


def test_a_table_written_in_this_run_reads_back_as_written() -> None:
    port = LivePort(landed_cost_book())
    frame = results_frame(1)
    port.write_table("landed_cost_results", frame)
    assert port.read_table("landed_cost_results") is frame


def test_nan_and_numpy_values_become_plain_cells() -> None:
    book = landed_cost_book()
    frame = results_frame(1)
    frame["duty"] = pd.Series([float("nan")])
    frame["customs_value"] = pd.Series([3.5], dtype="float32")
    LivePort(book).write_table("landed_cost_results", frame)
    table = book.sheets[CATALOG.sheets["landed_cost_results"].en].tables[LANDED_COST_RESULTS.name]
    body = table.data_body_range
    assert body is not None
    row = dict(zip(LANDED_COST_RESULTS.keys, body.value, strict=True))
    assert row["duty"] is None
    assert type(row["customs_value"]) is float and row["customs_value"] == 3.5


def test_book_language_comes_from_xlplans_sheet_names() -> None:
    assert book_lang(landed_cost_book("zh")) == "zh"
    assert book_lang(Book()) is None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_actions_agree_through_the_live_and_the_file_port(tmp_path: Path, lang: str) -> None:
    """Every action, run on the template's worked example, writes the same tables both ways."""
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    live, file = LivePort(book_from_file(path)), FilePort(path, CATALOG)
    ctx = actions.context(file, TODAY)[0]
    assert ctx == actions.context(live, TODAY)[0]  # the same settings read both ways
    for act in actions.ordered():
        live_result, file_result = act.run(live, ctx), act.run(file, ctx)
        assert live_result.summary == file_result.summary, act.name
        live_where = [live.locate(r) for r in _records(live_result.errors)]
        file_where = [file.locate(r) for r in _records(file_result.errors)]
        assert live_where == file_where, act.name
    assert set(live.written) == set(file.written)
    for key, frame in file.written.items():
        pd.testing.assert_frame_equal(live.written[key], frame, obj=key)
    saved = tmp_path / "saved.xlsx"
    file.save(saved)
    reread_live, reread_file = LivePort(live.book), FilePort(saved, CATALOG)
    for key in file.written:  # what Excel now shows is what the saved file holds
        if CATALOG.tables[key].sheet in CUSTOM_SHEETS:
            continue
        shown, saved_table = reread_live.read_table(key), reread_file.read_table(key)
        assert shown is not None and saved_table is not None, key
        for col in CATALOG.tables[key].columns:  # Excel hands a date over as a datetime
            if col.kind is Kind.DATE and col.key in shown:
                shown[col.key] = pd.to_datetime(shown[col.key]).astype("datetime64[ns]")
                saved_table[col.key] = pd.to_datetime(saved_table[col.key]).astype("datetime64[ns]")
        # the file reader hands an all-number column over as one float64 array (NaN for a
        # blank), Excel as its cells (None): compared as the cells they are
        pd.testing.assert_frame_equal(_cells(shown), _cells(saved_table), obj=key)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_existing_table_keeps_its_columns(tmp_path: Path, lang: str) -> None:
    """The KPI Flags table shows one language's columns; a live run leaves it that way."""
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    book = book_from_file(path)
    before = _header(book, "kpi_flags")
    port = LivePort(book)
    actions.run(port, TODAY, ["kpi"])
    assert "kpi_flags" in port.written
    assert _header(book, "kpi_flags") == before


def _header(book: Book, key: str) -> list[object]:
    name = CATALOG.tables[key].name
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name == name:
                return list(table.header_row_range.value)
    raise AssertionError(f"no table {name}")


def _records(errors: pd.DataFrame) -> list[ErrorRecord]:
    from xlplan.core.errors import records

    return records(errors)


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A raw table as cells: objects, a blank as None, keyed by its column keys (however the
    reader holds them: a one-row read keeps its keys as objects, pandas' default is Arrow)."""
    cells = frame.astype(object)
    cells.columns = pd.Index(cells.columns, dtype=object)
    return cells.where(cells.notna(), None)
