"""Fees from the dated tables (xlplan.landed_cost.fees): published examples to the cent, each
citing its source (ids of reference/data/fees_sources.csv), and the price solver's exactness."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.money import round_half_up
from xlplan.landed_cost.fees import (
    FEE_INPUT_KEYS,
    FeeFlag,
    compute_fees,
    payment_terms,
    solve_price,
)
from xlplan.reference.fees import FeeTables, load_fee_tables

IN = 2.54
LB = 0.45359237
AFTER_FUEL = dt.date(2026, 5, 1)


def lines(*rows: dict[str, Any]) -> pd.DataFrame:
    out = []
    for row in rows:
        line: dict[str, Any] = {"channel": "", "market": "", "category": "", "listing_type": ""}
        line.update({k: np.nan for k in FEE_INPUT_KEYS if k not in line})
        line.update(row)
        out.append(line)
    return pd.DataFrame(out)


def cents(values: Any) -> list[float]:
    return [float(v) for v in round_half_up(np.asarray(values, dtype=float), 2)]


@pytest.fixture(scope="module")
def tables() -> FeeTables:
    return load_fee_tables(AFTER_FUEL)


def test_us_jewelry_is_tiered_on_the_portions_of_the_price(tables: FeeTables) -> None:
    # JEWELRY-2019 (Feedvisor, Sellozo), SELLERCLOUD-US; DOMAIN.md section 3:
    # 20% of the part up to US$250 and 5% above: US$52.50 on a US$300 item.
    got = compute_fees(
        lines(
            {"channel": "Amazon", "market": "US", "category": "Jewelry", "price": 300.0},
            {"channel": "Amazon", "market": "US", "category": "Jewelry", "price": 1.0},
        ),
        tables,
    ).outputs
    assert cents(got["referral_fee"]) == [52.50, 0.30]  # the second: the US$0.30 minimum
    assert got["referral_rule"].iloc[0].count("fees_amazon_referral.csv:") == 2


def test_us_clothing_rerates_the_whole_price(tables: FeeTables) -> None:
    # AMZ-US-RATES-JSON (checked against sell.amazon.com 2026-08-21): <= $15 5%, $15-20 10%,
    # above $20 17% of the whole price.
    got = compute_fees(
        lines(
            *(
                {
                    "channel": "Amazon",
                    "market": "US",
                    "category": "Clothing and Accessories",
                    "price": p,
                }
                for p in (15.0, 18.0, 30.0)
            )
        ),
        tables,
    ).outputs
    assert cents(got["referral_fee"]) == [0.75, 1.80, 5.10]


def one_pound_large_standard(price: float) -> dict[str, Any]:
    # 10 x 6 x 3 in, 1 lb: dimensional weight 180 / 139 = 1.29 lb would exceed 1 lb, so the
    # box is 9 x 5 x 3 in (135 / 139 < 1 lb): shipping weight 1 lb, the 12-16 oz band.
    return {
        "channel": "Amazon",
        "market": "US",
        "category": "Toys and Games",
        "price": price,
        "length_cm": 9 * IN,
        "width_cm": 5 * IN,
        "height_cm": 3 * IN,
        "weight_kg": 1 * LB,
    }


def test_fba_2026_large_standard_with_the_fuel_surcharge() -> None:
    # AMZ-US-2026-TS, AMZ-US-2026-PY, IH-FBA-2026 ("about $4.60"): large standard, 12-16 oz,
    # price $10-50: US$4.60. FUEL-2026: 3.5% of the fulfilment fee from 2026-04-17:
    # 4.60 x 1.035 = 4.761 -> US$4.76 (surcharge US$0.16).
    line = lines(one_pound_large_standard(25.0))
    before = compute_fees(line, load_fee_tables(dt.date(2026, 4, 16))).outputs
    after = compute_fees(line, load_fee_tables(dt.date(2026, 4, 17))).outputs
    assert after["size_tier"].iloc[0] == "large_standard"
    assert cents(after["fulfilment_fee"]) == [4.60]
    assert cents(after["fuel_surcharge"]) == [0.16]
    assert cents(after["fulfilment_fee"] + after["fuel_surcharge"]) == [4.76]
    assert cents(before["fuel_surcharge"]) == [0.0]
    assert "fees_fba_surcharges.csv:" in after["fulfilment_rule"].iloc[0]


@pytest.mark.parametrize(
    ("price", "expected"),
    [(9.99, 3.78), (10.0, 4.60), (50.0, 4.60), (50.01, 4.86)],
)
def test_fba_2026_price_bands(tables: FeeTables, price: float, expected: float) -> None:
    # AMZ-US-2026-TS / -PY: under $10, $10-50 (both ends in), over $50.
    got = compute_fees(lines(one_pound_large_standard(price)), tables).outputs
    assert cents(got["fulfilment_fee"]) == [expected]


def test_fba_dimensional_weight_and_overage(tables: FeeTables) -> None:
    # Large standard 5 lb (README of the fee research, computed from AMZ-US-2026-TS):
    # 6.97 + 8 x 0.08 per 4 oz above 3 lb = US$7.61.
    got = compute_fees(
        lines(
            {
                "channel": "Amazon",
                "market": "US",
                "category": "Toys and Games",
                "price": 30.0,
                "length_cm": 12 * IN,
                "width_cm": 10 * IN,
                "height_cm": 4 * IN,
                "weight_kg": 5 * LB,
            },
            {  # light but bulky: 12 x 10 x 8 in = 960 / 139 = 6.91 lb dimensional weight
                "channel": "Amazon",
                "market": "US",
                "category": "Toys and Games",
                "price": 30.0,
                "length_cm": 12 * IN,
                "width_cm": 10 * IN,
                "height_cm": 8 * IN,
                "weight_kg": 1 * LB,
            },
        ),
        tables,
    ).outputs
    assert cents(got["fulfilment_fee"])[0] == 7.61
    assert got["dim_weight_kg"].iloc[1] == pytest.approx(960 / 139 * LB)
    # 6.91 lb rounds up to 7 lb: 6.97 + 16 x 0.08 = 8.25
    assert cents(got["fulfilment_fee"])[1] == 8.25
    assert got["shipping_weight_kg"].iloc[1] == pytest.approx(7 * LB)


@pytest.mark.parametrize(
    ("day", "expected"), [(dt.date(2025, 6, 1), 3.15), (dt.date(2025, 11, 1), 3.34)]
)
def test_amazon_published_2025_peak_example(day: dt.date, expected: float) -> None:
    # PEAK-2025 (Supply Chain Dive quoting Amazon): a mobile device case, small standard,
    # US$3.15 outside the 2025 peak and US$3.34 from 2025-10-15 to 2026-01-14.
    case = {
        "channel": "Amazon",
        "market": "US",
        "category": "Electronics Accessories",
        "price": 19.99,
        "length_cm": 7 * IN,
        "width_cm": 4 * IN,
        "height_cm": 0.5 * IN,
        "weight_kg": 3 / 16 * LB,
    }
    got = compute_fees(lines(case), load_fee_tables(day)).outputs
    assert got["size_tier"].iloc[0] == "small_standard"
    assert cents(got["fulfilment_fee"]) == [expected]


def test_storage_january_against_the_fourth_quarter(tables: FeeTables) -> None:
    # AMZ-STORAGE-2024 (official; unchanged in 2026 per SELLERAPP-2026): standard size
    # US$0.78 per cubic foot per month January-September, US$2.40 October-December.
    # 2 cubic feet for a month: two units of 18 x 12 x 8 in (1 cubic foot each).
    unit = {
        "channel": "Amazon",
        "market": "US",
        "category": "Toys and Games",
        "price": 30.0,
        "length_cm": 18 * IN,
        "width_cm": 12 * IN,
        "height_cm": 8 * IN,
        "weight_kg": 2 * LB,
        "months_in_stock": 1.0,
    }
    got = compute_fees(
        lines({**unit, "sell_month": 1.0}, {**unit, "sell_month": 10.0}, unit), tables
    ).outputs
    assert got["cubic_feet"].iloc[0] == pytest.approx(1.0)
    assert cents(2 * got["storage_fee"]) == [1.56, 4.80, cents([2 * (9 * 0.78 + 3 * 2.40) / 12])[0]]


def test_aged_inventory_surcharge_after_six_months(tables: FeeTables) -> None:
    # AGED-2023 (uncertain): 181-210 days US$0.50, 211-240 days US$1.00 per cubic foot.
    unit = {
        "channel": "Amazon",
        "market": "US",
        "category": "Toys and Games",
        "price": 30.0,
        "length_cm": 18 * IN,
        "width_cm": 12 * IN,
        "height_cm": 8 * IN,
        "weight_kg": 2 * LB,
    }
    got = compute_fees(
        lines({**unit, "months_in_stock": 5.0}, {**unit, "months_in_stock": 7.0}), tables
    ).outputs
    # month 6 ends at day 182.6 (0.50), month 7 at day 213.1 (1.00)
    assert cents(got["aged_surcharge"]) == [0.0, 1.50]
    assert got["fee_uncertain"].iloc[1]


def only(tables: FeeTables, fee_type: str) -> FeeTables:
    rows = tables.commissions
    return dataclasses.replace(tables, commissions=rows[rows["fee_type"] == fee_type])


def test_tiktok_shop_thailand_commerce_growth_fee(tables: FeeTables) -> None:
    # TT-TH (official TikTok Shop TH page): guitar THB 1,000 - seller discount 100 = 900 x 6.42%
    # = THB 57.78; headphones THB 20,000 x 5.35% = 1,070, capped at THB 199.
    got = compute_fees(
        lines(
            {"channel": "TikTok Shop", "market": "TH", "category": "Musical", "price": 900.0},
            {
                "channel": "TikTok Shop",
                "market": "TH",
                "category": "electronics cluster",
                "price": 20_000.0,
            },
        ),
        only(tables, "commerce_growth_fee"),
    ).outputs
    assert cents(got["referral_fee"]) == [57.78, 199.00]
    # With the cross-border transaction fee (TT-TH-XB, 3.21%) added: 57.78 + 28.89.
    both = compute_fees(
        lines({"channel": "TikTok Shop", "market": "TH", "category": "x", "price": 900.0}), tables
    ).outputs
    assert cents(both["referral_fee"]) == [86.67]


@pytest.mark.parametrize(
    ("market", "category", "price", "expected"),
    [
        ("GB", "x", 95.0, 8.55),  # TT-UK: £80 + £5 shipping + £10 platform discount at 9%
        ("GB", "electronics / computers / collectibles", 1550.0, 77.50),  # TT-UK: 5%
        ("US", "x", 55.99, 3.36),  # TT-US-3P: ($50 + $5.99 shipping) x 6%
    ],
)
def test_tiktok_shop_published_examples(
    tables: FeeTables, market: str, category: str, price: float, expected: float
) -> None:
    got = compute_fees(
        lines({"channel": "TikTok Shop", "market": market, "category": category, "price": price}),
        tables,
    ).outputs
    assert cents(got["referral_fee"]) == [expected]


def test_mercado_livre_fixed_fee_under_the_threshold(tables: FeeTables) -> None:
    # ML-BR-2026 (published example): an item at R$10 pays a fixed fee of R$5 (50% of the
    # price under R$12.50), plus the category's commission (classic 13%, "Outras categorias").
    # Above R$79 no fixed fee. Premium = classic + 5 points.
    got = compute_fees(
        lines(
            {"channel": "Mercado Libre", "market": "BR", "category": "x", "price": 10.0},
            {"channel": "Mercado Libre", "market": "BR", "category": "x", "price": 79.0},
            {
                "channel": "Mercado Libre",
                "market": "BR",
                "category": "Eletrônicos, Áudio e Vídeo",
                "listing_type": "premium",
                "price": 60.0,
            },
        ),
        tables,
    ).outputs
    fixed = only(tables, "fixed_per_unit")
    alone = compute_fees(
        lines({"channel": "Mercado Libre", "market": "BR", "category": "x", "price": 10.0}), fixed
    ).outputs
    assert cents(alone["referral_fee"]) == [5.00]
    assert cents(got["referral_fee"]) == [6.30, 10.27, 17.55]


def test_unknown_market_of_a_channel_with_tables_is_flagged(tables: FeeTables) -> None:
    got = compute_fees(
        lines(
            {"channel": "Mercado Libre", "market": "CL", "category": "x", "price": 10.0},
            {
                "channel": "Amazon",
                "market": "DE",
                "category": "x",
                "price": 10.0,
                "length_cm": 10.0,
                "width_cm": 10.0,
                "height_cm": 1.0,
                "weight_kg": 0.1,
            },
            {"channel": "Shopify", "market": "US", "category": "", "price": 10.0},
        ),
        tables,
    ).outputs
    assert np.isnan(got["referral_fee"].iloc[0])
    assert got["fee_flag"].iloc[0] == FeeFlag.NO_REFERRAL_RULE.value
    assert FeeFlag.NO_SIZE_TIER.value in got["fee_flag"].iloc[1]  # no DE FBA card shipped
    assert (
        FeeFlag.NO_DIMENSIONS.value
        in compute_fees(
            lines({"channel": "Amazon", "market": "US", "category": "x", "price": 10.0}), tables
        )
        .outputs["fee_flag"]
        .iloc[0]
    )
    assert got["fee_flag"].iloc[2] == ""
    assert got["referral_fee"].iloc[2] == 0.0


def test_typed_figures_override_the_tables(tables: FeeTables) -> None:
    line = {
        **one_pound_large_standard(25.0),
        "referral_rate": 0.10,
        "referral_min": 3.0,
        "last_mile_per_unit": 5.0,
        "storage_per_unit": 0.5,
    }
    result = compute_fees(lines(line, one_pound_large_standard(25.0)), tables)
    got = result.outputs
    assert cents(got["referral_fee"]) == [3.00, 3.75]  # max(10% x 25, 3) vs 15% of 25
    assert cents(got["fulfilment_fee"]) == [5.00, 4.60]
    assert cents(got["fuel_surcharge"]) == [0.0, 0.16]
    assert got["storage_fee"].iloc[0] == 0.5
    assert got["referral_rule"].iloc[0] == "typed" and got["fulfilment_rule"].iloc[0] == "typed"
    # typed last mile and storage are fixed costs; the typed referral stays in the schedule
    assert result.fixed_fees[0] == pytest.approx(5.5)
    price = solve_price(result.schedule, 20.0 + result.fixed_fees, 1.0, 0.0, 0.0)
    assert price[0] == pytest.approx(28.5)  # P - max(10% P, 3) = 25.5: the minimum binds


def test_payment_processors(tables: FeeTables) -> None:
    # STRIPE: US$100 -> US$3.20 (2.9% + 30c); +1.5% international card, +1% conversion.
    # PAYPAL: Checkout US$100 -> US$3.98 (3.49% + 49c).
    rate, fixed, rules = payment_terms(tables, "Stripe", "US")
    assert cents([100 * rate + fixed]) == [3.20]
    rate, fixed, _ = payment_terms(tables, "PayPal", "US")
    assert cents([100 * rate + fixed]) == [3.98]
    rate, fixed, rules = payment_terms(tables, "Stripe", "US", international=True, conversion=True)
    assert rate == pytest.approx(0.054) and fixed == 0.30 and len(rules) == 3


# ---------------------------------------------------------------------------------- solver


def margin_gap(schedule: Any, price: np.ndarray, fixed: np.ndarray, margin: float) -> np.ndarray:
    return np.asarray(price - schedule.at(price) - fixed - margin * price)


def test_breakeven_across_the_jewelry_tier(tables: FeeTables) -> None:
    result = compute_fees(
        lines({"channel": "Amazon", "market": "US", "category": "Jewelry", "price": 100.0}), tables
    )
    price = solve_price(result.schedule, np.array([300.0]), 1.0, 0.0, 0.0)
    # above US$250: P - (50 + 5% (P - 250)) = 300 -> P = 337.5 / 0.95
    assert price[0] == pytest.approx(337.5 / 0.95, abs=1e-9)
    assert margin_gap(result.schedule, price, np.array([300.0]), 0.0)[0] == pytest.approx(
        0, abs=1e-9
    )


def test_a_fee_that_stops_at_a_threshold_can_be_the_answer(tables: FeeTables) -> None:
    # Mercado Livre BR classic 13%, fixed R$6.75 from R$50 to R$79, none from R$79: with R$66 of
    # costs, 0.87 P - 6.75 = 66 has its root (83.6) above R$79, where the fixed fee is gone and
    # 0.87 x 79 - 66 = 2.73 >= 0 already: the lowest price is R$79 exactly.
    result = compute_fees(
        lines({"channel": "Mercado Libre", "market": "BR", "category": "x", "price": 60.0}), tables
    )
    price = solve_price(result.schedule, np.array([66.0]), 1.0, 0.0, 0.0)
    assert price[0] == 79.0


def test_fba_price_band_is_found_by_the_solver(tables: FeeTables) -> None:
    result = compute_fees(lines(one_pound_large_standard(25.0)), tables)
    # Cost 40 at a 10% target: in the $10-50 band, 0.9 P - 0.15 P - 4.761 = 40 -> 59.68 > 50,
    # so the answer lies over $50: 0.75 P - 4.86 x 1.035 = 40.
    price = solve_price(result.schedule, np.array([40.0]), 1.0, 0.0, 0.10)
    assert price[0] == pytest.approx((40 + 4.86 * 1.035) / 0.75)
    assert margin_gap(result.schedule, price, np.array([40.0]), 0.10)[0] >= -1e-9


SCHEDULE_LINES = lines(
    {"channel": "Amazon", "market": "US", "category": "Jewelry", "price": 1.0},
    {"channel": "Amazon", "market": "US", "category": "Clothing and Accessories", "price": 1.0},
    {"channel": "Amazon", "market": "US", "category": "Baby Products", "price": 1.0},
    one_pound_large_standard(1.0),
    {"channel": "Mercado Libre", "market": "BR", "category": "x", "price": 1.0},
    {"channel": "Mercado Libre", "market": "MX", "category": "x", "price": 1.0},
    {"channel": "TikTok Shop", "market": "TH", "category": "electronics cluster", "price": 1.0},
    {"channel": "Shopify", "market": "US", "price": 1.0},
)


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(
        st.floats(0.0, 5000.0), min_size=len(SCHEDULE_LINES), max_size=len(SCHEDULE_LINES)
    ),
    margin=st.floats(-0.2, 0.5),
    pct=st.floats(0.0, 0.2),
)
def test_solved_price_is_the_lowest_that_reaches_the_margin(
    costs: list[float], margin: float, pct: float
) -> None:
    result = _schedule_result()
    fixed = np.asarray(costs)
    price = solve_price(result.schedule, fixed, 1.0, pct, margin)
    solved = ~np.isnan(price)
    gap = (1 - margin - pct) * price - result.schedule.at(np.nan_to_num(price)) - fixed
    assert (gap[solved] >= -1e-9 * np.maximum(price[solved], 1.0)).all()
    # No lower price on a fine grid reaches the margin.
    for i in np.flatnonzero(solved):
        grid = np.linspace(0.0, price[i], 400, endpoint=False)[1:]
        one = np.full(len(grid), i)
        fees = _fees_of_line(result.schedule, one, grid)
        assert ((1 - margin - pct) * grid - fees - fixed[i] < 1e-9).all()
    # Where the percentage costs leave room, a price exists.
    assert solved[[0, 1, 2, 3, 4, 7]].all() or (1 - margin - pct) <= 0.2


@functools.cache
def _schedule_result() -> Any:
    return compute_fees(SCHEDULE_LINES, load_fee_tables(AFTER_FUEL))


def _fees_of_line(schedule: Any, rows: np.ndarray, prices: np.ndarray) -> np.ndarray:
    sub = dataclasses.replace(schedule, owner=schedule.owner[rows])
    return np.asarray(sub.at(prices))
