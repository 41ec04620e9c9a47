"""The UDFs called as plain functions (on Linux the xlwings decorators are no-ops).

Arguments are shaped like what xlwings hands over on Windows: a table as a 2-D list with its
header row, floats, ``None`` for blank cells, booleans, a datetime for a date cell. Rules are
the shipped ones (``xlplan/data``) on a realistic date.
"""

from __future__ import annotations

import inspect
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from udfs import landed_cost as udf
from xlplan import reference
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.landed_cost.action import compute_lines, results_table, rules_from_tables
from xlplan.landed_cost.tables import (
    ENTRY_FEE_OVERRIDES,
    FEE_OVERRIDES,
    LANDED_COST,
    LANDED_COST_OUTPUT_COLUMNS,
    LANDED_COST_RESULTS,
    LOW_VALUE_OVERRIDES,
    MARKET_OVERRIDES,
    ROUNDING_OVERRIDES,
    SCENARIOS,
    TARIFF,
)
from xlplan.plan.tables import FX
from xlplan.workbook import schema

ON = datetime(2026, 1, 1)
EN = LANDED_COST.headers("en")
ZH = LANDED_COST.headers("zh")
OUT_KEYS = [c.key for c in LANDED_COST_OUTPUT_COLUMNS]
OUT_EN = [c.en for c in LANDED_COST_OUTPUT_COLUMNS]
OUT_ZH = [c.zh for c in LANDED_COST_OUTPUT_COLUMNS]
ERR = OUT_KEYS.index("error")


def line(**cells: Any) -> list[Any]:
    """One data row in the table's column order; unnamed cells blank (None), as from Excel."""
    unknown = set(cells) - set(LANDED_COST.keys)
    assert not unknown, unknown
    return [cells.get(k) for k in LANDED_COST.keys]


GOOD_DE = line(
    sku="CBL-USB-C", market="DE", channel="Amazon", unit_cost=12.0, cost_currency="CNY",
    freight_per_unit=0.6, duty_rate=0.037, last_mile_per_unit=3.2, price=19.99,
    referral_rate=0.15, payment_rate=0.0, return_rate=0.05, return_cost_per_unit=2.0,
    ad_rate=0.08, target_margin=0.2,
)  # fmt: skip
GOOD_JP = line(
    sku="PWR-20W", market="JP", channel="Amazon", unit_cost=30.0, cost_currency="CNY",
    freight_per_unit=40.0, last_mile_per_unit=420.0, price=2980.0, referral_rate=0.1,
    referral_min=30.0, target_margin=0.15,
)  # fmt: skip
GOOD_US = line(
    sku="CASE-15", market="US", channel="Shopify", unit_cost=1.8, cost_currency="USD",
    freight_per_unit=0.4, duty_rate=0.0, extra_duty_rate=0.25, last_mile_per_unit=4.5,
    price=24.99, payment_rate=0.029, payment_fixed=0.3, ad_rate=0.12,
)  # fmt: skip
BAD_DUTY = line(sku="BAD", market="GB", unit_cost=5.0, price=15.0, duty_rate=12.0)


@pytest.fixture(scope="module")
def fx() -> list[list[Any]]:
    """The shipped default FX rates as the workbook's FX table (en headers)."""
    table = reference.default_fx()[["from_currency", "to_currency", "rate", "as_of", "source"]]
    return [FX.headers("en"), *table.to_numpy(dtype=object).tolist()]


def assert_excel_safe(block: list[list[Any]]) -> None:
    """A rectangular 2-D list of str / float / bool; no NaN, no infinity, no None."""
    assert block and all(isinstance(r, list) for r in block)
    assert len({len(r) for r in block}) == 1, "ragged block"
    for row in block:
        for v in row:
            assert isinstance(v, str | float | int | bool), (type(v), v)
            if isinstance(v, float):
                assert math.isfinite(v), row


def cell(block: list[list[Any]], row: int, key: str) -> Any:
    return block[row][OUT_KEYS.index(key)]


# ---------------------------------------------------------------------------------------------
# XLP_LANDED_COST: the table UDF
# ---------------------------------------------------------------------------------------------


