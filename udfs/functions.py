"""The Excel UDFs (xlwings): the only module that imports xlwings.

Thin by design: each UDF coerces what xlwings hands over (floats, ``None`` for blank cells,
booleans, datetimes, 2-D lists of a table *with its header row*) into a call of the same
vectorised domain code (:func:`xlplan.actions.landed_cost_results`) and turns the result into a
2-D list that Excel spills. A scalar UDF is the one-row case of the table UDF, never a second
implementation.

Nothing raises into Excel. Problems in the data are values: a bad line shows its bilingual
message in its row's ``error`` cell and the other lines still compute. Anything the data cannot
explain (no header row, an unreadable date, a bug) becomes one cell ``#XLPLAN! 中文 / English``.

Settings-table errors (FX, market overrides, low-value overrides): the bad settings rows are
left out and every output row's ``error`` cell ends with ``tblFX row 2, rate: 中文 / English``,
because every line was computed without them. The output block keeps exactly one row per input
row, so it stays aligned with the input table it sits beside.

Return values are plain 2-D lists (never DataFrames: a DataFrame spills its index unless told
not to). Blank and not-a-number results are ``""``; Excel never sees NaN or infinity.

Argument and return annotations are ``Any`` / ``list[list[Any]]`` on purpose: on Windows
xlwings turns a UDF's type hints into converters, and only registered types (``Any``, ``list``,
``float``...) have one; ``X | None`` would break the call.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import astuple
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec

import numpy as np
import pandas as pd
import xlwings as xw

from xlplan import actions
from xlplan.core.errors import (
    ErrorRecord,
    InputError,
    concat_errors,
    empty_errors,
    format_error,
    records,
    row_messages,
)
from xlplan.workbook import schema

Block = list[list[Any]]
P = ParamSpec("P")

ERROR_PREFIX = "#XLPLAN!"
CATEGORY = "XLPlan"
OUTPUT_COLUMNS = schema.LANDED_COST_OUTPUT_COLUMNS
OUTPUT_KEYS = [c.key for c in OUTPUT_COLUMNS]
TEXT_OUTPUTS = ("currency", "error")
NUMERIC_OUTPUTS = [k for k in OUTPUT_KEYS if k not in TEXT_OUTPUTS]
IMPORT_TAX_OUTPUTS = ("customs_value", "duty", "import_vat")
PLACEHOLDER_PRICE = 1.0
"""Price [market ccy/unit] of the one-line table behind :func:`XLP_IMPORT_TAXES`. The import
outputs (customs value, duty, import tax) do not depend on the price; the calculator only
requires a positive one."""
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 of Excel's 1900 date system (serial >= 61)
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31

# ---------------------------------------------------------------------------------------------
# Coercion: what xlwings hands over -> what the domain takes
# ---------------------------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _rows(value: Any) -> Block | None:
    """A range's value as a list of rows; None when the range is missing or all blank."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        rows: Block = [list(value.columns), *value.to_numpy(dtype=object).tolist()]
    elif isinstance(value, list | tuple):
        if not value:
            return None
        if isinstance(value[0], list | tuple):
            # xlwings hands over a list of lists; rows are only read, so not copied
            rows = [r if isinstance(r, list) else list(r) for r in value]
        else:
            rows = [list(value)]
    else:
        rows = [[value]]
    if all(_is_blank(v) for r in rows for v in r):
        return None
    return rows


def _flat(value: Any) -> list[Any]:
    """One row of cells from a row range (1-D or 2-D list, or a single cell)."""
    rows = _rows(value)
    return [] if rows is None else [v for r in rows for v in r]


def _scalar(value: Any) -> Any:
    """A single cell's value, also when xlwings hands over a 1 x 1 range as a list."""
    while isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    return value


def _table(value: Any, table: schema.Table, *, required: bool = False) -> pd.DataFrame | None:
    """The raw table by column key from a range with its header row (zh or en headers)."""
    return _table_from_rows(_rows(value), table, required=required)


def _table_from_rows(
    rows: Block | None, table: schema.Table, *, required: bool = False
) -> pd.DataFrame | None:
    if rows is None:
        if required:
            raise InputError(
                f"缺少{table.zh}（请传入含表头的整张表: {table.name}[#All]）",
                f"missing {table.en.lower()} (pass the whole table with its headers: "
                f"{table.name}[#All])",
            )
        return None
    found, _ = schema.map_headers(rows[0], table)
    if not found:
        raise InputError(
            f"{table.zh}缺少表头行（请传入 {table.name}[#All]）",
            f"{table.en}: no header row recognised (pass {table.name}[#All])",
        )
    return schema.frame_from_rows(rows, table)


def _language(headers: Sequence[Any]) -> str:
    """``zh`` when more of the headers are the zh ones than the en ones, else ``en``."""
    zh = {schema.normalise_header(h) for h in schema.LANDED_COST.headers("zh")}
    en = {schema.normalise_header(h) for h in schema.LANDED_COST.headers("en")}
    seen = [schema.normalise_header(h) for h in headers if not _is_blank(h)]
    n_zh = sum(h in zh - en for h in seen)
    n_en = sum(h in en - zh for h in seen)
    return "zh" if n_zh > n_en else "en"


def _rules_date(value: Any) -> date:
    """The rules date from a cell: a date, an Excel serial, an ISO string; blank = today."""
    value = _scalar(value)
    if _is_blank(value):
        return date.today()  # the edge may read the clock; the domain takes the date
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value <= MAX_EXCEL_SERIAL:
            return (EXCEL_EPOCH + timedelta(days=int(value))).date()
    elif isinstance(value, str):
        parsed = pd.to_datetime(value.strip(), errors="coerce", format="ISO8601")
        if not pd.isna(parsed):
            return date(parsed.year, parsed.month, parsed.day)
    raise InputError(
        f"规则日期无法识别: '{value}'（请填写日期，如 2026-01-01）",
        f"rules date not recognised: '{value}' (enter a date such as 2026-01-01)",
    )


# ---------------------------------------------------------------------------------------------
# The one calculation every UDF goes through
# ---------------------------------------------------------------------------------------------


