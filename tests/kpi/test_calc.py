"""KPI catalog, health flags, threshold overrides and derived KPIs."""

from __future__ import annotations

import math
import operator
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.errors import ERROR_COLUMNS, InputError
from xlplan.kpi.calc import (
    FLAG_OUTPUT_COLUMNS,
    Direction,
    Flag,
    Op,
    Unit,
    count_flags,
    default_thresholds,
    derive_kpi,
    derive_kpis,
    flag_kpi,
    flag_kpis,
    kpi_definitions,
    load_catalog,
    stack_kpis,
    validate_thresholds,
)

CATALOG = load_catalog()
DEFS = kpi_definitions()
RANK = {"green": 0, "amber": 1, "red": 2}


def flags_of(kpi: str, values: list[object]) -> list[str]:
    table = pd.DataFrame({"kpi": [kpi] * len(values), "value": pd.Series(values, dtype=object)})
    return [str(f) for f in flag_kpis(table).table["flag"]]


# --- the catalog ---------------------------------------------------------------------------

REQUIRED = [
    "inventory_turnover",
    "ltv",
    "cac",
    "ltv_cac",
    "roas",
    "acos",
    "return_rate",
    "contribution_margin",
    "gmv_mom_growth",
    "target_attainment",
    "conversion_rate",
    "csat",
    "payout_cycle_days",
    "delivery_days",
    "lost_parcel_rate",
    "negative_review_share",
]


def test_catalog_has_the_kpis_of_issue_4() -> None:
    assert set(REQUIRED) <= set(CATALOG["key"])
    assert CATALOG["key"].is_unique


@pytest.mark.parametrize("key", list(DEFS))
def test_every_threshold_has_a_source_and_uncertain_ones_a_note(key: str) -> None:
    d = DEFS[key]
    for t in (d.green, d.red):
        assert t.source
        if t.uncertain:
            assert t.note, f"{key}: an uncertain default needs a note"
        else:
            assert t.source.startswith(("DOMAIN.md", "definition")), key
    assert d.name_zh and d.name_en and d.reason_bad_en and d.reason_bad_zh


# DOMAIN.md section 2 figures, typed in again so a typo in the CSV fails here.
DOMAIN_FIGURES = [
    ("inventory_turnover", "green", ">", 6),
    ("ltv_cac", "green", ">=", 3),
    ("roas", "green", ">=", 3.7),
    ("roas", "red", "<", 2.1),
    ("contribution_margin", "green", ">", 0.30),
    ("profit_margin", "green", ">=", 0.40),
    ("commission_rate", "red", ">", 0.35),
    ("gmv_mom_growth", "green", ">=", 0.15),
    ("target_attainment", "red", "<", 0.60),
    ("csat", "green", ">=", 0.91),
    ("csat", "red", "<", 0.76),
    ("payout_cycle_days", "green", "<=", 7),
    ("lost_parcel_rate", "red", ">", 0.023),
    ("negative_review_share", "red", ">", 0.15),
]


@pytest.mark.parametrize(("key", "level", "op", "value"), DOMAIN_FIGURES)
def test_domain_figures(key: str, level: str, op: str, value: float) -> None:
    t = getattr(DEFS[key], level)
    assert (t.op.value, t.value, t.uncertain) == (op, value, False)


def test_load_catalog_returns_a_fresh_table() -> None:
    a = load_catalog()
    a.loc[0, "green"] = -1.0
    assert load_catalog().loc[0, "green"] != -1.0


# --- flags at every threshold edge, generated from the catalog ----------------------------


def _implausible(key: str, value: float) -> bool:
    d = DEFS[key]
    return value > d.bound("plausible_max") or value < d.bound("plausible_min")


def _edge_cases() -> list[tuple[str, str, float, str]]:
    cases = []
    for key, d in DEFS.items():
        better = math.inf if d.direction is Direction.HIGHER else -math.inf
        g, r = d.green.value, d.red.value
        at_green = "green" if d.green.op in (Op.GE, Op.LE) else "amber"
        at_red = "red" if d.red.op in (Op.GE, Op.LE) else "amber"
        cases += [
            (key, "at green", g, at_green),
            (key, "just inside green", float(np.nextafter(g, better)), "green"),
            (key, "just short of green", float(np.nextafter(g, -better)), "amber"),
            (key, "between", (g + r) / 2, "amber"),
            (key, "at red", r, at_red),
            (key, "just beyond red", float(np.nextafter(r, -better)), "red"),
            # far out a figure is usually beyond the plausible range: check, not a colour
            (key, "far beyond red", r - (g - r) * 10, "red"),
            (key, "far inside green", g + (g - r) * 10, "green"),
        ]
        for side, op in (("plausible_max", Op.GT), ("plausible_min", Op.LT)):
            bound = d.bound(side)
            if math.isnan(bound):
                continue
            out = math.inf if op is Op.GT else -math.inf
            cases += [
                (key, f"at {side}", bound, "check" if _implausible(key, bound) else "in range"),
                (key, f"just beyond {side}", float(np.nextafter(bound, out)), "check"),
            ]
    return [
        (k, e, v, "check" if _implausible(k, v) else f) for k, e, v, f in cases if f != "in range"
    ]


