"""Targets into units: SKU mix, prices, regions, launches; the units carry the revenue."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan import reference
from xlplan.supply.calc.demand import MONTHS, spread_units

REGIONS = reference.markets(date(2026, 1, 1))["region"]


def plan(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """Targets (market, channel, category, monthly amount)."""
    return pd.DataFrame(
        [
            {"market": m, "channel": c, "category": g, **dict.fromkeys(MONTHS, a)}
            for m, c, g, a in rows
        ]
    )


SKUS = pd.DataFrame(
    {
        "sku": ["PB", "CH", "CH", "CB"],
        "category": ["power banks", "GaN chargers", "GaN chargers", "cables"],
        "market": ["MX", "MX", "BR", "US"],
        "channel": ["Mercado Libre", "Mercado Libre", "Mercado Libre", "Amazon"],
        "price": [100.0, 50.0, 40.0, 10.0],
        "share": [0.6, 0.4, np.nan, np.nan],
    }
)
PRICE = SKUS["price"].to_numpy(dtype=float)


def test_a_target_becomes_units_by_share_and_price() -> None:
    """MX 8,000 a month over PB (100, 60% of units) and CH (50, 40%): 8,000 / (0.6 x 100 +
    0.4 x 50) = 100 units, 60 PB and 40 CH."""
    demand = spread_units(plan(("MX", "", "", 8000.0)), SKUS, PRICE, REGIONS)
    assert demand.units[:, 0].tolist() == [60.0, 40.0, 0.0, 0.0]
    assert demand.revenue[:, 0].sum() == 8000.0
    assert demand.errors.empty


def test_a_region_reaches_its_markets_from_their_launch() -> None:
    target = plan(("LATAM", "Mercado Libre", "GaN chargers", 900.0))
    demand = spread_units(target, SKUS, PRICE, REGIONS, {"BR": 4})
    # before April only Mexico sells: 900 / 50 = 18; from April MX and BR share (weights 0.4, 1)
    assert demand.units[1, :3].tolist() == [18.0] * 3 and demand.units[2, :3].sum() == 0
    assert demand.units[1, 3] == pytest.approx(900 / (0.4 * 50 + 40) * 0.4, abs=0.5)
    assert demand.units[2, 3] == pytest.approx(900 / (0.4 * 50 + 40), abs=0.5)


def test_revenue_no_sku_carries_is_reported_on_its_target() -> None:
    demand = spread_units(
        plan(("DE", "", "", 500.0), ("", "", "cables", 100.0)), SKUS, PRICE, REGIONS
    )
    assert demand.unplaced[0].sum() == 6000.0 and demand.unplaced[1].sum() == 0.0
    (record,) = demand.errors.to_dict("records")
    assert record["table"] == "monthly_plan" and record["row"] == 0
    assert "6,000" in record["en"] and "DE" in record["zh"]


@settings(max_examples=80)
@given(
    st.lists(st.floats(0, 1e7), min_size=12, max_size=12),
    st.lists(st.floats(1, 500), min_size=4, max_size=4),
    st.lists(st.one_of(st.none(), st.floats(0.01, 1)), min_size=4, max_size=4),
)
def test_the_units_carry_the_targets_revenue(
    amounts: list[float], prices: list[float], shares: list[float | None]
) -> None:
    target = pd.DataFrame(
        [{"market": "", "channel": "", "category": "", **dict(zip(MONTHS, amounts, strict=True))}]
    )
    skus = SKUS.assign(price=prices, share=[np.nan if s is None else s for s in shares])
    demand = spread_units(target, skus, np.asarray(prices), REGIONS)
    # whole units: each SKU's revenue is off by at most half a unit's price
    slack = 0.5 * np.asarray(prices).sum() + 1e-6
    assert np.abs(demand.revenue.sum(axis=0) - np.asarray(amounts)).max() <= slack
    assert (demand.units >= 0).all() and (demand.units == np.round(demand.units)).all()
