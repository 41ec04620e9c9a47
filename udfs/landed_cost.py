"""Landed-cost UDFs: the whole table in one call (``XLP_LANDED_COST``) and its one-line forms
(``XLP_LANDED_COST_LINE``, ``XLP_IMPORT_TAXES``, ``XLP_PRICE_FOR_MARGIN``), all through
:func:`xlplan.landed_cost.action.results_columns` (the results table's columns): a scalar UDF is
the one-row case of the table UDF, never a second implementation. ``XLP_SCENARIOS`` shows the
lines under every rule scenario side by side, through
:func:`xlplan.landed_cost.action.scenario_tables` (as the Scenarios action).

Settings-table errors (FX, market overrides, low-value overrides): the bad settings rows are
left out and every output row's ``error`` cell ends with ``tblFX row 2, rate: 中文 / English``,
because every line was computed without them. The output block keeps exactly one row per input
row, so it stays aligned with the input table it sits beside.

Argument and return annotations are ``Any`` / ``list[list[Any]]`` on purpose: on Windows
xlwings turns a UDF's type hints into converters, and only registered types (``Any``, ``list``,
``float``...) have one; ``X | None`` would break the call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from udfs.common import (
    CATEGORY,
    DOC_DATE,
    DOC_FX,
    ERROR_PREFIX,
    RAW_RET,
    RAW_TABLE_ARG,
    ROW_ARG,
    TABLE_ARG,
    Block,
    date_arg,
    flat,
    is_blank,
    language_of,
    locate_setting,
    never_raises,
    raw_table,
    rows_of,
    scalar,
    table_from_rows,
    table_of,
)
from xlplan.core.errors import InputError, Message, concat_errors, format_error, records
from xlplan.landed_cost.action import (
    ResultColumns,
    results_columns,
    rules_from_tables,
    scenario_rows,
    scenario_tables,
    selected_scenarios,
)
from xlplan.landed_cost.calc import OUTPUT_KEYS as _OUTPUT_KEYS
from xlplan.landed_cost.scenarios import BASE
from xlplan.landed_cost.tables import (
    ENTRY_FEE_OVERRIDES,
    FEE_OVERRIDES,
    LANDED_COST,
    LANDED_COST_OUTPUT_COLUMNS,
    LOW_VALUE_OVERRIDES,
    MARKET_OVERRIDES,
    ROUNDING_OVERRIDES,
    SCENARIO_RESULTS,
    SCENARIO_SELECTION,
    SCENARIOS,
    TARIFF,
)
from xlplan.plan.tables import FX
from xlplan.reference import Rules
from xlplan.workbook.schema import normalise_header

OUTPUT_COLUMNS = LANDED_COST_OUTPUT_COLUMNS
OUTPUT_KEYS = list(_OUTPUT_KEYS)
TEXT_OUTPUTS = ("currency", "size_tier", "flags", "fee_rules", "error")
NUMERIC_OUTPUTS = [k for k in OUTPUT_KEYS if k not in TEXT_OUTPUTS]
_NUMERIC_AT = [OUTPUT_KEYS.index(k) for k in NUMERIC_OUTPUTS]
IMPORT_TAX_OUTPUTS = ("customs_value", "duty", "import_vat")
"""What XLP_IMPORT_TAXES returns; ``duty`` there is every duty of the unit (base and extra)."""
PLACEHOLDER_PRICE = 1.0
"""Price [market ccy/unit] of the one-line table behind :func:`XLP_IMPORT_TAXES`. The import
outputs (customs value, duty, import tax) do not depend on the price; the calculator only
requires a positive one."""


RULES_CACHE = 32
LINES_CACHE = 4096
_rules_cache: OrderedDict[Hashable, tuple[Any, pd.DataFrame]] = OrderedDict()
_lines_cache: OrderedDict[Hashable, Block] = OrderedDict()


def _content(value: Any) -> Hashable:
    """A hashable stand-in for what xlwings handed over (a table's cells, a scalar): equal
    content, equal key. Values that cannot be keyed give a key that never repeats."""
    if isinstance(value, list | tuple):
        if not value or not isinstance(value[0], list | tuple):  # a row: keyed in one pass
            row = tuple(zip(map(type, value), value, strict=True))  # TRUE is not 1
            try:
                hash(row)
            except TypeError:  # a cell that cannot be keyed, or a row inside
                return tuple(_content(v) for v in value)
            return row
        return tuple(_content(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return object()
    return (type(value).__name__, value)


def _remember(cache: OrderedDict[Hashable, Any], key: Hashable, size: int, make: Any) -> Any:
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = make()
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)
    return value


def _rules(
    day: date,
    fx: Any,
    market_overrides: Any,
    low_value_overrides: Any,
    tariff: Any = None,
    entry_fees: Any = None,
    rounding: Any = None,
    fee_overrides: Any = None,
) -> tuple[Any, pd.DataFrame]:
    """The rules in force on ``day`` with the settings tables applied, cached by the tables'
    content and the day: Excel calls a one-line function once per formula, and rebuilding
    the rules from the reference tables costs far more than computing the line."""
    key = (
        day,
        _content(fx),
        _content(market_overrides),
        _content(low_value_overrides),
        _content(tariff),
        _content(entry_fees),
        _content(rounding),
        _content(fee_overrides),
    )
    return _remember(  # type: ignore[no-any-return]
        _rules_cache,
        key,
        RULES_CACHE,
        lambda: rules_from_tables(
            day,
            table_of(fx, FX),
            table_of(market_overrides, MARKET_OVERRIDES),
            table_of(low_value_overrides, LOW_VALUE_OVERRIDES),
            table_of(tariff, TARIFF),
            table_of(entry_fees, ENTRY_FEE_OVERRIDES),
            table_of(rounding, ROUNDING_OVERRIDES),
            table_of(fee_overrides, FEE_OVERRIDES),
        ),
    )


def _one_line(name: str, args: tuple[Any, ...], when: Any, compute: Any) -> Block:
    """A one-line function's result, cached by its arguments' content and the rules date
    (a recalculation recomputes only the lines that changed); a copy, so Excel's side never
    shares the cached rows."""
    key = (name, date_arg(when), _content(args))
    rows: Block = _remember(_lines_cache, key, LINES_CACHE, compute)
    return [list(row) for row in rows]


def _landed_cost(
    lines: pd.DataFrame,
    fx: Any,
    market_overrides: Any,
    low_value_overrides: Any,
    when: Any,
    tariff: Any = None,
    entry_fees: Any = None,
    rounding: Any = None,
    fee_overrides: Any = None,
) -> ResultColumns:
    """The results table's columns (:func:`results_columns`: the outputs rounded for display,
    with the lines' labels), one row per line, settings errors in ``error``; :func:`_cells`
    reads its output columns."""
    rules, setting_errors = _rules(
        date_arg(when),
        fx,
        market_overrides,
        low_value_overrides,
        tariff,
        entry_fees,
        rounding,
        fee_overrides,
    )
    out, _ = results_columns(lines, rules)
    if len(setting_errors):
        note = "; ".join(format_error(r, "both", locate_setting) for r in records(setting_errors))
        errors = np.array(["" if pd.isna(e) else str(e) for e in out["error"]], dtype=object)
        out["error"] = np.where(errors == "", errors, errors + "; ") + note
    return out


def _cells(out: ResultColumns) -> Block:
    """The output columns' rows as lists of Python values; NaN and infinities become ``""``."""
    if not len(out["error"]):
        return []
    numbers = np.vstack([np.asarray(out[k]) for k in NUMERIC_OUTPUTS]).T + 0.0  # + 0.0: -0.0 as 0.0
    cells = np.empty((len(numbers), len(OUTPUT_KEYS)), dtype=object)
    shown = numbers.astype(object)  # Python floats
    shown[~np.isfinite(numbers)] = ""
    cells[:, _NUMERIC_AT] = shown
    for key in TEXT_OUTPUTS:
        text = np.asarray(out[key])
        cells[:, OUTPUT_KEYS.index(key)] = np.where(pd.isna(text), "", text)
    rows: Block = cells.tolist()
    return rows


def _cell(out: ResultColumns, key: str) -> Any:
    """The first line's output ``key`` as :func:`_cells` shows it."""
    value = out[key][0]
    if key in TEXT_OUTPUTS:
        return "" if pd.isna(value) else value
    number = float(value) + 0.0  # -0.0 as 0.0
    return number if np.isfinite(number) else ""


def _header(lang: str) -> list[Any]:
    return [c.header(lang) for c in OUTPUT_COLUMNS]


def _line(headers: Any, values: Any) -> pd.DataFrame:
    """A one-line table from the table's header row and one data row."""
    head = flat(headers)
    vals = flat(values)
    vals = vals + [None] * (len(head) - len(vals))
    frame = table_of([head, vals], LANDED_COST, required=True)
    assert frame is not None  # required=True raises instead
    return frame


def _one(out: ResultColumns, key: str) -> Block:
    """The single output ``key`` of a one-line result, or that line's error text."""
    if not len(out["error"]):
        return [[""]]
    value, error = _cell(out, key), _cell(out, "error")  # the two cells, not the whole row
    if value == "" and error:
        return [[f"{ERROR_PREFIX} {error}"]]
    return [[value]]


def _output_key(name: Any) -> str:
    wanted = normalise_header(scalar(name))
    for c in OUTPUT_COLUMNS:
        if wanted in {normalise_header(t) for t in (c.key, c.zh, c.en)}:
            return c.key
    raise InputError(
        f"未知的输出列: '{scalar(name)}'（可用: {', '.join(OUTPUT_KEYS)}）",
        f"unknown output: '{scalar(name)}' (available: {', '.join(OUTPUT_KEYS)})",
    )


DOC_FEE_OVERRIDES = (
    "平台费用覆盖表 tblFeeOverrides[#All]；可省略 / marketplace fee overrides, "
    "tblFeeOverrides[#All]; optional"
)
_DOC_HEADERS = "落地成本表的表头行 tblLandedCost[#Headers] / header row of the Landed Cost table"
_DOC_VALUES = "同表的一行数据 tblLandedCost[@] / one data row of that table"


@xw.func(category=CATEGORY)
@xw.arg(
    "lines", doc="落地成本表（含表头）tblLandedCost[#All] / lines with headers", **RAW_TABLE_ARG
)
@xw.arg("fx", doc=DOC_FX, **TABLE_ARG)
@xw.arg(
    "market_overrides",
    doc="市场规则覆盖表 tblMarketOverrides[#All]；可省略 / market overrides; optional",
    **TABLE_ARG,
)
@xw.arg(
    "low_value_overrides",
    doc="低货值规则覆盖表 tblLowValueOverrides[#All]；可省略 / low-value overrides; optional",
    **TABLE_ARG,
)
@xw.arg("rules_date", doc=DOC_DATE)
@xw.arg("tariff", doc="税则表 tblTariff[#All]；可省略 / tariff rows; optional", **TABLE_ARG)
@xw.arg(
    "entry_fees",
    doc="报关费用覆盖表 tblEntryFees[#All]；可省略 / entry fee overrides; optional",
    **TABLE_ARG,
)
@xw.arg(
    "rounding",
    doc="进位规则覆盖表 tblRounding[#All]；可省略 / rounding overrides; optional",
    **TABLE_ARG,
)
@xw.arg("fee_overrides", doc=DOC_FEE_OVERRIDES, **TABLE_ARG)
@xw.ret(**RAW_RET)
@never_raises
def XLP_LANDED_COST(
    lines: Any,
    fx: Any = None,
    market_overrides: Any = None,
    low_value_overrides: Any = None,
    rules_date: Any = None,
    tariff: Any = None,
    entry_fees: Any = None,
    rounding: Any = None,
    fee_overrides: Any = None,
) -> Block:
    """落地成本、利润瀑布与保本/目标售价：整表一次计算并溢出 / Landed cost, margin waterfall,
    break-even and target-margin prices for the whole table in one spilled block.

    Returns a header row (zh when the input headers are zh, else en) and one row per input
    line: currency, then money per unit sold in the market currency [market ccy/unit]
    (customs_value, duty_base, duty, extra_duty, vat_base, import_vat, entry_fees ...
    contribution), contribution_margin [fraction], breakeven_price and
    price_for_target_margin [market ccy/unit], and error (bilingual; blank when the line is
    clean). Money is rounded half-up to the currency's minor unit, margins to 4 decimals.
    The tariff, entry-fee and rounding tables join the shipped rules (HS codes, parcels and
    entries of the lines); the fee overrides replace the shipped marketplace fee rows of the
    same keys (the fee_rules column then names tblFeeOverrides:row). Settings-table errors are
    appended to every row's error cell.
    """
    frame, rows = raw_table(lines, LANDED_COST, required=True)
    assert frame is not None and rows is not None  # required=True raises instead
    lang = language_of(rows, LANDED_COST)
    out = _landed_cost(
        frame,
        fx,
        market_overrides,
        low_value_overrides,
        rules_date,
        tariff,
        entry_fees,
        rounding,
        fee_overrides,
    )
    return [_header(lang), *_cells(out)]


@xw.func(category=CATEGORY)
@xw.arg("headers", doc=_DOC_HEADERS, **ROW_ARG)
@xw.arg("values", doc=_DOC_VALUES, **ROW_ARG)
@xw.arg(
    "output",
    doc="输出列（键或中/英文表头），空=整行 / output column (key or zh/en header); blank = all",
)
@xw.arg("fx", doc=DOC_FX, **TABLE_ARG)
@xw.arg("rules_date", doc=DOC_DATE)
@xw.ret(index=False)
@never_raises
def XLP_LANDED_COST_LINE(
    headers: Any,
    values: Any,
    output: Any = None,
    fx: Any = None,
    rules_date: Any = None,
) -> Block:
    """一行的落地成本输出（整行横向溢出，或 output 指定的一个值）/ Landed-cost outputs of one
    line: the whole output row spilled across, or the one value named by output.

    Same columns and units as XLP_LANDED_COST (money [market ccy/unit], margins [fraction]),
    without the header row. With output, a line that has an error returns its error text.
    """

    def compute() -> Block:
        out = _landed_cost(_line(headers, values), fx, None, None, rules_date)
        if is_blank(scalar(output)):
            return _cells(out) if len(out["error"]) else [[""] * len(OUTPUT_KEYS)]
        return _one(out, _output_key(output))

    return _one_line("line", (headers, values, output, fx), rules_date, compute)


@xw.func(category=CATEGORY)
@xw.arg("market", doc="市场代码，如 DE / market code, e.g. DE")
@xw.arg("goods_value", doc="每件货值 [市场币] / goods value per unit [market ccy/unit]")
@xw.arg(
    "freight_insurance",
    doc="每件运费+保险 [市场币]，默认 0 / freight + insurance [market ccy/unit], default 0",
)
@xw.arg("duty_rate", doc="关税税率 [比例]，默认 0 / duty rate [fraction], default 0")
@xw.arg(
    "extra_duty_rate",
    doc="附加关税税率 [比例]，默认 0 / extra duty rate (anti-dumping, s.301) [fraction]",
)
@xw.arg(
    "consignment_value",
    doc="包裹货值 [市场币/包裹]，填写则按低货值规则 / parcel value [market ccy]: low-value rules",
)
@xw.arg("rules_date", doc=DOC_DATE)
@xw.arg("fx", doc=DOC_FX + " (low-value thresholds in another currency)", **TABLE_ARG)
@xw.ret(index=False)
@never_raises
def XLP_IMPORT_TAXES(
    market: Any,
    goods_value: Any,
    freight_insurance: Any = 0,
    duty_rate: Any = 0,
    extra_duty_rate: Any = 0,
    consignment_value: Any = None,
    rules_date: Any = None,
    fx: Any = None,
) -> Block:
    """进口环节：完税价格、关税、进口税（一行三值）/ Import charges of one unit: customs value,
    duty and import tax (VAT, GST...), one row of three values [market ccy/unit].

    On the market's rules in force on rules_date: valuation basis (CIF adds freight and
    insurance), the import-tax base and gross-up, and the low-value regime when
    consignment_value is given. A bad input returns one error cell.
    """
    args = (market, goods_value, freight_insurance, duty_rate, extra_duty_rate, consignment_value)
    return _one_line(
        "import", (*args, fx), rules_date, lambda: _import_taxes(*args, rules_date, fx)
    )


def _import_taxes(
    market: Any,
    goods_value: Any,
    freight_insurance: Any,
    duty_rate: Any,
    extra_duty_rate: Any,
    consignment_value: Any,
    rules_date: Any,
    fx: Any,
) -> Block:
    cells = [
        scalar(market),
        scalar(goods_value),
        scalar(freight_insurance),
        scalar(duty_rate),
        scalar(extra_duty_rate),
        scalar(consignment_value),
        PLACEHOLDER_PRICE,
    ]
    # One block of cells: a frame built from a dict of columns costs ~0.3 ms more.
    lines = pd.DataFrame([cells], columns=_IMPORT_TAX_INPUTS, dtype=object)
    out = _landed_cost(lines, fx, None, None, rules_date)
    out["duty"] = np.asarray(out["duty"]) + np.asarray(out["extra_duty"])
    error = _cell(out, "error")
    if error:
        return [[f"{ERROR_PREFIX} {error}"]]
    return [[_cell(out, k) for k in IMPORT_TAX_OUTPUTS]]


_IMPORT_TAX_INPUTS = pd.Index(
    [
        "market",
        "unit_cost",
        "freight_per_unit",
        "duty_rate",
        "extra_duty_rate",
        "consignment_value",
        "price",
    ],
    dtype=object,
)


@xw.func(category=CATEGORY)
@xw.arg("headers", doc=_DOC_HEADERS, **ROW_ARG)
@xw.arg("values", doc=_DOC_VALUES, **ROW_ARG)
@xw.arg(
    "target_margin", doc="目标贡献利润率 [比例]，如 0.2 / target contribution margin [fraction]"
)
@xw.arg("fx", doc=DOC_FX, **TABLE_ARG)
@xw.arg("rules_date", doc=DOC_DATE)
@xw.ret(index=False)
@never_raises
def XLP_PRICE_FOR_MARGIN(
    headers: Any,
    values: Any,
    target_margin: Any,
    fx: Any = None,
    rules_date: Any = None,
) -> Block:
    """达到目标利润率的售价 / The consumer price that gives this line the target
    contribution margin [market ccy/unit], rounded to the currency's minor unit.

    target_margin replaces the line's own target. The price is solved exactly (closed form per
    referral-fee regime); a line no price can bring to the margin returns its error text.
    """

    def compute() -> Block:
        lines = _line(headers, values)
        if is_blank(scalar(target_margin)):
            raise InputError("目标利润率为必填项", "target margin is required")
        if len(lines):
            lines["target_margin"] = scalar(target_margin)
        out = _landed_cost(lines, fx, None, None, rules_date)
        return _one(out, "price_for_target_margin")

    return _one_line("margin", (headers, values, target_margin, fx), rules_date, compute)


SCENARIO_BLOCK = ("landed_cost", "contribution_margin", "breakeven_price")
"""The outputs XLP_SCENARIOS shows per scenario, side by side."""
WEIGHTED_MARGIN = Message("计划加权利润率", "plan weighted margin")


@xw.func(category=CATEGORY)
@xw.arg("lines", doc="落地成本表（含表头）tblLandedCost[#All] / lines with headers", **TABLE_ARG)
@xw.arg("scenarios", doc="情景规则表 tblScenarios[#All] / scenario rules with headers", **TABLE_ARG)
@xw.arg("fx", doc=DOC_FX, **TABLE_ARG)
@xw.arg("market_overrides", doc="市场规则覆盖表；可省略 / market overrides; optional", **TABLE_ARG)
@xw.arg(
    "low_value_overrides",
    doc="低货值规则覆盖表；可省略 / low-value overrides; optional",
    **TABLE_ARG,
)
@xw.arg("rules_date", doc=DOC_DATE)
@xw.arg("tariff", doc="税则表 tblTariff[#All]；可省略 / tariff rows; optional", **TABLE_ARG)
@xw.arg("entry_fees", doc="报关费用覆盖表；可省略 / entry fee overrides; optional", **TABLE_ARG)
@xw.arg("rounding", doc="进位规则覆盖表；可省略 / rounding overrides; optional", **TABLE_ARG)
@xw.arg(
    "selection",
    doc="参与比较的情景 tblScenarioSelection[#All]；留空=全部 / scenarios to compare; blank = all",
    **TABLE_ARG,
)
@xw.arg("reporting_currency", doc="报告币种，默认 CNY / reporting currency, default CNY")
@xw.arg("fee_overrides", doc=DOC_FEE_OVERRIDES, **TABLE_ARG)
@xw.ret(index=False)
@never_raises
def XLP_SCENARIOS(
    lines: Any,
    scenarios: Any,
    fx: Any = None,
    market_overrides: Any = None,
    low_value_overrides: Any = None,
    rules_date: Any = None,
    tariff: Any = None,
    entry_fees: Any = None,
    rounding: Any = None,
    selection: Any = None,
    reporting_currency: Any = None,
    fee_overrides: Any = None,
) -> Block:
    """各规则情景下逐行并列：落地成本、利润率、保本价 / Each line under every scenario, side by
    side: landed cost [market ccy/unit], contribution margin [fraction] and break-even price
    [market ccy/unit].

    Returns a header row, one row per input line (SKU, market, channel, currency, then three
    columns per scenario, base first, and the line's error under base), and a last row with the
    plan's weighted margin under each scenario (planned units x contribution / planned units x
    net price, in the reporting currency). Scenario-table problems are appended to every error
    cell; the rows of a bad scenario rule are left out.
    """
    rows = rows_of(lines)
    frame = table_from_rows(rows, LANDED_COST, required=True)
    assert frame is not None and rows is not None  # required=True raises instead
    lang = language_of(rows, LANDED_COST)
    settings = (
        table_of(fx, FX),
        table_of(market_overrides, MARKET_OVERRIDES),
        table_of(low_value_overrides, LOW_VALUE_OVERRIDES),
        table_of(tariff, TARIFF),
        table_of(entry_fees, ENTRY_FEE_OVERRIDES),
        table_of(rounding, ROUNDING_OVERRIDES),
        table_of(fee_overrides, FEE_OVERRIDES),
    )

    def rules_for(day: date) -> Rules:
        return rules_from_tables(day, *settings)[0]

    base, setting_errors = rules_from_tables(date_arg(rules_date), *settings)
    typed, row_errors = scenario_rows(table_of(scenarios, SCENARIOS), base)
    names, selection_errors = selected_scenarios(typed, table_of(selection, SCENARIO_SELECTION))
    currency = "CNY" if is_blank(scalar(reporting_currency)) else str(scalar(reporting_currency))
    results, summary = scenario_tables(
        frame, base, typed, names, rules_for, currency.strip().upper()
    )
    problems = concat_errors([setting_errors, row_errors, selection_errors])
    note = "; ".join(
        format_error(r, "both", lambda rec: locate_setting(rec, (SCENARIOS, SCENARIO_SELECTION)))
        for r in records(problems)
    )
    columns = {c.key: c for c in SCENARIO_RESULTS.columns}
    header: list[Any] = [columns[k].header(lang) for k in ("sku", "market", "channel", "currency")]
    for name in names:
        header += [f"{columns[k].header(lang)} [{name}]" for k in SCENARIO_BLOCK]
    header.append(columns["error"].header(lang))
    n = len(frame)
    base_rows = results[results["scenario"] == BASE].reset_index(drop=True)
    body = np.empty((n, len(header)), dtype=object)
    for j, key in enumerate(("sku", "market", "channel", "currency")):
        body[:, j] = base_rows[key].to_numpy(dtype=object)
    for s, name in enumerate(names):
        mine = results[results["scenario"] == name].reset_index(drop=True)
        for k, key in enumerate(SCENARIO_BLOCK):
            body[:, 4 + 3 * s + k] = mine[key].to_numpy(dtype=object)
    errors = base_rows["error"].fillna("").astype(str)
    body[:, -1] = (errors.where(errors == "", errors + "; ") + note if note else errors).to_numpy()
    cells = _shown(body)
    last: list[Any] = [WEIGHTED_MARGIN.text(lang), "", "", currency] + [""] * (len(header) - 4)
    margin_at = 4 + SCENARIO_BLOCK.index("contribution_margin")
    for s, value in enumerate(summary["weighted_margin"].to_numpy(dtype=float)):
        last[margin_at + 3 * s] = "" if np.isnan(value) else float(value)
    last[-1] = note
    return [header, *cells, last]


def _shown(body: np.ndarray) -> Block:
    """Cells as Python values; NaN, None and infinities become ``""``."""
    out: Block = []
    for row in body.tolist():
        out.append(
            [
                ""
                if v is None or (isinstance(v, float) and not np.isfinite(v))
                else (float(v) if isinstance(v, np.floating) else v)
                for v in row
            ]
        )
    return out