@pytest.mark.parametrize(("key", "edge", "value", "expected"), _edge_cases())
def test_threshold_edges_from_catalog(key: str, edge: str, value: float, expected: str) -> None:
    assert flags_of(key, [value]) == [expected]


# --- implausible figures: check, not a colour -----------------------------------------------

# Issue 11: a turnover of 72.6 a year showed green; margins > 80%, growth > 300% and a share
# above 100% are figures to verify, not health.
IMPLAUSIBLE = [
    ("inventory_turnover", 72.6, "inventory turnover 72.6 /yr > 24: implausible, check it: "),
    ("inventory_turnover", 24.04, "inventory turnover 24.1 /yr > 24: implausible"),  # reads true
    ("inventory_turnover", -2.0, "inventory turnover -2.0 /yr < 0: implausible"),
    ("contribution_margin", 0.85, "contribution margin 85.0% > 80%: implausible"),
    ("profit_margin", 0.81, "profit margin 81.0% > 80%: implausible"),
    ("gmv_mom_growth", 3.2, "GMV month-on-month growth 320.0% > 300%: implausible"),
    ("gmv_mom_growth", -1.2, "GMV month-on-month growth -120.0% < -100%: implausible"),
    ("return_rate", 1.05, "return rate 105.0% > 100%: implausible, check it: a share cannot"),
    ("csat", 1.2, "CSAT 120.0% > 100%: implausible"),
    ("negative_review_share", -0.1, "negative review share -10.0% < 0%: implausible"),
    ("target_attainment", 4.5, "target attainment 450.0% > 300%: implausible"),
    ("roas", 25.0, "ROAS 25.00 > 20: implausible"),
    ("acos", 0.03, "ACoS 3.0% < 5%: implausible"),
    ("delivery_days", 90, "delivery time 90.0 days > 60: implausible"),
    ("cac", -5.0, "CAC -5 CNY < 0: implausible"),
]


@pytest.mark.parametrize(("key", "value", "reason_en"), IMPLAUSIBLE)
def test_implausible_figures_are_flagged_check(key: str, value: float, reason_en: str) -> None:
    out = flag_kpi(key, value)
    assert out.flag is Flag.CHECK
    assert out.reason_en.startswith(reason_en)
    assert "请核实" in out.reason_zh and DEFS[key].name_zh in out.reason_zh


def test_the_reason_says_why_and_what_to_check() -> None:
    high = flag_kpi("inventory_turnover", 72.6)
    assert "15 days of stock" in high.reason_en and "same months" in high.reason_en
    assert "15 天" in high.reason_zh
    low = flag_kpi("inventory_turnover", -1.0)
    assert "cannot be negative" in low.reason_en and "不会为负" in low.reason_zh


@pytest.mark.parametrize("key", list(DEFS))
def test_every_plausible_bound_is_sourced_dated_and_uncertain(key: str) -> None:
    d = DEFS[key]
    for side in ("plausible_min", "plausible_max"):
        t = getattr(d, side)
        if t is None:
            continue
        assert t.source.startswith("practitioner judgement") and t.uncertain and t.note
        assert t.effective_from.year >= 2025
        assert d.red.value >= t.value if side == "plausible_min" else d.green.value <= t.value


def test_every_share_is_bounded_by_0_and_100_percent() -> None:
    shares = [k for k, d in DEFS.items() if d.unit is Unit.FRACTION and k not in NOT_SHARES]
    assert shares
    for key in shares:
        low, high = DEFS[key].bound("plausible_min"), DEFS[key].bound("plausible_max")
        assert low >= 0 and high <= 1, key
    assert DEFS["inventory_turnover"].bound("plausible_max") == 24
    for key in ("contribution_margin", "profit_margin"):
        assert DEFS[key].bound("plausible_max") == 0.8
    assert DEFS["gmv_mom_growth"].bound("plausible_max") == 3


# fractions that are not a part of a whole: they may pass 100% or go below 0
NOT_SHARES = {"gmv_mom_growth", "contribution_margin", "profit_margin", "target_attainment", "acos"}


def test_plausible_range_overrides_and_their_errors() -> None:
    over = pd.DataFrame(
        {
            "kpi": ["inventory_turnover", "inventory_turnover", "roas"],
            "market": ["", "US", ""],
            "plausible_max": [None, 100.0, 5.0],
            "plausible_min": [None, None, 8.0],  # crossed: row ignored with an error
        }
    )
    values = pd.DataFrame(
        {"kpi": ["inventory_turnover"] * 2 + ["roas"], "value": [72.6, 72.6, 10.0],
         "market": ["US", "DE", "US"]}
    )  # fmt: skip
    out = flag_kpis(values, over)
    assert out.table["flag"].tolist() == ["green", "check", "green"]
    assert out.errors[["row", "column"]].to_numpy().tolist() == [[2, "plausible_min"]]
    assert "not below the plausible max" in out.errors["en"].iloc[0]
    # a side the catalog leaves open can be set, with a generic hint
    opened = flag_kpi("ltv", 9e5, overrides=pd.DataFrame({"kpi": ["ltv"], "plausible_max": [5e5]}))
    assert opened.flag is Flag.CHECK
    assert opened.reason_en.startswith("LTV 900000 CNY > 500000: implausible, check it: ")


