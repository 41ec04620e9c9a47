"""Customs as it applies to a line: tariff look-up by HS code, market and origin; parcels and
entries; origin-aware low-value regimes; per-entry fees; legal rounding; validation of the new
columns. Figures are worked by hand from the shipped rules of the date (or inline rules);
published worked examples are in test_worked_examples.py.
"""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost import customs
from xlplan.landed_cost.action import compute_lines
from xlplan.landed_cost.tables import LANDED_COST
from xlplan.reference import Rules, load_rules


def rules_on(day: date, **tables: pd.DataFrame) -> Rules:
    return load_rules(day, **tables)


def compute(rules: Rules, *lines: dict[str, object]) -> pd.DataFrame:
    result = compute_lines(pd.DataFrame(list(lines)), rules)
    return result.outputs


def one(rules: Rules, **line: object) -> pd.Series:
    out = compute(rules, line)
    assert out["error"].iloc[0] == "", out["error"].iloc[0]
    return out.iloc[0]


# --- tariff -------------------------------------------------------------------------------

ON_2026_03 = date(2026, 3, 1)


def test_tariff_gives_base_and_stacked_extra_duties_by_origin() -> None:
    rules = rules_on(ON_2026_03)
    # US power bank 8507.60: MFN 3.4%; CN origin: s.301 25% (from 2026-01-01) + s.122 10%.
    cn = one(rules, market="US", hs_code="8507.60.0020", unit_cost=20, price=60)
    assert cn["duty"] == pytest.approx(20 * 0.034)
    assert cn["extra_duty"] == pytest.approx(20 * (0.25 + 0.10))
    # VN origin: MFN and the all-origin s.122 surcharge only.
    vn = one(rules, market="US", hs_code="85076000", origin="VN", unit_cost=20, price=60)
    assert vn["duty"] == pytest.approx(20 * 0.034)
    assert vn["extra_duty"] == pytest.approx(20 * 0.10)


def test_rules_tables_are_not_kept_alive_by_what_was_derived_from_them() -> None:
    # The tariff index and the rounding rows are made once per table and dropped with it: a
    # workbook whose settings change many times must not keep every old rules table in memory.
    rules = rules_on(ON_2026_03)
    rules = replace(rules, tariff=rules.tariff.copy(), rounding=rules.rounding.copy())
    one(rules, market="US", hs_code="8507.60.0020", unit_cost=20, price=60)
    one(rules, market="DE", hs_code="8507.60", unit_cost=20, price=60)
    tables = [weakref.ref(rules.tariff), weakref.ref(rules.rounding)]
    del rules
    gc.collect()
    assert [t() for t in tables] == [None, None]


def test_longest_prefix_wins_and_line_rate_overrides() -> None:
    rules = rules_on(ON_2026_03)
    silk = one(rules, market="US", hs_code="62061000", origin="VN", unit_cost=100, price=300)
    assert silk["duty"] == pytest.approx(6.9)  # 62061000 row, not a chapter row
    own = one(
        rules, market="US", hs_code="62061000", origin="VN", duty_rate=0.5, unit_cost=100, price=300
    )
    assert own["duty"] == pytest.approx(50.0)


def test_eu_rows_apply_to_member_states_and_the_uk_extract_to_gb() -> None:
    rules = rules_on(ON_2026_03)
    fr = one(rules, market="FR", hs_code="85076000", unit_cost=100, price=300)
    assert fr["duty"] == pytest.approx(2.7)
    gb = one(rules, market="GB", hs_code="8507600020", unit_cost=100, price=300)
    assert gb["duty"] == pytest.approx(2.0)  # no such 10-digit line: UKGT 85076000 2.0%
    aircraft = one(rules, market="GB", hs_code="8507600010", unit_cost=100, price=300)
    assert aircraft["duty"] == 0.0  # the 10-digit line for civil aircraft