def test_block_has_en_header_and_one_row_per_line(fx: list[list[Any]]) -> None:
    block = udf.XLP_LANDED_COST([EN, GOOD_DE, GOOD_JP, GOOD_US], fx, None, None, ON)
    assert_excel_safe(block)
    assert block[0] == OUT_EN
    assert len(block) == 4
    assert [r[0] for r in block[1:]] == ["EUR", "JPY", "USD"]
    assert [r[ERR] for r in block[1:]] == ["", "", ""]


def test_zh_headers_give_zh_header_and_the_same_figures(fx: list[list[Any]]) -> None:
    en = udf.XLP_LANDED_COST([EN, GOOD_DE, GOOD_JP], fx, None, None, ON)
    zh = udf.XLP_LANDED_COST([ZH, GOOD_DE, GOOD_JP], fx, None, None, ON)
    assert zh[0] == OUT_ZH
    assert zh[1:] == en[1:]


def test_figures_are_the_actions_results_rounded_for_display(fx: list[list[Any]]) -> None:
    rows = [EN, GOOD_DE, GOOD_JP, GOOD_US]
    block = udf.XLP_LANDED_COST(rows, fx, None, None, ON)
    rules, _ = rules_from_tables(ON.date(), schema.frame_from_rows(fx, FX), None, None)
    expected, _ = results_table(schema.frame_from_rows(rows, LANDED_COST), rules)
    for i, (_, want) in enumerate(expected[OUT_KEYS].iterrows(), start=1):
        got = dict(zip(OUT_KEYS, block[i], strict=True))
        for key in OUT_KEYS:
            w = want[key]
            assert got[key] == ("" if isinstance(w, float) and math.isnan(w) else w), key
    assert cell(block, 2, "landed_cost") == round(cell(block, 2, "landed_cost"))  # JPY: 0 dp


def test_bad_row_shows_its_error_and_the_others_still_compute(fx: list[list[Any]]) -> None:
    na = line(sku="NA", market="DE", unit_cost="#N/A", price=9.99)  # an error cell, as text
    block = udf.XLP_LANDED_COST([EN, GOOD_DE, BAD_DUTY, na, GOOD_US], fx, None, None, ON)
    assert_excel_safe(block)
    good = [1, 4]
    assert all(block[i][ERR] == "" for i in good)
    assert all(isinstance(cell(block, i, "landed_cost"), float) for i in good)
    bad = block[2]
    assert "关税税率" in bad[ERR] and "Duty rate" in bad[ERR]  # the column, in zh and en
    assert bad[ERR].startswith("关税税率应")  # the column by its name, not "duty_rate:"
    assert all(
        v == "" for k, v in zip(OUT_KEYS, bad, strict=True) if k not in ("currency", "error")
    )
    assert "'#N/A'" in block[3][ERR] and "Unit cost" in block[3][ERR]


def test_blank_middle_row_keeps_the_block_aligned(fx: list[list[Any]]) -> None:
    blank = [None] * len(EN)
    block = udf.XLP_LANDED_COST([EN, GOOD_DE, blank, GOOD_US], fx, None, None, ON)
    assert_excel_safe(block)
    assert len(block) == 4
    assert block[2] == [""] * len(block[2])  # a gap in the table is skipped, not "market required"
    assert block[3][ERR] == "" and block[3][0] == "USD"


def test_without_an_fx_table_the_shipped_rates_convert(fx: list[list[Any]]) -> None:
    no_table = udf.XLP_LANDED_COST([EN, GOOD_DE, GOOD_US], None, None, None, ON)
    assert no_table[1][ERR] == "" and no_table[2][ERR] == ""
    shipped = reference.fx_rates(
        reference.default_fx(), pd.Series(["CNY"]), pd.Series(["EUR"])
    ).iloc[0]
    assert cell(no_table, 1, "customs_value") == pytest.approx(12.0 * shipped + 0.6, abs=0.005)
    own_rate = list(GOOD_DE)
    own_rate[LANDED_COST.keys.index("fx_rate")] = 0.128
    with_rate = udf.XLP_LANDED_COST([EN, own_rate], None, None, None, ON)
    assert with_rate[1][ERR] == ""
    assert cell(with_rate, 1, "customs_value") == pytest.approx(12.0 * 0.128 + 0.6, abs=0.005)
    with_table = udf.XLP_LANDED_COST([EN, GOOD_DE], fx, None, None, ON)
    assert with_table[1][ERR] == ""


