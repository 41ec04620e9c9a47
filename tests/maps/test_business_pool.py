"""The business map's pool: proposals in whole rounding units that add up exactly to the part of
the pool they take, and an unallocated rest that makes up the pool exactly (issue 11: the
proposals added to 300,000,001 against a 300,000,000 pool while the summary said 0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.maps import tables as schema_maps
from xlplan.maps.action import allocate_pool, screening_table
from xlplan.maps.calc.business import BusinessSettings
from xlplan.workbook.coerce import coerce_table

UNITS = st.sampled_from([1.0, 10.0, 100.0, 1_000.0, 10_000.0, 1_000_000.0])


def test_the_issue_case_adds_up_to_the_yuan() -> None:
    # three markets sharing 3 亿 by score, each share a third: 100,000,000.33... in yuan
    asked = np.array([1.0, 1.0, 1.0]) * 300_000_000 / 3
    amounts, left = allocate_pool(asked, 300_000_000, 1.0)
    assert amounts.sum() == 300_000_000 and left == 0
    amounts, left = allocate_pool(asked * [1.2, 1.0, 0.8], 300_000_000, 10_000)
    assert amounts.tolist() == [120_000_000, 100_000_000, 80_000_000] and left == 0


def test_a_pool_that_is_not_a_whole_number_of_units() -> None:
    amounts, left = allocate_pool(np.array([0.6, 0.4]) * 123_456, 123_456, 10_000)
    assert amounts.tolist() == [70_000, 50_000] and left == 3_456
    amounts, left = allocate_pool(np.array([5_000.0]), 5_000, 10_000)  # less than one unit
    assert amounts.tolist() == [0] and left == 5_000
    assert allocate_pool(np.array([]), 1_000, 1.0)[1] == 1_000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=15),
    st.integers(0, 10**10),
    UNITS,
    st.floats(0.05, 1.0),
)
def test_proposals_sum_to_the_allocated_pool(
    weights: list[float], pool: int, unit: float, absorbed: float
) -> None:
    """Whatever the shares (some capped, so only part of the pool is absorbed): every proposal
    is a whole number of units, they sum to the allocated pool, allocated + unallocated = pool,
    and no market gets a unit it did not ask for or more than one unit above its ask."""
    w = np.asarray(weights)
    asked = pool * absorbed * (w / w.sum() if w.sum() > 0 else w)
    amounts, unallocated = allocate_pool(asked, float(pool), unit)
    allocated = amounts.sum()
    assert np.all(amounts % unit == 0)
    assert allocated + unallocated == pool
    assert 0 <= unallocated <= pool
    assert allocated == np.floor(np.round(asked.sum() / unit, 6)) * unit
    assert np.all(amounts[asked == 0] == 0)
    assert np.all(amounts <= asked + unit)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["US", "GB", "DE", "MX", "BR", "SA", "JP"]),
            st.floats(0.0, 0.6),
            st.integers(1, 30),
            st.booleans(),
            st.one_of(st.none(), st.floats(0.0001, 0.05)),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 2 * 10**9),
    UNITS,
    st.floats(6.0, 8.0),
)
def test_screening_proposals_and_unallocated_make_up_the_pool(
    rows: list[tuple[str, float, int, bool, float | None]], pool: int, unit: float, rate: float
) -> None:
    """Through the whole screening table (markets from the shipped data, some kept, capacity
    caps from a small max market share): the proposals of the passing and kept markets sum to
    the allocated pool and unallocated + allocated = pool, in the reporting currency."""
    raw = pd.DataFrame(
        {
            "market": [r[0] for r in rows],
            "margin": [r[1] for r in rows],
            "payout_days": [r[2] for r in rows],
            "keep": [r[3] for r in rows],
            "keep_reason": ["growth" if r[3] else None for r in rows],
        },
        dtype=object,
    )
    table, errors = coerce_table(raw, schema_maps.BUSINESS_MARKETS)
    assert errors.empty
    share = next((r[4] for r in rows if r[4] is not None), 0.01)
    settings_ = BusinessSettings(max_market_share=share)
    margins = pd.DataFrame({"margin": pd.Series([], dtype=float), "lines": 0})
    out, unallocated, _ = screening_table(table, settings_, float(pool), rate, margins, unit)
    proposed = out["proposed_target"].to_numpy()
    assert np.all(proposed % unit == 0)
    assert proposed.sum() + unallocated == pool
    assert np.all(proposed[out["status"].str.contains("fail").to_numpy()] == 0)
    assert np.all(proposed <= out["capacity"].to_numpy() + unit)


def test_a_fractional_rounding_unit() -> None:
    asked = np.array([1.0, 2.0, 3.0]) / 6 * 100.0
    amounts, left = allocate_pool(asked, 100.0, 0.01)
    assert amounts.sum() == pytest.approx(100.0) and left == pytest.approx(0.0)
    assert np.allclose(np.round(amounts / 0.01), amounts / 0.01)