def test_preferential_rate_for_the_origin() -> None:
    rules = rules_on(ON_2026_03)
    cn = one(rules, market="AU", hs_code="61091000", unit_cost=100, price=300)
    assert cn["duty"] == 0.0  # ChAFTA
    us = one(rules, market="AU", hs_code="61091000", origin="US", unit_cost=100, price=300)
    assert us["duty"] == pytest.approx(5.0)
    ca_cusma = one(rules, market="CA", hs_code="61091000", origin="US", unit_cost=100, price=300)
    ca_mfn = one(rules, market="CA", hs_code="61091000", origin="CN", unit_cost=100, price=300)
    assert ca_cusma["duty"] == 0.0 and ca_mfn["duty"] == pytest.approx(18.0)


def test_canada_surtax_on_us_goods_is_dated() -> None:
    line = dict(market="CA", hs_code="61091000", origin="US", unit_cost=100, price=300)
    during = one(rules_on(date(2025, 6, 1)), **line)
    after = one(rules_on(date(2025, 9, 1)), **line)
    assert during["extra_duty"] == pytest.approx(25.0) and after["extra_duty"] == 0.0


@pytest.mark.parametrize(
    ("day", "extra"),
    [
        (date(2025, 3, 1), 0.25 + 0.10),  # s.301 + IEEPA fentanyl 10%
        (date(2025, 4, 20), 0.25 + 0.20 + 1.25),  # + reciprocal 125%
        (date(2025, 6, 1), 0.25 + 0.20 + 0.10),
        (date(2025, 12, 1), 0.25 + 0.10 + 0.10),
        (date(2026, 3, 1), 0.25 + 0.10),  # IEEPA ended; s.122 10%
    ],
)
def test_us_surcharges_on_chinese_chargers_follow_their_dates(day: date, extra: float) -> None:
    r = one(rules_on(day), market="US", hs_code="85044095", unit_cost=10, price=40)
    assert r["duty"] == 0.0
    assert r["extra_duty"] == pytest.approx(10 * extra)


def test_workbook_tariff_row_joins_and_wins_at_equal_length() -> None:
    own = pd.DataFrame(
        [
            {"hs_prefix": "850760", "market": "US", "duty_rate": 0.05},
            {"hs_prefix": "", "market": "US", "origin": "CN", "extra_duty_rate": 0.15,
             "measure": "us_s122"},
        ]
    )  # fmt: skip
    rules = rules_on(ON_2026_03, tariff=own)
    r = one(rules, market="US", hs_code="85076000", unit_cost=100, price=300)
    assert r["duty"] == pytest.approx(3.4)  # the shipped 8-digit row is longer than 850760
    r = one(rules, market="US", hs_code="850760", unit_cost=100, price=300)
    assert r["duty"] == pytest.approx(5.0)
    assert r["extra_duty"] == pytest.approx(15.0)  # s.122 for CN replaced; no s.301 at 6 digits


def test_specific_duty_of_the_uk_extract_is_reported() -> None:
    rules = rules_on(ON_2026_03)
    lines = pd.DataFrame(
        [
            dict(market="GB", hs_code="01022910", unit_cost=10, price=30),
            dict(market="GB", hs_code="01022910", unit_cost=10, price=30, duty_rate=0.1),
        ]
    )
    res = compute_lines(lines, rules)
    assert res.errors["column"].tolist() == ["hs_code"]
    assert "specific or compound" in res.errors["en"].iloc[0]
    assert "10.00% + 77.00 GBP/100kg" in res.errors["en"].iloc[0]
    assert res.outputs.loc[1, "duty"] == pytest.approx(1.0)


# --- parcels: the EU EUR 3 per subheading, the EUR 150 test per parcel ---------------------

EU_3 = date(2026, 7, 1)


def test_eur_3_per_subheading_per_parcel_shared_by_value() -> None:
    rules = rules_on(EU_3)
    out = compute(
        rules,
        dict(sku="silk", market="DE", parcel="P1", hs_code="62061000", unit_cost=40, price=99),
        dict(sku="wool", market="DE", parcel="P1", hs_code="62062000", units_per_parcel=2,
             unit_cost=30, price=79),
    )  # fmt: skip
    assert out["duty"].tolist() == pytest.approx([6 * 40 / 100, 6 * 30 / 100])
    duty = out["duty"].to_numpy(dtype=float)
    assert duty[0] + 2 * duty[1] == pytest.approx(6.0)
    assert (out["import_vat"] == 0).all()  # IOSS: VAT at the sale


