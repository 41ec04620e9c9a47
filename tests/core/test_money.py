"""Decimal places by currency (the rounding of every money output reads them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from xlplan import reference
from xlplan.core.money import DEFAULT_MINOR_UNIT, minor_units

TABLE = reference.currencies()


def test_known_unknown_and_blank_currencies() -> None:
    lines = pd.Series(["USD", "JPY", "KWD", "XXX", None, np.nan, ""], dtype=object)
    assert minor_units(lines, TABLE).tolist() == [2, 0, 3] + [DEFAULT_MINOR_UNIT] * 4
    assert minor_units(np.array([], dtype=object), TABLE).shape == (0,)


def test_a_missing_minor_unit_counts_the_default() -> None:
    table = pd.DataFrame({"minor_unit": [0.0, np.nan]}, index=pd.Index(["JPY", "ZZZ"]))
    assert minor_units(np.array(["ZZZ", "JPY"], dtype=object), table).tolist() == [
        DEFAULT_MINOR_UNIT,
        0,
    ]


@given(st.lists(st.sampled_from(["USD", "JPY", "BHD", "EUR", "nope", None]), max_size=40))
def test_each_line_reads_its_own_currency(codes: list[str | None]) -> None:
    units = TABLE["minor_unit"].to_dict()
    expected = [units.get(str(c), DEFAULT_MINOR_UNIT) for c in codes]
    assert minor_units(pd.Series(codes, dtype=object), TABLE).tolist() == expected
