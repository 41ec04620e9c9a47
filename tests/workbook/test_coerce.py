"""Coercion: what people type reads as they meant it, gaps are skipped, the rest is located."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.landed_cost.tables import LANDED_COST
from xlplan.plan.tables import FX
from xlplan.workbook import coerce
from xlplan.workbook.coerce import coerce_table, good_rows
from xlplan.workbook.schema import NUMERIC_KINDS, map_headers, missing_columns


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("US", "US"),
        ("us", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("美国", "US"),
        ("United States", "US"),
        ("UK", "GB"),
        ("英国", "GB"),
        ("Mexico", "MX"),
        ("墨西哥", "MX"),
        ("巴西", "BR"),
        ("ＵＳ", "US"),  # full-width letters
    ],
)
def test_market_names_read_as_their_code(typed: str, code: str) -> None:
    raw = pd.DataFrame({"market": [typed], "unit_cost": [1.0], "price": [9.0]})
    typed_frame, errors = coerce_table(raw, LANDED_COST)
    assert errors.empty, errors
    assert typed_frame.loc[0, "market"] == code


@pytest.mark.parametrize(("typed", "code"), [("RMB", "CNY"), ("人民币", "CNY"), ("美元", "USD")])
def test_currency_names_read_as_their_code(typed: str, code: str) -> None:
    raw = pd.DataFrame({"from_currency": [typed], "to_currency": ["EUR"], "rate": [0.13]})
    frame, errors = coerce_table(raw, FX)
    assert errors.empty and frame.loc[0, "from_currency"] == code


def test_an_unknown_market_says_what_it_looks_like() -> None:
    raw = pd.DataFrame({"market": ["Mexcio", "XX"], "unit_cost": [1.0, 1.0], "price": [9.0, 9.0]})
    _, errors = coerce_table(raw, LANDED_COST)
    assert errors["en"].tolist() == [
        "unknown market: 'MEXCIO' (did you mean MX?)",
        "unknown market: 'XX'",  # nothing close enough: no guess
    ]
    assert errors["zh"].iloc[0] == "未知的市场: 'MEXCIO'（是否为 MX？）"


def test_full_width_digits_and_chinese_units() -> None:
    raw = pd.DataFrame(
        {"market": ["US", "US"], "unit_cost": ["６.５", "1.2万"], "price": ["１２％", "¥30"]}
    )
    frame, errors = coerce_table(raw, LANDED_COST)
    assert frame["unit_cost"].tolist() == [6.5, 12000.0]
    assert frame["price"].tolist() == [0.12, 30.0]
    assert errors.empty


def test_a_blank_row_inside_a_table_is_skipped_not_reported() -> None:
    raw = pd.DataFrame(
        {
            "from_currency": ["USD", None, "  ", "EUR"],
            "to_currency": ["CNY", None, "", "CNY"],
            "rate": [7.1, None, None, 7.8],
        }
    )
    frame, errors = coerce_table(raw, FX)
    assert errors.empty  # not "From currency is required" for the gaps
    assert good_rows(frame, errors).index.tolist() == [0, 3]


def test_a_partly_filled_row_is_still_checked() -> None:
    raw = pd.DataFrame({"from_currency": ["USD", None], "to_currency": ["CNY", "CNY"]})
    frame, errors = coerce_table(raw.assign(rate=[7.1, 7.2]), FX)
    assert errors["row"].tolist() == [1] and errors["column"].tolist() == ["from_currency"]
    assert good_rows(frame, errors).index.tolist() == [0]


@pytest.mark.parametrize(
    ("header", "guess"),
    [("售价(含税)", "售价(含税)"), ("Sale price", "Sale price"), ("Prise", "Prise")],
)
def test_a_renamed_required_header_names_what_it_looks_like(header: str, guess: str) -> None:
    headers = [c.en for c in LANDED_COST.columns if c.key != "price"] + [header]
    problem = missing_columns(headers, LANDED_COST, "Landed Cost!A6")
    assert problem is not None
    assert problem.en == (
        f"Landed Cost!A6: table Landed cost lines lacks required columns: Price "
        f"(did you mean '{guess}'?)"
    )
    assert f"售价（是否为“{guess}”？）" in problem.zh


def test_no_guess_when_nothing_looks_like_the_missing_header() -> None:
    headers = [c.en for c in LANDED_COST.columns if c.key != "price"] + ["Notes"]
    problem = missing_columns(headers, LANDED_COST, "X!A1")
    assert problem is not None and problem.en.endswith("lacks required columns: Price")


def test_a_header_row_read_again_reads_the_same_and_is_not_shared() -> None:
    """Header rows are remembered by table and content: the same row reads the same, a row
    equal in value but not in type is read on its own (``1`` is no ``TRUE``), and a caller
    that changes what it got changes nothing for the next."""
    row = ["市场", "Unit cost", "price", 1, None, "Notes"]
    found, unknown = map_headers(row, LANDED_COST)
    assert found == {0: "market", 1: "unit_cost", 2: "price"}
    assert unknown == ["1", "Notes"]
    found[9] = "sku"
    unknown.clear()
    assert map_headers(list(row), LANDED_COST) == (
        {0: "market", 1: "unit_cost", 2: "price"},
        ["1", "Notes"],
    )
    assert map_headers([*row[:3], True, None, "Notes"], LANDED_COST)[1] == ["True", "Notes"]
    assert map_headers(["Rate", "From currency"], FX)[0] == {0: "rate", 1: "from_currency"}
    assert map_headers([["market"], "price"], LANDED_COST)[0] == {1: "price"}  # not a key


def test_categorical_columns_read_and_report_as_the_plain_ones() -> None:
    """``categorical=True`` reads code and text columns on their distinct cells: the values,
    the errors and the blanks are those of the plain reading."""
    raw = pd.DataFrame(
        {
            "sku": ["A", " B ", None, "A", 12.0, None],
            "market": ["美国", "us", "Mexcio", None, " DE", None],
            "unit_cost": [1.0, 2.0, 3.0, None, 5.0, None],
            "cost_currency": ["RMB", None, "usd", "XXX", "", None],
            "price": [9.0, 9.0, 9.0, 9.0, 9.0, None],
        }
    )
    plain, plain_errors = coerce_table(raw, LANDED_COST)
    coded, coded_errors = coerce_table(raw, LANDED_COST, categorical=True)
    pd.testing.assert_frame_equal(coded_errors, plain_errors)
    for key in plain.columns:
        if isinstance(coded[key].dtype, pd.CategoricalDtype):
            assert coded[key].astype(object).tolist() == plain[key].tolist(), key
        else:
            pd.testing.assert_series_equal(coded[key], plain[key], check_exact=True)
    assert set(plain_errors["column"]) >= {"market", "cost_currency", "unit_cost"}


@pytest.mark.parametrize("categorical", [False, True])
def test_the_columns_read_are_the_tables_and_their_blank_rows_its_gaps(categorical: bool) -> None:
    """:func:`coerce.coerce_columns` is :func:`coerce_table` without the frame: the same
    values and errors (a wholly blank row skipped); :func:`coerce.blank_cells` finds the
    frame's blank rows on the columns."""
    raw = pd.DataFrame(
        {
            "sku": ["A", None, None, "B"],
            "market": ["US", None, "  ", "Mexcio"],
            "unit_cost": [1.0, None, None, "x"],
            "price": [9.0, None, None, 9.0],
        }
    )
    frame, errors = coerce_table(raw, LANDED_COST, categorical=categorical)
    columns, column_errors = coerce.coerce_columns(raw, LANDED_COST, categorical=categorical)
    pd.testing.assert_frame_equal(column_errors, errors)
    assert list(columns) == list(frame.columns)
    for key, values in columns.items():
        assert not isinstance(values, pd.Series), key
        if isinstance(values, pd.Categorical):
            assert values.tolist() == frame[key].tolist(), key
        else:
            assert pd.Series(values).equals(pd.Series(frame[key].to_numpy())), key
    assert set(errors["row"]) == {3}  # rows 1 and 2 are gaps, not "market is required"
    gaps = coerce.blank_cells(columns.values(), len(raw))
    assert gaps.tolist() == coerce.blank_rows(frame).tolist() == [False, True, True, False]