def test_same_subheading_twice_counts_once_and_a_line_without_code_counts_alone() -> None:
    rules = rules_on(EU_3)
    out = compute(
        rules,
        dict(market="FR", parcel="A", hs_code="9608100000", unit_cost=2, price=9),
        dict(market="FR", parcel="A", hs_code="96081000", units_per_parcel=3, unit_cost=2,
             price=9),
        dict(market="FR", parcel="A", unit_cost=10, price=25),
    )  # fmt: skip
    duty = out["duty"].to_numpy(dtype=float)
    total = duty[0] + 3 * duty[1] + duty[2]
    assert total == pytest.approx(6.0)  # four identical pens + a book: EUR 6 (DHL)


def test_eur_150_test_is_on_the_whole_parcel() -> None:
    rules = rules_on(EU_3)
    lines = [
        dict(market="DE", parcel="P2", hs_code="62061000", unit_cost=40, price=99),
        dict(market="DE", parcel="P2", hs_code="62062000", units_per_parcel=4, unit_cost=30,
             price=79),
    ]  # fmt: skip
    out = compute(rules, *lines)  # 40 + 120 = EUR 160 > 150: normal duty (12%), VAT at import
    assert out["duty"].tolist() == pytest.approx([4.8, 3.6])
    assert out["import_vat"].tolist() == pytest.approx([(40 + 4.8) * 0.19, (30 + 3.6) * 0.19])


def test_parcel_with_mixed_markets_is_an_error_on_each_of_its_lines() -> None:
    res = compute_lines(
        pd.DataFrame(
            [
                dict(market="DE", parcel="X", unit_cost=10, price=30),
                dict(market="FR", parcel="X", unit_cost=10, price=30),
                dict(market="FR", parcel="Y", unit_cost=10, price=30),
            ]
        ),
        rules_on(EU_3),
    )
    got = res.errors[["row", "column"]].to_numpy().tolist()
    assert got == [[0, "parcel"], [1, "parcel"]]
    assert "DE, FR" in res.errors["en"].iloc[0] and "只能进入一个市场" in res.errors["zh"].iloc[0]
    assert res.outputs["landed_cost"].isna().tolist() == [True, True, False]


def test_a_bad_line_blocks_its_parcel() -> None:
    res = compute_lines(
        pd.DataFrame(
            [
                dict(market="DE", parcel="X", unit_cost="abc", price=30),
                dict(market="DE", parcel="X", unit_cost=10, price=30),
            ]
        ),
        rules_on(EU_3),
    )
    assert res.errors[["row", "column"]].to_numpy().tolist() == [[0, "unit_cost"], [1, "parcel"]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["P1", "P2", "P3"]),
            st.sampled_from(["62061000", "62062000", "61091000", "85076000", ""]),
            st.integers(1, 4),
            st.floats(0.5, 30),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_parcel_allocations_sum_to_the_parcel_charge(
    items: list[tuple[str, str, int, float]],
) -> None:
    """Per parcel of EUR 150 or less, units x the lines' share of the flat duty add up to
    EUR 3 x its subheadings."""
    lines = [
        dict(market="DE", parcel=p, hs_code=h, units_per_parcel=u, unit_cost=v, price=99)
        for p, h, u, v in items
    ]
    out = compute(rules_on(EU_3), *lines)
    frame = pd.DataFrame(lines).assign(duty=out["duty"].to_numpy())
    frame["sub"] = [h[:6] if h else f"#{i}" for i, h in enumerate(frame["hs_code"])]
    for _, parcel in frame.groupby("parcel"):
        if (parcel["units_per_parcel"] * parcel["unit_cost"]).sum() > 150:
            continue
        charged = (parcel["units_per_parcel"] * parcel["duty"]).sum()
        assert charged == pytest.approx(3.0 * parcel["sub"].nunique())