# Hand-worked cases with literal figures (not read from the catalog).
HAND_CASES = [
    ("inventory_turnover", 6.0, "amber", "inventory turnover 6.0 /yr ≤ 6: stock ties up cash"),
    ("inventory_turnover", 6.01, "green", "inventory turnover 6.1 /yr > 6: stock turns fast"),
    ("inventory_turnover", 4.8, "amber", "inventory turnover 4.8 /yr ≤ 6: stock ties up cash"),
    ("inventory_turnover", 3.99, "red", "inventory turnover 3.9 /yr < 4: stock ties up cash"),
    ("ltv_cac", 3.0, "green", "LTV:CAC 3.00 ≥ 3: acquisition pays back"),
    ("ltv_cac", 2.99, "amber", "LTV:CAC 2.99 < 3: acquisition does not pay back"),
    ("ltv_cac", 0.5, "red", "LTV:CAC 0.50 < 1: acquisition does not pay back"),
    ("gmv_mom_growth", 0.15, "green", "GMV month-on-month growth 15.0% ≥ 15%: strong growth"),
    ("gmv_mom_growth", -0.05, "red", "GMV month-on-month growth -5.0% < 0%: growth is stalling"),
    ("payout_cycle_days", 7, "green", "payout cycle 7.0 days ≤ 7: cash comes back fast"),
    (
        "payout_cycle_days",
        7.5,
        "amber",
        "payout cycle 7.5 days > 7: cash is locked up with the platform",
    ),
    ("payout_cycle_days", 14, "amber", None),
    ("payout_cycle_days", 15, "red", None),
    ("negative_review_share", 0.15, "amber", None),
    ("negative_review_share", 0.151, "red", None),
    ("lost_parcel_rate", 0.023, "amber", None),
    (
        "lost_parcel_rate",
        0.024,
        "red",
        "lost parcel rate 2.4% > 2.3%: too many lost parcels: review the carrier",
    ),
    ("roas", 3.7, "green", "ROAS 3.70 ≥ 3.7: ads pay back"),
    ("roas", 2.1, "amber", None),
    ("roas", 2.0, "red", None),
    ("target_attainment", 1.0, "green", None),
    ("target_attainment", 0.6, "amber", None),
    ("target_attainment", 0.59, "red", "target attainment 59.0% < 60%: behind target"),
    ("contribution_margin", 0.30, "amber", None),
    ("contribution_margin", 0.31, "green", None),
    ("csat", 0.91, "green", None),
    ("csat", 0.75, "red", None),
    ("ltv", 1260, "green", "LTV 1260 CNY ≥ 1000: customers are worth acquiring"),
    ("cac", 125, "amber", "CAC 125 CNY > 100: each new customer costs too much"),
    ("acos", 0.5, "red", "ACoS 50.0% > 48%: ad cost eats the margin"),
    ("delivery_days", 18, "red", None),
]


@pytest.mark.parametrize(("key", "value", "flag", "reason_en"), HAND_CASES)
def test_hand_worked_flags(key: str, value: float, flag: str, reason_en: str | None) -> None:
    out = flag_kpi(key, value)
    assert out.flag is Flag(flag)
    if reason_en is not None:
        assert out.reason_en == reason_en


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("gmv_mom_growth", -0.0001, "GMV month-on-month growth -0.1% < 0%"),  # not "0.0% < 0%"
        ("gmv_mom_growth", 0.0001, "GMV month-on-month growth 0.0% < 15%"),  # no "-0.0"
        ("gmv_mom_growth", -0.00001, "GMV month-on-month growth -0.1% < 0%"),
        ("gmv_mom_growth", -0.2, "GMV month-on-month growth -20.0% <"),
        ("ltv", 1e20, "LTV 1e+20 CNY ≥"),  # beyond exact integers: shortest float text
        ("ltv", 1234.5, "LTV 1235 CNY ≥"),  # half-up
        ("ltv", 999.5, "LTV 999 CNY < 1000"),  # not "1000 < 1000": toward its side
        ("ltv_cac", 2.995, "LTV:CAC 2.99 < 3"),
        ("inventory_turnover", 6.04, "inventory turnover 6.1 /yr > 6"),
        ("inventory_turnover", 6.0, "inventory turnover 6.0 /yr ≤ 6"),
        ("lost_parcel_rate", 0.023, "lost parcel rate 2.3% > 1%"),  # amber: against green
        ("lost_parcel_rate", 0.02300001, "lost parcel rate 2.4% > 2.3%"),
        ("delivery_days", 0, "delivery time 0.0 days ≤"),
        ("delivery_days", -0.01, "delivery time -0.1 days < 0: implausible"),  # no "-0.0 < 0"
    ],
)
def test_numbers_in_reasons(key: str, value: float, shown: str) -> None:
    assert flag_kpi(key, value).reason_en.startswith(shown)


