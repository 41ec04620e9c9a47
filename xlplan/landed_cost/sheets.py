"""How the landed-cost sheets look: the Landed Cost input sheet with its live
``XLP_LANDED_COST`` block, the Market Rules sheet (the shipped rules with dates and sources),
and the example lines a worked-example plan starts with."""

from __future__ import annotations

from typing import Any

import pandas as pd

from xlplan import reference
from xlplan.landed_cost.tables import (
    ENTRY_FEE_RULES,
    LANDED_COST,
    LANDED_COST_OUTPUT_COLUMNS,
    LANDED_COST_SHEET,
    LOW_VALUE_RULES,
    MARKET_RULES,
    ROUNDING_RULES,
    SCENARIO_SELECTION,
    SCENARIOS,
    SCENARIOS_SHEET,
    TARIFF_RULES,
)
from xlplan.workbook.render import (
    FIRST_DATA_ROWS,
    INPUTS,
    Formats,
    format_money_by_currency,
    page_setup,
    udf_formula,
    write_table,
    write_tables_sheet,
    write_title,
    write_udf_anchor,
    write_udf_block,
)
from xlplan.workbook.schema import Kind, Table


def sample_lines() -> pd.DataFrame:
    """The example lines of the worked-example plan (the user overwrites them)."""
    frame = pd.DataFrame(SAMPLE_LINES, columns=LANDED_COST.keys[: len(SAMPLE_LINES[0])])
    customs = pd.DataFrame(SAMPLE_CUSTOMS)
    return pd.concat([frame, customs], axis=1).reindex(columns=LANDED_COST.keys)


SAMPLE_CUSTOMS: list[dict[str, object]] = [
    {"origin": "CN", "hs_code": "8507.60.00"},
    {"origin": "CN", "hs_code": "8507.60.00"},
    {"origin": "CN", "hs_code": "8544.42.90"},
    {"origin": "CN", "hs_code": "8544.42.90"},
]
"""Origin and HS code of the example lines (a power bank, a USB-C cable)."""

SAMPLE_LINES: list[tuple[object, ...]] = [
    # sku, market, channel, unit_cost, cost_ccy, fx, freight, insurance, duty, extra, vat,
    # recoverable, clearance, consignment, last_mile, storage, price, ref_rate, ref_min,
    # pay_rate, pay_fixed, fx_loss, return_rate, return_cost, unsellable, lost, ad, target
    (
        "PB-10K",
        "US",
        "Amazon",
        62.0,
        "CNY",
        None,
        0.85,
        0.02,
        0.0,
        0.30,
        None,
        None,
        0.10,
        None,
        4.20,
        0.35,
        29.99,
        0.15,
        0.30,
        0.0,
        0.0,
        0.015,
        0.08,
        1.50,
        0.30,
        0.005,
        0.12,
        0.20,
    ),
    (
        "PB-10K",
        "DE",
        "Amazon",
        62.0,
        "CNY",
        None,
        0.80,
        0.02,
        0.0,
        0.0,
        None,
        None,
        0.12,
        None,
        3.60,
        0.30,
        32.99,
        0.15,
        0.30,
        0.0,
        0.0,
        0.015,
        0.10,
        1.50,
        0.30,
        0.005,
        0.10,
        0.20,
    ),
    (
        "CB-USBC-2M",
        "JP",
        "Amazon",
        9.5,
        "CNY",
        None,
        35.0,
        1.0,
        0.0,
        0.0,
        None,
        None,
        10.0,
        None,
        318.0,
        20.0,
        1480.0,
        0.10,
        30.0,
        0.0,
        0.0,
        0.015,
        0.06,
        150.0,
        0.30,
        0.005,
        0.10,
        0.20,
    ),
    (
        "CB-USBC-2M",
        "MX",
        "Mercado Libre",
        9.5,
        "CNY",
        None,
        5.0,
        0.2,
        0.0,
        0.0,
        None,
        None,
        None,
        180.0,
        65.0,
        4.0,
        249.0,
        0.16,
        0.0,
        0.0,
        0.0,
        0.015,
        0.08,
        25.0,
        0.40,
        0.02,
        0.08,
        0.20,
    ),
]


