"""Landed cost: each rule against hand-worked figures, dated rules, validation, invariants.

Most tests use small inline market rules, so a figure here depends only on the rule being
tested; the dated-rule tests use the shipped reference data.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.landed_cost.action import compute_lines
from xlplan.landed_cost.calc import solve_price
from xlplan.reference import Rules, load_rules

MARKET_COLS = [
    "market",
    "currency",
    "tax_rate",
    "price_includes_tax",
    "valuation_basis",
    "tax_base_includes_duty",
    "tax_base_includes_transport",
    "tax_gross_up",
    "import_tax_recoverable",
    "customs_union",
]
#        market ccy   tax   incl   basis  +duty  +transp gross  recov  union
MARKETS = [
    ("DE", "EUR", 0.19, True, "CIF", True, True, False, True, "EU"),
    ("US", "USD", 0.00, False, "FOB", False, False, False, False, ""),
    ("AU", "AUD", 0.10, True, "FOB", True, True, False, True, ""),
    ("CA", "CAD", 0.05, False, "FOB", True, False, False, True, ""),
    ("BR", "BRL", 0.17, False, "CIF", True, True, True, False, ""),
    ("MX", "MXN", 0.16, True, "CIF", True, True, False, True, ""),
    ("GB", "GBP", 0.20, True, "CIF", True, True, False, True, ""),
    ("JP", "JPY", 0.10, True, "CIF", True, True, False, True, ""),
]
REGIME_COLS = [
    "market",
    "applies_to",
    "min_value",
    "max_value",
    "value_currency",
    "treatment",
    "rate",
    "amount",
    "amount_currency",
]
INF = np.inf
REGIMES = [
    ("DE", "duty", 0, 150, "EUR", "flat_per_parcel", np.nan, 3.0, "EUR"),
    ("DE", "tax", 0, 150, "EUR", "collected_at_sale", np.nan, np.nan, ""),
    ("GB", "both", 0, 135, "GBP", "exempt", np.nan, np.nan, ""),
    ("BR", "duty", 0, 50, "USD", "rate", 0.20, np.nan, ""),
    ("BR", "duty", 50, 3000, "USD", "rate_minus_deduction", 0.60, 20.0, "USD"),
    ("MX", "both", 0, 2500, "USD", "combined_rate", 0.335, np.nan, ""),
]
FX = [
    ("CNY", "USD", 0.14),
    ("EUR", "USD", 1.10),
    ("BRL", "USD", 0.18),
    ("MXN", "USD", 0.05),
    ("GBP", "USD", 1.30),
    ("JPY", "USD", 0.0067),
    ("AUD", "USD", 0.65),
    ("CAD", "USD", 0.72),
]


def inline_rules(regimes: bool = True) -> Rules:
    markets = pd.DataFrame(MARKETS, columns=MARKET_COLS).set_index("market")
    reg = pd.DataFrame(REGIMES if regimes else [], columns=REGIME_COLS)
    fx = pd.DataFrame(FX, columns=["from_currency", "to_currency", "rate"])
    ccy = pd.DataFrame(
        {
            "currency": ["EUR", "USD", "AUD", "CAD", "BRL", "MXN", "GBP", "JPY", "CNY", "CHF"],
            "minor_unit": [2, 2, 2, 2, 2, 2, 2, 0, 2, 2],
        }
    )
    return Rules(date(2026, 9, 1), markets, reg, fx, ccy.set_index("currency"))


RULES = inline_rules()


def one(rules: Rules = RULES, **line: object) -> pd.Series:
    result = compute_lines(pd.DataFrame([line]), rules)
    assert result.outputs["error"].iloc[0] == "", result.outputs["error"].iloc[0]
    return result.outputs.iloc[0]


# --- the worked DE line, every output -----------------------------------------------------

DE_LINE = dict(
    sku="PB-10K",
    market="DE",
    unit_cost=50,
    cost_currency="CNY",
    fx_rate=0.125,
    freight_per_unit=1.0,
    insurance_per_unit=0.05,
    duty_rate=0.04,
    clearance_per_unit=0.20,
    price=29.99,
    referral_rate=0.15,
    referral_min=0.30,
    ad_rate=0.10,
    fx_loss_rate=0.01,
    last_mile_per_unit=3.50,
    storage_per_unit=0.30,
    return_rate=0.10,
    return_cost_per_unit=2.0,
    unsellable_rate=0.5,
    lost_rate=0.01,
    target_margin=0.20,
)


def test_worked_de_line_every_output() -> None:
    r = one(**DE_LINE)
    goods = 50 * 0.125  # 6.25 EUR
    cv = goods + 1.0 + 0.05  # CIF: 7.30
    duty = cv * 0.04  # 0.292
    vat = (cv + duty) * 0.19  # 1.44248, recoverable: not in landed cost
    landed = goods + 1.05 + duty + 0.20  # 7.792
    sales_tax = 29.99 * 0.19 / 1.19  # 4.788319...
    net = 29.99 - sales_tax
    referral = 29.99 * 0.15  # 4.4985 > 0.30 minimum
    returns = 0.10 * (2.0 + 0.5 * landed)  # 0.5896
    lost = 0.01 * (landed + 3.50)  # 0.11292
    total = landed + referral + 0.2999 + 2.999 + 3.80 + returns + lost  # 20.09192
    expected = {
        "currency": "EUR",
        "customs_value": 7.30,
        "duty": 0.292,
        "import_vat": vat,
        "landed_cost": 7.792,
        "sales_tax": sales_tax,
        "net_price": net,
        "referral_fee": referral,
        "payment_fee": 0.0,
        "fx_loss": 0.2999,
        "ad_cost": 2.999,
        "fulfilment_cost": 3.80,
        "returns_cost": 0.5896,
        "lost_cost": 0.11292,
        "total_cost": 20.09192,
        "contribution": net - total,
        "contribution_margin": (net - total) / net,
    }
    assert cv == pytest.approx(7.30) and duty == pytest.approx(0.292)
    assert landed == pytest.approx(7.792) and total == pytest.approx(20.09192)
    for key, value in expected.items():
        if isinstance(value, str):
            assert r[key] == value
        else:
            assert r[key] == pytest.approx(value, abs=1e-9), key


# --- one rule at a time -------------------------------------------------------------------


def test_customs_value_fob_excludes_transport_cif_includes_it() -> None:
    us = one(market="US", unit_cost=10, freight_per_unit=2, insurance_per_unit=0.1, price=30)
    de = one(market="DE", unit_cost=10, freight_per_unit=2, insurance_per_unit=0.1, price=30)
    assert us["customs_value"] == pytest.approx(10.0)
    assert de["customs_value"] == pytest.approx(12.1)
    # freight is a landed cost either way
    assert us["landed_cost"] == pytest.approx(12.1)


def test_extra_duty_stacks_beside_duty_and_may_exceed_100_percent() -> None:
    r = one(
        market="US",
        unit_cost=62,
        cost_currency="CNY",
        duty_rate=0.034,
        extra_duty_rate=1.25,
        price=60,
    )
    goods = 62 * 0.14  # 8.68 USD via the FX table
    assert r["customs_value"] == pytest.approx(goods)
    assert r["duty"] == pytest.approx(goods * 0.034)
    assert r["extra_duty"] == pytest.approx(goods * 1.25)
    assert r["landed_cost"] == pytest.approx(goods * 2.284)


@pytest.mark.parametrize(
    ("market", "expected_tax", "why"),
    [
        ("AU", (10 + 0.5 + 2 + 0.1) * 0.10, "VoTI: customs value + duty + transport"),
        ("CA", (10 + 0.5) * 0.05, "GST on value for duty + duty, no transport"),
        ("DE", (12.1 + 12.1 * 0.05) * 0.19, "CIF value (transport inside) + duty"),
    ],
)
def test_import_tax_base_per_market(market: str, expected_tax: float, why: str) -> None:
    r = one(
        market=market,
        unit_cost=10,
        freight_per_unit=2,
        insurance_per_unit=0.1,
        duty_rate=0.05,
        price=40,
    )
    assert r["import_vat"] == pytest.approx(expected_tax), why


def test_brazil_icms_grossed_up_and_not_recoverable() -> None:
    r = one(market="BR", unit_cost=100, freight_per_unit=10, duty_rate=0.20, price=300)
    cv, duty = 110.0, 22.0
    icms = (cv + duty) * 0.17 / (1 - 0.17)  # "por dentro": 27.0361...
    assert r["import_vat"] == pytest.approx(icms)
    assert icms == pytest.approx(27.036144578)
    assert r["landed_cost"] == pytest.approx(100 + 10 + duty + icms)
    assert r["sales_tax"] == 0.0  # cross-border BR: tax counted once, at import


def test_recoverable_import_tax_stays_out_of_landed_cost_unless_overridden() -> None:
    base = dict(market="DE", unit_cost=10, price=40)
    recoverable = one(**base)
    not_recoverable = one(**base, vat_recoverable="FALSE")
    assert recoverable["landed_cost"] == pytest.approx(10.0)
    assert not_recoverable["landed_cost"] == pytest.approx(10.0 + 1.9)


def test_tax_inside_inclusive_price_is_not_revenue() -> None:
    de = one(market="DE", unit_cost=10, price=119)
    us = one(market="US", unit_cost=10, price=119)
    assert de["sales_tax"] == pytest.approx(19.0) and de["net_price"] == pytest.approx(100.0)
    assert us["sales_tax"] == 0.0 and us["net_price"] == pytest.approx(119.0)


def test_line_rate_overrides_market_rate() -> None:
    r = one(market="DE", unit_cost=10, price=107, vat_rate="7%")
    assert r["sales_tax"] == pytest.approx(7.0)
    assert r["import_vat"] == pytest.approx(0.7)


def test_referral_fee_on_consumer_price_with_minimum() -> None:
    cheap = one(market="US", unit_cost=0.2, price=1.50, referral_rate=0.15, referral_min=0.30)
    dear = one(market="DE", unit_cost=5, price=29.99, referral_rate=0.15, referral_min=0.30)
    assert cheap["referral_fee"] == pytest.approx(0.30)  # 0.225 < minimum
    assert dear["referral_fee"] == pytest.approx(29.99 * 0.15)  # on the VAT-inclusive price


def test_payment_fx_ad_and_fulfilment() -> None:
    r = one(
        market="US",
        unit_cost=5,
        price=20,
        payment_rate=0.029,
        payment_fixed=0.30,
        fx_loss_rate=0.015,
        ad_rate=0.12,
        last_mile_per_unit=4.2,
        storage_per_unit=0.35,
    )
    assert r["payment_fee"] == pytest.approx(20 * 0.029 + 0.30)
    assert r["fx_loss"] == pytest.approx(0.30)
    assert r["ad_cost"] == pytest.approx(2.40)
    assert r["fulfilment_cost"] == pytest.approx(4.55)


def test_fx_rate_on_line_wins_and_cross_rates_through_usd() -> None:
    own = one(market="DE", unit_cost=100, cost_currency="CNY", fx_rate=0.13, price=40)
    crossed = one(market="DE", unit_cost=100, cost_currency="CNY", price=40)
    assert own["customs_value"] == pytest.approx(13.0)
    assert crossed["customs_value"] == pytest.approx(100 * 0.14 / 1.10)  # CNY->USD->EUR


# --- low-value regimes (inline) ----------------------------------------------------------


def test_eu_flat_duty_per_parcel_is_shared_by_value_and_vat_collected_at_sale() -> None:
    r = one(market="DE", unit_cost=7.30, duty_rate=0.04, consignment_value=20, price=20)
    assert r["duty"] == pytest.approx(3.0 * 7.30 / 20)  # the unit's share of EUR 3
    assert r["import_vat"] == 0.0  # IOSS: VAT charged on the sale instead
    above = one(market="DE", unit_cost=7.30, duty_rate=0.04, consignment_value=200, price=20)
    assert above["duty"] == pytest.approx(7.30 * 0.04)
    assert above["import_vat"] == pytest.approx((7.30 + 0.292) * 0.19)


def test_gb_low_value_exempt_both() -> None:
    r = one(market="GB", unit_cost=10, duty_rate=0.12, consignment_value=135, price=30)
    assert r["duty"] == 0.0 and r["import_vat"] == 0.0
    over = one(market="GB", unit_cost=10, duty_rate=0.12, consignment_value=135.01, price=30)
    assert over["duty"] == pytest.approx(1.2)


def test_brazil_remessa_conforme_tiers_converted_from_usd() -> None:
    small = one(market="BR", unit_cost=30, duty_rate=0.5, consignment_value=49.9, price=99)
    assert small["duty"] == pytest.approx(0.20 * 30)  # 49.9 BRL = 8.98 USD <= 50
    big = one(market="BR", unit_cost=300, consignment_value=500, price=900)
    usd20_in_brl = 20 / 0.18
    assert big["duty"] == pytest.approx(0.60 * 300 - usd20_in_brl * 300 / 500)
    # ICMS still applies, grossed up, on value + that duty
    assert big["import_vat"] == pytest.approx((300 + big["duty"]) * 0.17 / 0.83)


def test_mexico_combined_rate_replaces_duty_and_tax() -> None:
    r = one(market="MX", unit_cost=100, duty_rate=0.15, consignment_value=300, price=400)
    assert r["duty"] == pytest.approx(33.5)
    assert r["import_vat"] == 0.0


def test_regime_needs_fx_to_compare_threshold() -> None:
    rules = inline_rules()
    rules = Rules(rules.on, rules.markets, rules.regimes, rules.fx.iloc[0:1], rules.currencies)
    res = compute_lines(
        pd.DataFrame([dict(market="BR", unit_cost=30, consignment_value=49.9, price=99)]), rules
    )
    assert res.errors["column"].tolist() == ["consignment_value"]
    assert "BRL->USD" in res.errors["en"].iloc[0]
    assert "低货值" in res.errors["zh"].iloc[0]


# --- dated rules from the shipped data -----------------------------------------------------


@pytest.mark.parametrize(
    ("day", "duty"),
    [(date(2025, 8, 28), 0.0), (date(2025, 8, 29), 100 * 0.05)],
)
def test_us_de_minimis_suspended_from_2025_08_29(day: date, duty: float) -> None:
    rules = load_rules(day)
    r = one(
        rules,
        market="US",
        origin="VN",
        unit_cost=100,
        duty_rate=0.05,
        consignment_value=100,
        price=300,
    )
    assert r["duty"] == pytest.approx(duty)


@pytest.mark.parametrize(
    ("day", "duty"),
    [(date(2025, 5, 1), 0.0), (date(2025, 5, 2), 100 * 0.05), (date(2025, 6, 1), 100 * 0.05)],
)
def test_us_de_minimis_lost_for_chinese_goods_on_2025_05_02(day: date, duty: float) -> None:
    """EO 14256 of 2025-04-02 s.2: products of the PRC lost de minimis at 12:01 a.m. EDT
    2025-05-02, before every other origin (2025-08-29). A US$100 courier parcel of CN goods
    on 2025-06-01 pays duty; the same parcel of VN goods is still exempt."""
    rules = load_rules(day)
    line = dict(market="US", unit_cost=100, duty_rate=0.05, extra_duty_rate=0, price=300)
    cn = one(rules, **line, origin="CN", units_per_parcel=1)
    assert cn["duty"] == pytest.approx(duty)
    vn = one(rules, **line, origin="VN", units_per_parcel=1)
    assert vn["duty"] == 0.0


@pytest.mark.parametrize(
    ("day", "duty"),
    [(date(2026, 6, 30), 0.0), (date(2026, 7, 1), 3.0 * 40 / 100)],
)
def test_eu_three_euro_duty_from_2026_07_01(day: date, duty: float) -> None:
    rules = load_rules(day)
    r = one(rules, market="FR", unit_cost=40, duty_rate=0.04, consignment_value=100, price=90)
    assert r["duty"] == pytest.approx(duty)
    assert r["import_vat"] == 0.0  # IOSS


@pytest.mark.parametrize(("day", "rate"), [(date(2025, 6, 30), 0.22), (date(2025, 7, 1), 0.24)])
def test_estonia_vat_change_is_dated(day: date, rate: float) -> None:
    r = one(load_rules(day), market="EE", unit_cost=100, price=200)
    assert r["import_vat"] == pytest.approx(100 * rate)


# --- prices --------------------------------------------------------------------------------


def test_breakeven_and_target_prices_feed_back_exactly() -> None:
    r = one(**DE_LINE)
    at_breakeven = one(**{**DE_LINE, "price": r["breakeven_price"]})
    at_target = one(**{**DE_LINE, "price": r["price_for_target_margin"]})
    assert at_breakeven["contribution"] == pytest.approx(0.0, abs=1e-9)
    assert at_target["contribution_margin"] == pytest.approx(0.20, abs=1e-12)


def test_price_in_the_referral_minimum_branch() -> None:
    line = dict(
        market="US",
        unit_cost=0.5,
        price=2.0,
        referral_rate=0.15,
        referral_min=0.30,
        target_margin=0.10,
    )
    r = one(**line)
    # minimum binds: P = (C + min) / ((1 - m) k - pct) = (0.5 + 0.3) / 0.9
    assert r["price_for_target_margin"] == pytest.approx(0.8 / 0.9)
    assert 0.15 * r["price_for_target_margin"] < 0.30
    back = one(**{**line, "price": r["price_for_target_margin"]})
    assert back["contribution_margin"] == pytest.approx(0.10)


def test_no_price_reaches_margin_when_percentage_fees_eat_the_price() -> None:
    lines = pd.DataFrame(
        [
            dict(
                market="US",
                unit_cost=5,
                price=20,
                referral_rate=0.5,
                ad_rate=0.3,
                target_margin=0.3,
            )
        ]
    )
    res = compute_lines(lines, RULES)
    out = res.outputs.iloc[0]
    assert np.isnan(out["price_for_target_margin"])
    assert res.errors["column"].tolist() == ["target_margin"]
    assert "no price reaches" in res.errors["en"].iloc[0]
    assert "no price reaches" in out["error"]
    # the line's costs and its margin at today's price still stand
    assert out["landed_cost"] == pytest.approx(5.0)
    assert out["contribution"] == pytest.approx(20 - 5 - 10 - 6)


def test_blank_target_margin_gives_no_target_price_and_no_error() -> None:
    r = one(market="US", unit_cost=5, price=20)
    assert np.isnan(r["price_for_target_margin"])
    assert r["breakeven_price"] == pytest.approx(5.0)


# --- validation: bad rows reported, good rows still compute --------------------------------


def test_bad_rows_get_bilingual_errors_naming_row_and_column() -> None:
    lines = pd.DataFrame(
        [
            dict(sku="ok", market="US", unit_cost=5, price=20),
            dict(sku="bad market", market="XX", unit_cost=5, price=20),
            dict(sku="negative", market="US", unit_cost=-1, price=20),
            dict(sku="rate", market="US", unit_cost=5, price=20, referral_rate=15),
            dict(sku="text", market="US", unit_cost="abc", price=20),
            dict(sku="fx", market="US", unit_cost=5, cost_currency="CHF", price=20),
            dict(sku="no price", market="US", unit_cost=5),
            dict(sku="big duty ok", market="US", unit_cost=5, price=20, duty_rate=2.5),
        ]
    )
    res = compute_lines(lines, RULES)
    got = res.errors[["row", "column"]].to_records(index=False).tolist()
    assert got == [
        (1, "market"),
        (2, "unit_cost"),
        (3, "referral_rate"),
        (4, "unit_cost"),
        (5, "fx_rate"),
        (6, "price"),
    ]
    en = dict(zip(res.errors["row"], res.errors["en"], strict=False))
    zh = dict(zip(res.errors["row"], res.errors["zh"], strict=False))
    assert en[1] == "unknown market: 'XX'" and zh[1] == "未知的市场: 'XX'"
    assert "0.15 or 15%" in en[3]
    assert en[4] == "Unit cost is not a number: 'abc'" and zh[4] == "单位采购成本不是数字: 'abc'"
    assert "FX rate missing for CHF->USD" in en[5] and "汇率缺少 CHF→USD" in zh[5]
    assert en[6] == "Price is required"
    values = res.outputs
    assert values.loc[[0, 7], "error"].tolist() == ["", ""]
    assert values.loc[7, "duty"] == pytest.approx(12.5)
    assert values.loc[1:6, "landed_cost"].isna().all()
    assert values.loc[1, "error"].startswith(
        "市场：未知的市场"
    )  # the header, not the key (issue 11)


def test_index_is_kept_and_missing_optional_columns_are_blank() -> None:
    lines = pd.DataFrame([dict(market="US", unit_cost=5, price=20)], index=[41])
    res = compute_lines(lines, RULES)
    assert res.outputs.index.tolist() == [41]
    assert res.outputs.loc[41, "landed_cost"] == 5.0


def test_text_cells_as_a_sheet_gives_them() -> None:
    lines = pd.DataFrame(
        [
            dict(
                market=" de ",
                unit_cost="1,000.00",
                price="1190",
                duty_rate="4%",
                vat_recoverable="否",
            )
        ]
    )
    r = compute_lines(lines, RULES).outputs.iloc[0]
    assert r["customs_value"] == pytest.approx(1000.0)
    assert r["duty"] == pytest.approx(40.0)
    assert r["landed_cost"] == pytest.approx(1000 + 40 + 1040 * 0.19)


# --- invariants ----------------------------------------------------------------------------

# Numbers as a cell can hold them: Excel flushes subnormal doubles (below 2.2e-308) to zero.
rates = st.floats(0, 0.3, allow_subnormal=False)
money = st.floats(0, 50, allow_subnormal=False)


@st.composite
def lines_strategy(draw: st.DrawFn) -> dict[str, object]:
    return dict(
        market=draw(st.sampled_from([m[0] for m in MARKETS])),
        unit_cost=draw(st.floats(0.01, 500)),
        cost_currency="CNY",
        freight_per_unit=draw(money),
        insurance_per_unit=draw(st.floats(0, 2)),
        duty_rate=draw(st.floats(0, 2)),
        extra_duty_rate=draw(st.floats(0, 1)),
        clearance_per_unit=draw(money),
        last_mile_per_unit=draw(money),
        storage_per_unit=draw(money),
        price=draw(st.floats(1, 5000)),
        referral_rate=draw(rates),
        referral_min=draw(st.floats(0, 2)),
        payment_rate=draw(st.floats(0, 0.05)),
        payment_fixed=draw(st.floats(0, 1)),
        fx_loss_rate=draw(st.floats(0, 0.03)),
        return_rate=draw(rates),
        return_cost_per_unit=draw(money),
        unsellable_rate=draw(st.floats(0, 1)),
        lost_rate=draw(st.floats(0, 0.05)),
        ad_rate=draw(rates),
        target_margin=draw(st.floats(-0.5, 0.3)),
        consignment_value=draw(st.one_of(st.none(), st.floats(1, 5000))),
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(lines_strategy(), min_size=1, max_size=8))
def test_invariants(lines: list[dict[str, object]]) -> None:
    frame = pd.DataFrame(lines)
    res = compute_lines(frame, RULES)
    # the only message valid lines can get: fees too high for the target margin
    assert (res.errors["column"] == "target_margin").all(), res.errors
    v = res.outputs
    assert v["price_for_target_margin"].iloc[res.errors["row"].to_numpy()].isna().all()
    goods = (
        frame["unit_cost"]
        * 0.14
        * v["currency"].map(
            {
                "USD": 1.0,
                "EUR": 1 / 1.10,
                "BRL": 1 / 0.18,
                "MXN": 1 / 0.05,
                "GBP": 1 / 1.30,
                "JPY": 1 / 0.0067,
                "AUD": 1 / 0.65,
                "CAD": 1 / 0.72,
            }
        )
    )
    known = goods.notna()
    assert known.all()
    # landed cost >= product cost; every cost non-negative
    assert (v.loc[known, "landed_cost"] >= goods[known] - 1e-9).all()
    for col in ("duty", "import_vat", "referral_fee", "returns_cost", "lost_cost"):
        assert (v[col].dropna() >= 0).all(), col
    # the waterfall adds up
    parts = [
        "landed_cost",
        "referral_fee",
        "payment_fee",
        "fx_loss",
        "ad_cost",
        "fulfilment_cost",
        "returns_cost",
        "lost_cost",
    ]
    assert np.allclose(v[parts].sum(axis=1), v["total_cost"])
    assert np.allclose(v["net_price"] - v["total_cost"], v["contribution"])
    # prices fed back hit their margins
    for col, margin in (("breakeven_price", 0.0), ("price_for_target_margin", None)):
        target = frame["target_margin"] if margin is None else pd.Series(0.0, index=frame.index)
        ok = v[col].notna()
        if ok.any():
            back = compute_lines(frame[ok].assign(price=v.loc[ok, col]), RULES).outputs
            assert np.allclose(back["contribution_margin"], target[ok], atol=1e-7)


def test_table_equals_rows_computed_one_by_one() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        dict(
            market=rng.choice(["DE", "US", "BR", "MX", "GB", "AU"], 40),
            unit_cost=rng.uniform(1, 100, 40),
            cost_currency="CNY",
            freight_per_unit=rng.uniform(0, 5, 40),
            duty_rate=rng.uniform(0, 0.3, 40),
            consignment_value=np.where(rng.random(40) < 0.5, rng.uniform(5, 400, 40), np.nan),
            price=rng.uniform(20, 200, 40),
            referral_rate=0.15,
            referral_min=0.3,
            target_margin=0.2,
        )
    )
    table = compute_lines(frame, RULES).outputs
    rows = pd.concat([compute_lines(frame.iloc[[i]], RULES).outputs for i in range(len(frame))])
    pd.testing.assert_frame_equal(table, rows)


def test_solve_price_is_vectorised_over_regimes() -> None:
    p = solve_price(
        np.array([10.0, 0.5]),
        np.array([1.0, 1.0]),
        np.array([0.0, 0.0]),
        np.array([0.15, 0.15]),
        np.array([0.30, 0.30]),
        0.0,
    )
    assert p[0] == pytest.approx(10 / 0.85) and p[1] == pytest.approx(0.8)