def test_repeated_and_distinct_figures_give_the_same_reasons() -> None:
    # Many repeats take the deduplicating path; the one-row calls the direct one.
    keys = ["inventory_turnover", "csat", "cac", "gmv_mom_growth"]
    figures = [4.8, 0.95, 350.0, -0.05, None, "x"]
    values = pd.DataFrame(
        [(k, v) for k in keys for v in figures] * 20, columns=["kpi", "value"], dtype=object
    )
    out = flag_kpis(values).table
    singles = [flag_kpi(k, v) for k, v in values[["kpi", "value"]].head(24).to_numpy()]
    assert out["reason_en"].head(24).tolist() == [o.reason_en for o in singles]
    assert out["reason_zh"].head(24).tolist() == [o.reason_zh for o in singles]
    assert out["reason_en"].tolist() == out["reason_en"].head(24).tolist() * 20


def test_reasons_in_chinese() -> None:
    out = flag_kpis(
        pd.DataFrame({"kpi": ["inventory_turnover", "return_rate"], "value": [4.8, 0.2]})
    )
    assert out.table["reason_zh"].tolist() == [
        "库存周转 4.8 次/年 ≤ 6：库存占用资金",
        "退货率 20.0% > 10%：退货过多",
    ]


# --- missing and bad data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason_en", "error"),
    [
        (None, "return rate: no data (blank)", None),
        (np.nan, "return rate: no data (blank)", None),
        ("", "return rate: no data (blank)", None),
        ("   ", "return rate: no data (blank)", None),
        ("abc", "return rate: no data (not a number)", "not a number"),
        (True, "return rate: no data (not a number)", "not a number"),
        (math.inf, "return rate: no data (infinite)", "value is infinite (division by zero?)"),
        (-math.inf, "return rate: no data (infinite)", "value is infinite (division by zero?)"),
    ],
)
def test_missing_or_bad_values_are_no_data(
    value: object, reason_en: str, error: str | None
) -> None:
    values = pd.DataFrame(
        {"kpi": ["return_rate", "return_rate"], "value": pd.Series([value, 0.2], dtype=object)}
    )
    out = flag_kpis(values)
    assert out.table["flag"].tolist() == ["no_data", "red"]
    assert out.table["reason_en"].iloc[0] == reason_en
    assert out.table["reason_zh"].iloc[0].startswith("退货率：无数据")
    if error is None:
        assert out.errors.empty
    else:
        assert out.errors[["row", "column", "en"]].to_numpy().tolist() == [[0, "value", error]]


@pytest.mark.parametrize("key", list(DEFS))
def test_every_kpi_flags_missing_as_no_data(key: str) -> None:
    assert flags_of(key, [None, np.nan, "n/a"]) == ["no_data"] * 3


def test_numeric_strings_are_read() -> None:
    assert flags_of("ltv_cac", [" 3 ", "2.5"]) == ["green", "amber"]


def test_unknown_kpi_gives_an_error_record_and_other_rows_still_flag() -> None:
    values = pd.DataFrame(
        {"kpi": ["ltv_cac", "no_such_kpi", None, "roas"], "value": [4.0, 1.0, 2.0, 1.0]},
        index=[10, 11, 12, 13],
    )
    out = flag_kpis(values)
    assert out.table["flag"].tolist() == ["green", "no_data", "no_data", "red"]
    assert out.table["reason_en"].tolist()[1:3] == [
        "unknown KPI 'no_such_kpi'",
        "KPI key is missing",
    ]
    assert out.table["key"].tolist() == ["ltv_cac", "", "", "roas"]
    assert math.isnan(out.table["green"].iloc[1])
    assert list(out.errors.columns) == ERROR_COLUMNS
    assert out.errors[["table", "row", "column", "en"]].to_numpy().tolist() == [
        ["kpi", 1, "kpi", "unknown KPI: no_such_kpi"],
        ["kpi", 2, "kpi", "KPI key is missing"],
    ]


def test_names_in_either_language_are_accepted() -> None:
    values = pd.DataFrame(
        {"kpi": ["库存周转", "Inventory Turnover", " LTV:CAC "], "value": [8, 8, 3]}
    )
    out = flag_kpis(values)
    assert out.table["key"].tolist() == ["inventory_turnover", "inventory_turnover", "ltv_cac"]
    assert out.table["flag"].tolist() == ["green"] * 3