def test_lone_line_with_units_per_parcel_is_a_single_sku_parcel() -> None:
    rules = rules_on(EU_3)
    r = one(rules, market="DE", hs_code="85076000", units_per_parcel=5, unit_cost=20, price=40)
    assert r["duty"] == pytest.approx(3.0 / 5)  # one subheading, EUR 100 parcel
    bulk = one(rules, market="DE", hs_code="85076000", unit_cost=20, price=40)
    assert bulk["duty"] == pytest.approx(20 * 0.027)  # no parcel: normal duty


# --- origin-aware low-value regimes --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rate"),
    [(date(2025, 6, 1), 0.54), (date(2025, 10, 1), 0.30), (date(2026, 3, 1), 0.10)],
)
def test_us_postal_duty_on_chinese_goods_replaces_every_other_duty(day: date, rate: float) -> None:
    """EO 14256 / 14298 / 14324 and the EO of 2026-02-20: a US$40 postal item from CN pays the
    postal rate in lieu of all other duties."""
    r = one(
        rules_on(day),
        market="US",
        hs_code="85044095",
        transport_mode="postal",
        units_per_parcel=1,
        unit_cost=40,
        price=99,
    )
    assert r["duty"] == pytest.approx(40 * rate) and r["extra_duty"] == 0.0
    assert r["entry_fees"] == 0.0


@pytest.mark.parametrize(
    ("ship_from", "value", "duty", "tax"),
    [
        ("US", 40.0, 0.0, 0.0),
        ("US", 100.0, 0.0, 5.0),
        ("US", 150.01, 27.00, 8.85),  # 27.0018 and (150.01 + 27.00) x 5% = 8.8505, to the cent
        ("CN", 25.0, 4.50, 1.48),  # (25 + 4.50) x 5% = 1.475, half-up to the cent
    ],
)
def test_canada_cusma_courier_tiers_depend_on_where_goods_ship_from(
    ship_from: str, value: float, duty: float, tax: float
) -> None:
    """CBSA 'CUSMA: low-value shipment thresholds': courier from the US/MX, tax- and duty-free
    to C$40, duty-free to C$150; goods from CN only get the C$20 relief."""
    r = one(
        rules_on(ON_2026_03),
        market="CA",
        origin="CN",
        ship_from=ship_from,
        hs_code="61091000",
        units_per_parcel=1,
        unit_cost=value,
        price=300,
    )
    assert r["duty"] == pytest.approx(duty)
    assert r["import_vat"] == pytest.approx(tax)


def test_mexico_courier_rate_by_origin() -> None:
    rules = rules_on(ON_2026_03)
    line = dict(market="MX", units_per_parcel=1, unit_cost=1000, price=3000, fx_rate=1.0)
    fx = pd.DataFrame([("MXN", "USD", 0.05)], columns=["from_currency", "to_currency", "rate"])
    rules = Rules(
        rules.on, rules.markets, rules.regimes, fx, rules.currencies, rules.tariff,
        rules.entry_fees, rules.rounding,
    )  # fmt: skip
    cn = one(rules, **line)  # US$50 parcel from CN: 33.5% global rate, no separate IVA
    assert cn["duty"] == pytest.approx(335.0) and cn["import_vat"] == 0.0
    us = one(rules, **line, origin="US")  # T-MEC goods up to US$50: exempt
    assert us["duty"] == 0.0 and us["import_vat"] == 0.0
    us_more = one(rules, **{**line, "unit_cost": 2000}, origin="US")  # US$100: 17%
    assert us_more["duty"] == pytest.approx(340.0)


# --- entries and their fees ----------------------------------------------------------------

FY2026 = date(2025, 10, 1)


