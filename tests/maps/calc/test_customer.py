"""Customer map: hand-worked tiers and targets, FX, the Shopify fixture, invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.maps.calc.customer import (
    CUSTOMER_COLUMNS,
    TIER_SUMMARY_COLUMNS,
    Tier,
    TierMode,
    TierSettings,
    build_customers,
    convert_amounts,
    customer_map,
    summarise_tiers,
    tier_customers,
)
from xlplan.orders import ORDER_LINE_COLUMNS, read_shopify_orders

SHOPIFY = Path(__file__).parents[2] / "data" / "orders" / "shopify_orders_export_subset_sample.csv"
AS_OF = pd.Timestamp("2025-12-31")


def order_lines(rows: list[tuple[str, str, str, float, str, bool]]) -> pd.DataFrame:
    """Contract lines from (customer, order, date, amount, currency, business)."""
    n = len(rows)
    return pd.DataFrame(
        {
            "source": ["generic"] * n,
            "line": np.arange(2, n + 2),
            "order_id": [r[1] for r in rows],
            "customer_id": [r[0] for r in rows],
            "order_date": pd.to_datetime([r[2] for r in rows]),
            "currency": [r[4] for r in rows],
            "amount": [r[3] for r in rows],
            "quantity": [1.0] * n,
            "sku": [""] * n,
            "product": [""] * n,
            "country": ["US"] * n,
            "channel": ["generic"] * n,
            "business": [r[5] for r in rows],
            "status": ["paid"] * n,
        }
    )[ORDER_LINE_COLUMNS]


# B2C, as of 2025-12-31 (window: 2025-01-01 .. 2025-12-31, previous window: 2024)
B2C_ROWS = [
    ("churn", "c1", "2024-11-01", 100.0, "USD", False),  # 425 days ago -> churned
    ("risk", "r1", "2025-03-01", 50.0, "USD", False),
    ("risk", "r2", "2025-05-01", 50.0, "USD", False),  # 244 days ago -> at risk
    ("new", "n1", "2025-12-01", 80.0, "USD", False),  # one order 30 days ago -> new
    ("vip", "v1", "2025-06-01", 1000.0, "USD", False),
    ("vip", "v2", "2025-11-01", 1000.0, "USD", False),
    ("vip", "v3", "2025-12-15", 600.0, "USD", False),
    ("vip", "v3", "2025-12-15", 400.0, "USD", False),  # second line of order v3
    ("pot", "p1", "2025-09-01", 60.0, "USD", False),  # one order, 121 days ago -> potential
    ("low", "l1", "2025-10-01", 10.0, "USD", False),
    ("low", "l2", "2025-12-01", 10.0, "USD", False),  # repeat but M score 1 -> potential
]


def b2c_customers() -> pd.DataFrame:
    lines, _ = convert_amounts(
        order_lines(B2C_ROWS), pd.DataFrame(columns=["from_currency", "to_currency", "rate"])
    )
    customers, errors = build_customers(lines, as_of=AS_OF)
    assert errors.empty
    return tier_customers(customers, TierSettings(mode=TierMode.B2C))


def test_build_customers_hand_worked() -> None:
    c = b2c_customers().set_index("customer_id")
    assert list(c.reset_index().columns[: len(CUSTOMER_COLUMNS)]) == CUSTOMER_COLUMNS
    vip = c.loc["vip"]
    assert vip["orders"] == 3  # v3 has two lines, one order
    assert vip["revenue"] == pytest.approx(3000.0)
    assert vip["aov"] == pytest.approx(1000.0)
    assert vip["recency_days"] == 16
    # first order June 2025 -> 7 active months (Jun..Dec) in the window
    assert vip["monthly_spend"] == pytest.approx(3000.0 / 7)
    churn = c.loc["churn"]
    assert churn["revenue_window"] == 0.0 and churn["revenue_prev_window"] == pytest.approx(100.0)
    assert churn["orders_prev_window"] == 1 and churn["orders_window"] == 0


def test_rfm_tiers_hand_worked() -> None:
    c = b2c_customers().set_index("customer_id")
    assert c["tier"].to_dict() == {
        "churn": Tier.CHURNED.value,
        "risk": Tier.AT_RISK.value,
        "new": Tier.NEW.value,
        "vip": Tier.HIGH_VALUE_REPEAT.value,
        "pot": Tier.POTENTIAL.value,
        "low": Tier.POTENTIAL.value,
    }
    # revenues 100, 100, 80, 3000, 60, 20 -> percentile ranks -> quintile scores
    assert c["m_score"].to_dict() == {"churn": 4, "risk": 4, "new": 3, "vip": 5, "pot": 2, "low": 1}


def test_b2b_spend_bands_and_edges() -> None:
    rows = []
    for m in range(1, 13):
        day = f"2025-{m:02d}-10"
        rows += [
            ("big", f"b{m}", day, 150_000.0, "USD", True),
            ("edge", f"e{m}", day, 100_000.0, "USD", True),  # exactly 100k: not > 100k
            ("mid", f"m{m}", day, 10_000.0, "USD", True),  # exactly 10k: mid
            ("small", f"s{m}", day, 9_999.0, "USD", True),
        ]
    rows.append(("late", "x1", "2025-10-15", 30_000.0, "USD", True))  # Oct-Dec: 3 months
    lines, _ = convert_amounts(
        order_lines(rows), pd.DataFrame({"from_currency": [], "to_currency": [], "rate": []})
    )
    customers, _ = build_customers(lines, as_of=AS_OF)
    tiered = tier_customers(customers).set_index("customer_id")
    assert tiered.loc["late", "monthly_spend"] == pytest.approx(10_000.0)
    assert tiered["tier"].to_dict() == {
        "big": "b2b_large",
        "edge": "b2b_mid",
        "mid": "b2b_mid",
        "small": "b2b_small",
        "late": "b2b_mid",
    }
    # editable bands
    s = TierSettings(b2b_large=50_000, b2b_mid=9_000)
    again = tier_customers(customers, s).set_index("customer_id")["tier"]
    assert again["edge"] == "b2b_large" and again["small"] == "b2b_mid"


def test_tier_summary_and_target_formula() -> None:
    customers = b2c_customers()
    lines, _ = convert_amounts(
        order_lines(B2C_ROWS), pd.DataFrame({"from_currency": [], "to_currency": [], "rate": []})
    )
    s = TierSettings(mode=TierMode.B2C)
    tiers = summarise_tiers(lines, customers, as_of=AS_OF, settings=s).set_index("tier")
    assert list(tiers.reset_index().columns) == TIER_SUMMARY_COLUMNS
    assert list(tiers.index) == ["high_value_repeat", "potential", "new", "at_risk", "churned"]
    # window revenue 3000 + 60 + 20 + 80 + 100 + 0 = 3260
    assert tiers["revenue"].sum() == pytest.approx(3260.0)
    assert tiers.loc["high_value_repeat", "revenue_share"] == pytest.approx(3000 / 3260)
    assert tiers.loc["potential", "customers"] == 2
    assert tiers.loc["potential", "repeat_rate"] == pytest.approx(0.5)
    assert tiers.loc["high_value_repeat", "aov"] == pytest.approx(1000.0)
    assert tiers.loc["high_value_repeat", "budget_months"] == "6,11,12"
    # churned: bought in the previous window, not in the last one -> churn 1, retention 0
    assert tiers.loc["churned", "churn_rate"] == 1.0
    assert tiers.loc["churned", "retained_revenue"] == 0.0
    # target = retained x (1 + upsell) + new customers x first-year value
    hv = tiers.loc["high_value_repeat"]
    assert hv["retention"] == 1.0 and hv["upsell"] == pytest.approx(0.10)
    assert hv["new_customers"] == 1 and hv["first_year_value"] == pytest.approx(3000.0)
    assert hv["proposed_target"] == pytest.approx(3000 * 1.1 + 3000)
    # user assumptions win where given
    assumptions = pd.DataFrame(
        {"tier": ["high_value_repeat"], "retention": [0.85], "upsell": [0.4], "new_customers": [2]}
    )
    t2 = summarise_tiers(lines, customers, as_of=AS_OF, settings=s, assumptions=assumptions)
    hv2 = t2.set_index("tier").loc["high_value_repeat"]
    assert hv2["proposed_target"] == pytest.approx(3000 * 0.85 * 1.4 + 2 * 3000)


def test_fx_conversion_and_missing_rate_is_an_error_record() -> None:
    rows = [
        ("a", "1", "2025-05-01", 100.0, "EUR", False),
        ("a", "2", "2025-06-01", 15000.0, "jpy", False),
        ("b", "3", "2025-06-01", 10.0, "GBP", False),
    ]
    fx = pd.DataFrame(
        {"from_currency": ["EUR", "USD"], "to_currency": ["USD", "JPY"], "rate": [1.1, 150.0]}
    )
    lines, errors = convert_amounts(order_lines(rows), fx, "USD")
    assert lines["amount_base"].iloc[:2].tolist() == pytest.approx([110.0, 100.0])
    assert np.isnan(lines["amount_base"].iloc[2])
    assert errors[["table", "row", "column"]].to_numpy().tolist() == [["orders", 2, "currency"]]
    assert "GBP" in errors["en"].iloc[0] and "GBP" in errors["zh"].iloc[0]
    # into CNY, crossing through USD (EUR->USD->CNY)
    fx2 = pd.concat(
        [fx, pd.DataFrame({"from_currency": ["USD"], "to_currency": ["CNY"], "rate": [7.2]})]
    )
    cny, _ = convert_amounts(order_lines(rows[:1]), fx2, "CNY")
    assert cny["amount_base"].iloc[0] == pytest.approx(100 * 1.1 * 7.2)
    bad_fx = pd.DataFrame({"from_currency": ["EUR"], "to_currency": ["USD"], "rate": [-1.0]})
    _, errs = convert_amounts(order_lines(rows[:1]), bad_fx, "USD")
    assert set(errs["table"]) == {"fx", "orders"}


def test_shopify_fixture_end_to_end() -> None:
    lines = read_shopify_orders(SHOPIFY)
    result = customer_map(
        lines, as_of=pd.Timestamp("2025-07-31"), settings=TierSettings(mode=TierMode.B2C)
    )
    # five guest orders (#1020, #1043, #1075, #1085, #1100) have no e-mail: 7 lines reported
    assert len(result.errors) == 7
    assert set(result.errors["column"]) == {"customer_id"}
    guests = lines["customer_id"].isna()
    assert result.customers["revenue"].sum() == pytest.approx(lines.loc[~guests, "amount"].sum())
    assert result.customers["customer_id"].is_unique
    assert result.tiers["customers"].sum() == len(result.customers)
    assert result.tiers["revenue_share"].sum() == pytest.approx(1.0)
    # the as-of date is a parameter: a later date moves customers towards at risk / churned
    later = customer_map(
        lines, as_of=pd.Timestamp("2026-12-31"), settings=TierSettings(mode=TierMode.B2C)
    )
    assert set(later.customers["tier"]) == {"churned"}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 9),  # customer
            st.integers(0, 900),  # days before as-of
            st.floats(0, 50_000, allow_nan=False),
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from(list(TierMode)),
)
def test_every_customer_in_exactly_one_tier(
    rows: list[tuple[int, int, float, bool]], mode: TierMode
) -> None:
    data = [
        (
            f"c{c}",
            f"o{i}",
            str((AS_OF - pd.Timedelta(days=d)).date()),
            amt,
            "USD",
            c % 2 == 0 and biz,
        )
        for i, (c, d, amt, biz) in enumerate(rows)
    ]
    result = customer_map(order_lines(data), as_of=AS_OF, settings=TierSettings(mode=mode))
    c = result.customers
    assert c["customer_id"].is_unique
    assert c["tier"].isin([t.value for t in Tier]).all()
    t = result.tiers
    assert t["customers"].sum() == len(c) == len({r[0] for r in rows})
    if t["revenue"].sum() > 0:
        assert t["revenue_share"].sum() == pytest.approx(1.0)
    assert (t["proposed_target"] >= 0).all()
    assert c["revenue"].sum() == pytest.approx(sum(r[2] for r in rows))


def test_domain_erp_example_upsell_as_an_assumption() -> None:
    """DOMAIN.md section 1, the ERP vendor: large sellers (> US$100k a month) renew at 85%;
    after the Q1 push 30% of them were upsold at +40% annual value, i.e. +12% on the tier's
    retained revenue. The tier target reads those figures as assumptions."""
    rows = [(f"seller{i}", f"o{i}-{m}", f"2025-{m:02d}-05", 120_000.0, "USD", True)
            for i in range(10) for m in range(1, 13)]  # fmt: skip
    assumptions = pd.DataFrame(
        {"tier": ["b2b_large"], "retention": [0.85], "upsell": [0.30 * 0.40], "new_customers": [0]}
    )
    result = customer_map(order_lines(rows), as_of=AS_OF, assumptions=assumptions)
    large = result.tiers.set_index("tier").loc["b2b_large"]
    assert large["customers"] == 10
    assert large["revenue"] == pytest.approx(10 * 12 * 120_000.0)
    assert large["proposed_target"] == pytest.approx(14_400_000 * 0.85 * 1.12)


def test_empty_export_gives_empty_tiers(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("Name,Email,Created at,Total,Currency,Lineitem quantity\n", encoding="utf-8")
    result = customer_map(read_shopify_orders(path), as_of=AS_OF)
    assert result.customers.empty and result.errors.empty
    assert (result.tiers["proposed_target"] == 0).all()
    assert len(result.tiers) == len(Tier)
