"""A table as its columns: a frame's columns read once, rows taken by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.core.columns import SMALL, Column, Columns, categorical, factorize


def test_a_frames_columns_keep_their_categoricals_and_drop_the_index() -> None:
    frame = pd.DataFrame(
        {
            "market": pd.Categorical(["US", "DE", "US"]),
            "price": [9.99, np.nan, 3.5],
            "sku": pd.Series(["a", None, "c"], dtype=object, index=[7, 8, 9]),
        },
        index=[7, 8, 9],
    )
    columns = Columns.of(frame)
    assert columns.n == 3
    assert list(columns.columns) == ["market", "price", "sku"]
    market = columns.columns["market"]
    assert isinstance(market, pd.Categorical)
    assert market.tolist() == ["US", "DE", "US"]
    np.testing.assert_array_equal(columns.columns["price"], [9.99, np.nan, 3.5])
    assert columns.columns["sku"].tolist() == ["a", None, "c"]


def test_rows_are_taken_by_position_in_the_order_given() -> None:
    market: Column = pd.Categorical(np.array(["US", "DE", "JP"], dtype=object))
    columns = Columns({"market": market, "price": np.array([1.0, 2.0, 3.0])}, 3)
    picked = columns.rows(np.array([2, 0]))
    assert picked.n == 2
    assert list(picked.columns["market"]) == ["JP", "US"]
    np.testing.assert_array_equal(picked.columns["price"], [3.0, 1.0])


_CELL = st.one_of(
    st.sampled_from(["US", "DE", "de", " US", "", "1"]),
    st.none(),
    st.just(float("nan")),
    st.sampled_from([0.0, -0.0, 1.0, 2.5]),
    st.integers(-2, 2),
    st.booleans(),
)


def _same_factorisation(values: np.ndarray, use_na_sentinel: bool) -> None:
    codes, distinct = factorize(values, use_na_sentinel=use_na_sentinel)
    want_codes, want_distinct = pd.factorize(values, use_na_sentinel=use_na_sentinel)
    np.testing.assert_array_equal(codes, want_codes)
    assert codes.dtype == np.intp
    assert distinct.dtype == np.asarray(want_distinct).dtype
    assert len(distinct) == len(want_distinct)
    for got, want in zip(distinct.tolist(), np.asarray(want_distinct).tolist(), strict=True):
        assert type(got) is type(want)
        assert got == want or (got != got and want != want)


@given(st.lists(_CELL, max_size=SMALL + 4), st.booleans())
def test_factorize_is_pandas_factorize_on_cells(cells: list[object], sentinel: bool) -> None:
    """The small-array path in Python and pandas' hash table agree on every mix of text,
    numbers, booleans and blanks: the same codes, the same distinct values (first seen kept)."""
    _same_factorisation(np.array(cells, dtype=object), sentinel)


@given(st.lists(st.one_of(st.floats(allow_nan=True), st.just(-0.0)), max_size=SMALL), st.booleans())
def test_factorize_is_pandas_factorize_on_numbers(numbers: list[float], sentinel: bool) -> None:
    _same_factorisation(np.array(numbers, dtype=float), sentinel)
    _same_factorisation(np.arange(len(numbers), dtype=np.int64) % 3, sentinel)


def test_factorize_hands_what_it_cannot_compare_to_pandas() -> None:
    values = np.array([pd.NA, np.float64("nan"), pd.Timestamp("2026-01-01"), "x"], dtype=object)
    _same_factorisation(values, True)
    _same_factorisation(values, False)


@pytest.mark.parametrize("categories", [["", "US"], np.array(["US", "DE"], dtype=object)])
def test_a_categorical_of_few_texts_is_the_checked_one(categories: list[str]) -> None:
    codes = np.array([1, 0, -1, 1])
    got = categorical(codes, categories)
    want = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
    assert got.tolist() == want.tolist()
    assert got.categories.dtype == object
    assert got.dtype == want.dtype


def test_a_categorical_of_many_categories_is_checked_by_pandas() -> None:
    names = [f"SKU-{i}" for i in range(SMALL + 1)]
    assert categorical(np.arange(len(names)), names).tolist() == names
    with pytest.raises(ValueError):
        categorical(np.zeros(SMALL + 2, dtype=np.intp), names + ["SKU-0"])