def _landed_cost(
    lines: pd.DataFrame,
    fx: Any,
    market_overrides: Any,
    low_value_overrides: Any,
    rules_date: Any,
) -> pd.DataFrame:
    """Output columns (rounded for display), one row per line, settings errors in ``error``."""
    rules, setting_errors = actions.rules_from_tables(
        _rules_date(rules_date),
        _table(fx, schema.FX),
        _table(market_overrides, schema.MARKET_OVERRIDES),
        _table(low_value_overrides, schema.LOW_VALUE_OVERRIDES),
    )
    table, _ = actions.landed_cost_results(lines, rules)
    out = table[OUTPUT_KEYS].reset_index(drop=True)
    if len(setting_errors):
        note = "; ".join(format_error(r, "both", _locate_setting) for r in records(setting_errors))
        errors = out["error"].fillna("").astype(str)
        out["error"] = errors.where(errors == "", errors + "; ") + note
    return out


def _locate_setting(record: ErrorRecord) -> str:
    table = schema.TABLES[record.table].name if record.table in schema.TABLES else record.table
    column = f", {record.column}" if record.column else ""
    return f"{table} row {record.row + 1}{column}"


def _cells(out: pd.DataFrame) -> Block:
    """Output rows as lists of Python values; NaN and infinities become ``""``."""
    numbers = out[NUMERIC_OUTPUTS].to_numpy(dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0
    cells = np.empty((len(out), len(OUTPUT_KEYS)), dtype=object)
    shown = numbers.astype(object)  # Python floats
    shown[~np.isfinite(numbers)] = ""
    cells[:, [OUTPUT_KEYS.index(k) for k in NUMERIC_OUTPUTS]] = shown
    for key in TEXT_OUTPUTS:
        text = out[key].to_numpy(dtype=object)  # may be a read-only view
        cells[:, OUTPUT_KEYS.index(key)] = np.where(pd.isna(text), "", text)
    rows: Block = cells.tolist()
    return rows


def _header(lang: str) -> list[Any]:
    return [c.header(lang) for c in OUTPUT_COLUMNS]


def _line(headers: Any, values: Any) -> pd.DataFrame:
    """A one-line table from the table's header row and one data row."""
    head = _flat(headers)
    vals = _flat(values)
    vals = vals + [None] * (len(head) - len(vals))
    frame = _table([head, vals], schema.LANDED_COST, required=True)
    assert frame is not None  # required=True raises instead
    return frame


def _one(out: pd.DataFrame, key: str) -> Block:
    """The single output ``key`` of a one-line result, or that line's error text."""
    if out.empty:
        return [[""]]
    row = _cells(out)[0]
    value = row[OUTPUT_KEYS.index(key)]
    error = row[OUTPUT_KEYS.index("error")]
    if value == "" and error:
        return [[f"{ERROR_PREFIX} {error}"]]
    return [[value]]


def _output_key(name: Any) -> str:
    wanted = schema.normalise_header(_scalar(name))
    for c in OUTPUT_COLUMNS:
        if wanted in {schema.normalise_header(t) for t in (c.key, c.zh, c.en)}:
            return c.key
    raise InputError(
        f"未知的输出列: '{_scalar(name)}'（可用: {', '.join(OUTPUT_KEYS)}）",
        f"unknown output: '{_scalar(name)}' (available: {', '.join(OUTPUT_KEYS)})",
    )


def _never_raises(func: Callable[P, Block]) -> Callable[P, Block]:
    """Excel gets a readable one-cell ``#XLPLAN!`` text instead of an exception."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Block:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            return [[f"{ERROR_PREFIX} {exc.zh} / {exc.en}"]]
        except Exception as exc:  # the last line of defence: Excel must never see a traceback
            text = f"{type(exc).__name__}: {exc}"[:200]
            return [[f"{ERROR_PREFIX} 计算失败（{text}） / calculation failed ({text})"]]

    return guarded


# ---------------------------------------------------------------------------------------------
# The UDFs
# ---------------------------------------------------------------------------------------------

_TABLE_ARG = {"ndim": 2, "err_to_str": True}
_ROW_ARG = {"ndim": 1, "err_to_str": True}
_DOC_FX = "汇率表（含表头）tblFX[#All]；可省略 / FX table with headers, tblFX[#All]; optional"
_DOC_DATE = (
    "规则日期（日期、序列号或 2026-01-01），空=今天 / "
    "rules date (a date, serial or 2026-01-01); blank = today"
)
_DOC_HEADERS = "落地成本表的表头行 tblLandedCost[#Headers] / header row of the Landed Cost table"
_DOC_VALUES = "同表的一行数据 tblLandedCost[@] / one data row of that table"


@xw.func(category=CATEGORY)
@xw.arg("lines", doc="落地成本表（含表头）tblLandedCost[#All] / lines with headers", **_TABLE_ARG)
@xw.arg("fx", doc=_DOC_FX, **_TABLE_ARG)
@xw.arg(
    "market_overrides",
    doc="市场规则覆盖表 tblMarketOverrides[#All]；可省略 / market overrides; optional",
    **_TABLE_ARG,
)
@xw.arg(
    "low_value_overrides",
    doc="低货值规则覆盖表 tblLowValueOverrides[#All]；可省略 / low-value overrides; optional",
    **_TABLE_ARG,
)
@xw.arg("rules_date", doc=_DOC_DATE)
@xw.ret(index=False)
@_never_raises
def XLP_LANDED_COST(
    lines: Any,
    fx: Any = None,
    market_overrides: Any = None,
    low_value_overrides: Any = None,
    rules_date: Any = None,
) -> Block:
    """落地成本、利润瀑布与保本/目标售价：整表一次计算并溢出 / Landed cost, margin waterfall,
    break-even and target-margin prices for the whole table in one spilled block.

    Returns a header row (zh when the input headers are zh, else en) and one row per input
    line: currency, then money per unit sold in the market currency [market ccy/unit]
    (customs_value ... contribution), contribution_margin [fraction], breakeven_price and
    price_for_target_margin [market ccy/unit], and error (bilingual; blank when the line is
    clean). Money is rounded half-up to the currency's minor unit, margins to 4 decimals.
    Settings-table errors are appended to every row's error cell.
    """
    rows = _rows(lines)
    frame = _table_from_rows(rows, schema.LANDED_COST, required=True)
    assert frame is not None and rows is not None  # required=True raises instead
    lang = _language(rows[0])
    out = _landed_cost(frame, fx, market_overrides, low_value_overrides, rules_date)
    return [_header(lang), *_cells(out)]


@xw.func(category=CATEGORY)
@xw.arg("headers", doc=_DOC_HEADERS, **_ROW_ARG)
@xw.arg("values", doc=_DOC_VALUES, **_ROW_ARG)
@xw.arg(
    "output",
    doc="输出列（键或中/英文表头），空=整行 / output column (key or zh/en header); blank = all",
)
@xw.arg("fx", doc=_DOC_FX, **_TABLE_ARG)
@xw.arg("rules_date", doc=_DOC_DATE)
@xw.ret(index=False)
@_never_raises
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
    out = _landed_cost(_line(headers, values), fx, None, None, rules_date)
    if _is_blank(_scalar(output)):
        return _cells(out) if len(out) else [[""] * len(OUTPUT_KEYS)]
    return _one(out, _output_key(output))


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
@xw.arg("rules_date", doc=_DOC_DATE)
@xw.arg("fx", doc=_DOC_FX + " (low-value thresholds in another currency)", **_TABLE_ARG)
@xw.ret(index=False)
@_never_raises
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
    lines = pd.DataFrame(
        {
            "market": [_scalar(market)],
            "unit_cost": [_scalar(goods_value)],
            "freight_per_unit": [_scalar(freight_insurance)],
            "duty_rate": [_scalar(duty_rate)],
            "extra_duty_rate": [_scalar(extra_duty_rate)],
            "consignment_value": [_scalar(consignment_value)],
            "price": [PLACEHOLDER_PRICE],
        },
        dtype=object,
    )
    out = _landed_cost(lines, fx, None, None, rules_date)
    row = _cells(out)[0]
    error = row[OUTPUT_KEYS.index("error")]
    if error:
        return [[f"{ERROR_PREFIX} {error}"]]
    return [[row[OUTPUT_KEYS.index(k)] for k in IMPORT_TAX_OUTPUTS]]


@xw.func(category=CATEGORY)
@xw.arg("headers", doc=_DOC_HEADERS, **_ROW_ARG)
@xw.arg("values", doc=_DOC_VALUES, **_ROW_ARG)
@xw.arg(
    "target_margin", doc="目标贡献利润率 [比例]，如 0.2 / target contribution margin [fraction]"
)
@xw.arg("fx", doc=_DOC_FX, **_TABLE_ARG)
@xw.arg("rules_date", doc=_DOC_DATE)
@xw.ret(index=False)
@_never_raises
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
    lines = _line(headers, values)
    if _is_blank(_scalar(target_margin)):
        raise InputError("目标利润率为必填项", "target margin is required")
    if len(lines):
        lines["target_margin"] = _scalar(target_margin)
    out = _landed_cost(lines, fx, None, None, rules_date)
    return _one(out, "price_for_target_margin")


# ---------------------------------------------------------------------------------------------
# Target planning: spread, phase, align, track
# ---------------------------------------------------------------------------------------------

_DOC_YEAR = "计划年度，如 2027 / plan year, e.g. 2027"
_DOC_UNIT = "取整单位，如 1 或 10000；可省略 / rounding unit, e.g. 1 or 10000; optional"


def _planning_language(rows: Block | None, table: schema.Table) -> str:
    if not rows:
        return "en"
    zh = {schema.normalise_header(h) for h in table.headers("zh")}
    en = {schema.normalise_header(h) for h in table.headers("en")}
    seen = [schema.normalise_header(h) for h in rows[0] if not _is_blank(h)]
    return "zh" if sum(h in zh - en for h in seen) > sum(h in en - zh for h in seen) else "en"


def _block(frame: pd.DataFrame, table: schema.Table, lang: str) -> Block:
    """A table's header row and its rows, with blanks for NaN (Excel never sees NaN)."""
    values = frame.reindex(columns=table.keys).to_numpy(dtype=object)
    cells = [[_plain(v) for v in row] for row in values]
    return [table.headers(lang), *cells]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return float(value) + 0.0 if np.isfinite(value) else ""
    if isinstance(value, np.integer):
        return int(value)
    return value


def _number(value: Any, what_zh: str, what_en: str) -> float:
    number = pd.to_numeric(pd.Series([_scalar(value)]), errors="coerce").iloc[0]
    if pd.isna(number):
        raise InputError(
            f"{what_zh}应为数字: '{_scalar(value)}'",
            f"{what_en} must be a number: '{_scalar(value)}'",
        )
    return float(number)


def _optional_number(value: Any, default: float | None) -> float | None:
    value = _scalar(value)
    return default if _is_blank(value) else _number(value, "参数", "argument")


def _year(value: Any) -> int:
    year = _number(value, "计划年度", "plan year")
    if not 2000 <= year <= 2100:
        raise InputError(f"计划年度不合理: {year:g}", f"plan year out of range: {year:g}")
    return int(year)


def _record_text(errors: pd.DataFrame) -> str:
    return "; ".join(f"{r.zh} / {r.en}" for r in records(errors))


def _regions(year: int) -> pd.Series:
    from xlplan.reference import markets

    return markets(date(year, 1, 1))["region"]


@xw.func(category=CATEGORY)
@xw.arg("total", doc="要分配的总额 / the total to spread")
@xw.arg("weights", doc="权重（一行或一列） / weights, a row or a column", ndim=1, err_to_str=True)
@xw.arg("unit", doc=_DOC_UNIT)
@xw.ret(index=False)
@_never_raises
def XLP_SPREAD(total: Any, weights: Any, unit: Any = None) -> Block:
    """按权重分配总额，按取整单位用最大余数法分配余数，合计不差分毫 / Spread a total over
    weights; rounded to the unit by largest remainder so the parts sum to the total exactly."""
    from xlplan.planning.calc.targets import split_total

    amount = _number(total, "总额", "total")
    w = pd.to_numeric(pd.Series(_flat(weights), dtype=object), errors="coerce")
    parts, errors = split_total(amount, w, unit=_optional_number(unit, None))
    if len(errors):
        return [[f"{ERROR_PREFIX} {_record_text(errors)}"]]
    return [[_plain(v) for v in parts.to_numpy()]]


@xw.func(category=CATEGORY)
@xw.arg("amount", doc="全年金额 / the year's amount")
@xw.arg("market", doc="市场或区域代码，如 MX、LATAM / market or region code, e.g. MX, LATAM")
@xw.arg("year", doc=_DOC_YEAR)
@xw.arg("unit", doc=_DOC_UNIT)
@xw.arg("events", doc="大促日历表 tblEvents[#All]；可省略 / events table; optional", **_TABLE_ARG)
@xw.arg("launch_month", doc="新市场上线月份 1-12；可省略 / launch month 1-12; optional")
@xw.ret(index=False)
@_never_raises
def XLP_PHASE(
    amount: Any,
    market: Any,
    year: Any,
    unit: Any = None,
    events: Any = None,
    launch_month: Any = None,
) -> Block:
    """按市场季节性（大促、节日、斋月等）把全年金额拆到 12 个月 / Phase a year's amount into
    12 months by the market's seasonality for that year (events, holidays, Ramadan...)."""
    from xlplan.planning.action import merge_events
    from xlplan.planning.calc.seasonality import seasonality_profiles
    from xlplan.planning.calc.targets import MONTH_COLUMNS, split_total

    plan_year = _year(year)
    code = str(_scalar(market) or "").strip().upper()
    events_table, event_errors = merge_events(_table(events, schema.EVENTS))
    launch = _scalar(launch_month)
    launches = None if _is_blank(launch) else pd.Series([launch], index=[code])
    profiles, errors = seasonality_profiles(
        [code], plan_year, _regions(plan_year), events_table, launches=launches
    )
    errors = pd.concat([event_errors, errors]) if len(event_errors) else errors
    if len(errors):
        return [[f"{ERROR_PREFIX} {_record_text(errors)}"]]
    weights = pd.Series(profiles.loc[code, MONTH_COLUMNS].to_numpy(dtype=float))
    parts, split_errors = split_total(
        _number(amount, "金额", "amount"), weights, unit=_optional_number(unit, None)
    )
    if len(split_errors):
        return [[f"{ERROR_PREFIX} {_record_text(split_errors)}"]]
    return [[_plain(v) for v in parts.to_numpy()]]


@xw.func(category=CATEGORY)
@xw.arg("target_lines", doc="三方目标表 tblTargetLines[#All] / target lines", **_TABLE_ARG)
@xw.arg("company_target", doc="公司目标；可省略 / company target; optional")
@xw.arg("method", doc="keep / pro_rata / priority；可省略 / optional")
@xw.arg("unit", doc=_DOC_UNIT)
@xw.arg("year", doc=_DOC_YEAR)
@xw.ret(index=False)
@_never_raises
def XLP_ALIGNMENT(
    target_lines: Any,
    company_target: Any = None,
    method: Any = None,
    unit: Any = None,
    year: Any = None,
) -> Block:
    """三方对齐汇总：各地图合计、公司目标、差距、对齐后合计 / Alignment summary: totals by map,
    the company target, the gap and the reconciled total."""
    from xlplan.planning.action import align_tables

    rows = _rows(target_lines)
    raw = _table_from_rows(rows, schema.TARGET_LINES, required=True)
    assert raw is not None
    lang = _planning_language(rows, schema.TARGET_LINES)
    plan_year = date.today().year + 1 if _is_blank(_scalar(year)) else _year(year)
    alignment, errors = align_tables(
        raw,
        _optional_number(company_target, None),
        "" if _is_blank(_scalar(method)) else str(_scalar(method)),
        _optional_number(unit, 1.0) or 1.0,
        _regions(plan_year),
    )
    totals = alignment.map_totals.reset_index()
    block = _block(totals, schema.MAP_TOTALS, lang)
    total = float(totals["amount"].sum())
    target = total + alignment.gap
    labels = {
        "zh": ("合计", "公司目标", "差距", "对齐后合计"),
        "en": ("Total", "Company target", "Gap", "Reconciled"),
    }[lang]
    width = len(schema.MAP_TOTALS.columns)
    summary: Block = [
        [labels[0], int(totals["lines"].sum()), total, 1.0 if total else ""],
        [labels[1], "", target, ""],
        [labels[2], "", alignment.gap, ""],
        [labels[3], "", float(alignment.buckets["amount"].sum()), ""],
    ]
    block += [row + [""] * (width - len(row)) for row in summary]
    all_errors = pd.concat([errors, alignment.errors]) if len(errors) else alignment.errors
    for rec in records(all_errors):
        message = f"{ERROR_PREFIX} row {rec.row + 1} {rec.column}: {rec.zh} / {rec.en}"
        block.append([message] + [""] * (width - 1))
    return block


def _tracking(plan: Any, actuals: Any, year: Any) -> tuple[Any, str, pd.DataFrame]:
    from xlplan.planning.action import track_tables

    plan_rows = _rows(plan)
    raw_plan = _table_from_rows(plan_rows, schema.MONTHLY_PLAN, required=True)
    raw_actuals = _table(actuals, schema.ACTUALS, required=True)
    assert raw_plan is not None and raw_actuals is not None
    typed_plan, plan_errors = schema.coerce_table(raw_plan, schema.MONTHLY_PLAN)
    result = track_tables(typed_plan, raw_actuals, _year(year))
    errors = pd.concat([plan_errors, result[3]]) if len(plan_errors) else result[3]
    return result, _planning_language(plan_rows, schema.MONTHLY_PLAN), errors


@xw.func(category=CATEGORY)
@xw.arg("plan", doc="月度目标表 tblMonthlyPlan[#All] / monthly plan table", **_TABLE_ARG)
@xw.arg("actuals", doc="实际数据表 tblActuals[#All] / actuals table", **_TABLE_ARG)
@xw.arg("year", doc=_DOC_YEAR)
@xw.ret(index=False)
@_never_raises
def XLP_TRACKING(plan: Any, actuals: Any, year: Any) -> Block:
    """月度与累计达成率 / Plan, actual and attainment by month and year to date."""
    (monthly, _, _, _), lang, errors = _tracking(plan, actuals, year)
    block = _block(monthly, schema.TRACKING, lang)
    width = len(schema.TRACKING.keys)
    for rec in records(errors):
        block.append([f"{ERROR_PREFIX} {rec.zh} / {rec.en}"] + [""] * (width - 1))
    return block


@xw.func(category=CATEGORY)
@xw.arg("plan", doc="月度目标表 tblMonthlyPlan[#All] / monthly plan table", **_TABLE_ARG)
@xw.arg("actuals", doc="实际数据表 tblActuals[#All] / actuals table", **_TABLE_ARG)
@xw.arg("year", doc=_DOC_YEAR)
@xw.ret(index=False)
@_never_raises
def XLP_FORECAST(plan: Any, actuals: Any, year: Any) -> Block:
    """全年预测：累计实际 + 剩余目标 × 近3月达成率，及待弥补差距 / Full-year run-rate
    forecast (YTD actual + remaining plan x last 3 months' attainment) and the gap to close."""
    (_, outlook, _, _), lang, _ = _tracking(plan, actuals, year)
    return _block(outlook, schema.FORECAST, lang)


# ---------------------------------------------------------------------------------------------
# Shared by the KPI and map UDFs
# ---------------------------------------------------------------------------------------------


def _out_table(key: str, zh: str, en: str, columns: Sequence[tuple[str, str, str]]) -> schema.Table:
    """An output block's columns (key, zh header, en header); never registered as a sheet table."""
    return schema.Table(
        key, "", zh, en, tuple(schema.Column(k, z, e, schema.Kind.TEXT) for k, z, e in columns)
    )


def _place(record: ErrorRecord) -> str:
    """``tblX row 3, column`` (row counted from the first data row, as on the sheet)."""
    if record.table == ORDER_LINES.key:
        return _locate_setting(ErrorRecord(ORDER_LINES.name, *astuple(record)[1:]))
    return _locate_setting(record)


def _error_rows(errors: pd.DataFrame, width: int) -> Block:
    """One ``#XLPLAN!`` row per error record, padded to the block's width."""
    return [
        [f"{ERROR_PREFIX} {format_error(r, 'both', _place)}"] + [""] * (width - 1)
        for r in records(errors)
    ]


def _text_arg(value: Any) -> str:
    value = _scalar(value)
    return "" if _is_blank(value) else str(value).strip()


def _fx_rules(fx: Any) -> tuple[Any, pd.DataFrame]:
    """Rules (for their FX table: tblFX, or the shipped default rates without one) and tblFX's
    errors."""
    from xlplan.reference import default_fx

    table = _table(fx, schema.FX)
    if table is None:
        table = default_fx().astype(object)
    return actions.rules_from_tables(date.today(), table, None, None)


# ---------------------------------------------------------------------------------------------
# KPI health flags
# ---------------------------------------------------------------------------------------------

KPI_FLAG_BLOCK = _out_table(
    "kpi_flag_block",
    "KPI 健康度",
    "KPI health flags",
    (
        ("flag", "灯", "Flag"),
        ("green", "绿灯阈值", "Green"),
        ("red", "红灯阈值", "Red"),
        ("reason", "原因", "Reason"),
        ("error", "错误", "Error"),
    ),
)
_DOC_THRESHOLDS = (
    "KPI 阈值表（含表头）tblKpiThresholds[#All]；可省略=内置阈值 / "
    "thresholds table with headers, tblKpiThresholds[#All]; blank = catalog defaults"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _kpi_flag_frame(raw_values: pd.DataFrame, thresholds: Any, lang: str) -> pd.DataFrame:
    """Flag, thresholds, reason (in ``lang``) and error text per row of a raw KPI values table,
    one output row per input row (blank for a row without a KPI)."""
    from xlplan.kpi.action import kpi_flags_from_tables
    from xlplan.kpi.tables import KPI_THRESHOLDS

    n = len(raw_values)
    flags, errors = kpi_flags_from_tables(
        raw_values,
        None,
        _table(thresholds, KPI_THRESHOLDS),
        lambda table, row: str(row),  # the source column carries the input row
    )
    out = pd.DataFrame(
        {
            "flag": pd.Series([""] * n, dtype=object),
            "green": np.nan,
            "red": np.nan,
            "reason": pd.Series([""] * n, dtype=object),
        }
    )
    at = flags["source"].astype(int).to_numpy()
    out.loc[at, "flag"] = flags["flag"].astype(object).to_numpy()
    out.loc[at, "green"] = flags["green"].to_numpy(dtype=float)
    out.loc[at, "red"] = flags["red"].to_numpy(dtype=float)
    out.loc[at, "reason"] = flags[f"reason_{lang}"].astype(object).to_numpy()
    mine = errors["table"] == "kpi_values"
    out["error"] = row_messages(errors[mine], n).to_numpy()
    blank = raw_values.map(_is_blank).all(axis=1).to_numpy(dtype=bool)
    out.loc[blank, "error"] = ""  # a blank row in the table is not a missing KPI
    setting_errors = errors[~mine]
    if len(setting_errors):
        note = "; ".join(format_error(r, "both", _place) for r in records(setting_errors))
        text = out["error"].astype(str)
        out["error"] = text.where(text == "", text + "; ") + note
    return out


@xw.func(category=CATEGORY)
@xw.arg("kpi_values", doc="KPI 数值表（含表头）tblKpiValues[#All] / KPI figures", **_TABLE_ARG)
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **_TABLE_ARG)
@xw.ret(index=False)
@_never_raises
def XLP_KPI_FLAGS(kpi_values: Any, thresholds: Any = None) -> Block:
    """整表 KPI 红绿灯：每行一个灯与一句话原因 / Health flags for a whole KPI table: a flag
    (green, amber, red, no_data) and a one-line reason per figure, in one spilled block.

    One row per input row, so the block sits beside tblKpiValues: flag, the green and red
    thresholds applied [KPI unit], the reason (zh when the headers are zh) and the row's error
    text. Threshold-table errors are appended to every row's error cell.
    """
    from xlplan.kpi.tables import KPI_VALUES

    rows = _rows(kpi_values)
    raw = _table_from_rows(rows, KPI_VALUES, required=True)
    assert raw is not None
    lang = _planning_language(rows, KPI_VALUES)
    return _block(_kpi_flag_frame(raw, thresholds, lang), KPI_FLAG_BLOCK, lang)


@xw.func(category=CATEGORY)
@xw.arg("kpi", doc="KPI 代码或中英文名称，如 库存周转 / KPI key or name, e.g. inventory_turnover")
@xw.arg("value", doc="数值 [KPI 单位]，比例填 0.15 / the figure [KPI unit]; shares as 0.15")
@xw.arg("market", doc="市场代码（选阈值覆盖）；可省略 / market code for overrides; optional")
@xw.arg("channel", doc="渠道（选阈值覆盖）；可省略 / channel for overrides; optional")
@xw.arg("category", doc="品类（选阈值覆盖）；可省略 / category for overrides; optional")
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **_TABLE_ARG)
@xw.arg(
    "lang",
    doc="原因的语言 zh / en；空=随 KPI 名称 / language of the reason; blank = the KPI name's",
)
@xw.ret(index=False)
@_never_raises
def XLP_KPI_FLAG(
    kpi: Any,
    value: Any,
    market: Any = None,
    channel: Any = None,
    category: Any = None,
    thresholds: Any = None,
    lang: Any = None,
) -> Block:
    """一个 KPI 数值的红绿灯与原因 / The health flag of one KPI figure and its one-line reason:
    one row of two cells, flag (green, amber, red, no_data) and reason.

    The one-row case of XLP_KPI_FLAGS. The reason is in lang (zh or en; blank = zh when the KPI
    is named in Chinese). A value that is not a number gives no_data and its error text.
    """
    name = _text_arg(kpi)
    language = _text_arg(lang).lower() or ("zh" if _CJK.search(name) else "en")
    if language not in ("zh", "en"):
        raise InputError(f"语言应为 zh 或 en: '{language}'", f"lang must be zh or en: '{language}'")
    raw = pd.DataFrame(
        {
            "month": [None],
            "market": [_scalar(market)],
            "channel": [_scalar(channel)],
            "category": [_scalar(category)],
            "kpi": [name],
            "value": [_scalar(value)],
            "note": [None],
        },
        dtype=object,
    )
    row = _kpi_flag_frame(raw, thresholds, language).iloc[0]
    reason = str(row["error"]) or str(row["reason"])
    return [[str(row["flag"]) or "no_data", reason]]


