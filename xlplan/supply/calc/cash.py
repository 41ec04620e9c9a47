"""The cash plan (资金计划): the money the stock plan and the sales move, month by month.

Out, per purchase order (amounts per unit in the reporting currency, converted at the plan's FX):

``deposit``    = deposit_rate x quantity x goods cost, on the order date
``balance``    = (1 - deposit_rate) x quantity x goods cost, ``balance_days`` after the ship
                 date (negative = before shipment)
``freight``    = quantity x (freight + insurance), on the ship date
``duties``     = quantity x (duty + import tax + clearance), on arrival
In, per sale: ``receipts`` = units sold x (net price - referral - payment fee - FX loss -
returns), paid out by the channel ``payout_days`` after the sale (sales are spread evenly over
their month, so a 14-day payout moves about half a month's receipts into the next month); and
recoverable import tax, refunded ``vat_recovery_days`` after arrival. Out, per sale, in its month:
``fulfilment`` (last mile and storage) and ``ads``.

The curve runs from the first month anything is paid (at most a year before the plan year) to
December: opening, in, out, closing, starting from ``opening_cash``; its lowest closing is the
cash low point. Money due after December (December's payouts, late refunds) is reported, not in
the curve.

The funding need is the money tied up in the business at each month-end of the plan year
(资金占用), what a seller who buys in China and sells abroad has to finance:

``tied_up`` = stock on hand at landed cost
            + what has been paid for goods not yet available (deposits, balances, freight, duties)
            + payouts earned but not yet received
            - supplier balances due after the goods became available

It climbs while stock is built ahead of a peak and falls as the peak sells; its highest
month-end is the peak funding need (for most sellers before Q4).

Cash conversion cycle per market [d] = days of inventory (average stock at landed cost / cost of
sales per day) + days of receivables (receipt-weighted payout days) - days of payables (payment-
weighted days from the goods being available to paying the supplier: negative when the supplier
is paid before the goods arrive, which lengthens the cycle).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.supply.calc.calendar import SupplierCalendar
from xlplan.supply.calc.stock import StockPlan, average_stock

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OUTFLOWS: tuple[str, ...] = ("deposits", "balances", "freight", "duties", "fulfilment", "ads")
INFLOWS: tuple[str, ...] = ("receipts", "vat_refunds")
CURVE_KEYS: tuple[str, ...] = (
    "month",
    "opening",
    *INFLOWS,
    "inflow",
    *OUTFLOWS,
    "outflow",
    "net",
    "closing",
    "tied_up",
)
"""The cash curve [reporting ccy], one row per month (``2026-03``); ``tied_up`` only for the
plan year's months (NaN before)."""

SUMMARY_KEYS: tuple[str, ...] = (
    "funding_need",
    "peak_month",
    "lowest_cash",
    "lowest_month",
    "closing_cash",
    "inflow",
    "outflow",
    "after_year",
    "ccc_days",
)
"""The plan in one row: ``funding_need`` (the highest money tied up) and ``peak_month``,
``lowest_cash`` and ``lowest_month`` (the cash low point), ``closing_cash`` (December), total
``inflow`` and ``outflow``, ``after_year`` (net money due after December) [reporting ccy],
``ccc_days`` [d]."""

EARLIEST = -12  # months before January of the plan year the curve may start


class CashInputs(NamedTuple):
    """Money per unit [reporting ccy/unit] and terms, per route (R) and per sales line (L: a SKU
    in a market and channel, each supplied by one route)."""

    route_market: npt.NDArray[np.object_]  # R
    goods_cost: FloatArray  # R
    freight: FloatArray  # R: freight and insurance
    duties: FloatArray  # R: duty, import tax (all of it) and clearance
    vat_refund: FloatArray  # R: the recoverable part of the import tax
    unit_value: FloatArray  # R: landed cost, what a unit of stock is worth
    deposit_rate: FloatArray  # R [fraction]
    balance_days: FloatArray  # R [d]
    line_route: IntArray  # L: the route that supplies each line (-1: none)
    line_market: npt.NDArray[np.object_]  # L
    line_units: FloatArray  # L x 12: the line's share of its route's units
    receipts: FloatArray  # L
    fulfilment: FloatArray  # L
    ads: FloatArray  # L
    payout_days: FloatArray  # L [d]
    opening_cash: float
    vat_recovery_days: float


class CashPlan(NamedTuple):
    """The curve (:data:`CURVE_KEYS`), its low point and its funding peak, what falls after
    December, and the cash conversion cycle (:data:`CYCLE_KEYS`)."""

    curve: pd.DataFrame
    lowest_cash: float
    lowest_month: str
    funding_need: float
    peak_month: str
    after_year: float  # [reporting ccy] in (+) and out (-) due after December, net
    cycle: pd.DataFrame