def test_settings_table_errors_show_on_every_row(fx: list[list[Any]]) -> None:
    bad_fx = [*fx, ["CNY", "EUR", -1.0, None, None]]
    block = udf.XLP_LANDED_COST([EN, GOOD_DE, BAD_DUTY], bad_fx, None, None, ON)
    assert_excel_safe(block)
    row_no = len(bad_fx) - 1
    for row in block[1:]:
        assert f"tblFX row {row_no}, rate: " in row[ERR]
        assert "汇率" in row[ERR] and "Rate" in row[ERR]  # the column, in zh and en
    assert isinstance(cell(block, 1, "landed_cost"), float)  # the good FX rows still apply
    assert block[2][ERR].startswith("关税税率应")  # the row's own error comes first


OVERRIDE_HEADERS = MARKET_OVERRIDES.headers("en")
PLAIN_DE = line(market="DE", unit_cost=10.0, price=20.0)


def test_market_override_errors_show_and_lines_compute() -> None:
    bad = [OVERRIDE_HEADERS, ["DE", None, 1.5, None, None, None, None, None, None, None]]
    block = udf.XLP_LANDED_COST([EN, PLAIN_DE], None, bad, None, ON)
    assert "tblMarketOverrides row 1, tax_rate: " in block[1][ERR]
    assert "税率" in block[1][ERR] and "Tax rate" in block[1][ERR]
    assert cell(block, 1, "import_vat") == 1.9  # the bad override is left out


def test_market_override_changes_a_rule() -> None:
    fob = [OVERRIDE_HEADERS, ["DE", None, None, None, "FOB", None, None, None, None, None]]
    freight = list(PLAIN_DE)
    freight[EN.index("Freight / unit")] = 2.0
    base = udf.XLP_LANDED_COST([EN, freight], None, None, None, ON)
    over = udf.XLP_LANDED_COST([EN, freight], None, fob, None, ON)
    assert (cell(base, 1, "customs_value"), cell(over, 1, "customs_value")) == (12.0, 10.0)


def test_market_override_tax_rate_applies() -> None:
    over = [OVERRIDE_HEADERS, ["DE", None, 0.07, None, None, None, None, None, None, None]]
    block = udf.XLP_LANDED_COST([EN, PLAIN_DE], None, over, None, ON)
    assert cell(block, 1, "import_vat") == 0.7


def test_nan_never_reaches_excel(fx: list[list[Any]]) -> None:
    no_target = line(market="GB", unit_cost=4.0, price=15.0)  # price_for_target_margin blank
    zero_price = line(market="GB", unit_cost=4.0, price=0.0)
    unknown = line(market="XX", unit_cost=4.0, price=15.0)
    block = udf.XLP_LANDED_COST(
        [EN, no_target, zero_price, unknown, [None] * 3], fx, None, None, ON
    )
    assert_excel_safe(block)
    assert cell(block, 1, "price_for_target_margin") == ""
    assert "未知的市场" in block[3][ERR] and "unknown market" in block[3][ERR]


def test_excel_cell_types_coerce_like_their_numbers(fx: list[list[Any]]) -> None:
    as_numbers = line(market="AU", unit_cost=10.0, price=30.0, referral_rate=0.15,
                      vat_recoverable=1.0, duty_rate=0.05)  # fmt: skip
    as_cells = line(market="au", unit_cost="10", price=30, referral_rate="15%",
                    vat_recoverable=True, duty_rate="5%")  # fmt: skip
    block = udf.XLP_LANDED_COST([EN, as_numbers, as_cells], fx, None, None, ON)
    assert block[1] == block[2]


@pytest.mark.parametrize(
    "when", [ON, ON.date(), 46023.0, "2026-01-01", "2026-01-01T00:00:00", [[ON]]]
)
def test_rules_date_accepts_excel_shapes(fx: list[list[Any]], when: Any) -> None:
    rows = [EN, GOOD_DE, GOOD_US]
    assert udf.XLP_LANDED_COST(rows, fx, None, None, when) == udf.XLP_LANDED_COST(
        rows, fx, None, None, date(2026, 1, 1)
    )