def _kpi_key(name: Any) -> str:
    from xlplan.kpi.calc import kpi_definitions

    wanted = schema.normalise_header(_text_arg(name))
    for key, d in kpi_definitions().items():
        if wanted in {schema.normalise_header(t) for t in (key, d.name_zh, d.name_en)}:
            return key
    raise InputError(f"未知 KPI：{_text_arg(name)}", f"unknown KPI: {_text_arg(name)}")


@xw.func(category=CATEGORY)
@xw.arg("kpi", doc="KPI 代码或中英文名称，如 库存周转 / KPI key or name, e.g. inventory_turnover")
@xw.arg(
    "headers",
    doc="KPI 原始数据表的表头行 tblKpiRaw[#Headers] / header row of tblKpiRaw",
    **_ROW_ARG,
)
@xw.arg("values", doc="同表的一行数据 tblKpiRaw[@] / one data row of that table", **_ROW_ARG)
@xw.ret(index=False)
@_never_raises
def XLP_KPI(kpi: Any, headers: Any, values: Any) -> Block:
    """由原始数据计算一个 KPI（如 销售成本/平均库存 → 库存周转）/ One KPI computed from a row of
    raw figures (e.g. COGS and average inventory -> inventory turnover), in the KPI's unit.

    Same formulas as the kpi action (catalog in xlplan/reference/data/kpi_catalog.csv); a
    KPI entered in its own column wins. Missing inputs or a zero denominator return the error text.
    """
    from xlplan.kpi.action import _leaf_inputs, derived_values
    from xlplan.kpi.tables import KPI_RAW

    key = _kpi_key(kpi)
    head = _flat(headers)
    vals = _flat(values)
    raw = _table([head, vals + [None] * (len(head) - len(vals))], KPI_RAW, required=True)
    assert raw is not None
    typed, coerce_errors = schema.coerce_table(raw, KPI_RAW)
    long, derive_errors = derived_values(typed)
    got = long.loc[long["kpi"] == key, "value"]
    if len(got) and np.isfinite(float(got.iloc[0])):
        return [[float(got.iloc[0]) + 0.0]]
    problems = concat_errors([coerce_errors, derive_errors])
    if len(problems):
        return [[f"{ERROR_PREFIX} {_record_text(problems)}"]]
    needed = ", ".join(_leaf_inputs(key))
    raise InputError(f"缺少输入: {needed}", f"inputs missing: {needed}")


