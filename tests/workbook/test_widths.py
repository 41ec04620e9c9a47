"""Column widths fitted to what a column shows (issue 11)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from xlplan.workbook import widths
from xlplan.workbook.schema import Column, Kind


def test_chinese_counts_double_and_breaks_anywhere() -> None:
    assert widths.display_width("预测达成率") == 10
    assert widths.two_line_width("预测达成率") == 6
    assert widths.two_line_width("Forecast attainment") == 10  # "attainment"
    assert widths.two_line_width("reporting_currency") == 18  # one word never breaks


def test_numbers_as_their_format_shows_them() -> None:
    money = Column("v", "值", "Value", Kind.MONEY)
    assert widths.values_width(money, pd.Series([12791.25, -3.0])) == len("-12,791.25") + 1
    amount = Column("v", "值", "Value", Kind.AMOUNT)
    assert widths.values_width(amount, pd.Series([337_040_000])) == len("337,040,000") + 1
    rate = Column("v", "值", "Value", Kind.RATE)
    assert widths.values_width(rate, pd.Series([0.123])) == len("12.3%") + 1
    number = Column("v", "值", "Value", Kind.NUMBER)
    assert widths.values_width(number, pd.Series([0.125])) == len("0.125") + 1
    assert widths.values_width(number, pd.Series([None, None])) == 0


def test_a_column_is_never_narrower_than_declared_nor_wider_than_the_cap() -> None:
    col = Column("note", "备注", "Note", Kind.TEXT, width=13)
    assert widths.column_width(col, "Note", "备注", pd.Series(["a"])) == (13, False)
    long = pd.Series(["x" * 200])
    assert widths.column_width(col, "Note", "备注", long) == (widths.MAX_WIDTH, True)


@given(st.text(min_size=1, max_size=40))
def test_two_lines_never_need_more_than_one(text: str) -> None:
    assert widths.two_line_width(text) <= widths.display_width(text)


@given(
    st.lists(
        st.one_of(st.none(), st.just(pd.NA), st.floats(allow_nan=True), st.text(max_size=12)),
        max_size=30,
    )
)
def test_small_and_large_columns_measure_alike(values: list[object]) -> None:
    """The plain-Python path for short columns and the Arrow path for long ones agree."""
    small = pd.Series(values, dtype=object)
    large = pd.Series(values * (widths.SMALL_COLUMN // max(len(values), 1) + 1), dtype=object)
    assert len(large) > widths.SMALL_COLUMN or not values
    assert widths.texts_width(small) == (widths.texts_width(large) if values else 0)