def test_index_and_columns_are_kept() -> None:
    values = pd.DataFrame(
        {
            "kpi": ["csat", "csat"],
            "value": [0.95, 0.5],
            "market": ["DE", "US"],
            "month": ["2026-01", "2026-02"],
            "note": ["x", "y"],
        },
        index=pd.Index(["a", "b"], name="id"),
    )
    out = flag_kpis(values).table
    assert out.index.equals(values.index)
    assert list(out.columns) == [*values.columns, *FLAG_OUTPUT_COLUMNS]
    pd.testing.assert_frame_equal(out[values.columns], values)
    assert list(out["flag"].cat.categories) == ["green", "amber", "red", "check", "no_data"]
    assert out["green"].tolist() == [0.91, 0.91]


@pytest.mark.parametrize(
    "value_dtype", [object, "string", pytest.param("str", id="str (pandas 3 default)")]
)
def test_text_columns_duplicate_index_and_categorical_keys(value_dtype: object) -> None:
    values = pd.DataFrame(
        {
            "kpi": pd.Categorical(["csat", "csat", "roas"]),
            "value": pd.array(["0.95", "x", "3"], dtype=value_dtype),  # type: ignore[call-overload]
        },
        index=[1, 1, 2],
    )
    out = flag_kpis(values)
    assert out.table["flag"].tolist() == ["green", "no_data", "amber"]
    assert out.table.index.tolist() == [1, 1, 2]
    assert out.errors[["row", "column"]].to_numpy().tolist() == [[1, "value"]]


def test_count_flags_per_market() -> None:
    values = pd.DataFrame(
        {
            "kpi": ["csat", "csat", "roas", "roas", "csat"],
            "value": [0.95, 0.5, 4.0, None, 0.8],
            "market": ["DE", "DE", "US", "US", None],
        }
    )
    counts = count_flags(flag_kpis(values).table)
    assert counts["market"].tolist()[:2] == ["DE", "US"] and pd.isna(counts["market"].iloc[2])
    assert counts.drop(columns="market").to_dict("list") == {
        "green": [1, 1, 0],
        "amber": [0, 0, 1],
        "red": [1, 0, 0],
        "check": [0, 0, 0],
        "no_data": [0, 1, 0],
        "total": [2, 2, 1],
    }
    overall = count_flags(flag_kpis(values).table, by=())
    assert overall.to_dict("list") == {
        "green": [2],
        "amber": [1],
        "red": [1],
        "check": [0],
        "no_data": [1],
        "total": [5],
    }


def test_empty_table() -> None:
    out = flag_kpis(pd.DataFrame({"kpi": pd.Series([], dtype=object), "value": []}))
    assert out.table.empty and out.errors.empty
    assert list(out.table.columns) == ["kpi", "value", *FLAG_OUTPUT_COLUMNS]


def test_missing_column_raises_input_error() -> None:
    with pytest.raises(InputError):
        flag_kpis(pd.DataFrame({"kpi": ["csat"]}))


# --- overrides -------------------------------------------------------------------------------

OVERRIDES = pd.DataFrame(
    {
        "kpi": [
            "inventory_turnover",
            "inventory_turnover",
            "inventory_turnover",
            "inventory_turnover",
            "inventory_turnover",
            "inventory_turnover",
        ],
        "market": ["", "JP", "JP", "", "JP", None],
        "channel": ["amazon", "", "amazon", "", "amazon", "tiktok"],
        "category": ["", "", "", "apparel", "apparel", ""],
        "green": [7.0, 8.0, 9.0, 3.0, 10.0, None],
        "red": [None, 5.0, None, 2.0, 1.0, 5.5],
    }
)

# (market, channel, category) -> (green, red) after resolution; each threshold on its own.
OVERRIDE_CASES = [
    ("US", "shopify", "toys", 6.0, 4.0),  # nothing matches: catalog
    ("US", "amazon", "toys", 7.0, 4.0),  # channel only; red inherited
    ("JP", "shopify", "toys", 8.0, 5.0),  # market only
    ("JP", "amazon", "toys", 9.0, 5.0),  # market+channel beats market; red from market
    ("US", "shopify", "apparel", 3.0, 2.0),  # category only
    ("US", "amazon", "apparel", 7.0, 2.0),  # channel vs category: channel wins green
    ("JP", "amazon", "apparel", 10.0, 1.0),  # all three: most specific
    ("jp ", "AMAZON", "Apparel", 10.0, 1.0),  # scope matches ignore case and spaces
    ("US", "tiktok", "toys", 6.0, 5.5),  # blank market (None) = any
    ("JP", "", "", 8.0, 5.0),  # a row with blanks matches only the any-scopes
]


@pytest.mark.parametrize(("market", "channel", "category", "green", "red"), OVERRIDE_CASES)
def test_most_specific_override_wins(
    market: str, channel: str, category: str, green: float, red: float
) -> None:
    values = pd.DataFrame(
        {
            "kpi": ["inventory_turnover"],
            "value": [5.0],
            "market": [market],
            "channel": [channel],
            "category": [category],
        }
    )
    out = flag_kpis(values, OVERRIDES)
    assert out.errors.empty
    assert (out.table["green"].iloc[0], out.table["red"].iloc[0]) == (green, red)