@pytest.mark.parametrize(
    ("value", "mode", "fees"),
    [
        (5_000.0, "air", 33.58),  # MPF minimum
        (100_000.0, "air", 346.40),
        (200_000.0, "air", 651.50),  # MPF maximum
        (100_000.0, "ocean", 346.40 + 125.00 + 40.0),  # + HMF 0.125% + ISF (typical)
        (2_000.0, "courier", 2.69),  # informal entry
    ],
)
def test_us_entry_fees_fy2026(value: float, mode: str, fees: float) -> None:
    """CBP Dec. 25-10 (90 FR 34665): MPF 0.3464%, min 33.58, max 651.50 from 2025-10-01;
    informal 2.69; HMF 0.125% on ocean cargo (19 CFR 24.24). Brokerage set to 0."""
    r = one(
        rules_on(FY2026),
        market="US",
        origin="VN",
        units_per_entry=1,
        transport_mode=mode,
        brokerage_per_entry=0,
        unit_cost=value,
        duty_rate=0,
        price=value * 2,
    )
    assert r["entry_fees"] == pytest.approx(fees)


def test_mpf_of_the_year_before() -> None:
    r = one(
        rules_on(date(2025, 9, 30)),
        market="US",
        units_per_entry=1,
        brokerage_per_entry=0,
        unit_cost=5_000,
        duty_rate=0,
        extra_duty_rate=0,
        price=9_000,
    )
    assert r["entry_fees"] == pytest.approx(32.71)


