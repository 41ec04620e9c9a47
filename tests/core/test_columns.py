"""A table as its columns: a frame's columns read once, rows taken by position."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlplan.core.columns import Column, Columns


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