def test_rules_dates_are_remembered_by_type_and_value(fx: list[list[Any]]) -> None:
    # every one-line formula names the same date: read once, the same on every call; a date
    # that cannot be read is an error on every call, never remembered as a date
    from udfs import common

    rows = [EN, GOOD_DE]
    first = udf.XLP_LANDED_COST(rows, fx, None, None, 46023.0)
    hits = common._day_of.cache_info().hits
    assert udf.XLP_LANDED_COST(rows, fx, None, None, 46023.0) == first
    assert common._day_of.cache_info().hits == hits + 1  # read once, remembered
    assert udf.XLP_LANDED_COST(rows, fx, None, None, 46023) == first
    for _ in range(2):
        [[text]] = udf.XLP_LANDED_COST(rows, fx, None, None, "next spring")
        assert text.startswith("#XLPLAN!") and "next spring" in text
    # TRUE equals 1 as a key, but is not the serial 1 (1900-01-01): remembered by type too
    assert common.date_arg(1.0) == date(1900, 1, 1)
    assert udf.XLP_LANDED_COST(rows, fx, None, None, True)[0][0].startswith("#XLPLAN!")


def test_blank_rules_date_means_today(fx: list[list[Any]]) -> None:
    rows = [EN, GOOD_DE]
    today = udf.XLP_LANDED_COST(rows, fx, None, None, date.today())
    assert udf.XLP_LANDED_COST(rows, fx) == today
    assert udf.XLP_LANDED_COST(rows, fx, None, None, "") == today


def test_rules_date_selects_the_rules_in_force() -> None:
    # EU low-value parcels: duty exempt up to EUR 150 until 2026-07-01, then EUR 3 per parcel.
    parcel = line(market="DE", unit_cost=20.0, price=39.0, consignment_value=40.0)
    before = udf.XLP_LANDED_COST([EN, parcel], None, None, None, "2026-06-30")
    after = udf.XLP_LANDED_COST([EN, parcel], None, None, None, datetime(2026, 7, 1))
    assert cell(before, 1, "duty") == 0.0
    assert cell(after, 1, "duty") == 1.5  # EUR 3 x 20 / 40, the unit's share of the parcel


@pytest.mark.parametrize(
    "args",
    [
        (None,),
        ([[None, None]],),
        ([["not", "headers"], [1, 2]],),
        ([EN, GOOD_DE], None, None, None, "not a date"),
        ([EN, GOOD_DE], [["from", "to"], ["CNY", "EUR"]]),
    ],
)
def test_unusable_input_is_one_readable_cell(args: tuple[Any, ...]) -> None:
    block = udf.XLP_LANDED_COST(*args)
    assert len(block) == 1 and len(block[0]) == 1
    assert block[0][0].startswith("#XLPLAN! ")
    assert " / " in block[0][0]  # zh / en


def test_unexpected_exception_becomes_a_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("kaput")

    monkeypatch.setattr(udf, "results_columns", boom)
    for block in (
        udf.XLP_LANDED_COST([EN, GOOD_DE]),
        udf.XLP_LANDED_COST_LINE(EN, GOOD_DE),
        udf.XLP_IMPORT_TAXES("DE", 100.0),
        udf.XLP_PRICE_FOR_MARGIN(EN, GOOD_DE, 0.2),
    ):
        assert block == [[block[0][0]]]
        assert block[0][0].startswith("#XLPLAN! 计算失败") and "calculation failed" in block[0][0]
        assert "RuntimeError: kaput" in block[0][0]


def test_header_only_table_gives_header_only_block() -> None:
    assert udf.XLP_LANDED_COST([ZH]) == [OUT_ZH]


def test_large_table_in_one_call(fx: list[list[Any]]) -> None:
    rows = [EN, *([GOOD_DE, GOOD_JP, GOOD_US, BAD_DUTY] * 2500)]
    block = udf.XLP_LANDED_COST(rows, fx, None, None, ON)
    assert len(block) == 10_001
    assert block[1:5] * 2500 == block[1:]


# ---------------------------------------------------------------------------------------------
# The one-line UDFs: the one-row case of the same code
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [EN, ZH])
def test_line_udf_equals_the_table_row(fx: list[list[Any]], headers: list[str]) -> None:
    rows = [GOOD_DE, GOOD_JP, GOOD_US, BAD_DUTY]
    table = udf.XLP_LANDED_COST([headers, *rows], fx, None, None, ON)
    for i, row in enumerate(rows, start=1):
        assert udf.XLP_LANDED_COST_LINE(headers, row, None, fx, ON) == [table[i]]
        assert udf.XLP_LANDED_COST_LINE([headers], [row], "", fx, ON) == [table[i]]


