"""The replenishment plan (备货计划): purchase orders that keep every route above its safety stock.

A route is one SKU supplied to one market: its supplier, transit mode and door-to-door days
(``transit_days``), production and receiving (check-in) days, minimum order quantity, order
multiple (a carton), safety stock [d of cover], opening stock (on hand at the start of the first
month planned) and stock in transit (arriving on ``in_transit_date``, blank = the first month).

Month by month, for every route at once (numpy over routes; the only loop is over the twelve
months, each month depending on the last):

``start``   = last month's closing + in-transit units due this month
``safety``  = safety_days x the next month's daily units (this month's for December)
``net``     = units + safety - start
``order``   = when net > 0 and the order can still be placed: ``max(net, moq)`` rounded up to
              the order multiple (so it is a multiple and at least the MOQ)
``sales``   = min(units, start + order); ``closing`` = start + order - sales

An order for month *m* must be available (received and checked in) on the 1st of *m*: its latest
ship date is that day less receiving and transit days, and its latest order date the last working
day from which the supplier's calendar (:mod:`~xlplan.supply.calc.calendar`, Chinese New Year
included) completes ``production_days`` by then. Each order is placed on that latest date (the
least stock held). When that date is before the plan's as-of date the month gets no order: the
units that stock on hand cannot cover are short, and their revenue is at risk. An order placed
before a Chinese New Year shutdown for goods that must ship after it began is flagged: the
holiday brings it forward, and missed, it can only be placed when the factories reopen.

Arrivals are booked in the month the goods become available (possibly the month before their
need month), so every month balances: opening + arrivals - sales = closing. Days of cover =
closing / the next month's daily units. Turnover [1/yr] = units sold, annualised, / average stock
(the opening and each month-end).
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.supply.calc.calendar import SupplierCalendar
from xlplan.supply.calc.settings import ClosureKind

ROUTE_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "warehouse",
    "supplier",
    "mode",
    "production_days",
    "transit_days",
    "receiving_days",
    "moq",
    "order_multiple",
    "safety_days",
    "opening_stock",
    "in_transit",
    "in_transit_date",
)
"""A route as the plan reads it, every number resolved: days [d], quantities [units],
``in_transit_date`` a date or NaT."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_TOL = 1e-6  # safety stock is fractional: compare with a tolerance, order whole units


class StockInputs(NamedTuple):
    """Everything the plan needs, per route (R routes)."""

    routes: pd.DataFrame  # :data:`ROUTE_KEYS`
    demand: FloatArray  # R x 12 [units]
    revenue: FloatArray  # R x 12 [reporting ccy]
    unit_value: FloatArray  # R [reporting ccy/unit]: landed cost, what a unit of stock is worth
    air_days: FloatArray  # R [d]: door to door by air, to tell whether air would still make it
    plan_year: int
    as_of: date
    calendar: SupplierCalendar


class StockPlan(NamedTuple):
    """The plan, route x month (R x 12). Months before ``first_month`` are not planned (NaN)."""

    first_month: int
    month_start: IntArray  # 13 day numbers: the 1st of each month and of next January
    demand: FloatArray
    sales: FloatArray
    arrivals: FloatArray
    opening: FloatArray
    closing: FloatArray
    safety: FloatArray
    cover: FloatArray  # [d]
    shortage: FloatArray
    revenue_at_risk: FloatArray  # [reporting ccy]
    ordered: FloatArray  # quantity ordered for each need month
    order_day: IntArray
    ship_day: IntArray
    arrival_day: IntArray
    available_day: IntArray
    latest_day: IntArray  # the latest order day for each need month (ordered or not)
    feasible: BoolArray  # that day is on or after the as-of date
    before_cny: BoolArray  # the Chinese New Year shutdown brings the order forward
    air_in_time: BoolArray  # a short month could still be supplied by air


def first_planned_month(plan_year: int, as_of: date) -> int:
    """0-11: the first month still ahead on ``as_of`` (January when the year has not begun);
    12 when the year is over."""
    if as_of.year < plan_year:
        return 0
    if as_of.year > plan_year:
        return 12
    return as_of.month - 1


def month_starts(calendar: SupplierCalendar, plan_year: int) -> IntArray:
    """Day numbers of the 1st of each month of the plan year and of the next January."""
    firsts = np.arange(f"{plan_year}-01", f"{plan_year + 1}-02", dtype="datetime64[M]")
    return calendar.day(firsts.astype("datetime64[D]"))