@xw.func(category=CATEGORY)
@xw.arg(
    "raw", doc="KPI 原始数据表（含表头）tblKpiRaw[#All] / raw figures with headers", **_TABLE_ARG
)
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **_TABLE_ARG)
@xw.ret(index=False)
@_never_raises
def XLP_KPI_FROM_RAW(raw: Any, thresholds: Any = None) -> Block:
    """由原始数据计算全部 KPI 并亮灯 / Every KPI derived from a raw-figures table, flagged:
    the KPI Flags table (month, market, channel, category, KPI, value, flag, reason...).

    One row per KPI whose inputs are filled in a raw row, rows in sheet order; errors (a zero
    denominator, a bad cell or threshold row) follow as #XLPLAN! rows naming table, row, column.
    """
    from xlplan.kpi.action import kpi_flags_from_tables
    from xlplan.kpi.tables import KPI_FLAGS, KPI_RAW, KPI_THRESHOLDS

    rows = _rows(raw)
    frame = _table_from_rows(rows, KPI_RAW, required=True)
    assert frame is not None
    lang = _planning_language(rows, KPI_RAW)
    flags, errors = kpi_flags_from_tables(None, frame, _table(thresholds, KPI_THRESHOLDS))
    shown = schema.Table(
        "kpi_flag_rows", "", KPI_FLAGS.zh, KPI_FLAGS.en, KPI_FLAGS.columns[:-1]
    )  # every column but source: a formula has no sheet row to point at
    return _block(flags, shown, lang) + _error_rows(errors, len(shown.keys))