def write_landed_cost_sheet(wb: Any, fmt: Formats, lang: str, lines: pd.DataFrame | None) -> Any:
    """The Landed Cost input sheet: the lines table, and beside it the live result block."""
    ws = wb.add_worksheet(LANDED_COST_SHEET.title(lang))
    write_title(ws, fmt, lang, LANDED_COST_SHEET.heading, LANDED_COST_SHEET.note)
    top = 5
    table = LANDED_COST
    write_table(wb, ws, fmt, table, lines, lang, top, 0)
    anchor_col = len(table.columns) + 1
    out_cols = LANDED_COST_OUTPUT_COLUMNS
    write_udf_block(ws, fmt, lang, anchor_col, top, LANDED_COST_CALL, out_cols)
    margin_col = anchor_col + [c.key for c in out_cols].index("contribution_margin")
    error_col = anchor_col + len(out_cols) - 1
    first, last = top + 1, top + FIRST_DATA_ROWS
    money = [anchor_col + j for j, c in enumerate(out_cols) if c.kind is Kind.MONEY]
    format_money_by_currency(ws, fmt, anchor_col, money, first, last)
    ws.conditional_format(
        first,
        margin_col,
        last,
        margin_col,
        {"type": "cell", "criteria": "<", "value": 0, "format": fmt.bad},
    )
    ws.conditional_format(
        first, error_col, last, error_col, {"type": "no_blanks", "format": fmt.error_text}
    )
    ws.write_string(top - 2, 0, "■ " + INPUTS.text(lang), fmt.input_legend)
    ws.freeze_panes(top + 1, 2)
    ws.set_row(top, 45)
    page_setup(ws, fmt, header_row=top, breaks_before=[anchor_col - 1])
    return ws


LANDED_COST_CALL = (
    "XLP_LANDED_COST(tblLandedCost[#All],tblFX[#All],tblMarketOverrides[#All],"
    "tblLowValueOverrides[#All],RulesDate,tblTariff[#All],tblEntryFees[#All],"
    "tblRounding[#All],tblFeeOverrides[#All])"
)
"""The table UDF call the Landed Cost sheet carries beside its input table."""


def landed_cost_formula() -> str:
    """:data:`LANDED_COST_CALL` as the sheet holds it (saying why when the add-in is missing)."""
    return udf_formula(LANDED_COST_CALL)


def _numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        out[col] = pd.to_numeric(out[col].replace("", None), errors="coerce")
    return out


def market_rules_frames() -> list[tuple[Table, pd.DataFrame]]:
    """The Market Rules sheet's tables: every shipped market, low-value, tariff, entry-fee and
    rounding rule, all periods (the UK Global Tariff extract is used, not listed)."""
    markets = _numbers(reference.market_history(), ("tax_rate",))
    regimes = _numbers(reference.regime_history(), ("min_value", "max_value", "rate", "amount"))
    tariff = _numbers(reference.tariff_history(), ("duty_rate", "extra_duty_rate"))
    fees = _numbers(
        reference.entry_fee_history(),
        ("min_value", "max_value", "rate", "min_amount", "max_amount", "flat_amount"),
    )
    rounding = _numbers(reference.rounding_history(), ("increment",))
    return [
        (MARKET_RULES, markets),
        (LOW_VALUE_RULES, regimes),
        (TARIFF_RULES, tariff),
        (ENTRY_FEE_RULES, fees),
        (ROUNDING_RULES, rounding),
    ]


SAMPLE_SCENARIOS: list[dict[str, object]] = [
    {
        "scenario": "US-CN 10%",
        "rule": "extra_duty",
        "market": "US",
        "origin": "CN",
        "value": "10%",
        "note": "US extra duties on CN-origin goods, all measures together, at 10%",
    },
    {
        "scenario": "US-CN 15%",
        "rule": "extra_duty",
        "market": "US",
        "origin": "CN",
        "value": "15%",
        "note": "the same at 15%",
    },
    {
        "scenario": "EU EUR 3 off",
        "rule": "low_value",
        "market": "EU",
        "measure": "flat_per_subheading",
        "value": "FALSE",
        "note": "the EU's EUR 3 per subheading does not apply",
    },
    {
        "scenario": "CNY +5%",
        "rule": "fx",
        "from_currency": "CNY",
        "to_currency": "USD",
        "value": "0.147",
        "note": "the yuan 5% dearer against the dollar",
    },
]
"""The example scenarios of a new plan (the user overwrites them)."""


def sample_scenarios() -> pd.DataFrame:
    """The example Scenarios rows."""
    return pd.DataFrame(SAMPLE_SCENARIOS).reindex(columns=SCENARIOS.keys)


def scenarios_formula() -> str:
    """The side-by-side UDF call the Scenarios sheet carries beside its tables."""
    return (
        "XLP_SCENARIOS(tblLandedCost[#All],tblScenarios[#All],tblFX[#All],"
        "tblMarketOverrides[#All],tblLowValueOverrides[#All],RulesDate,tblTariff[#All],"
        "tblEntryFees[#All],tblRounding[#All],tblScenarioSelection[#All],ReportingCurrency,"
        "tblFeeOverrides[#All])"
    )


def write_scenarios_sheet(
    wb: Any, fmt: Formats, lang: str, rows: pd.DataFrame | None = None
) -> Any:
    """The Scenarios sheet: which scenarios to compare, their rules, and beside them the live
    ``XLP_SCENARIOS`` block (each line under every scenario, side by side)."""
    ws = write_tables_sheet(
        wb,
        fmt,
        SCENARIOS_SHEET,
        [(SCENARIO_SELECTION, None), (SCENARIOS, sample_scenarios() if rows is None else rows)],
        lang,
        output=False,
    )
    write_udf_anchor(ws, fmt, len(SCENARIOS.columns) + 1, 5, scenarios_formula())
    return ws