def lot_size(net: FloatArray, moq: FloatArray, multiple: FloatArray) -> FloatArray:
    """The smallest multiple of ``multiple`` that is at least ``net`` and at least ``moq``."""
    step = np.where(multiple > 0, multiple, 1.0)
    return np.ceil(np.maximum(net, moq) / step - _TOL) * step


def _next_daily(demand: FloatArray, days: IntArray) -> FloatArray:
    daily = demand / days[None, :]
    return np.concatenate([daily[:, 1:], daily[:, -1:]], axis=1)


def plan_stock(inputs: StockInputs) -> StockPlan:
    """The replenishment plan of every route (see the module docstring)."""
    routes, cal = inputs.routes, inputs.calendar
    n = len(routes)
    first = first_planned_month(inputs.plan_year, inputs.as_of)
    starts = month_starts(cal, inputs.plan_year)
    days = np.diff(starts)
    planned = np.arange(12)[None, :] >= first
    demand = np.where(planned, inputs.demand, 0.0)

    def num(key: str) -> FloatArray:
        return routes[key].to_numpy(dtype=float)

    production, transit, receiving = (
        num("production_days"),
        num("transit_days"),
        num("receiving_days"),
    )
    moq, multiple = num("moq"), num("order_multiple")
    daily_next = _next_daily(demand, days)
    safety = num("safety_days")[:, None] * daily_next

    rows = np.repeat(cal.rows(routes["supplier"]), 12)
    prod12 = np.repeat(production, 12)
    lead_in = (np.round(transit) + np.round(receiving)).astype(np.int64)
    ready_by = (starts[None, :12] - lead_in[:, None]).ravel()
    latest = cal.latest_start(rows, ready_by, prod12).reshape(n, 12)
    ship = cal.ready(rows, latest.ravel(), prod12).reshape(n, 12)
    arrival = ship + np.round(transit).astype(np.int64)[:, None]
    available = arrival + np.round(receiving).astype(np.int64)[:, None]
    as_of_day = int(cal.day(np.datetime64(inputs.as_of, "D")))
    feasible = latest >= as_of_day

    scheduled = _in_transit(routes, cal, starts, first)
    opening_stock = num("opening_stock")
    ordered = np.zeros((n, 12))
    sales = np.zeros((n, 12))
    closing_need = opening_stock.copy()
    for m in range(first, 12):  # twelve steps, each over every route
        start = closing_need + scheduled[:, m]
        net = demand[:, m] + safety[:, m] - start
        want = (net > _TOL) & feasible[:, m]
        qty = np.where(want, lot_size(net, moq, multiple), 0.0)
        sold = np.minimum(demand[:, m], start + qty)
        closing_need = start + qty - sold
        ordered[:, m] = qty
        sales[:, m] = sold

    arrivals = scheduled.copy()
    got = ordered > 0
    month_of = np.clip(np.searchsorted(starts, available, side="right") - 1, first, 11)
    np.add.at(arrivals, (np.nonzero(got)[0], month_of[got]), ordered[got])
    flow = np.where(planned, arrivals - sales, 0.0)
    closing = opening_stock[:, None] + np.cumsum(flow, axis=1)
    opening = closing - flow
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(daily_next > 0, closing / daily_next, np.nan)
        per_unit = np.where(demand > 0, inputs.revenue / demand, 0.0)
    shortage = demand - sales
    at_risk = shortage * per_unit

    before_cny = _before_cny(cal, latest, ready_by.reshape(n, 12)) & got
    air_ready_by = (
        starts[None, :12]
        - (np.round(inputs.air_days) + np.round(receiving)).astype(np.int64)[:, None]
    ).ravel()
    air_latest = cal.latest_start(rows, air_ready_by, prod12).reshape(n, 12)
    air_in_time = (shortage > _TOL) & (air_latest >= as_of_day)

    def unplanned(values: FloatArray) -> FloatArray:
        return np.where(planned, values, np.nan)

    return StockPlan(
        first,
        starts,
        unplanned(demand),
        unplanned(sales),
        unplanned(arrivals),
        unplanned(opening),
        unplanned(closing),
        unplanned(safety),
        unplanned(cover),
        unplanned(shortage),
        unplanned(at_risk),
        ordered,
        np.where(got, latest, 0),
        np.where(got, ship, 0),
        np.where(got, arrival, 0),
        np.where(got, available, 0),
        latest,
        feasible,
        before_cny,
        air_in_time,
    )