def test_entry_fees_shared_per_unit_by_value_and_shipped_brokerage() -> None:
    rules = rules_on(FY2026)
    out = compute(
        rules,
        dict(market="US", shipment="S1", units_per_entry=1000, unit_cost=60, price=99,
             origin="VN", duty_rate=0),
        dict(market="US", shipment="S1", units_per_entry=500, unit_cost=80, price=99,
             origin="VN", duty_rate=0),
    )  # fmt: skip
    entry_value = 1000 * 60 + 500 * 80  # 100,000
    total = 346.40 + 125.0  # MPF + typical brokerage (air)
    fees = out["entry_fees"].to_numpy(dtype=float)
    assert 1000 * fees[0] + 500 * fees[1] == pytest.approx(total)
    assert fees[0] == pytest.approx(total * 60 / entry_value)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["S1", "S2"]),
            st.integers(1, 2000),
            st.floats(0.5, 200),
            st.sampled_from(["air", "ocean"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_entry_fee_allocations_sum_to_the_entry_fee(
    items: list[tuple[str, int, float, str]],
) -> None:
    lines = [
        dict(market="US", shipment=s, units_per_entry=u, unit_cost=v, transport_mode=m,
             brokerage_per_entry=0, origin="VN", duty_rate=0, price=999)
        for s, u, v, m in items
    ]  # fmt: skip
    out = compute(rules_on(FY2026), *lines)
    frame = pd.DataFrame(lines).assign(fees=out["entry_fees"].to_numpy())
    for _, entry in frame.groupby("shipment"):
        value = (entry["units_per_entry"] * entry["unit_cost"]).sum()
        line_modes = entry["transport_mode"].to_numpy()
        if value > 2500:
            mpf = min(max(0.003464 * value, 33.58), 651.50)
        else:
            mpf = 2.69
        ocean = line_modes == "ocean"
        # Each line is charged the fees of its own mode, shared by its value.
        expected = (
            (entry["units_per_entry"] * entry["unit_cost"]).to_numpy()
            / value
            * (mpf + np.where(ocean, 0.00125 * value + (40.0 if value > 0 else 0.0), 0.0))
        )
        charged = (entry["units_per_entry"] * entry["fees"]).to_numpy()
        assert charged == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_de_minimis_release_has_no_entry_fee() -> None:
    r = one(
        rules_on(date(2025, 3, 1)),
        market="US",
        origin="VN",
        units_per_parcel=1,
        unit_cost=100,
        duty_rate=0.05,
        price=300,
    )
    assert r["duty"] == 0.0 and r["entry_fees"] == 0.0


# --- rounding --------------------------------------------------------------------------------


def test_rounding_applies_to_the_declared_amount_not_to_a_bulk_average() -> None:
    rules = rules_on(ON_2026_03)
    bulk = one(rules, market="GB", unit_cost=80, freight_per_unit=35, duty_rate=0.035, price=300)
    assert bulk["duty"] == pytest.approx(4.025)  # average over an unknown declaration
    item = one(
        rules,
        market="GB",
        unit_cost=80,
        freight_per_unit=35,
        duty_rate=0.035,
        units_per_entry=1,
        price=300,
    )
    assert item["duty"] == pytest.approx(4.02)
    hundred = one(
        rules,
        market="GB",
        unit_cost=80,
        freight_per_unit=35,
        duty_rate=0.035,
        units_per_entry=100,
        price=300,
    )
    assert hundred["duty"] == pytest.approx(4.025)  # 402.50 declared: no fraction of a penny


def test_us_duty_base_in_whole_dollars() -> None:
    """19 CFR 159.3(a): $0.50 or more counts as a dollar."""
    r = one(
        rules_on(ON_2026_03),
        market="US",
        origin="VN",
        units_per_entry=1,
        brokerage_per_entry=0,
        unit_cost=100.5,
        duty_rate=0.1,
        extra_duty_rate=0,
        price=300,
    )
    assert r["duty_base"] == 101.0 and r["duty"] == pytest.approx(10.1)


@pytest.mark.parametrize(
    ("method", "values", "expected"),
    [
        ("truncate", [4.025, 4.0299999999999], [4.02, 4.03]),
        ("half_up", [4.025, 4.0149], [4.03, 4.01]),
        ("half_even", [4.025, 4.035], [4.02, 4.04]),
        ("not_collected_below", [0.99, 1.0], [0.0, 1.0]),
    ],
)
def test_round_step_methods(method: str, values: list[float], expected: list[float]) -> None:
    inc = 1.0 if method == "not_collected_below" else 0.01
    codes = np.full(2, list(customs.Rounding).index(customs.Rounding(method)))
    out = customs.round_step(np.array(values), np.ones(2), np.full(2, inc), codes)
    assert out.tolist() == pytest.approx(expected)


def test_workbook_rounding_rule_replaces_or_adds() -> None:
    own = pd.DataFrame(
        [{"market": "DE", "step": "import_vat", "method": "not_collected_below", "increment": 1,
          "currency": "EUR"}]
    )  # fmt: skip
    rules = rules_on(ON_2026_03, rounding=own)
    r = one(rules, market="DE", unit_cost=4, units_per_entry=1, duty_rate=0, price=10)
    assert r["import_vat"] == 0.0  # 0.76 < EUR 1
    r = one(rules, market="DE", unit_cost=4, duty_rate=0, price=10)
    assert r["import_vat"] == pytest.approx(0.76)  # bulk: no rounding


# --- validation of the new columns -------------------------------------------------------------


def test_new_columns_are_validated() -> None:
    res = compute_lines(
        pd.DataFrame(
            [
                dict(market="US", hs_code="85ab", unit_cost=5, price=20),
                dict(market="US", origin="XX", unit_cost=5, price=20),
                dict(market="US", ship_from="ZZ", unit_cost=5, price=20),
                dict(market="US", transport_mode="boat", unit_cost=5, price=20),
                dict(market="US", hs_code="8504.40 95", origin=" vn ", unit_cost=5, price=20),
            ]
        ),
        rules_on(ON_2026_03),
    )
    assert res.errors[["row", "column"]].to_numpy().tolist() == [
        [0, "hs_code"],
        [1, "origin"],
        [2, "ship_from"],
        [3, "transport_mode"],
    ]
    en = res.errors["en"].tolist()
    assert en[0] == "HS code must be 2 to 10 digits (dots allowed): '85ab'"
    assert en[1].startswith("unknown origin: 'XX'")
    assert "ocean" in en[3]
    assert res.outputs.loc[4, "error"] == ""


def test_single_line_equals_the_table() -> None:
    rules = rules_on(EU_3)
    frame = pd.DataFrame(
        [
            dict(market="DE", hs_code="85076000", units_per_parcel=2, unit_cost=20, price=40),
            dict(market="US", hs_code="85044095", units_per_entry=10, unit_cost=20, price=40),
            dict(market="GB", hs_code="62061000", unit_cost=20, freight_per_unit=3, price=40),
            dict(market="CA", hs_code="61091000", origin="US", units_per_parcel=1, unit_cost=30,
                 price=80),
        ]
    )  # fmt: skip
    table = compute_lines(frame, rules).outputs
    rows = pd.concat([compute_lines(frame.iloc[[i]], rules).outputs for i in range(len(frame))])
    pd.testing.assert_frame_equal(table, rows)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "market": st.sampled_from(["US", "DE", "GB", "CA", "AU", "MX", "BR", "JP"]),
                "hs_code": st.sampled_from(["85076000", "85044095", "61091000", "62061000", ""]),
                "origin": st.sampled_from(["CN", "US", "VN", ""]),
                "parcel": st.sampled_from(["", "", "P1"]),
                "units_per_entry": st.one_of(st.none(), st.integers(1, 500)),
                "unit_cost": st.floats(1, 400),
                "cost_currency": st.just("CNY"),
                "price": st.floats(5, 2000),
                # numbers a cell can hold: Excel has no subnormal doubles
                "referral_rate": st.floats(0, 0.2, allow_subnormal=False),
                "referral_min": st.floats(0, 1, allow_subnormal=False),
                "target_margin": st.floats(-0.3, 0.3, allow_subnormal=False),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_prices_fed_back_reproduce_the_margin_with_customs(lines: list[dict[str, object]]) -> None:
    from xlplan.reference import default_fx

    rules = load_rules(ON_2026_03, fx=default_fx())
    frame = pd.DataFrame(lines)
    # one parcel goes to one market: keep the parcel id on the first market's lines only
    first = frame["market"].iloc[0]
    frame.loc[frame["market"] != first, "parcel"] = ""
    out = compute_lines(frame, rules).outputs
    ok = out["error"] == ""
    assert ok.all(), out.loc[~ok, "error"].tolist()
    assert (out["landed_cost"] >= 0).all()
    for col, target in (("breakeven_price", 0.0), ("price_for_target_margin", None)):
        have = out[col].notna()
        if not have.any():
            continue
        back = compute_lines(frame.assign(price=out[col].where(have, frame["price"])), rules)
        margin = frame["target_margin"] if target is None else pd.Series(0.0, index=frame.index)
        got = back.outputs.loc[have, "contribution_margin"]
        assert np.allclose(got, margin[have], atol=1e-7)


def test_check_locates_bad_customs_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`xlplan check` reports an HS code that is not 2-10 digits, an origin that is not an ISO
    country code and a parcel that goes to two markets, each at its Sheet!Cell."""
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    wb = openpyxl.load_workbook(src)
    ws = wb["Landed Cost"]
    first_row = int(ws.tables["tblLandedCost"].ref.split(":")[0][1:]) + 1
    col = {k: i + 1 for i, k in enumerate(LANDED_COST.keys)}
    bad = [
        dict(hs_code="85A4"),
        dict(origin="XX"),
        dict(market="US", parcel="P9"),
        dict(market="DE", parcel="P9"),
    ]
    for offset, cells in enumerate(bad):
        for key, value in cells.items():
            ws.cell(first_row + offset, col[key], value)
    wb.save(src)
    assert main(["check", str(src), "--lang", "en"]) == 1
    err = capsys.readouterr().err

    def at(offset: int, key: str) -> str:
        return f"Landed Cost!{get_column_letter(col[key])}{first_row + offset}"

    assert f"{at(0, 'hs_code')}: HS code must be 2 to 10 digits" in err
    assert f"{at(1, 'origin')}: unknown origin: 'XX'" in err
    assert at(2, "parcel") in err and at(3, "parcel") in err
    assert "goes to one market" in err
