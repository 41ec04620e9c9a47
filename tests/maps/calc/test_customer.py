"""Customer map: hand-worked tiers and targets, FX, the Shopify fixture, invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlplan.maps.action import tier_table
from xlplan.maps.calc.customer import (
    B2B_TIERS,
    B2C_TIERS,
    CUSTOMER_COLUMNS,
    DEFAULT_RETENTION,
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
TEXT_COLUMNS = ("tier", "tier_label", "budget_months", "retention_basis")


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
    customers = build_customers(lines, as_of=AS_OF)
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
    customers = build_customers(lines, as_of=AS_OF)
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
    """B2C_ROWS worked by hand. The data starts before the window, so it covers 12 months and
    nothing is scaled. Nobody was in a tier at the window's start but ``churn`` (new then, a
    cohort of 1): every retention is its tier's default. Five customers were acquired in the
    window (all but ``churn``) with 3,260 of revenue: 5 new customers a year at 652 each, all
    entering B2C as ``new``."""
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
    assert (tiers["months_covered"] == 12.0).all()
    assert tiers["orders_per_customer"].to_dict() == pytest.approx(
        {"high_value_repeat": 3.0, "potential": 1.5, "new": 1.0, "at_risk": 2.0, "churned": 0.0}
    )
    assert tiers["annual_revenue"].to_numpy() == pytest.approx(tiers["revenue"].to_numpy())
    assert tiers.loc["new", ["cohort", "retained"]].tolist() == [1, 0]
    assert tiers["retention"].to_dict() == {t.value: DEFAULT_RETENTION[t] for t in B2C_TIERS}
    assert set(tiers["retention_basis"]) == {"default"}
    assert tiers["new_customers"].to_dict() == {
        "high_value_repeat": 0, "potential": 0, "new": 5, "at_risk": 0, "churned": 0
    }  # fmt: skip
    assert tiers.loc["new", "first_year_value"] == pytest.approx(652.0)
    # annualised revenue x retention x (1 + upsell), + new customers x first-year value:
    # 3000 x 0.6 x 1.1 = 1980; 80 x 0.3 x 1.1 = 26.4; 80 x 0.25 x 1.1 = 22 and 5 x 652;
    # 100 x 0.1 x 1.1 = 11; 0. Parts rounded together to the yuan: 26.4 -> 26, total 5,299.
    assert tiers["existing_target"].tolist() == [1980, 26, 22, 11, 0]
    assert tiers["new_target"].tolist() == [0, 0, 3260, 0, 0]
    assert tiers["proposed_target"].tolist() == [1980, 26, 3282, 11, 0]
    # to the hundred: 5,299.4 -> 5,300, the two units to the largest remainders (.8 and .6)
    by_100 = summarise_tiers(lines, customers, as_of=AS_OF, settings=s, unit=100).set_index("tier")
    assert by_100["proposed_target"].tolist() == [2000, 0, 3300, 0, 0]
    # user assumptions win where given, stated to 0.1% and whole customers
    assumptions = pd.DataFrame(
        {
            "tier": ["high_value_repeat"],
            "retention": [0.8512],
            "upsell": [0.4],
            "new_customers": [2.4],
        }
    )
    t2 = summarise_tiers(lines, customers, as_of=AS_OF, settings=s, assumptions=assumptions)
    hv2 = t2.set_index("tier").loc["high_value_repeat"]
    assert (hv2["retention"], hv2["retention_basis"], hv2["new_customers"]) == (
        0.851,
        "assumption",
        2,
    )
    assert hv2["proposed_target"] == round(3000 * 0.851 * 1.4)  # no first-year value: 2 x 0


def test_retention_is_measured_on_the_tier_a_window_earlier() -> None:
    """Tiered as of 2024-12-31, four customers were at risk (one order in March 2024) and two
    high-value repeat; in 2025 one of the four and both of the two bought again."""
    rows = [(f"r{i}", f"r{i}-1", "2024-03-01", 50.0, "USD", False) for i in range(1, 5)]
    rows += [
        ("r1", "r1-2", "2025-06-01", 50.0, "USD", False),
        *[(v, f"{v}-{m}", f"2024-{m:02d}-01", 1000.0, "USD", False)
          for v in ("v1", "v2") for m in (10, 12)],
        ("v1", "v1-3", "2025-11-01", 1000.0, "USD", False),
        ("v2", "v2-3", "2025-11-01", 1000.0, "USD", False),
    ]  # fmt: skip
    s = TierSettings(mode=TierMode.B2C, retention_min_customers=2)
    tiers = customer_map(order_lines(rows), as_of=AS_OF, settings=s).tiers.set_index("tier")
    assert tiers.loc["at_risk", ["cohort", "retained"]].tolist() == [4, 1]
    assert tiers.loc["at_risk", "retention"] == 0.25
    assert tiers.loc["high_value_repeat", "retention"] == 1.0
    assert tiers.loc["at_risk", "retention_basis"] == "measured"
    # r1 is at risk again, r2-r4 churned: nobody was churned a year ago, the default applies
    assert tiers.loc["churned", ["customers", "cohort", "retention"]].tolist() == [3, 0, 0.03]
    assert tiers.loc["churned", "retention_basis"] == "default"
    # too few to measure on by default (20): the tiers' defaults, little for at-risk and churned
    default = customer_map(order_lines(rows), as_of=AS_OF, settings=TierSettings()).tiers
    retention = default.set_index("tier")["retention"]
    assert retention["at_risk"] == 0.10 and retention["churned"] == 0.03
    assert (retention < 1).all()


def test_new_customers_are_a_forecast_of_acquisition() -> None:
    """Orders from 1 July 2025 to the as-of day, 31 December: the 12-month window has 184 days
    = 6.0 months of data. Eight customers were acquired in it, 16 a year; four of them (first
    order in November or December) are the new tier today."""
    rows = [(f"c{m}", f"o{m}", f"2025-{m:02d}-01", 100.0, "USD", False) for m in range(7, 13)]
    rows += [(f"d{d}", f"p{d}", f"2025-12-{d:02d}", 40.0, "USD", False) for d in (1, 2)]
    result = customer_map(order_lines(rows), as_of=AS_OF, settings=TierSettings())
    assert result.coverage.months_covered == 6.0
    new = result.tiers.set_index("tier").loc["new"]
    assert new["customers"] == 4  # c11, c12, d1, d2
    assert new["new_customers"] == 16  # 8 acquired in 6.0 months
    assert new["first_year_value"] == pytest.approx(680 / 8)
    assert new["orders_per_customer"] == pytest.approx(1 * 12 / 6.0)
    assert new["annual_revenue"] == pytest.approx((100 + 100 + 40 + 40) * 12 / 6.0)
    # B2B customers enter in the spend band they buy at
    b2b = [("big", "b1", "2025-11-05", 500_000.0, "USD", True)]
    b2b += [("old", "x1", "2024-11-05", 20_000.0, "USD", True)]
    b2b += [("old", "x2", "2025-11-05", 20_000.0, "USD", True)]
    tiers = customer_map(order_lines(b2b), as_of=AS_OF).tiers.set_index("tier")
    assert tiers["new_customers"].to_dict() == {"b2b_large": 1, "b2b_mid": 0, "b2b_small": 0}


@pytest.mark.parametrize(
    ("mode", "business", "assumed", "shown"),
    [
        (TierMode.B2C, [False, True], None, B2C_TIERS),
        (TierMode.B2B, [False, False], None, B2B_TIERS),
        (TierMode.AUTO, [False, False], None, B2C_TIERS),
        (TierMode.AUTO, [True, True], None, B2B_TIERS),
        (TierMode.AUTO, [True, False], None, B2B_TIERS + B2C_TIERS),
        (TierMode.AUTO, [False, False], "b2b_large", B2B_TIERS + B2C_TIERS),
    ],
)
def test_only_the_tiers_of_the_mode_in_use(
    mode: TierMode, business: list[bool], assumed: str | None, shown: tuple[Tier, ...]
) -> None:
    rows = [(f"c{i}", f"o{i}", "2025-12-01", 100.0, "USD", b) for i, b in enumerate(business)]
    assumptions = None
    if assumed:  # a tier the planner gives a figure for is planned, customers or not
        assumptions = pd.DataFrame({"tier": [assumed], "new_customers": [3]})
    result = customer_map(
        order_lines(rows), as_of=AS_OF, settings=TierSettings(mode=mode), assumptions=assumptions
    )
    assert result.tiers["tier"].tolist() == [t.value for t in shown]


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


def test_lines_without_a_customer_are_a_warning_and_their_revenue_is_counted() -> None:
    """Five guest orders (#1020, #1043, #1075, #1085 with three lines, #1100) have no e-mail:
    7 lines, 491.50 USD. The map still computes; the lines are in no customer and no tier,
    and their revenue is part of the window's total, said apart."""
    lines = read_shopify_orders(SHOPIFY)
    result = customer_map(lines, as_of=pd.Timestamp("2025-07-31"))
    assert result.errors.empty
    cov = result.coverage
    assert (cov.no_customer_lines, cov.no_customer_orders) == (7, 5)
    assert cov.no_customer_revenue == pytest.approx(491.5)
    assert cov.revenue == pytest.approx(result.tiers["revenue"].sum() + 491.5)
    assert cov.revenue == pytest.approx(lines["amount"].sum())
    assert lines.loc[result.no_customer, "line"].tolist() == [39, 82, 141, 160, 161, 162, 193]
    first = result.warnings[0]
    assert first.en.startswith("7 order lines (5 orders) have no customer id")
    assert "491 USD" in first.en and "491 USD" in first.zh


def test_the_data_says_how_old_it_is_and_how_much_it_covers() -> None:
    """The fixture: orders 2025-01-01 13:33 to 2025-07-27 11:44, 208 days counted = 6.8 months;
    a 2027 plan starts 522 days after the last order's day = 17.2 months."""
    lines = read_shopify_orders(SHOPIFY)
    as_of = pd.Timestamp("2025-07-27 23:59:59")
    result = customer_map(lines, as_of=as_of, plan_start=pd.Timestamp("2027-01-01"))
    cov = result.coverage
    assert (cov.first_order, cov.last_order) == (
        pd.Timestamp("2025-01-01 13:33"), pd.Timestamp("2025-07-27 11:44")
    )  # fmt: skip
    assert (cov.data_months, cov.months_covered, cov.months_to_plan) == (6.8, 6.8, 17.2)
    assert cov.annualise == pytest.approx(12 / 6.8)
    # the window is annualised explicitly, tier by tier
    t = result.tiers
    assert t["annual_revenue"].to_numpy() == pytest.approx(t["revenue"].to_numpy() * 12 / 6.8)
    texts = [w.en for w in result.warnings]
    assert any("17.2 months before plan year 2027" in w and "older than a year" in w for w in texts)
    assert any("cover only 6.8 months (fewer than 12)" in w for w in texts)
    assert "annualised by 12/6.8 = x1.76" in cov.describe().en
    assert "×1.76" in cov.describe().zh
    # the same customers a year and a half later, every order shown twice 6 months apart
    # (2026-01 to 2027-01): 13 months of data reaching into the plan year, no warning
    later = [
        lines.assign(order_date=lines["order_date"] + pd.DateOffset(months=m)) for m in (12, 18)
    ]
    known = pd.concat(later, ignore_index=True).dropna(subset=["customer_id"])
    cov2 = customer_map(
        known, as_of=pd.Timestamp("2027-01-27 23:59:59"), plan_start=pd.Timestamp("2027-01-01")
    ).coverage
    assert (cov2.data_months, cov2.months_covered, cov2.months_to_plan) == (12.9, 12.0, -0.9)
    assert cov2.warnings() == []
    assert ", reaching 0.9 months into plan year 2027;" in cov2.describe().en
    assert "已进入计划年度 2027 0.9 个月" in cov2.describe().zh


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


ORDER_ROWS = st.lists(
    st.tuples(
        st.integers(0, 19),  # customer
        st.integers(0, 800),  # days before as-of
        st.floats(0, 80_000, allow_nan=False),
        st.booleans(),
    ),
    min_size=1,
    max_size=80,
)
ASSUMED = st.fixed_dictionaries(
    {},
    optional={
        "retention": st.floats(0, 1),
        "upsell": st.floats(-0.5, 3),
        "new_customers": st.integers(0, 5_000),
        "first_year_value": st.floats(0, 100_000),
    },
)


@settings(max_examples=60, deadline=None)
@given(
    ORDER_ROWS,
    st.sampled_from(list(TierMode)),
    st.sampled_from([0.01, 1.0, 10.0, 1_000.0, 10_000.0]),
    st.integers(1, 24),
    st.dictionaries(st.sampled_from([t.value for t in Tier]), ASSUMED, max_size=3),
)
@example(  # a target of 1.3e10 units: whole up to float noise
    [(0, 0, 0.0, False)],
    TierMode.AUTO,
    0.01,
    1,
    {"b2b_large": {"retention": 0.0, "first_year_value": 73908.625, "new_customers": 1816}},
)
def test_tier_figures_add_up_and_multiply_out(
    rows: list[tuple[int, int, float, bool]],
    mode: TierMode,
    unit: float,
    window: int,
    assumed: dict[str, dict[str, float]],
) -> None:
    """On the Customer Tiers table as written: the tiers' targets sum to the total shown (the
    rounded sum of their products), each is a whole number of units, and each part is the
    product of the factors beside it to within one unit."""
    data = [
        (f"c{c}", f"o{i}", str((AS_OF - pd.Timedelta(days=d)).date()), amt, "USD", biz)
        for i, (c, d, amt, biz) in enumerate(rows)
    ]
    assumptions = pd.DataFrame([{"tier": t, **a} for t, a in assumed.items()], dtype=object)
    result = customer_map(
        order_lines(data),
        as_of=AS_OF,
        settings=TierSettings(mode=mode, window_months=window, retention_min_customers=3),
        assumptions=assumptions if len(assumptions) else None,
        plan_start=pd.Timestamp("2027-01-01"),
        unit=unit,
    )
    shown = tier_table(result.tiers)
    f = {c: shown[c].to_numpy(dtype=float) for c in shown.columns if c not in TEXT_COLUMNS}
    existing = f["customers"] * f["orders_per_customer"] * f["aov"] * f["retention"]
    existing = existing * (1 + f["upsell"])
    new = f["new_customers"] * f["first_year_value"]
    slack = 1e-9 * np.maximum(1.0, np.abs(existing) + np.abs(new))
    assert (np.abs(f["existing_target"] - existing) < unit + slack).all()
    assert (np.abs(f["new_target"] - new) < unit + slack).all()
    assert (f["proposed_target"] == f["existing_target"] + f["new_target"]).all()
    for col in ("existing_target", "new_target"):
        units = f[col] / unit  # a whole number, up to the division's float noise (1e10 units)
        assert np.allclose(units, np.round(units), rtol=1e-12, atol=1e-6)
    total = round(float(np.sum(existing + new)) / unit, 9)  # float noise off, as the rounding
    assert f["proposed_target"].sum() == pytest.approx(
        np.floor(total + 0.5) * unit, rel=1e-12, abs=1e-6 * unit
    )
    # the window annualised: customers x orders per customer x order value = revenue x 12 / m
    annual = result.tiers["revenue"].to_numpy(dtype=float) * 12 / f["months_covered"]
    # shown to the whole unit, half up: within half a unit of the exact figure (against
    # np.round's half-to-even, a revenue of exactly x.5 would be a whole unit off)
    assert f["annual_revenue"] == pytest.approx(annual, abs=0.5 + 1e-6)
    assert annual == pytest.approx(f["customers"] * f["orders_per_customer"] * f["aov"])


def test_domain_erp_example_upsell_as_an_assumption() -> None:
    """DOMAIN.md section 1, the ERP vendor: large sellers (> US$100k a month) renew at 85%;
    after the Q1 push 30% of them were upsold at +40% annual value, i.e. +12% on the tier's
    retained revenue. The tier target reads those figures as assumptions."""
    rows = [(f"seller{i}", f"o{i}-{m}", f"2025-{m:02d}-01", 120_000.0, "USD", True)
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
    assert result.tiers.empty  # auto mode, no customer: no tier is in use
    assert result.coverage.first_order is None and result.warnings == []
    b2c = customer_map(read_shopify_orders(path), as_of=AS_OF, settings=TierSettings(mode="b2c"))
    assert (b2c.tiers["proposed_target"] == 0).all()
    assert len(b2c.tiers) == len(B2C_TIERS)
