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
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec

import numpy as np
import pandas as pd
import xlwings as xw

from xlplan import actions
from xlplan.errors import ErrorRecord, InputError, format_error, records
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
    from xlplan.targets import split_total

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
    from xlplan.actions.planning import merge_events
    from xlplan.calendar import seasonality_profiles
    from xlplan.targets import MONTH_COLUMNS, split_total

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
    from xlplan.actions.planning import align_tables

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
    block += [
        [labels[0], int(totals["lines"].sum()), total, 1.0 if total else ""],
        [labels[1], "", target, ""],
        [labels[2], "", alignment.gap, ""],
        [labels[3], "", float(alignment.buckets["amount"].sum()), ""],
    ]
    all_errors = pd.concat([errors, alignment.errors]) if len(errors) else alignment.errors
    for rec in records(all_errors):
        block.append(
            [f"{ERROR_PREFIX} row {rec.row + 1} {rec.column}: {rec.zh} / {rec.en}", "", "", ""]
        )
    return block


def _tracking(plan: Any, actuals: Any, year: Any) -> tuple[Any, str, pd.DataFrame]:
    from xlplan.actions.planning import track_tables

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