def _month_index(cal: SupplierCalendar, days: IntArray, year: int) -> IntArray:
    months = cal.date(days).astype("datetime64[M]") - np.datetime64(f"{year}-01", "M")
    return months.astype(np.int64)


def line_sales(plan: StockPlan, cash: CashInputs) -> FloatArray:
    """L x 12: each line's units sold, its share of its route's sales by the units it asked for
    (a short month falls on the route's lines alike)."""
    route = np.maximum(cash.line_route, 0)
    asked = np.nan_to_num(plan.demand)[route]
    sold = np.nan_to_num(plan.sales)[route]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(asked > 0, cash.line_units / asked, 0.0)
    return np.where((cash.line_route >= 0)[:, None], sold * share, 0.0)


def plan_cash(plan: StockPlan, cash: CashInputs, cal: SupplierCalendar, year: int) -> CashPlan:
    """The cash plan of a stock plan (see the module docstring)."""
    r, m = np.nonzero(plan.ordered > 0)
    qty = plan.ordered[r, m]
    goods = qty * cash.goods_cost[r]
    deposit = goods * cash.deposit_rate[r]
    pay_balance = plan.ship_day[r, m] + np.round(cash.balance_days[r]).astype(np.int64)
    arrival = plan.arrival_day[r, m]
    refund_day = arrival + int(round(cash.vat_recovery_days))

    events: list[tuple[str, IntArray, FloatArray]] = [
        ("deposits", plan.order_day[r, m], deposit),
        ("balances", pay_balance, goods - deposit),
        ("freight", plan.ship_day[r, m], qty * cash.freight[r]),
        ("duties", arrival, qty * cash.duties[r]),
        ("vat_refunds", refund_day, qty * cash.vat_refund[r]),
    ]
    month_of = {k: _month_index(cal, d, year) for k, d, _ in events}

    sold = line_sales(plan, cash)  # L x 12
    days = np.diff(plan.month_start).astype(float)
    lag = cash.payout_days[:, None] / days[None, :]  # L x 12 [months]
    whole = np.floor(lag)
    late = lag - whole
    received = sold * cash.receipts[:, None]
    months = np.arange(12)[None, :]
    first = [int(month_of[k].min()) for k, _, a in events if len(a)]  # earliest payment
    start = max(min([0, *first]), EARLIEST)
    width = 12 - start
    flows = {k: np.zeros(width) for k in (*INFLOWS, *OUTFLOWS)}
    after = 0.0

    def book(key: str, month: IntArray, amount: FloatArray, sign: float) -> float:
        at = month.ravel() - start
        amt = amount.ravel()
        inside = (at >= 0) & (at < width)
        flows[key] += np.bincount(at[inside], weights=amt[inside], minlength=width)
        return float(sign * amt[(at >= width)].sum())

    for key, _, amount in events:
        after += book(key, month_of[key], amount, 1.0 if key in INFLOWS else -1.0)
    after += book("receipts", months + whole.astype(np.int64), received * (1 - late), 1.0)
    after += book("receipts", months + whole.astype(np.int64) + 1, received * late, 1.0)
    book("fulfilment", np.broadcast_to(months, sold.shape), sold * cash.fulfilment[:, None], -1)
    book("ads", np.broadcast_to(months, sold.shape), sold * cash.ads[:, None], -1)

    inflow = sum(flows[k] for k in INFLOWS)
    outflow = sum(flows[k] for k in OUTFLOWS)
    net = inflow - outflow
    closing = cash.opening_cash + np.cumsum(net)
    opening = closing - net
    labels = [str(np.datetime64(f"{year}-01", "M") + k) for k in range(start, 12)]
    earned = (received).sum(axis=0)  # receipts earned by each month's sales
    got = np.zeros(12)
    for k in (0, 1):  # what the plan year's sales paid out within it, by month
        at = (months + whole.astype(np.int64) + k).ravel()
        amount = (received * ((1 - late) if k == 0 else late)).ravel()
        inside = (at >= 0) & (at < 12)
        got += np.bincount(at[inside], weights=amount[inside], minlength=12)
    paid = [
        (day, amount)
        for key, day, amount in events
        if key in ("deposits", "balances", "freight", "duties")
    ]
    tied = tied_up(plan, cash, paid, plan.available_day[r, m], pay_balance, goods - deposit)
    tied += np.cumsum(earned) - np.cumsum(got)
    tied = np.where(np.arange(12) >= plan.first_month, tied, np.nan)
    curve = pd.DataFrame(
        {
            "month": labels,
            "opening": opening,
            **{k: flows[k] for k in INFLOWS},
            "inflow": inflow,
            **{k: flows[k] for k in OUTFLOWS},
            "outflow": outflow,
            "net": net,
            "closing": closing,
            "tied_up": np.concatenate([np.full(-start, np.nan), tied]),
        }
    )[list(CURVE_KEYS)]
    low = int(np.argmin(closing))
    peak = int(np.nanargmax(tied)) if np.isfinite(tied).any() else 0
    cycle = cash_cycle(plan, cash, sold, (r, m), pay_balance)
    return CashPlan(
        curve,
        float(closing[low]),
        labels[low],
        float(np.nan_to_num(tied[peak])),
        labels[peak - start],
        after,
        cycle,
    )


