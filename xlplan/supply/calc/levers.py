"""Two levers on the cash plan, side by side: the supplier's payment terms and the transit mode.

Each lever re-plans from the same inputs with one thing changed, through the same code:

``plan``   the routes and terms as entered
``terms``  every route on the alternative terms (``alt_deposit_rate`` at order, the balance
           ``alt_balance_days`` after shipment): the stock plan is unchanged, only payments move
``sea``    every route by sea: the sea days of its region, freight x (sea index / own index)
``air``    every route by air: shorter lead times (orders later, less stock on the water, months at
           risk may be saved), dearer freight

Freight per unit scales with the transit table's ``freight_index`` (sea = 1) relative to the
route's own mode, so a route's own freight (its landed-cost line) stays what the user typed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.supply.calc.cash import CashInputs, CashPlan, plan_cash
from xlplan.supply.calc.settings import TransitMode
from xlplan.supply.calc.stock import StockInputs, StockPlan, average_stock, plan_stock

FloatArray = npt.NDArray[np.float64]

LEVERS: tuple[str, ...] = ("plan", "terms", "sea", "air")
LEVER_KEYS: tuple[str, ...] = (
    "lever",
    "funding_need",
    "peak_month",
    "lowest_cash",
    "closing_cash",
    "freight",
    "average_stock_value",
    "ccc_days",
    "revenue_at_risk",
    "change",
)
"""One row per lever: ``funding_need`` (peak money tied up) and its ``peak_month``,
``lowest_cash``, ``closing_cash`` (December), ``freight``,
``average_stock_value``, ``revenue_at_risk`` [reporting ccy], ``ccc_days`` [d], ``change`` the
funding need less the plan's [reporting ccy] (negative = less money needed)."""


class TransitChoice(NamedTuple):
    """Per route: door-to-door days and freight index of each mode to its region, and the
    index of the route's own mode."""

    days: dict[str, FloatArray]
    freight_index: dict[str, FloatArray]
    own_index: FloatArray


class SupplyCase(NamedTuple):
    """Everything the stock and cash plans read, and what the levers change."""

    stock: StockInputs
    cash: CashInputs
    transit: TransitChoice
    alt_deposit_rate: float
    alt_balance_days: float


class SupplyPlan(NamedTuple):
    stock: StockPlan
    cash: CashPlan


def run_case(case: SupplyCase) -> SupplyPlan:
    """The stock plan, then its cash plan."""
    stock = plan_stock(case.stock)
    cal = case.stock.calendar
    return SupplyPlan(stock, plan_cash(stock, case.cash, cal, case.stock.plan_year))


def lever_case(case: SupplyCase, lever: str) -> SupplyCase:
    """The case with one lever pulled (:data:`LEVERS`)."""
    if lever == "plan":
        return case
    n = len(case.cash.goods_cost)
    if lever == "terms":
        cash = case.cash._replace(
            deposit_rate=np.full(n, case.alt_deposit_rate),
            balance_days=np.full(n, float(case.alt_balance_days)),
        )
        return case._replace(cash=cash)
    mode = TransitMode(lever).value
    routes = case.stock.routes.assign(mode=mode, transit_days=case.transit.days[mode])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(
            case.transit.own_index > 0,
            case.transit.freight_index[mode] / case.transit.own_index,
            1.0,
        )
    return case._replace(
        stock=case.stock._replace(routes=routes),
        cash=case.cash._replace(freight=case.cash.freight * scale),
    )


def compare_levers(case: SupplyCase, base: SupplyPlan | None = None) -> pd.DataFrame:
    """The plan and each lever side by side (:data:`LEVER_KEYS`)."""
    rows = []
    for lever in LEVERS:
        result = base if lever == "plan" and base is not None else run_case(lever_case(case, lever))
        pulled = lever_case(case, lever)
        stock, cash = result.stock, result.cash
        ordered = stock.ordered.sum(axis=1)
        total = cash.cycle[cash.cycle["market"] == ""]
        rows.append(
            {
                "lever": lever,
                "funding_need": cash.funding_need,
                "peak_month": cash.peak_month,
                "lowest_cash": cash.lowest_cash,
                "closing_cash": float(cash.curve["closing"].iloc[-1]),
                "freight": float((ordered * pulled.cash.freight).sum()),
                "average_stock_value": float(
                    (np.nan_to_num(average_stock(stock)) * case.cash.unit_value).sum()
                ),
                "ccc_days": float(total["ccc_days"].iloc[0]) if len(total) else np.nan,
                "revenue_at_risk": float(np.nansum(stock.revenue_at_risk)),
            }
        )
    out = pd.DataFrame(rows)
    out["change"] = out["funding_need"] - out["funding_need"].iloc[0]
    return out[list(LEVER_KEYS)]