def _in_transit(
    routes: pd.DataFrame, cal: SupplierCalendar, starts: IntArray, first: int
) -> FloatArray:
    """R x 12: units in transit, in the month they arrive (the first month planned when they
    arrive before it or the date is blank; dropped when they arrive after the year)."""
    n = len(routes)
    qty = np.nan_to_num(routes["in_transit"].to_numpy(dtype=float))
    dates = routes["in_transit_date"].to_numpy(dtype="datetime64[D]")
    given = ~np.isnat(dates)
    day = np.where(given, cal.day(np.where(given, dates, np.datetime64("2000-01-01"))), starts[0])
    month = np.clip(np.searchsorted(starts, day, side="right") - 1, first, 11)
    inside = day < starts[12]
    out = np.zeros((n, 12))
    out[np.arange(n)[inside], month[inside]] = qty[inside]
    return out


def _before_cny(cal: SupplierCalendar, order: IntArray, ready_by: IntArray) -> BoolArray:
    """Orders the Chinese New Year shutdown brings forward: placed before it, for goods that
    must be ready (shipped) after it began, so their production cannot wait for the holiday to
    end. Missed, they can only be placed when the factories reopen: too late."""
    shut = cal.windows[cal.windows["kind"] == ClosureKind.CNY_SHUTDOWN.value]
    flag = np.zeros(order.shape, dtype=bool)
    for begin in cal.day(shut["start"].to_numpy(dtype="datetime64[D]")):  # one per year
        flag |= (order < begin) & (ready_by > begin)
    return flag


# --------------------------------------------------------------------------------------------
# Tables of the plan
# --------------------------------------------------------------------------------------------

ORDER_KEYS: tuple[str, ...] = (
    "po",
    "sku",
    "market",
    "warehouse",
    "supplier",
    "mode",
    "order_date",
    "ship_date",
    "arrival_date",
    "available_date",
    "need_month",
    "quantity",
    "value",
    "before_cny",
)
"""A purchase order (``PO-0001``...): dates, the month it is for (``2026-04``), ``quantity``
[units], ``value`` [reporting ccy] at the goods cost, ``before_cny`` True when the Chinese New
Year shutdown brings it forward."""


def month_labels(plan_year: int) -> list[str]:
    return [f"{plan_year}-{m:02d}" for m in range(1, 13)]


def purchase_orders(
    plan: StockPlan, routes: pd.DataFrame, cal: SupplierCalendar, goods_cost: FloatArray, year: int
) -> pd.DataFrame:
    """Every order of the plan, earliest first (:data:`ORDER_KEYS`); ``goods_cost`` per route
    [reporting ccy/unit]."""
    r, m = np.nonzero(plan.ordered > 0)
    qty = plan.ordered[r, m]
    labels = np.asarray(month_labels(year), dtype=object)
    frame = pd.DataFrame(
        {
            "sku": routes["sku"].to_numpy(dtype=object)[r],
            "market": routes["market"].to_numpy(dtype=object)[r],
            "warehouse": routes["warehouse"].to_numpy(dtype=object)[r],
            "supplier": routes["supplier"].to_numpy(dtype=object)[r],
            "mode": routes["mode"].to_numpy(dtype=object)[r],
            "order_date": cal.date(plan.order_day[r, m]),
            "ship_date": cal.date(plan.ship_day[r, m]),
            "arrival_date": cal.date(plan.arrival_day[r, m]),
            "available_date": cal.date(plan.available_day[r, m]),
            "need_month": labels[m],
            "quantity": qty,
            "value": qty * goods_cost[r],
            "before_cny": plan.before_cny[r, m],
            "_route": r,
        }
    )
    frame = frame.sort_values(["order_date", "_route", "need_month"], kind="stable")
    numbers = np.arange(1, len(frame) + 1).astype(str)
    if len(numbers):  # numpy's zfill cannot size an empty array
        numbers = np.char.add("PO-", np.char.zfill(numbers, 4))
    frame.insert(0, "po", numbers.astype(object))
    for col in ("order_date", "ship_date", "arrival_date", "available_date"):
        frame[col] = frame[col].astype("datetime64[s]")
    return frame[list(ORDER_KEYS)].reset_index(drop=True)