@pytest.mark.parametrize("name", ["landed_cost", "Landed cost", "落地成本", " LANDED COST "])
def test_line_udf_picks_one_output_by_key_or_header(fx: list[list[Any]], name: str) -> None:
    table = udf.XLP_LANDED_COST([EN, GOOD_DE], fx, None, None, ON)
    assert udf.XLP_LANDED_COST_LINE(EN, GOOD_DE, name, fx, ON) == [[cell(table, 1, "landed_cost")]]


def test_line_udf_every_single_output_is_the_table_cell(fx: list[list[Any]]) -> None:
    """Each output picked alone (text or number, blank or not) is the cell the table shows."""
    rows = [GOOD_DE, GOOD_JP, GOOD_US]
    table = udf.XLP_LANDED_COST([EN, *rows], fx, None, None, ON)
    for i, row in enumerate(rows, start=1):
        for key in OUT_KEYS:
            assert udf.XLP_LANDED_COST_LINE(EN, row, key, fx, ON) == [[cell(table, i, key)]], key


def test_line_udf_single_output_of_a_bad_line_is_its_error(fx: list[list[Any]]) -> None:
    [[text]] = udf.XLP_LANDED_COST_LINE(EN, BAD_DUTY, "duty", fx, ON)
    assert text.startswith("#XLPLAN! 关税税率应") and "Duty rate" in text
    [[text]] = udf.XLP_LANDED_COST_LINE(EN, GOOD_DE, "no such output", fx, ON)
    assert text.startswith("#XLPLAN! 未知的输出列")


def test_line_udf_short_row_and_blank_row() -> None:
    short = GOOD_US[: LANDED_COST.keys.index("price") + 1]  # the trailing optional cells left off
    [row] = udf.XLP_LANDED_COST_LINE(EN, short, None, None, ON)
    assert row[ERR] == ""
    assert udf.XLP_LANDED_COST_LINE(EN, [None] * len(EN), None, None, ON) == [[""] * len(OUT_KEYS)]
    assert udf.XLP_LANDED_COST_LINE(EN, [None] * len(EN), "duty", None, ON) == [[""]]


@pytest.mark.parametrize(
    ("row", "target"),
    [(GOOD_DE, 0.2), (GOOD_DE, 0.0), (GOOD_JP, 0.15), (GOOD_US, 0.3), (GOOD_US, -0.1)],
)
def test_price_for_margin_fed_back_gives_the_margin(
    fx: list[list[Any]], row: list[Any], target: float
) -> None:
    [[price]] = udf.XLP_PRICE_FOR_MARGIN(EN, row, target, fx, ON)
    assert isinstance(price, float) and price > 0
    fed = list(row)
    fed[EN.index("Price")] = price
    # Unrounded margin at the rounded price: off by at most half a minor unit of the price.
    rules, _ = rules_from_tables(ON.date(), schema.frame_from_rows(fx, FX), None,
                                         None)  # fmt: skip
    result = compute_lines(schema.frame_from_rows([EN, fed], LANDED_COST), rules)
    half_unit = 0.5 if row is GOOD_JP else 0.005
    margin = result[0]["contribution_margin"].iloc[0]
    assert margin == pytest.approx(target, abs=2 * half_unit / price)
    # And the table UDF, with the target in the row, shows the same price.
    with_target = list(row)
    with_target[EN.index("Target margin")] = target
    table = udf.XLP_LANDED_COST([EN, with_target], fx, None, None, ON)
    assert cell(table, 1, "price_for_target_margin") == price


def test_price_for_margin_exact_before_rounding(fx: list[list[Any]]) -> None:
    rules, _ = rules_from_tables(ON.date(), schema.frame_from_rows(fx, FX), None,
                                         None)  # fmt: skip
    lines = schema.frame_from_rows([EN, GOOD_DE, GOOD_JP, GOOD_US], LANDED_COST)
    lines["target_margin"] = 0.2
    prices = compute_lines(lines, rules)[0]["price_for_target_margin"]
    lines["price"] = prices.to_numpy()
    margins = compute_lines(lines, rules)[0]["contribution_margin"]
    assert margins.to_numpy() == pytest.approx([0.2] * 3, abs=1e-9)


