"""Rows written straight as sheet XML: every value, blank and row height where Excel reads it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.workbook.package import sheetdata
from xlplan.workbook.package.sheetdata import CellColumn, RowBlock, render_rows


def rows_of(block: RowBlock) -> list[ET.Element]:
    xml = b"<sheetData>" + b"".join(render_rows(block)) + b"</sheetData>"
    return list(ET.fromstring(xml))


def cells_of(row: ET.Element) -> list[tuple[str | None, str | None, str | None]]:
    """Each cell as (its type, its style, its value or inline text)."""
    out = []
    for c in row:
        v = c.find("v")
        t = c.find("is/t")
        text = v.text if v is not None else (t.text if t is not None else None)
        out.append((c.get("t"), c.get("s"), text))
    return out


def test_values_blanks_and_texts_land_in_their_cells() -> None:
    block = RowBlock(
        "Sheet",
        first_row=5,
        first_col=2,
        columns=[
            CellColumn(np.array([1.5, np.nan, np.inf]), 3),
            CellColumn(np.array(["a<b & c", "", None], dtype=object), 4),
            CellColumn(np.array([True, False, True]), 5),
            CellColumn(np.array(["=1+1", 7, None], dtype=object), 6),
        ],
    )
    rows = rows_of(block)
    assert [r.get("r") for r in rows] == ["5", "6", "7"]
    assert [r.get("spans") for r in rows] == ["2:5"] * 3
    assert rows[0][0].get("r") == "B5"
    assert cells_of(rows[0]) == [
        (None, "3", "1.5"),
        ("inlineStr", "4", "a<b & c"),
        ("b", "5", "1"),
        ("inlineStr", "6", "=1+1"),  # text stays text, never a formula
    ]
    assert cells_of(rows[1]) == [
        (None, "3", None),
        (None, "4", None),
        ("b", "5", "0"),
        (None, "6", "7"),
    ]
    assert cells_of(rows[2])[0] == (None, "3", None)  # not finite: blank


@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["", "a<b & c", "=1+1", "x\x01y", "中文", " s "])),
        min_size=1,
        max_size=30,
    )
)
def test_a_categorical_column_of_text_is_written_as_the_same_text(texts: list[str | None]) -> None:
    """A few texts and a code per row (the landed cost's text outputs) land in the cells
    exactly as the same texts in an object column do: escaped, blanks blank, never formulas."""
    as_objects = np.array(texts, dtype=object)
    as_codes = pd.Series(texts, dtype="category")

    def cells(values: object) -> list[tuple[str | None, str | None, str | None]]:
        return [cells_of(r)[0] for r in rows_of(RowBlock("S", 1, 1, [CellColumn(values, 2)]))]

    assert sheetdata.text_categories(as_codes) is not None
    assert cells(as_codes) == cells(as_objects)


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_row_heights_are_written_on_their_rows(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """A row's own height (points) with customHeight; NaN leaves the default; any chunking."""
    monkeypatch.setattr(sheetdata, "CHUNK_ROWS", chunk)
    heights = np.array([np.nan, 30.0, 45.5, 30.0, np.nan, 15.0, 45.5])
    block = RowBlock("S", 1, 1, [CellColumn(np.arange(7.0), 0)], heights=heights)
    rows = rows_of(block)
    got = [(float(r.get("ht") or "nan"), r.get("customHeight")) for r in rows]
    want = [(float(h), None if np.isnan(h) else "1") for h in heights]
    assert [t for _, t in got] == [t for _, t in want]
    assert [h for h, _ in got] == pytest.approx([h for h, _ in want], nan_ok=True)
    assert [c[2] for r in rows for c in cells_of(r)] == [f"{i}" for i in range(7)]


@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from([12.0, 15.0, 30.0, 60.0])), min_size=1, max_size=40
    ),
    st.integers(1, 9),
)
def test_heights_follow_their_rows_across_chunks(heights: list[float | None], chunk: int) -> None:
    old = sheetdata.CHUNK_ROWS
    sheetdata.CHUNK_ROWS = chunk
    try:
        h = np.array([np.nan if v is None else v for v in heights])
        block = RowBlock(
            "S", 3, 1, [CellColumn(pd.Series(range(len(h)), dtype=float), 0)], heights=h
        )
        rows = rows_of(block)
    finally:
        sheetdata.CHUNK_ROWS = old
    assert [r.get("r") for r in rows] == [str(3 + i) for i in range(len(h))]
    assert [float(r.get("ht") or "nan") for r in rows] == pytest.approx(list(h), nan_ok=True)


def test_a_literal_escape_sequence_and_a_control_character_read_back_as_written() -> None:
    block = RowBlock(
        "Sheet", 1, 1, [CellColumn(np.array(["_x0041_ & <b>", "tab\there", "ok"], dtype=object), 0)]
    )
    texts = [cells_of(row)[0][2] for row in rows_of(block)]
    # a literal _xHHHH_ keeps its meaning (Excel reads _x005F_ as "_"); the tab is kept as is
    assert texts == ["_x005F_x0041_ & <b>", "tab\there", "ok"]
