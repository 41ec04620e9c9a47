"""Reading tables from real files: either language's headers, plain ranges, cell locations."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.core.errors import ErrorRecord, InputError
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS
from xlplan.workbook.io import (
    FilePort,
    _csv_column,
    neutralise_csv,
    read_csv_table,
    read_workbook_tables,
)


def test_template_tables_read_back_in_both_languages(tmp_path: Path) -> None:
    for lang in templates.LANGS:
        path = tmp_path / f"t-{lang}.xlsx"
        path.write_bytes(templates.template_bytes(lang))
        tables = read_workbook_tables(path, CATALOG)
        lines = tables["landed_cost"].frame
        assert list(lines.columns) == LANDED_COST.keys
        assert lines["market"].tolist() == ["US", "DE", "JP", "MX"]
        assert lines.loc[0, "unit_cost"] == 62.0
        fx = tables["fx"].frame
        assert {"CNY", "EUR", "JPY"} <= set(fx["from_currency"])
        assert set(fx["to_currency"]) == {"USD"}


def test_error_location_is_sheet_and_cell(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(templates.template_bytes("zh"))
    data = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"]
    rec = ErrorRecord("landed_cost", 2, "duty_rate", "", "")
    assert data.locate(rec) == "落地成本!I9"  # header on row 6, third data row, column I
    assert data.locate(ErrorRecord("landed_cost", 0, "", "", "")) == "落地成本!7:7"


def test_plain_range_without_a_table_and_reordered_columns(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Landed Cost"
    ws.append(["my own notes"])
    ws.append([])
    ws.append(["Price", "市场", "Unit cost", "SKU", "not ours"])
    ws.append([20, "US", 5, "A", "x"])
    ws.append([30, "DE", -1, "B", "y"])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    data = read_workbook_tables(path, CATALOG, ["landed_cost"])["landed_cost"]
    assert data.frame[["sku", "market", "unit_cost", "price"]].to_numpy().tolist() == [
        ["A", "US", 5, 20],
        ["B", "DE", -1, 30],
    ]
    assert data.locate(ErrorRecord("landed_cost", 1, "unit_cost", "", "")) == "Landed Cost!C5"


def test_missing_required_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("sku,market,unit_cost\nA,US,5\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_csv_table(path, LANDED_COST)
    assert "Price" in exc.value.en and "售价" in exc.value.zh


def test_csv_in_gb18030_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes("SKU,市场,单位采购成本,售价\nA,US,5,20\n".encode("gb18030"))
    data = read_csv_table(path, LANDED_COST)
    assert data.frame.loc[0, "market"] == "US"
    assert data.locate(ErrorRecord("landed_cost", 0, "price", "", "")) == "line 2, price"


def test_excel_lock_file_refuses_the_workbook(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(templates.template_bytes("en"))
    (tmp_path / "~$plan.xlsx").write_bytes(b"lock")
    with pytest.raises(InputError) as exc:
        FilePort(path, CATALOG).read_table("landed_cost")
    assert "open in Excel" in exc.value.en


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"this is not a zip")
    with pytest.raises(InputError) as exc:
        FilePort(path, CATALOG).read_table("landed_cost")
    assert "not a valid Excel workbook" in exc.value.en


def test_file_port_writes_results_into_a_copy(tmp_path: Path) -> None:
    from xlplan import actions

    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    before = src.read_bytes()
    port = FilePort(src, CATALOG)
    report = actions.run(port, pd.Timestamp("2026-11-21").date(), ["landed_cost"])
    assert report.errors.empty
    out = tmp_path / "out.xlsx"
    port.save(out)
    assert src.read_bytes() == before
    wb = openpyxl.load_workbook(io.BytesIO(out.read_bytes()), data_only=True)
    ws = wb["Landed Cost Results"]
    ref = ws.tables["tblLandedCostResults"].ref
    rows = list(ws[ref])
    header = [c.value for c in rows[0]]
    assert header == LANDED_COST_RESULTS.headers("en")
    assert len(rows) == 1 + 4
    margin = header.index("Contribution margin")
    assert all(isinstance(r[margin].value, float) for r in rows[1:])


# --------------------------------------------------------------------------------------------
# CSV output: text that starts like a formula, found column by column in Arrow
# --------------------------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from("=+-@\t\r\n .eE0123456789x中٣'"), max_size=6)


@given(
    st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=40),
    st.integers(0, 5),
    st.sampled_from(["str", "object", "category"]),
)
@example(["-1.5", "+3", "٣", "-٣.5", "=1", "-", "\t", "1\n", "-1\n", None, ""], 0, "str")
@example(["=1", "-", "=1", None, "", "x"], 1, "category")
def test_csv_column_neutralised_as_cell_by_cell(
    texts: list[str | None], skip: int, dtype: str
) -> None:
    """The column kernel quotes exactly the cells the cell-by-cell rule quotes (a plain number
    with any Unicode digits stays; a column taken from the middle of a longer one; a
    categorical's texts, quoted once each)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    series = pd.Series(texts, dtype=dtype).iloc[min(skip, len(texts) - 1) :]
    expected = neutralise_csv(series.to_frame()).iloc[:, 0].tolist()
    got = pa.array(_csv_column(series)).to_pylist()
    assert got == [None if pd.isna(v) else v for v in expected]