def test_price_for_margin_errors_are_readable(fx: list[list[Any]]) -> None:
    [[text]] = udf.XLP_PRICE_FOR_MARGIN(EN, GOOD_DE, 0.9, fx, ON)  # fees take > 10 % of price
    assert text.startswith("#XLPLAN! ") and "target margin" in text and "目标利润率" in text
    [[text]] = udf.XLP_PRICE_FOR_MARGIN(EN, GOOD_DE, None, fx, ON)
    assert text == "#XLPLAN! 目标利润率为必填项 / target margin is required"


# Hand-worked import charges [market ccy/unit]; rules in force on the date (xlplan/data).
IMPORT_CASES = [
    # DE, CIF: customs 100 + 10 = 110; duty 4 % = 4.40; VAT 19 % x (110 + 4.40) = 21.736.
    (("DE", 100.0, 10.0, 0.04, 0.0, None, ON), [110.0, 4.4, 21.74]),
    # FR, VAT 20 %: 0.2 x 114.40 = 22.88.
    (("FR", 100.0, 10.0, 0.04, None, None, "2026-01-01"), [110.0, 4.4, 22.88]),
    # Extra duty stacks: 110 x (0.04 + 0.25) = 31.90; VAT 0.19 x 141.90 = 26.961.
    (("DE", 100.0, 10.0, 0.04, 0.25, None, ON), [110.0, 31.9, 26.96]),
    # DE parcel of EUR 120 <= 150 before 2026-07-01: duty exempt, VAT collected at sale (IOSS).
    (("DE", 100.0, 10.0, 0.04, 0.0, 120.0, ON), [110.0, 0.0, 0.0]),
    # From 2026-07-01: EUR 3 per parcel; the unit's share 3 x 110 / 120 = 2.75.
    (("DE", 100.0, 10.0, 0.04, 0.0, 120.0, datetime(2026, 7, 1)), [110.0, 2.75, 0.0]),
    # AU, FOB: customs 100; duty 5; GST 10 % x (100 + 5 + 10 transport) = 11.50.
    (("AU", 100.0, 10.0, 0.05, 0.0, None, ON), [100.0, 5.0, 11.5]),
]


@pytest.mark.parametrize(("args", "expected"), IMPORT_CASES)
def test_import_taxes_hand_worked(args: tuple[Any, ...], expected: list[float]) -> None:
    assert udf.XLP_IMPORT_TAXES(*args) == [expected]


def test_import_taxes_defaults_and_errors() -> None:
    assert udf.XLP_IMPORT_TAXES("DE", 100.0, rules_date=ON) == [[100.0, 0.0, 19.0]]
    [[text]] = udf.XLP_IMPORT_TAXES("XX", 100.0, rules_date=ON)
    assert text.startswith("#XLPLAN! ") and "未知的市场" in text and "unknown market" in text
    [[text]] = udf.XLP_IMPORT_TAXES("DE", -5.0, rules_date=ON)
    assert "单位采购成本" in text and "Unit cost" in text


def test_import_taxes_low_value_threshold_in_another_currency(fx: list[list[Any]]) -> None:
    # MX thresholds are in USD: the MXN parcel value is converted (the shipped rates without
    # an FX table, the table's when given) before the tiers compare it.
    [shipped] = udf.XLP_IMPORT_TAXES("MX", 500.0, 0, 0.1, 0, 800.0, ON)
    [row] = udf.XLP_IMPORT_TAXES("MX", 500.0, 0, 0.1, 0, 800.0, ON, fx)
    assert all(isinstance(v, float) for v in (*shipped, *row))


# ---------------------------------------------------------------------------------------------
# The template's own formula
# ---------------------------------------------------------------------------------------------


def _top_level_args(text: str) -> list[str]:
    args, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    return [*args, current.strip()]


