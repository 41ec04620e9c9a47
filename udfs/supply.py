"""Stock and cash UDFs: the stock plan per route (``XLP_STOCK_PLAN``), the purchase orders
(``XLP_PURCHASE_ORDERS``) and the cash curve (``XLP_CASH_CURVE``) of the whole plan, each in one
call, through the stock and cash actions' own read path
(:func:`xlplan.supply.action.supply_inputs`); and the latest order date for one need date
(``XLP_ORDER_BY``), the one-route case of the same supplier calendar.

``XLP_STOCK_PLAN`` keeps one row per route row, so its block stays aligned with tblSupplyRoutes;
problems of the other tables follow as ``#XLPLAN!`` rows under it. Annotations stay ``Any`` (see
:mod:`udfs.landed_cost`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from udfs.common import (
    CATEGORY,
    DOC_CURRENCY,
    DOC_FX,
    DOC_YEAR,
    TABLE_ARG,
    Block,
    date_arg,
    error_rows,
    is_blank,
    language_of,
    never_raises,
    number,
    optional_number,
    reporting,
    rows_of,
    scalar,
    table_from_rows,
    table_of,
    year_of,
)
from xlplan.actions import CATALOG
from xlplan.core.errors import InputError, row_messages
from xlplan.plan.tables import FX
from xlplan.reference.dates import chinese_new_year
from xlplan.supply import action as supply
from xlplan.supply.calc.calendar import build_calendar, closure_windows, cny_windows
from xlplan.supply.calc.cash import plan_cash
from xlplan.supply.calc.settings import ClosureKind
from xlplan.supply.calc.stock import plan_stock
from xlplan.supply.sheets import ROUTE_BLOCK, YES
from xlplan.supply.tables import (
    CASH_CURVE,
    PAYOUTS,
    PURCHASE_ORDERS,
    SUPPLIER_CLOSURES,
    SUPPLY_ROUTES,
    SUPPLY_SETTINGS,
    SUPPLY_SKUS,
    TRANSIT_MODES,
)

_DOC_ROUTES = "补货路线表 tblSupplyRoutes[#All] / supply routes, tblSupplyRoutes[#All]"
_DOC_SKUS = "SKU 组合 tblSupplySkus[#All]；空=落地成本明细 / SKU mix; blank = Landed Cost lines"
_DOC_PLAN = "月度目标 tblMonthlyPlan[#All] / the Monthly Plan, tblMonthlyPlan[#All]"
_DOC_CLOSURES = "供应商停工 tblSupplierClosures[#All]；可省略 / supplier closures; optional"
_DOC_SETTINGS = "备货与资金设置 tblSupplySettings[#All]；可省略 / supply settings; optional"
_DOC_TRANSIT = "运输方式 tblTransitModes[#All]；空=内置 / transit modes; blank = shipped"
_DOC_AS_OF = "计划基准日，如 AsOf；空=今天 / the plan's as-of date, e.g. AsOf; blank = today"
_DOC_LINES = "落地成本明细 tblLandedCost[#All]；可省略 / Landed Cost lines; optional"
_DOC_LAUNCHES = "新市场上线 tblLaunches[#All]；可省略 / market launches; optional"
_DOC_RESULTS = "落地成本结果 tblLandedCostResults[#All]；可省略 / Landed Cost Results; optional"
_DOC_PAYOUTS = "平台回款周期 tblPayouts[#All]；空=内置 / payout cycles; blank = shipped"


def _read(
    routes: Any,
    skus: Any,
    plan: Any,
    closures: Any,
    settings: Any,
    transit: Any,
    fx: Any,
    year: Any,
    as_of: Any,
    lines: Any,
    launches: Any,
    results: Any,
    reporting_currency: Any,
    payouts: Any = None,
) -> tuple[supply.SupplyRead, pd.DataFrame, str]:
    """The plans' inputs from the arguments, the raw routes table and the language."""
    route_rows = rows_of(routes)
    raw_routes = table_from_rows(route_rows, SUPPLY_ROUTES, required=True)
    assert raw_routes is not None
    plan_year = year_of(year)
    day = date_arg(as_of)
    tables = {
        SUPPLY_ROUTES.key: raw_routes,
        SUPPLY_SKUS.key: table_of(skus, SUPPLY_SKUS),
        supply.MONTHLY_PLAN: table_of(plan, CATALOG.tables[supply.MONTHLY_PLAN]),
        SUPPLIER_CLOSURES.key: table_of(closures, SUPPLIER_CLOSURES),
        SUPPLY_SETTINGS.key: table_of(settings, SUPPLY_SETTINGS),
        TRANSIT_MODES.key: table_of(transit, TRANSIT_MODES),
        FX.key: table_of(fx, FX),
        supply.LANDED_COST: table_of(lines, CATALOG.tables[supply.LANDED_COST]),
        supply.LAUNCHES: table_of(launches, CATALOG.tables[supply.LAUNCHES]),
        supply.LANDED_COST_RESULTS: table_of(results, CATALOG.tables[supply.LANDED_COST_RESULTS]),
        PAYOUTS.key: table_of(payouts, PAYOUTS),
    }
    read = supply.supply_inputs(
        tables,
        plan_year=plan_year,
        as_of=day,
        reporting=reporting(reporting_currency),
        rules_on=date(plan_year, 1, 1),
    )
    return read, raw_routes, language_of(route_rows, SUPPLY_ROUTES)


EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def serial(value: Any) -> float | str:
    """A date as Excel's day number (the block's date format shows it as a date); "" when
    blank."""
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else float((stamp.normalize() - EXCEL_EPOCH).days)


def _cell(value: Any) -> Any:
    """What Excel can take: dates as day numbers, blanks for NaN and NaT, numbers as floats."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | np.datetime64 | datetime):
        return serial(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else ""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _block(frame: pd.DataFrame, keys: list[str], headers: list[str]) -> Block:
    return [headers, *[[_cell(v) for v in row] for row in frame[keys].itertuples(index=False)]]


_COMMON_ARGS = (
    ("routes", _DOC_ROUTES),
    ("skus", _DOC_SKUS),
    ("plan", _DOC_PLAN),
    ("closures", _DOC_CLOSURES),
    ("settings", _DOC_SETTINGS),
    ("transit", _DOC_TRANSIT),
    ("fx", DOC_FX),
)


def _table_args(func: Any) -> Any:
    """The table arguments every stock and cash UDF takes, with their help texts."""
    for name, doc in reversed(_COMMON_ARGS):
        func = xw.arg(name, doc=doc, **TABLE_ARG)(func)
    return func


@xw.func(category=CATEGORY)
@_table_args
@xw.arg("year", doc=DOC_YEAR)
@xw.arg("as_of", doc=_DOC_AS_OF)
@xw.arg("lines", doc=_DOC_LINES, **TABLE_ARG)
@xw.arg("launches", doc=_DOC_LAUNCHES, **TABLE_ARG)
@xw.arg("results", doc=_DOC_RESULTS, **TABLE_ARG)
@xw.arg("reporting_currency", doc=DOC_CURRENCY)
@xw.ret(index=False)
@never_raises
def XLP_STOCK_PLAN(
    routes: Any,
    skus: Any,
    plan: Any,
    closures: Any = None,
    settings: Any = None,
    transit: Any = None,
    fx: Any = None,
    year: Any = None,
    as_of: Any = None,
    lines: Any = None,
    launches: Any = None,
    results: Any = None,
    reporting_currency: Any = None,
) -> Block:
    """每条补货路线的备货结果：下次下单、首批可售、周转、最低可售天数、风险收入 / The stock
    plan per route: next order, first stock, turnover, lowest cover, revenue at risk.

    One row per route row: next order date and quantity, first stock available, turnover
    [1/yr], lowest days of cover [d], revenue at risk [reporting ccy] and the row's error;
    problems of the other tables follow as ``#XLPLAN!`` rows."""
    read, raw, lang = _read(
        routes,
        skus,
        plan,
        closures,
        settings,
        transit,
        fx,
        year,
        as_of,
        lines,
        launches,
        results,
        reporting_currency,
    )
    stock = plan_stock(read.case.stock)
    tables = supply.plan_tables(read, stock)
    cal = read.case.stock.calendar
    n = len(raw)
    as_of_day = cal.day(np.datetime64(read.as_of, "D"))
    got = (stock.ordered > 0) & (stock.order_day >= as_of_day)
    first = np.where(got, stock.order_day, np.iinfo(np.int64).max).argmin(axis=1)
    has = got.any(axis=1)
    rows = np.arange(len(read.routes))
    out = pd.DataFrame(
        {
            "next_order": pd.Series([pd.NaT] * n, dtype="datetime64[s]"),
            "next_quantity": np.nan,
            "first_available": pd.Series([pd.NaT] * n, dtype="datetime64[s]"),
            "turnover": np.nan,
            "min_cover_days": np.nan,
            "revenue_at_risk": np.nan,
        }
    )
    at = read.routes["_row"].to_numpy(dtype=np.int64)
    next_day = np.where(has, stock.order_day[rows, first], 0)
    out.loc[at, "next_order"] = np.where(
        has, cal.date(next_day).astype("datetime64[s]"), np.datetime64("NaT")
    )
    out.loc[at, "next_quantity"] = np.where(has, stock.ordered[rows, first], np.nan)
    summary = tables.summary
    out.loc[at, "first_available"] = summary["first_arrival"].to_numpy()
    out.loc[at, "turnover"] = summary["turnover"].to_numpy(dtype=float)
    out.loc[at, "min_cover_days"] = summary["min_cover_days"].to_numpy(dtype=float)
    out.loc[at, "revenue_at_risk"] = summary["revenue_at_risk"].to_numpy(dtype=float)
    mine = read.errors["table"] == SUPPLY_ROUTES.key
    out["error"] = row_messages(read.errors[mine], n).to_numpy()
    block = _block(out, ROUTE_BLOCK.keys, ROUTE_BLOCK.headers(lang))
    return block + error_rows(read.errors[~mine], len(ROUTE_BLOCK.keys))