# ---------------------------------------------------------------------------------------------
# The three maps: market screening, customer tiers, product lifecycle and quadrant
# ---------------------------------------------------------------------------------------------

_DOC_CURRENCY = (
    "报告币种，如 ReportingCurrency；空=CNY / reporting currency, e.g. ReportingCurrency; "
    "blank = CNY"
)
_DOC_MAP_FX = "汇率表 tblFX[#All]；空=内置汇率 / FX table, tblFX[#All]; blank = shipped rates"


def _reporting(currency: Any) -> str:
    return _text_arg(currency).upper() or "CNY"


def _key_values(
    value: Any, table: schema.Table, model: Any
) -> tuple[Any, dict[str, object], pd.DataFrame]:
    """A key/value settings table (with headers) as the domain's settings model."""
    from xlplan.maps.action import model_from_table

    return model_from_table(_table(value, table), table.key, model)


@xw.func(category=CATEGORY)
@xw.arg(
    "markets", doc="候选市场表（含表头）tblBusinessMarkets[#All] / candidate markets", **_TABLE_ARG
)
@xw.arg(
    "settings",
    doc="阈值与权重表 tblBusinessSettings[#All]；可省略 / thresholds and weights; optional",
    **_TABLE_ARG,
)
@xw.arg("fx", doc=_DOC_MAP_FX, **_TABLE_ARG)
@xw.arg(
    "landed_cost",
    doc="落地成本结果表 tblLandedCostResults[#All]：空白毛利率取各市场中位数；可省略 / "
    "landed-cost results: a blank margin takes the market's median; optional",
    **_TABLE_ARG,
)
@xw.arg("reporting_currency", doc=_DOC_CURRENCY)
@xw.arg(
    "pool", doc="增量目标池 [报告币种/年]；空=设置表或 3 亿 / incremental pool; blank = settings"
)
@xw.ret(index=False)
@_never_raises
def XLP_MARKET_SCREEN(
    markets: Any,
    settings: Any = None,
    fx: Any = None,
    landed_cost: Any = None,
    reporting_currency: Any = None,
    pool: Any = None,
) -> Block:
    """业务地图：市场筛选、加权得分、排名与建议增量目标 / Business map: pass or fail with the
    failing criteria, weighted score, rank and proposed incremental target per market.

    The Market Screening table sorted by rank, plus an error column for the market's row.
    Blank GDP per capita, penetration and market size take the shipped reference data; a blank
    margin takes the market's median in landed_cost, else fails. Amounts in the reporting
    currency [reporting ccy/year]; settings and FX errors follow as #XLPLAN! rows.
    """
    from xlplan.maps import tables as schema_maps
    from xlplan.maps.action import (
        incremental_pool,
        median_margins,
        screening_table,
        setting_rows,
        usd_rate,
    )
    from xlplan.maps.calc.business import BusinessSettings

    rows = _rows(markets)
    raw = _table_from_rows(rows, schema_maps.BUSINESS_MARKETS, required=True)
    assert raw is not None
    lang = _planning_language(rows, schema_maps.BUSINESS_MARKETS)
    table, input_errors = schema.coerce_table(raw, schema_maps.BUSINESS_MARKETS)
    raw_settings = _table(settings, schema_maps.BUSINESS_SETTINGS)
    model, values, setting_errors = _key_values(
        settings, schema_maps.BUSINESS_SETTINGS, BusinessSettings
    )
    if _is_blank(_scalar(pool)):
        amount, pool_errors = incremental_pool(values, setting_rows(raw_settings))
    else:
        amount, pool_errors = _number(pool, "增量目标池", "incremental pool"), empty_errors()
        if amount < 0:
            raise InputError(
                f"增量目标池不能为负: {amount:g}", f"the pool cannot be negative: {amount:g}"
            )
    rules, fx_errors = _fx_rules(fx)
    rate = usd_rate(rules, _reporting(reporting_currency))
    results = _table(landed_cost, schema.LANDED_COST_RESULTS)
    if results is None:
        margins = pd.DataFrame({"margin": pd.Series([], dtype=float), "lines": 0})
    else:
        margins = median_margins(results)
    out, _, screen_errors = screening_table(table, model, amount, rate, margins)
    row_errors = concat_errors([input_errors, screen_errors])
    messages = row_messages(row_errors, len(table)).to_numpy()
    out["error"] = messages[out["row"].to_numpy(dtype=np.int64)] if len(out) else []
    shown = schema.Table(
        "screening_block",
        "",
        schema_maps.BUSINESS_SCREENING.zh,
        schema_maps.BUSINESS_SCREENING.en,
        (
            *schema_maps.BUSINESS_SCREENING.columns,
            schema.Column("error", "错误", "Error", schema.Kind.TEXT),
        ),
    )
    extra = concat_errors([setting_errors, pool_errors, fx_errors])
    return _block(out, shown, lang) + _error_rows(extra, len(shown.keys))