def test_template_formula_calls_the_table_udf_with_its_nine_arguments() -> None:
    formula = landed_cost_sheets.landed_cost_formula()
    match = re.fullmatch(r"=IFERROR\((XLP_[A-Z_]+)\((.*?)\),IF\(ISREF\(.*\)\)", formula)
    assert match, formula
    name, inner = match.groups()
    assert name == "XLP_LANDED_COST" and hasattr(udf, name)
    args = _top_level_args(inner)
    assert args == [
        f"{LANDED_COST.name}[#All]",
        f"{FX.name}[#All]",
        f"{MARKET_OVERRIDES.name}[#All]",
        f"{LOW_VALUE_OVERRIDES.name}[#All]",
        "RulesDate",
        f"{TARIFF.name}[#All]",
        f"{ENTRY_FEE_OVERRIDES.name}[#All]",
        f"{ROUNDING_OVERRIDES.name}[#All]",
        f"{FEE_OVERRIDES.name}[#All]",
    ]
    params = list(inspect.signature(udf.XLP_LANDED_COST).parameters)
    assert params == [
        "lines",
        "fx",
        "market_overrides",
        "low_value_overrides",
        "rules_date",
        "tariff",
        "entry_fees",
        "rounding",
        "fee_overrides",
    ]


# ---------------------------------------------------------------------------------------------
# XLP_LANDED_COST with a tariff table, and XLP_SCENARIOS
# ---------------------------------------------------------------------------------------------

US_CN = line(
    sku="PB", market="US", unit_cost=20.0, cost_currency="USD", price=60.0, hs_code="8507.60.00",
    origin="CN", planned_units=10,
)  # fmt: skip
MARCH = datetime(2026, 3, 1)


def test_tariff_argument_joins_the_shipped_tariff(fx: list[list[Any]]) -> None:
    def extra(*rows: list[Any]) -> float:
        tariff = [TARIFF.headers("en"), *rows] if rows else None
        block = udf.XLP_LANDED_COST([EN, US_CN], fx, None, None, MARCH, tariff)
        value: float = cell(block, 1, "extra_duty")
        return value

    assert extra() == pytest.approx(7.0)  # s.301 25% + s.122 10% on US$20
    # a measure of its own stacks; the shipped s.301 row is longer than a 6-digit one of the
    # same measure, and loses to a workbook row of its own length
    assert extra(["850760", "US", "CN", None, 0.5, "my_measure"]) == pytest.approx(17.0)
    assert extra(["850760", "US", "CN", None, 0.5, "us_s301"]) == pytest.approx(7.0)
    assert extra(["85076000", "US", "CN", None, 0.5, "us_s301"]) == pytest.approx(12.0)


def test_scenarios_block_side_by_side(fx: list[list[Any]]) -> None:
    scenarios = [
        SCENARIOS.headers("en"),
        ["US-CN 15%", "extra_duty", "US", "CN", None, None, None, None, "15%", None],
    ]
    block = udf.XLP_SCENARIOS([EN, US_CN, GOOD_DE], scenarios, fx, None, None, MARCH)
    assert_excel_safe(block)
    head = block[0]
    assert head[:4] == ["SKU", "Market", "Channel", "Currency"]
    assert head[4:7] == ["Landed cost [base]", "Contribution margin [base]",
                         "Break-even price [base]"]  # fmt: skip
    assert head[7] == "Landed cost [US-CN 15%]" and head[-1] == "Error"
    assert len(block) == 4  # header, two lines, the weighted margin
    us = block[1]
    assert us[7] - us[4] == pytest.approx(20 * (0.15 - 0.35))  # 35% of extra duty became 15%
    assert block[2][4] == block[2][7]  # DE untouched
    last = block[-1]
    assert last[0] == "plan weighted margin" and last[3] == "CNY"
    assert isinstance(last[5], float) and isinstance(last[8], float) and last[8] > last[5]


def test_scenarios_block_reports_a_bad_rule_in_every_error_cell(fx: list[list[Any]]) -> None:
    scenarios = [
        SCENARIOS.headers("en"),
        ["x", "teleport", "US", None, None, None, None, None, "1", None],
    ]
    block = udf.XLP_SCENARIOS([EN, US_CN], scenarios, fx, None, None, MARCH)
    assert_excel_safe(block)
    assert block[0][4:] == ["Landed cost [base]", "Contribution margin [base]",
                            "Break-even price [base]", "Error"]  # fmt: skip
    assert "tblScenarios row 1, rule" in block[1][-1] and "unknown scenario rule" in block[1][-1]


# ---------------------------------------------------------------------------------------------
# XLP_LANDED_COST with the Fee overrides table, as `xlplan run` applies it
# ---------------------------------------------------------------------------------------------

