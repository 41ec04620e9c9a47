"""Planning UDFs: spread a total, phase a year by seasonality, the alignment summary, and
tracking against actuals: the planning capability's own code, one call per block."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import xlwings as xw

from udfs.common import (
    CATEGORY,
    DOC_UNIT,
    DOC_YEAR,
    ERROR_PREFIX,
    TABLE_ARG,
    Block,
    block,
    flat,
    is_blank,
    language_of,
    never_raises,
    number,
    optional_number,
    plain,
    record_text,
    regions,
    rows_of,
    scalar,
    table_from_rows,
    table_of,
    year_of,
)
from xlplan.core.errors import InputError, concat_errors, records
from xlplan.plan.settings import ReconcileMethod
from xlplan.planning.action import align_tables, merge_events, track_tables
from xlplan.planning.calc.seasonality import seasonality_profiles
from xlplan.planning.calc.targets import MONTH_COLUMNS, split_total
from xlplan.planning.tables import (
    ACTUALS,
    EVENTS,
    FORECAST,
    MAP_TOTALS,
    MONTHLY_PLAN,
    TARGET_LINES,
    TRACKING,
)
from xlplan.workbook.coerce import coerce_table


def _method(value: Any) -> ReconcileMethod:
    """The reconcile method argument; blank = keep."""
    text = "" if is_blank(scalar(value)) else str(scalar(value)).strip().lower()
    if not text:
        return ReconcileMethod.KEEP
    try:
        return ReconcileMethod(text)
    except ValueError:
        choices = " / ".join(m.value for m in ReconcileMethod)
        raise InputError(
            f"对齐方式应为 {choices}，实为 '{text}'", f"method must be {choices}, not '{text}'"
        ) from None


def _unit(value: Any) -> float:
    """The rounding unit argument [reporting ccy]; blank = 1; must be positive."""
    unit = optional_number(value, 1.0)
    if unit is None or unit <= 0:
        raise InputError(
            f"取整单位应大于 0，实为 {scalar(value)}",
            f"the rounding unit must be > 0, got {scalar(value)}",
        )
    return unit


@xw.func(category=CATEGORY)
@xw.arg("total", doc="要分配的总额 / the total to spread")
@xw.arg("weights", doc="权重（一行或一列） / weights, a row or a column", ndim=1, err_to_str=True)
@xw.arg("unit", doc=DOC_UNIT)
@xw.ret(index=False)
@never_raises
def XLP_SPREAD(total: Any, weights: Any, unit: Any = None) -> Block:
    """按权重分配总额，按取整单位用最大余数法分配余数，合计不差分毫 / Spread a total over
    weights; rounded to the unit by largest remainder so the parts sum to the total exactly."""
    amount = number(total, "总额", "total")
    w = pd.to_numeric(pd.Series(flat(weights), dtype=object), errors="coerce")
    parts, errors = split_total(amount, w, unit=optional_number(unit, None))
    if len(errors):
        return [[f"{ERROR_PREFIX} {record_text(errors)}"]]
    return [[plain(v) for v in parts.to_numpy()]]


@xw.func(category=CATEGORY)
@xw.arg("amount", doc="全年金额 / the year's amount")
@xw.arg("market", doc="市场或区域代码，如 MX、LATAM / market or region code, e.g. MX, LATAM")
@xw.arg("year", doc=DOC_YEAR)
@xw.arg("unit", doc=DOC_UNIT)
@xw.arg("events", doc="大促日历表 tblEvents[#All]；可省略 / events table; optional", **TABLE_ARG)
@xw.arg("launch_month", doc="新市场上线月份 1-12；可省略 / launch month 1-12; optional")
@xw.ret(index=False)
@never_raises
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
    plan_year = year_of(year)
    code = str(scalar(market) or "").strip().upper()
    events_table, event_errors = merge_events(table_of(events, EVENTS))
    launch = scalar(launch_month)
    launches = None if is_blank(launch) else pd.Series([launch], index=[code])
    profiles, errors = seasonality_profiles(
        [code], plan_year, regions(plan_year), events_table, launches=launches
    )
    errors = pd.concat([event_errors, errors]) if len(event_errors) else errors
    if len(errors):
        return [[f"{ERROR_PREFIX} {record_text(errors)}"]]
    weights = pd.Series(profiles.loc[code, MONTH_COLUMNS].to_numpy(dtype=float))
    parts, split_errors = split_total(
        number(amount, "金额", "amount"), weights, unit=optional_number(unit, None)
    )
    if len(split_errors):
        return [[f"{ERROR_PREFIX} {record_text(split_errors)}"]]
    return [[plain(v) for v in parts.to_numpy()]]


@xw.func(category=CATEGORY)
@xw.arg("target_lines", doc="三方目标表 tblTargetLines[#All] / target lines", **TABLE_ARG)
@xw.arg("company_target", doc="公司目标；可省略 / company target; optional")
@xw.arg("method", doc="keep / pro_rata / priority；可省略 / optional")
@xw.arg("unit", doc=DOC_UNIT)
@xw.arg("year", doc=DOC_YEAR)
@xw.ret(index=False)
@never_raises
def XLP_ALIGNMENT(
    target_lines: Any,
    company_target: Any = None,
    method: Any = None,
    unit: Any = None,
    year: Any = None,
) -> Block:
    """三方对齐汇总：各地图合计、公司目标、差距、对齐后合计 / Alignment summary: totals by map,
    the company target, the gap and the reconciled total."""
    rows = rows_of(target_lines)
    raw = table_from_rows(rows, TARGET_LINES, required=True)
    assert raw is not None
    lang = language_of(rows, TARGET_LINES)
    plan_year = date.today().year + 1 if is_blank(scalar(year)) else year_of(year)
    alignment, errors = align_tables(
        raw,
        optional_number(company_target, None),
        _method(method),
        _unit(unit),
        regions(plan_year),
    )
    totals = alignment.map_totals.reset_index()
    out = block(totals, MAP_TOTALS, lang)
    total = float(totals["amount"].sum())
    target = total + alignment.gap
    labels = {
        "zh": ("合计", "公司目标", "差距", "对齐后合计"),
        "en": ("Total", "Company target", "Gap", "Reconciled"),
    }[lang]
    width = len(MAP_TOTALS.columns)
    summary: Block = [
        [labels[0], int(totals["lines"].sum()), total, 1.0 if total else ""],
        [labels[1], "", target, ""],
        [labels[2], "", alignment.gap, ""],
        [labels[3], "", float(alignment.buckets["amount"].sum()), ""],
    ]
    out += [row + [""] * (width - len(row)) for row in summary]
    all_errors = pd.concat([errors, alignment.errors]) if len(errors) else alignment.errors
    for rec in records(all_errors):
        message = f"{ERROR_PREFIX} row {rec.row + 1} {rec.column}: {rec.zh} / {rec.en}"
        out.append([message] + [""] * (width - 1))
    return out


def _tracking(plan: Any, actuals: Any, year: Any) -> tuple[Any, str, pd.DataFrame]:
    plan_rows = rows_of(plan)
    raw_plan = table_from_rows(plan_rows, MONTHLY_PLAN, required=True)
    raw_actuals = table_of(actuals, ACTUALS, required=True)
    assert raw_plan is not None and raw_actuals is not None
    typed_plan, plan_errors = coerce_table(raw_plan, MONTHLY_PLAN)
    result = track_tables(typed_plan, raw_actuals, year_of(year))
    errors = concat_errors([plan_errors, result[4]])
    return result, language_of(plan_rows, MONTHLY_PLAN), errors


@xw.func(category=CATEGORY)
@xw.arg("plan", doc="月度目标表 tblMonthlyPlan[#All] / monthly plan table", **TABLE_ARG)
@xw.arg("actuals", doc="实际数据表 tblActuals[#All] / actuals table", **TABLE_ARG)
@xw.arg("year", doc=DOC_YEAR)
@xw.ret(index=False)
@never_raises
def XLP_TRACKING(plan: Any, actuals: Any, year: Any) -> Block:
    """月度与累计达成率 / Plan, actual and attainment by month and year to date."""
    (monthly, _, _, _, _), lang, errors = _tracking(plan, actuals, year)
    out = block(monthly, TRACKING, lang)
    width = len(TRACKING.keys)
    for rec in records(errors):
        out.append([f"{ERROR_PREFIX} {rec.zh} / {rec.en}"] + [""] * (width - 1))
    return out


@xw.func(category=CATEGORY)
@xw.arg("plan", doc="月度目标表 tblMonthlyPlan[#All] / monthly plan table", **TABLE_ARG)
@xw.arg("actuals", doc="实际数据表 tblActuals[#All] / actuals table", **TABLE_ARG)
@xw.arg("year", doc=DOC_YEAR)
@xw.ret(index=False)
@never_raises
def XLP_FORECAST(plan: Any, actuals: Any, year: Any) -> Block:
    """全年预测：累计实际 + 剩余目标 × 近3月达成率，及待弥补差距 / Full-year run-rate
    forecast (YTD actual + remaining plan x last 3 months' attainment) and the gap to close."""
    (_, outlook, _, _, _), lang, _ = _tracking(plan, actuals, year)
    return block(outlook, FORECAST, lang)