ORDER_LINES = schema.Table(
    "order_lines",
    "tblOrderLines",
    "订单明细",
    "Order lines",
    (
        schema.Column("order_id", "订单号", "Order ID", schema.Kind.TEXT, required=True),
        schema.Column("customer_id", "客户", "Customer", schema.Kind.TEXT),
        schema.Column("order_date", "下单日期", "Order date", schema.Kind.DATE, required=True),
        schema.Column("currency", "币种", "Currency", schema.Kind.CODE, required=True),
        schema.Column("amount", "金额", "Amount", schema.Kind.NUMBER, required=True),
        schema.Column("quantity", "数量", "Quantity", schema.Kind.NUMBER),
        schema.Column("sku", "SKU", "SKU", schema.Kind.TEXT),
        schema.Column("country", "国家", "Country", schema.Kind.CODE),
        schema.Column("channel", "渠道", "Channel", schema.Kind.TEXT),
        schema.Column("business", "企业客户", "Business", schema.Kind.BOOL),
        schema.Column("status", "状态", "Status", schema.Kind.TEXT),
    ),
)
"""The order lines XLP_CUSTOMER_TIERS reads: the :mod:`xlplan.orders` contract's columns,
zh or en headers; one row per order line, ``amount`` [currency] net of refunds."""