MONTH_KEYS: tuple[str, ...] = (
    "month",
    "units",
    "arrivals",
    "closing_units",
    "stock_value",
    "cover_days",
    "safety_days",
    "revenue_at_risk",
)
"""The plan by month, all routes: units [units], ``stock_value`` [reporting ccy] at landed cost,
``cover_days`` [d] (stock value / the next month's daily value sold), ``safety_days`` [d] (the
safety stock the same way), ``revenue_at_risk`` [reporting ccy]."""


def stock_months(plan: StockPlan, unit_value: FloatArray, year: int) -> pd.DataFrame:
    """The plan month by month, all routes together (:data:`MONTH_KEYS`)."""
    days = np.diff(plan.month_start).astype(float)
    value = unit_value[:, None]
    sold_value = np.nansum(np.nan_to_num(plan.demand) * value, axis=0)
    next_daily = np.concatenate([sold_value[1:] / days[1:], sold_value[-1:] / days[-1:]])
    stock_value = np.nansum(np.nan_to_num(plan.closing) * value, axis=0)
    safety_value = np.nansum(np.nan_to_num(plan.safety) * value, axis=0)
    planned = np.arange(12) >= plan.first_month
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(next_daily > 0, stock_value / next_daily, np.nan)
        safety = np.where(next_daily > 0, safety_value / next_daily, np.nan)

    def total(values: FloatArray) -> FloatArray:
        return np.where(planned, np.nansum(values, axis=0), np.nan)

    return pd.DataFrame(
        {
            "month": month_labels(year),
            "units": total(plan.sales),
            "arrivals": total(plan.arrivals),
            "closing_units": total(plan.closing),
            "stock_value": np.where(planned, stock_value, np.nan),
            "cover_days": np.where(planned, cover, np.nan),
            "safety_days": np.where(planned, safety, np.nan),
            "revenue_at_risk": total(plan.revenue_at_risk),
        }
    )


ROUTE_SUMMARY_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "warehouse",
    "mode",
    "units_sold",
    "units_ordered",
    "orders",
    "first_order",
    "first_arrival",
    "average_stock",
    "turnover",
    "cover_days",
    "min_cover_days",
    "revenue_at_risk",
)
"""Per route: units [units], ``first_order`` / ``first_arrival`` dates (available), average stock
[units], ``turnover`` [1/yr], average and lowest ``cover_days`` [d], ``revenue_at_risk``
[reporting ccy]."""


def average_stock(plan: StockPlan) -> FloatArray:
    """Per route, the average of the opening and each month-end stock planned [units]."""
    first = plan.first_month
    if first >= 12:
        return np.full(plan.closing.shape[0], np.nan)
    points = np.concatenate([plan.opening[:, first : first + 1], plan.closing[:, first:]], axis=1)
    return np.asarray(points.mean(axis=1), dtype=float)


def _annual(plan: StockPlan) -> float:
    return 12.0 / max(12 - plan.first_month, 1)