@xw.func(category=CATEGORY)
@_table_args
@xw.arg("year", doc=DOC_YEAR)
@xw.arg("as_of", doc=_DOC_AS_OF)
@xw.arg("lines", doc=_DOC_LINES, **TABLE_ARG)
@xw.arg("launches", doc=_DOC_LAUNCHES, **TABLE_ARG)
@xw.arg("results", doc=_DOC_RESULTS, **TABLE_ARG)
@xw.arg("reporting_currency", doc=DOC_CURRENCY)
@xw.ret(index=False)
@never_raises
def XLP_PURCHASE_ORDERS(
    routes: Any,
    skus: Any,
    plan: Any,
    closures: Any = None,
    settings: Any = None,
    transit: Any = None,
    fx: Any = None,
    year: Any = None,
    as_of: Any = None,
    lines: Any = None,
    launches: Any = None,
    results: Any = None,
    reporting_currency: Any = None,
) -> Block:
    """采购单：下单、发货、到仓、可售日期与数量，春节前须下的单标“是” / The purchase orders:
    order, ship, arrival and available dates, quantity, and those due before Chinese New Year.

    One row per order: the month it is for, quantity [units], goods value [reporting ccy] and
    whether the Chinese New Year shutdown brings it forward."""
    read, _, lang = _read(
        routes,
        skus,
        plan,
        closures,
        settings,
        transit,
        fx,
        year,
        as_of,
        lines,
        launches,
        results,
        reporting_currency,
    )
    orders = supply.plan_tables(read).orders
    orders = orders.assign(
        before_cny=orders["before_cny"].map(lambda v: YES.text(lang) if v else "")
    )
    block = _block(orders, PURCHASE_ORDERS.keys, PURCHASE_ORDERS.headers(lang))
    return block + error_rows(read.errors, len(PURCHASE_ORDERS.keys))