NUMBER_KEYS = [c.key for c in LANDED_COST.columns if c.kind in NUMERIC_KINDS]
NUMBER_CELL = st.one_of(
    st.none(),
    st.floats(allow_nan=True),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.sampled_from(["", " ", "15%", "1,234.5", "(3)", "abc", "１２", "1.2万", "-0.5", "2"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(NUMBER_CELL, min_size=len(NUMBER_KEYS), max_size=len(NUMBER_KEYS)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["US", " us", "美国", "XX", None, 12.0]),
    st.sampled_from(["Kitchen", " ", None, 3.5]),
)
def test_number_columns_read_together_as_one_by_one(
    rows: list[list[object]], market: object, category: object
) -> None:
    """A small table is taken apart once and its number columns are read in one pass (a
    one-line UDF's table): the values, the errors and their order are those of reading each
    column on its own."""
    raw = pd.DataFrame(rows, columns=NUMBER_KEYS, dtype=object)
    raw["market"] = pd.Series([market] * len(rows), dtype=object)
    raw["category"] = pd.Series([category] * len(rows), dtype=object)
    together, together_errors = coerce_table(raw, LANDED_COST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coerce, "TOGETHER_CELLS", 0)
        alone, alone_errors = coerce_table(raw, LANDED_COST)
    pd.testing.assert_frame_equal(together_errors, alone_errors)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