def _order_lines(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The order-line contract frame of the clean rows (``line`` = the input row, 0-based), and
    error records on the input rows (rows with an error are left out)."""
    from xlplan.orders import ORDER_LINE_COLUMNS

    typed, errors = schema.coerce_table(raw, ORDER_LINES)
    bad = np.zeros(len(typed), dtype=bool)
    bad[errors["row"].to_numpy(dtype=np.int64)] = True
    keep = typed[~bad]
    customer = keep["customer_id"].astype(object)
    country = keep["country"].astype(object)
    lines = pd.DataFrame(
        {
            "source": "excel",
            "line": keep.index.to_numpy(dtype=np.int64),
            "order_id": keep["order_id"].astype(str),
            "customer_id": customer.where(customer != "", None),
            "order_date": pd.to_datetime(keep["order_date"]).astype("datetime64[ns]"),
            "currency": keep["currency"].astype(str),
            "amount": keep["amount"].astype(float),
            "quantity": keep["quantity"].fillna(1.0).astype(float),
            "sku": keep["sku"].astype(str),
            "product": keep["sku"].astype(str),
            "country": country.where(country != "", None),
            "channel": keep["channel"].astype(str),
            "business": keep["business"].fillna(0.0).astype(bool),
            "status": keep["status"].astype(str).str.lower(),
        }
    )
    return lines[ORDER_LINE_COLUMNS].reset_index(drop=True), errors


@xw.func(category=CATEGORY)
@xw.arg(
    "order_lines",
    doc="订单明细（含表头：订单号、客户、下单日期、币种、金额…） / order lines with headers "
    "(Order ID, Customer, Order date, Currency, Amount...)",
    **_TABLE_ARG,
)
@xw.arg(
    "settings",
    doc="分层设置表 tblCustomerSettings[#All]；可省略 / tier settings; optional",
    **_TABLE_ARG,
)
@xw.arg(
    "assumptions",
    doc="各层假设表 tblTierAssumptions[#All]；可省略 / assumptions per tier; optional",
    **_TABLE_ARG,
)
@xw.arg("fx", doc=_DOC_MAP_FX, **_TABLE_ARG)
@xw.arg("reporting_currency", doc=_DOC_CURRENCY)
@xw.arg(
    "as_of", doc="统计截止日；空=设置表或最后订单日 / as-of date; blank = settings or last order"
)
@xw.ret(index=False)
@_never_raises
def XLP_CUSTOMER_TIERS(
    order_lines: Any,
    settings: Any = None,
    assumptions: Any = None,
    fx: Any = None,
    reporting_currency: Any = None,
    as_of: Any = None,
) -> Block:
    """客户地图：由订单明细分层（B2B 月消费、B2C RFM）并给出各层建议目标 / Customer map:
    tiers from order lines (B2B monthly spend bands, B2C RFM) with each tier's proposed target.

    The Customer Tiers table: customers, revenue share, repeat and churn, AOV, budget months,
    assumptions and the proposed target [reporting ccy]. Bad order lines are left out and
    follow as #XLPLAN! rows naming their row and column.
    """
    from xlplan.maps import tables as schema_maps
    from xlplan.maps.action import tier_assumptions, tier_customers_in, tier_table
    from xlplan.maps.calc.customer import TierSettings

    rows = _rows(order_lines)
    raw = _table_from_rows(rows, ORDER_LINES, required=True)
    assert raw is not None
    lang = _planning_language(rows, ORDER_LINES)
    lines, line_errors = _order_lines(raw)
    model, values, setting_errors = _key_values(
        settings, schema_maps.CUSTOMER_SETTINGS, TierSettings
    )
    given = values.get("as_of") if _is_blank(_scalar(as_of)) else _rules_date(as_of)
    overrides, assumption_errors = tier_assumptions(
        _table(assumptions, schema_maps.TIER_ASSUMPTIONS)
    )
    rules, fx_errors = _fx_rules(fx)
    width = len(schema_maps.CUSTOMER_TIERS.keys)
    tiers = pd.DataFrame(columns=schema_maps.CUSTOMER_TIERS.keys)
    domain_errors = empty_errors()
    if len(lines):
        result, _ = tier_customers_in(
            lines, given, model, overrides, rules, _reporting(reporting_currency)
        )
        tiers = tier_table(result.tiers)
        domain_errors = result.errors.copy()
        on_lines = (domain_errors["table"] == "orders").to_numpy()
        at = domain_errors.loc[on_lines, "row"].to_numpy(dtype=np.int64)
        domain_errors.loc[on_lines, "row"] = lines["line"].to_numpy(dtype=np.int64)[at]
        domain_errors.loc[on_lines, "table"] = ORDER_LINES.key
    errors = concat_errors(
        [line_errors, domain_errors, setting_errors, assumption_errors, fx_errors]
    )
    block = _block(tiers, schema_maps.CUSTOMER_TIERS, lang)
    return block + _error_rows(errors, width)


@xw.func(category=CATEGORY)
@xw.arg(
    "sales", doc="月度销售表（含表头）tblProductSales[#All] / monthly sales by line", **_TABLE_ARG
)
@xw.arg(
    "economics",
    doc="产品线经济性表 tblProductEconomics[#All]；可省略 / economics per line; optional",
    **_TABLE_ARG,
)
@xw.arg(
    "settings",
    doc="生命周期与象限设置表 tblProductSettings[#All]；可省略 / lifecycle settings; optional",
    **_TABLE_ARG,
)
@xw.arg("as_of_month", doc="截止月份如 2026-12；空=设置表或最后一月 / as-of month; blank = last")
@xw.ret(index=False)
@_never_raises
def XLP_PRODUCT_MAP(
    sales: Any, economics: Any = None, settings: Any = None, as_of_month: Any = None
) -> Block:
    """产品地图：生命周期阶段、明星/现金牛/问题/瘦狗象限、投资回报与建议目标 / Product map:
    lifecycle stage, star / cash cow / question mark / dog quadrant, ROI and proposed target.

    The Product Lines table, one row per product line (amounts in the sales' currency, rates
    as fractions). A line without economics still gets its stage; its ROI is blank. Bad cells
    follow as #XLPLAN! rows naming table, row and column.
    """
    from xlplan.maps import tables as schema_maps
    from xlplan.maps.action import (
        product_as_of,
        product_lines_table,
        product_sales,
        setting_rows,
    )
    from xlplan.maps.calc.product import ProductSettings

    rows = _rows(sales)
    raw = _table_from_rows(rows, schema_maps.PRODUCT_SALES, required=True)
    assert raw is not None
    lang = _planning_language(rows, schema_maps.PRODUCT_SALES)
    typed_sales, sales_errors = product_sales(raw)
    raw_econ = _table(economics, schema_maps.PRODUCT_ECONOMICS)
    if raw_econ is None:
        raw_econ = pd.DataFrame(columns=schema_maps.PRODUCT_ECONOMICS.keys)
    econ, econ_errors = schema.coerce_table(raw_econ, schema_maps.PRODUCT_ECONOMICS)
    econ = econ[econ["line"] != ""]
    raw_settings = _table(settings, schema_maps.PRODUCT_SETTINGS)
    model, values, setting_errors = _key_values(
        settings, schema_maps.PRODUCT_SETTINGS, ProductSettings
    )
    table = schema_maps.PRODUCT_LINES
    errors = [sales_errors, econ_errors, setting_errors]
    out = pd.DataFrame(columns=table.keys)
    if len(typed_sales):
        given = _scalar(as_of_month)
        if _is_blank(given):
            given = values.get("as_of_month")
        elif isinstance(given, int | float | date) and not isinstance(given, bool):
            day = _rules_date(given)  # a date cell or its serial number
            given = f"{day.year:04d}-{day.month:02d}"
        month, month_errors = product_as_of(_scalar(given), typed_sales, setting_rows(raw_settings))
        out, domain_errors = product_lines_table(typed_sales, econ, month, model)
        errors += [month_errors, domain_errors]
    return _block(out, table, lang) + _error_rows(concat_errors(errors), len(table.keys))