@xw.func(category=CATEGORY)
@_table_args
@xw.arg("year", doc=DOC_YEAR)
@xw.arg("as_of", doc=_DOC_AS_OF)
@xw.arg("lines", doc=_DOC_LINES, **TABLE_ARG)
@xw.arg("launches", doc=_DOC_LAUNCHES, **TABLE_ARG)
@xw.arg("results", doc=_DOC_RESULTS, **TABLE_ARG)
@xw.arg("payouts", doc=_DOC_PAYOUTS, **TABLE_ARG)
@xw.arg("reporting_currency", doc=DOC_CURRENCY)
@xw.ret(index=False)
@never_raises
def XLP_CASH_CURVE(
    routes: Any,
    skus: Any,
    plan: Any,
    closures: Any = None,
    settings: Any = None,
    transit: Any = None,
    fx: Any = None,
    year: Any = None,
    as_of: Any = None,
    lines: Any = None,
    launches: Any = None,
    results: Any = None,
    payouts: Any = None,
    reporting_currency: Any = None,
) -> Block:
    """资金曲线：按月期初、流入、流出、期末与资金占用（报告币种） / The monthly cash curve in the
    reporting currency: opening, payouts and refunds in, supplier deposits and balances,
    freight, duty and import tax, fulfilment and ads out, closing, and the money tied up."""
    read, _, lang = _read(
        routes,
        skus,
        plan,
        closures,
        settings,
        transit,
        fx,
        year,
        as_of,
        lines,
        launches,
        results,
        reporting_currency,
        payouts,
    )
    stock = plan_stock(read.case.stock)
    cash = plan_cash(stock, read.case.cash, read.case.stock.calendar, read.case.stock.plan_year)
    curve = supply.curve_table(cash)
    block = _block(curve, CASH_CURVE.keys, CASH_CURVE.headers(lang))
    return block + error_rows(read.errors, len(CASH_CURVE.keys))


@xw.func(category=CATEGORY)
@xw.arg("need_date", doc="需要可售的日期 / the date the stock must be available")
@xw.arg("production_days", doc="生产周期（天） / production time [d]")
@xw.arg("transit_days", doc="头程时效（天） / door to door [d]")
@xw.arg("receiving_days", doc="入仓上架（天）；可省略 / check-in [d]; optional")
@xw.arg("closures", doc=_DOC_CLOSURES, **TABLE_ARG)
@xw.arg("settings", doc=_DOC_SETTINGS, **TABLE_ARG)
@xw.arg("supplier", doc="供应商（与停工表一致）；可省略 / supplier, as in the closures; optional")
@xw.ret(index=False)
@never_raises
def XLP_ORDER_BY(
    need_date: Any,
    production_days: Any,
    transit_days: Any,
    receiving_days: Any = None,
    closures: Any = None,
    settings: Any = None,
    supplier: Any = None,
) -> Block:
    """最晚下单日：按供应商日历（含春节停工）倒推 / The latest order date for stock needed on a
    date, counted back through the supplier's calendar (Chinese New Year included). One row: the
    order date, the ship date, and TRUE when the shutdown brings the order forward."""
    if is_blank(scalar(need_date)):
        raise InputError("缺少需要可售的日期", "the need date is missing")
    day = date_arg(need_date)
    production = number(production_days, "生产周期", "production days")
    transit = number(transit_days, "头程时效", "door-to-door days")
    receiving = optional_number(receiving_days, 0.0) or 0.0
    if min(production, transit, receiving) < 0:
        raise InputError("天数不能为负", "days cannot be negative")
    terms, errors = supply.read_settings(table_of(settings, SUPPLY_SETTINGS))
    typed, closure_errors = supply.read_rows(
        table_of(closures, SUPPLIER_CLOSURES), SUPPLIER_CLOSURES
    )
    problems = pd.concat([errors, closure_errors], ignore_index=True)
    if len(problems):
        raise InputError(
            "设置或停工表有误: " + "; ".join(problems["zh"]),
            "the settings or closures have errors: " + "; ".join(problems["en"]),
        )
    years = range(day.year - 2, day.year + 1)
    windows = pd.concat(
        [cny_windows(chinese_new_year(years), terms), closure_windows(typed)], ignore_index=True
    )
    origin = date(day.year - 2, 1, 1)
    name = "" if is_blank(scalar(supplier)) else str(scalar(supplier))
    cal = build_calendar(origin, (date(day.year + 1, 1, 1) - origin).days, windows, [name])
    rows = cal.rows([name])
    ready_by = cal.day(np.array([np.datetime64(day, "D")])) - round(transit) - round(receiving)
    start = cal.latest_start(rows, ready_by, np.array([production]))
    ship = cal.ready(rows, start, np.array([production]))
    shut = windows.loc[windows["kind"] == ClosureKind.CNY_SHUTDOWN.value, "start"]
    begins = cal.day(shut.to_numpy(dtype="datetime64[D]"))
    early = bool(((start[0] < begins) & (ready_by[0] > begins)).any())
    return [[serial(cal.date(start)[0]), serial(cal.date(ship)[0]), early]]