def tied_up(
    plan: StockPlan,
    cash: CashInputs,
    paid: list[tuple[IntArray, FloatArray]],
    available: IntArray,
    balance_day: IntArray,
    balance: FloatArray,
) -> FloatArray:
    """12 month-ends [reporting ccy]: stock at landed cost + money paid for goods not yet
    available - balances still owed on goods that are (receivables are added by the caller)."""
    ends = plan.month_start[1:][None, :]  # the first day after each month
    stock = (np.nan_to_num(plan.closing) * cash.unit_value[:, None]).sum(axis=0)
    waiting = available[:, None] >= ends
    pipeline = np.zeros(12)
    for day, amount in paid:
        pipeline += (amount[:, None] * ((day[:, None] < ends) & waiting)).sum(axis=0)
    owed = (balance[:, None] * (~waiting & (balance_day[:, None] >= ends))).sum(axis=0)
    out: FloatArray = stock + pipeline - owed
    return out


def cash_summary(plan: CashPlan) -> pd.DataFrame:
    """The plan in one row (:data:`SUMMARY_KEYS`)."""
    total = plan.cycle[plan.cycle["market"] == ""]
    row = {
        "funding_need": plan.funding_need,
        "peak_month": plan.peak_month,
        "lowest_cash": plan.lowest_cash,
        "lowest_month": plan.lowest_month,
        "closing_cash": float(plan.curve["closing"].iloc[-1]),
        "inflow": float(plan.curve["inflow"].sum()),
        "outflow": float(plan.curve["outflow"].sum()),
        "after_year": plan.after_year,
        "ccc_days": float(total["ccc_days"].iloc[0]) if len(total) else np.nan,
    }
    return pd.DataFrame([row])[list(SUMMARY_KEYS)]


CYCLE_KEYS: tuple[str, ...] = (
    "market",
    "inventory_days",
    "receivable_days",
    "payable_days",
    "ccc_days",
)
"""Cash conversion cycle per market [d]; the last row (market "") is all markets together."""


def cash_cycle(
    plan: StockPlan,
    cash: CashInputs,
    sold: FloatArray,
    orders: tuple[IntArray, IntArray],
    balance_day: IntArray,
) -> pd.DataFrame:
    """Days of inventory, receivables and payables, and the cycle, per market and overall."""
    r, m = orders
    planned = np.arange(12) >= plan.first_month
    days = float(np.diff(plan.month_start)[planned].sum()) or 1.0
    n = len(cash.goods_cost)
    stock_value = np.nan_to_num(average_stock(plan)) * cash.unit_value
    cogs = np.nansum(plan.sales, axis=1) * cash.unit_value
    receipts = (sold * cash.receipts[:, None]).sum(axis=1)
    goods = plan.ordered[r, m] * cash.goods_cost[r]
    deposit = goods * cash.deposit_rate[r]
    available = plan.available_day[r, m]
    paid_days = deposit * (plan.order_day[r, m] - available) + (goods - deposit) * (
        balance_day - available
    )
    per_route = pd.DataFrame(
        {
            "market": np.asarray(cash.route_market, dtype=object),
            "stock": stock_value,
            "cogs": cogs,
            "paid": np.bincount(r, weights=goods, minlength=n),
            "paid_days": np.bincount(r, weights=paid_days, minlength=n),
        }
    )
    per_line = pd.DataFrame(
        {
            "market": np.asarray(cash.line_market, dtype=object),
            "receipts": receipts,
            "receipt_days": receipts * cash.payout_days,
        }
    )
    by = per_route.groupby("market", sort=False).sum()
    lines = per_line.groupby("market", sort=False).sum()
    by = by.join(lines, how="outer").fillna(0.0)
    by.loc[""] = by.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        inventory = np.where(by["cogs"] > 0, by["stock"] / (by["cogs"] / days), np.nan)
        receivable = np.where(by["receipts"] > 0, by["receipt_days"] / by["receipts"], np.nan)
        payable = np.where(by["paid"] > 0, by["paid_days"] / by["paid"], np.nan)
    out = pd.DataFrame(
        {
            "market": by.index.astype(object),
            "inventory_days": inventory,
            "receivable_days": receivable,
            "payable_days": payable,
        }
    )
    out["ccc_days"] = (
        out["inventory_days"].fillna(0)
        + out["receivable_days"].fillna(0)
        - out["payable_days"].fillna(0)
    )
    return out[list(CYCLE_KEYS)].reset_index(drop=True)