def route_summary(plan: StockPlan, routes: pd.DataFrame, cal: SupplierCalendar) -> pd.DataFrame:
    """Per route (:data:`ROUTE_SUMMARY_KEYS`), in the order of the routes."""
    sold = np.nansum(plan.sales, axis=1)
    average = average_stock(plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = np.where(average > 0, sold * _annual(plan) / average, np.nan)
    got = plan.ordered > 0
    big = np.iinfo(np.int64).max
    first_order = np.where(got, plan.order_day, big).min(axis=1)
    first_arrival = np.where(got, plan.available_day, big).min(axis=1)

    def dates(days: IntArray) -> npt.NDArray[np.datetime64]:
        out = cal.date(np.where(days == big, 0, days)).astype("datetime64[s]")
        return np.where(days == big, np.datetime64("NaT"), out)

    cover = plan.cover[:, plan.first_month :]
    with warnings.catch_warnings():  # a route without any demand has no cover: NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_cover = np.nanmean(cover, axis=1) if cover.size else np.full(len(routes), np.nan)
        min_cover = np.nanmin(cover, axis=1) if cover.size else np.full(len(routes), np.nan)
    return pd.DataFrame(
        {
            "sku": routes["sku"].to_numpy(dtype=object),
            "market": routes["market"].to_numpy(dtype=object),
            "warehouse": routes["warehouse"].to_numpy(dtype=object),
            "mode": routes["mode"].to_numpy(dtype=object),
            "units_sold": sold,
            "units_ordered": plan.ordered.sum(axis=1),
            "orders": got.sum(axis=1),
            "first_order": dates(first_order),
            "first_arrival": dates(first_arrival),
            "average_stock": average,
            "turnover": turnover,
            "cover_days": mean_cover,
            "min_cover_days": min_cover,
            "revenue_at_risk": np.nansum(plan.revenue_at_risk, axis=1),
        }
    )


MARKET_SUMMARY_KEYS: tuple[str, ...] = (
    "market",
    "revenue",
    "cogs",
    "average_stock_value",
    "turnover",
    "cover_days",
    "revenue_at_risk",
)
"""Per market, value-weighted: ``revenue`` (the plan's, stocked), ``cogs`` (units sold x landed
cost) and ``average_stock_value`` [reporting ccy], ``turnover`` [1/yr], ``cover_days`` [d]
(average stock / daily cost of sales), ``revenue_at_risk`` [reporting ccy]."""


def market_summary(
    plan: StockPlan, routes: pd.DataFrame, revenue: FloatArray, unit_value: FloatArray
) -> pd.DataFrame:
    """Per market (:data:`MARKET_SUMMARY_KEYS`), markets in the order they first appear."""
    planned = np.arange(12) >= plan.first_month
    days = float(np.diff(plan.month_start)[planned].sum()) or 1.0
    frame = pd.DataFrame(
        {
            "market": routes["market"].to_numpy(dtype=object),
            "revenue": (revenue * planned).sum(axis=1),
            "cogs": np.nansum(plan.sales, axis=1) * unit_value,
            "average_stock_value": np.nan_to_num(average_stock(plan)) * unit_value,
            "revenue_at_risk": np.nansum(plan.revenue_at_risk, axis=1),
        }
    )
    out = frame.groupby("market", sort=False).sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        stock = out["average_stock_value"].to_numpy(dtype=float)
        cogs = out["cogs"].to_numpy(dtype=float)
        out["turnover"] = np.where(stock > 0, cogs * _annual(plan) / stock, np.nan)
        out["cover_days"] = np.where(cogs > 0, stock / (cogs / days), np.nan)
    return out[list(MARKET_SUMMARY_KEYS)]


AT_RISK_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "month",
    "latest_order_date",
    "short_units",
    "revenue_at_risk",
    "air_in_time",
)
"""Months a route cannot sell its target because the order would have had to be placed before the
as-of date: the date it was due, units short, revenue at risk [reporting ccy], and whether air
freight could still bring the goods in time."""


def at_risk(
    plan: StockPlan, routes: pd.DataFrame, cal: SupplierCalendar, year: int
) -> pd.DataFrame:
    """The short months (:data:`AT_RISK_KEYS`), route by route."""
    short = np.nan_to_num(plan.shortage) > _TOL
    r, m = np.nonzero(short)
    return pd.DataFrame(
        {
            "sku": routes["sku"].to_numpy(dtype=object)[r],
            "market": routes["market"].to_numpy(dtype=object)[r],
            "month": np.asarray(month_labels(year), dtype=object)[m],
            "latest_order_date": cal.date(plan.latest_day[r, m]).astype("datetime64[s]"),
            "short_units": plan.shortage[r, m],
            "revenue_at_risk": plan.revenue_at_risk[r, m],
            "air_in_time": plan.air_in_time[r, m],
        }
    )


MEASURES: tuple[str, ...] = ("units", "arrivals", "closing", "cover")
"""The rows of the stock grid per route: units sold, arrivals, month-end stock [units], days of
cover [d]."""

POSITION_KEYS: tuple[str, ...] = ("sku", "market", "measure", *(f"m{m:02d}" for m in range(1, 13)))


def stock_positions(plan: StockPlan, routes: pd.DataFrame) -> pd.DataFrame:
    """The stock grid: for each route its :data:`MEASURES` by month (one row each)."""
    n = len(routes)
    grids = {"units": plan.sales, "arrivals": plan.arrivals, "closing": plan.closing}
    grids["cover"] = np.round(plan.cover, 1)
    values = np.stack([grids[k] for k in MEASURES], axis=1).reshape(n * len(MEASURES), 12)
    frame = pd.DataFrame(values, columns=[f"m{m:02d}" for m in range(1, 13)])
    frame.insert(0, "measure", np.tile(np.asarray(MEASURES, dtype=object), n))
    frame.insert(0, "market", np.repeat(routes["market"].to_numpy(dtype=object), len(MEASURES)))
    frame.insert(0, "sku", np.repeat(routes["sku"].to_numpy(dtype=object), len(MEASURES)))
    return frame[list(POSITION_KEYS)]