def test_override_changes_the_flag_and_reason() -> None:
    out = flag_kpi("inventory_turnover", 6.5, market="JP", overrides=OVERRIDES)
    assert out.flag is Flag.AMBER
    assert out.reason_en == "inventory turnover 6.5 /yr ≤ 8: stock ties up cash"
    assert flag_kpi("inventory_turnover", 6.5, market="US", overrides=OVERRIDES).flag is Flag.GREEN


def test_market_beats_channel_between_equally_specific_rows() -> None:
    over = pd.DataFrame(
        {
            "kpi": ["csat", "csat"],
            "market": ["", "DE"],
            "channel": ["amazon", ""],
            "green": [0.8, 0.95],
        }
    )
    out = flag_kpi("csat", 0.9, market="DE", channel="amazon", overrides=over)
    assert out.green == 0.95


def test_overrides_without_scope_columns_apply_everywhere() -> None:
    over = pd.DataFrame({"kpi": ["CSAT"], "green": [0.8], "red": [0.5]})
    values = pd.DataFrame({"kpi": ["csat", "csat"], "value": [0.85, 0.6], "market": ["DE", None]})
    assert flag_kpis(values, over).table["flag"].tolist() == ["green", "amber"]


def test_scoped_overrides_do_not_apply_when_values_have_no_scope() -> None:
    over = pd.DataFrame({"kpi": ["csat"], "market": ["DE"], "green": [0.5]})
    assert (
        flag_kpis(pd.DataFrame({"kpi": ["csat"], "value": [0.6]}), over).table["green"].iloc[0]
        == 0.91
    )


def test_default_thresholds_seed_an_overrides_table_that_changes_nothing() -> None:
    seed = default_thresholds()
    assert seed["kpi"].tolist() == list(DEFS)
    assert validate_thresholds(seed).empty
    values = pd.DataFrame({"kpi": list(DEFS), "value": 1.0, "market": "US"})
    pd.testing.assert_frame_equal(flag_kpis(values, seed).table, flag_kpis(values).table)
    csat = seed["kpi"] == "csat"
    edited = seed.assign(green=seed["green"].mask(csat, 0.5), red=seed["red"].mask(csat, 0.3))
    assert flag_kpi("csat", 0.6, overrides=edited).flag is Flag.GREEN


def test_bad_override_rows_are_reported_and_ignored() -> None:
    over = pd.DataFrame(
        {
            "kpi": ["nope", "csat", "csat", "csat", "csat"],
            "market": ["", "", "DE", "DE", "US"],
            "green": [1.0, "high", 0.5, 0.95, 0.8],
            "red": [0.1, 0.2, 0.9, 0.6, 0.7],
        }
    )
    errors = validate_thresholds(over)
    assert errors[["row", "column"]].to_numpy().tolist() == [[0, "kpi"], [1, "green"], [2, "green"]]
    values = pd.DataFrame({"kpi": ["csat"] * 3, "value": [0.9] * 3, "market": ["DE", "US", "FR"]})
    out = flag_kpis(values, over)
    assert out.table["green"].tolist() == [0.95, 0.8, 0.91]
    # row 1: "high" is ignored but its red still applies to every market
    assert out.table["red"].tolist() == [0.6, 0.7, 0.2]
    assert out.errors["table"].unique().tolist() == ["kpi_thresholds"]


def test_duplicate_override_scope_keeps_the_first() -> None:
    over = pd.DataFrame({"kpi": ["csat", "csat"], "market": ["DE", "de"], "green": [0.8, 0.7]})
    errors = validate_thresholds(over)
    assert errors[["row", "column"]].to_numpy().tolist() == [[1, ""]]
    assert flag_kpi("csat", 0.75, market="DE", overrides=over).green == 0.8


# --- monotonic flags (property) --------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _assert_monotonic(key: str, values: list[float], out: pd.DataFrame) -> None:
    """Inside the catalog's plausible range flags never get better as the value gets worse;
    outside it every figure is check."""
    sign = 1 if DEFS[key].direction is Direction.HIGHER else -1
    outside = [_implausible(key, v) for v in values]
    assert [str(f) == "check" for f in out["flag"]] == outside, (key, values)
    kept = [(v, str(f)) for v, f, o in zip(values, out["flag"], outside, strict=True) if not o]
    ranks = [RANK[f] for _, f in kept]
    pairs = sorted(zip([v for v, _ in kept], ranks, strict=True), key=lambda p: sign * p[0])
    # Ordered from worst to best value, the flag rank (0 green .. 2 red) never rises.
    assert all(a[1] >= b[1] for a, b in zip(pairs, pairs[1:], strict=False)), (key, pairs)


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(list(DEFS)), spread=st.lists(st.floats(-3, 3), min_size=1, max_size=40))
def test_flags_are_monotonic_in_the_value(key: str, spread: list[float]) -> None:
    d = DEFS[key]
    g, r = d.green.value, d.red.value
    # Values around and exactly on the thresholds.
    values = [r + (g - r) * s for s in spread] + [g, r]
    out = flag_kpis(pd.DataFrame({"kpi": key, "value": values})).table
    _assert_monotonic(key, values, out)


