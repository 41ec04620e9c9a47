"""Finding each sales line's Landed Cost row: the first row of the same SKU, market and
channel, else of the same SKU and market, cells compared as text stripped and case-folded."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from xlplan.supply.calc.costs import match_rows

CELLS = st.sampled_from(["a", "A", " a ", "b", "B ", None, np.nan, "", 1.0, "1.0", "Ab", "ab"])
ROWS = st.lists(st.tuples(CELLS, CELLS, CELLS), max_size=25)


def _frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "market", "channel"], dtype=object)


def _read(cell: object) -> str:
    return "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)


def _by_hand(wanted: pd.DataFrame, table: pd.DataFrame, keys: list[str]) -> list[int]:
    def key(row: pd.Series, cols: list[str]) -> tuple[str, ...]:
        return tuple(_read(row[c]).strip().casefold() for c in cols)

    out = []
    for _, want in wanted.iterrows():
        found = -1
        for cols in (keys, ["sku", "market"]):
            hits = [
                i
                for i, (_, row) in enumerate(table.iterrows())
                if key(row, cols) == key(want, cols)
            ]
            if hits:
                found = hits[0]
                break
        out.append(found)
    return out


@given(ROWS, ROWS)
def test_each_line_finds_the_first_row_of_its_sku_market_and_channel(
    wanted: list[tuple[object, object, object]], table: list[tuple[object, object, object]]
) -> None:
    w, t = _frame(wanted), _frame(table)
    assert match_rows(w, t).tolist() == _by_hand(w, t, ["sku", "market", "channel"])
    assert match_rows(w, t, by_channel=False).tolist() == _by_hand(w, t, ["sku", "market"])


def test_categorical_columns_match_as_their_text() -> None:
    table = pd.DataFrame(
        {
            "sku": pd.Categorical(["x", "y", "x"]),
            "market": ["US", "us", "US"],
            "channel": ["Amazon", "eBay", None],
        }
    )
    wanted = pd.DataFrame(
        {"sku": ["X", " y", "z"], "market": ["US", "US", "US"], "channel": ["amazon", "", "a"]}
    )
    assert match_rows(wanted, table).tolist() == [0, 1, -1]