JEWELRY_10 = {
    "fee_table": "referral",
    "marketplace": "US",
    "item": "Jewelry",
    "rate": 0.10,
    "min_fee": 0.30,
    "currency": "USD",
    "effective_from": datetime(2026, 1, 1),
    "source": "own contract",
    "uncertain": False,
}
"""A seller's own referral rate for US jewelry: 10% instead of the shipped 20% / 5% tiers."""


def _argument(wb: Any, arg: str) -> Any:
    """What Excel passes for a ``tblX[#All]`` reference or a defined name."""
    m = re.fullmatch(r"(tbl\w+)\[#All\]", arg)
    if m:
        for ws in wb.worksheets:
            if m.group(1) in ws.tables:
                return [[c.value for c in r] for r in ws[ws.tables[m.group(1)].ref]]
        raise AssertionError(f"no table {m.group(1)}")
    ((sheet, ref),) = list(wb.defined_names[arg].destinations)
    return wb[sheet][ref.replace("$", "")].value


def test_a_fee_override_row_changes_the_udf_as_it_changes_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    wb = openpyxl.load_workbook(src)
    settings = wb["Settings"]
    first = settings[settings.tables[FEE_OVERRIDES.name].ref][1][0].row
    for key, value in JEWELRY_10.items():
        settings.cell(first, FEE_OVERRIDES.keys.index(key) + 1).value = value
    sheet = wb["Landed Cost"]
    top = sheet[sheet.tables[LANDED_COST.name].ref][1][0].row
    jewelry = {"market": "US", "cost_currency": "USD", "category": "Jewelry", "price": 300,
               "referral_rate": None, "referral_min": None}  # fmt: skip
    for key, value in jewelry.items():
        sheet.cell(top, LANDED_COST.keys.index(key) + 1).value = value
    wb.save(src)
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "--action", "landed_cost", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    results = openpyxl.load_workbook(out, data_only=True)["Landed Cost Results"]
    ref = results.tables[LANDED_COST_RESULTS.name].ref
    cli = [dict(zip(LANDED_COST_RESULTS.keys, (c.value for c in r), strict=True))
           for r in results[ref]][1:]  # fmt: skip

    call = landed_cost_sheets.LANDED_COST_CALL
    names = call[call.index("(") + 1 : -1].split(",")
    assert names[-1] == "tblFeeOverrides[#All]"  # the template's formula passes the table
    wb = openpyxl.load_workbook(src, data_only=True)
    args = [_argument(wb, a) for a in names]
    block = udf.XLP_LANDED_COST(*args)
    without = udf.XLP_LANDED_COST(*args[:-1])
    assert len(block) == len(cli) + 1
    for row, shown in zip(block[1:], cli, strict=True):
        for key in OUT_KEYS:
            want = shown[key]
            assert row[OUT_KEYS.index(key)] == ("" if want is None else want), (key, row)
    # US jewelry at US$300: 10% from the override row, US$52.50 from the shipped tiers
    assert cell(block, 1, "referral_fee") == 30.0 and cell(without, 1, "referral_fee") == 52.5
    assert "tblFeeOverrides:1" in cell(block, 1, "fee_rules").split(";")
    assert "tblFeeOverrides" not in cell(without, 1, "fee_rules")


def test_scenarios_take_the_fee_overrides_as_the_table_udf(fx: list[list[Any]]) -> None:
    jewelry = line(sku="RING", market="US", channel="Amazon", unit_cost=40.0,
                   cost_currency="USD", price=300.0, category="Jewelry")  # fmt: skip
    overrides = [FEE_OVERRIDES.headers("en"), [JEWELRY_10.get(k) for k in FEE_OVERRIDES.keys]]
    scenarios = [SCENARIOS.headers("en")]
    args = ([EN, jewelry], scenarios, fx, None, None, ON, None, None, None, None, None)
    with_row = udf.XLP_SCENARIOS(*args, overrides)
    without = udf.XLP_SCENARIOS(*args)
    table = udf.XLP_LANDED_COST([EN, jewelry], fx, None, None, ON, None, None, None, overrides)
    margin = with_row[0].index("Contribution margin [base]")
    assert with_row[1][margin] == cell(table, 1, "contribution_margin")
    assert with_row[1][margin] > without[1][margin]  # 10% referral instead of 17.5%