@pytest.mark.parametrize("direction", list(Direction))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), values=st.lists(finite, min_size=1, max_size=30), green=finite, red=finite)
def test_flags_stay_monotonic_with_any_overrides(
    direction: Direction, data: st.DataObject, values: list[float], green: float, red: float
) -> None:
    key = data.draw(st.sampled_from([k for k, d in DEFS.items() if d.direction is direction]))
    over = pd.DataFrame({"kpi": [key], "green": [green], "red": [red]})
    out = flag_kpis(pd.DataFrame({"kpi": key, "value": values + [green, red]}), over).table
    _assert_monotonic(key, values + [green, red], out)


_STATED = re.compile(
    r" (-?[0-9.]+(?:e[+-]?[0-9]+)?)(?:%| /yr| days| CNY)? ([≥>≤<]) (-?[0-9.]+)%?: "
)
_READS = {"≥": operator.ge, ">": operator.gt, "≤": operator.le, "<": operator.lt}


@settings(max_examples=60, deadline=None)
@given(
    key=st.sampled_from(list(DEFS)),
    spread=st.lists(st.floats(-2, 3) | st.floats(-1e-12, 1e-12), min_size=1, max_size=30),
    far=st.lists(finite, max_size=5),
)
def test_the_comparison_a_reason_states_reads_true(
    key: str, spread: list[float], far: list[float]
) -> None:
    d = DEFS[key]
    g, r = d.green.value, d.red.value
    near = [float(np.nextafter(t, side)) for t in (g, r) for side in (-math.inf, math.inf)]
    values = [r + (g - r) * x for x in spread] + [g + x for x in spread] + near + far
    out = flag_kpis(pd.DataFrame({"kpi": key, "value": values})).table
    for reason in out["reason_en"]:
        m = _STATED.search(reason)
        assert m, reason
        assert _READS[m[2]](float(m[1]), float(m[3])), reason


# --- derived KPIs ----------------------------------------------------------------------------

RAW = pd.DataFrame(
    {
        "market": ["US", "DE"],
        "month": ["2026-01", "2026-01"],
        "cogs": [100_000, 1_200_000],
        "average_inventory": [250_000, 200_000],
        "period_months": [1, 12],
        "aov": [300, 200],
        "orders_per_year": [4, 2],
        "gross_margin": [0.35, 0.30],
        "lifetime_years": [3, 2],
        "marketing_spend": [50_000, 12_000],
        "new_customers": [400, 100],
        "ad_revenue": [37_000, 21_000],
        "ad_spend": [10_000, 10_000],
        "orders": [600, 30],
        "returned_orders": [30, 6],
        "sessions": [20_000, 1_000],
        "revenue": [100_000, 80_000],
        "variable_costs": [65_000, 60_000],
        "profit": [40_000, 8_000],
        "commission": [15_000, 30_000],
        "gmv": [115_000, 54_000],
        "gmv_prev_month": [100_000, 60_000],
        "gmv_target": [100_000, 90_000],
        "satisfied_responses": [91, 70],
        "survey_responses": [100, 100],
        "lost_parcels": [23, 1],
        "shipped_parcels": [1_000, 1_000],
        "negative_reviews": [15, 2],
        "reviews": [100, 40],
    },
    index=[7, 9],
)

# Worked by hand from RAW.
DERIVED = {
    "inventory_turnover": [100_000 * 12 / 250_000, 6.0],  # 4.8, 6.0
    "ltv": [300 * 4 * 0.35 * 3, 200 * 2 * 0.30 * 2],  # 1260, 240
    "cac": [125.0, 120.0],
    "ltv_cac": [1260 / 125, 240 / 120],  # 10.08, 2.0
    "roas": [3.7, 2.1],
    "acos": [10_000 / 37_000, 10_000 / 21_000],
    "return_rate": [0.05, 0.2],
    "contribution_margin": [0.35, 0.25],
    "profit_margin": [0.40, 0.10],
    "commission_rate": [0.15, 0.375],
    "gmv_mom_growth": [0.15, -0.10],
    "target_attainment": [1.15, 0.60],
    "conversion_rate": [0.03, 0.03],
    "csat": [0.91, 0.70],
    "lost_parcel_rate": [0.023, 0.001],
    "negative_review_share": [0.15, 0.05],
}


def test_derived_kpis_from_raw_figures() -> None:
    out = derive_kpis(RAW)
    assert out.errors.empty
    assert out.table.index.equals(RAW.index)
    assert out.table["market"].tolist() == ["US", "DE"]
    for key, expected in DERIVED.items():
        assert out.table[key].tolist() == pytest.approx(expected, rel=1e-11), key
    # KPIs entered directly have no formula: not derived without a column
    assert "payout_cycle_days" not in out.table.columns


def test_derived_figures_on_a_threshold_stay_on_it() -> None:
    long = stack_kpis(derive_kpis(RAW).table)
    flags = flag_kpis(long).table.set_index(["market", "kpi"])["flag"]
    # 15% growth, 3.7 ROAS, 91% CSAT and 60% attainment are exactly on their thresholds
    assert flags[("US", "gmv_mom_growth")] == "green"
    assert flags[("US", "roas")] == "green"
    assert flags[("US", "csat")] == "green"
    assert flags[("DE", "target_attainment")] == "amber"
    assert flags[("DE", "inventory_turnover")] == "amber"  # 6 is not > 6
    assert flags[("US", "lost_parcel_rate")] == "amber"
    assert flags[("US", "negative_review_share")] == "amber"


def test_division_by_zero_is_no_data_with_an_error_naming_the_input() -> None:
    raw = pd.DataFrame(
        {
            "marketing_spend": [1000, 1000, 1000],
            "new_customers": [0, 10, None],
            "gmv": [10, 10, 10],
            "gmv_prev_month": [5, 0, 5],
            "cogs": [10, 10, 10],
            "average_inventory": [5, 5, 0],
            "period_months": [0, 1, 1],
        }
    )
    out = derive_kpis(raw)
    assert np.isnan(out.table["cac"].iloc[0]) and out.table["cac"].iloc[1] == 100
    assert np.isnan(out.table["cac"].iloc[2])  # blank input: no data, no error
    assert np.isnan(out.table["gmv_mom_growth"].iloc[1])
    assert out.errors[["row", "column"]].to_numpy().tolist() == [
        [0, "period_months"],
        [0, "new_customers"],
        [1, "gmv_prev_month"],
        [2, "average_inventory"],
    ]
    assert out.errors["en"].iloc[1] == "new_customers is 0: CAC cannot be computed"
    flags = flag_kpis(stack_kpis(out.table)).table
    assert flags.loc[flags["kpi"] == "cac", "flag"].tolist() == ["no_data", "green", "no_data"]


def test_entered_kpis_win_over_derived_and_feed_later_formulas() -> None:
    raw = pd.DataFrame(
        {
            "marketing_spend": [1000, 1000],
            "new_customers": [10, 0],
            "cac": [None, 50],
            "ltv": [600, 600],
            "payout_cycle_days": [5, None],
        }
    )
    out = derive_kpis(raw)
    assert out.errors.empty  # new_customers = 0 is harmless where CAC was entered
    assert out.table["cac"].tolist() == [100, 50]
    assert out.table["ltv_cac"].tolist() == [6, 12]
    assert out.table["payout_cycle_days"].iloc[0] == 5


def test_bad_raw_input_is_an_error_record() -> None:
    raw = pd.DataFrame({"orders": ["many", 10], "sessions": [100, 1000]})
    out = derive_kpis(raw)
    assert np.isnan(out.table["conversion_rate"].iloc[0])
    assert out.table["conversion_rate"].iloc[1] == 0.01
    assert out.errors[["row", "column", "en"]].to_numpy().tolist() == [
        [0, "orders", "not a finite number"]
    ]


def test_catalog_formulas_only_use_their_inputs() -> None:
    for d in DEFS.values():
        if d.formula:
            raw = pd.DataFrame({name: [2.0] for name in d.inputs})
            assert d.key in derive_kpis(raw).table.columns
        else:
            assert d.inputs == ()


def test_derive_one_kpi() -> None:
    assert derive_kpi("CAC", {"marketing_spend": 1000, "new_customers": 8}) == 125
    assert derive_kpi("ltv_cac", {"ltv": 900, "marketing_spend": 1000, "new_customers": 4}) == 3.6
    assert math.isnan(derive_kpi("cac", {"marketing_spend": 1000, "new_customers": 0}))
    assert math.isnan(derive_kpi("cac", {"marketing_spend": 1000}))
    with pytest.raises(InputError):
        derive_kpi("nope", {})


def test_stack_kpis_shape() -> None:
    wide = pd.DataFrame(
        {"market": ["US", "DE"], "csat": [0.9, None], "cac": [10, 20]}, index=[5, 6]
    )
    long = stack_kpis(wide)
    assert long.to_dict("list") == {
        "row": [0, 0, 1, 1],
        "market": ["US", "US", "DE", "DE"],
        "kpi": ["cac", "csat", "cac", "csat"],
        "value": pytest.approx([10, 0.9, 20, float("nan")], nan_ok=True),
    }


def test_benchmark_runs_small() -> None:
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:  # benchmarks/ is beside the package, not installed with it
        sys.path.insert(0, root)
    from benchmarks import bench_kpi

    lines = bench_kpi.run(n=500, per_row=5, repeat=1)
    assert len(lines) == 5 and "vectorised is" in lines[-1]
