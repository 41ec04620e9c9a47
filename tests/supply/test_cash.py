"""The cash plan of a stock plan: when each payment falls, the curve balances, the funding peak,
the cash conversion cycle and the two levers, on one route a planner can follow by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from xlplan.supply.calc.calendar import build_calendar, cny_windows
from xlplan.supply.calc.cash import CashInputs, cash_summary, line_sales, plan_cash
from xlplan.supply.calc.levers import SupplyCase, TransitChoice, compare_levers, run_case
from xlplan.supply.calc.settings import SupplySettings
from xlplan.supply.calc.stock import StockInputs, plan_stock

YEAR = 2026


def route() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["S0"],
            "market": ["US"],
            "warehouse": [""],
            "supplier": [""],
            "mode": ["sea"],
            "production_days": [30.0],
            "transit_days": [38.0],
            "receiving_days": [10.0],
            "moq": [0.0],
            "order_multiple": [1.0],
            "safety_days": [0.0],
            "opening_stock": [0.0],
            "in_transit": [0.0],
            "in_transit_date": pd.Series([pd.NaT], dtype="datetime64[s]"),
        }
    )


def case(**cash_changes: object) -> SupplyCase:
    """One sea route (30 + 38 + 10 days), 1,000 units a month from an empty warehouse, planned
    on 1 October of the year before; goods 40, freight 5, duties 8 (3 of it recoverable),
    a unit sells for 100 net of fees after 14 days, fulfilment 10 and ads 5 a unit."""
    routes = route()
    demand = np.full((1, 12), 1000.0)
    origin = date(YEAR - 2, 1, 1)
    no_holiday = build_calendar(origin, 4 * 365, cny_windows([], SupplySettings()), [])
    stock = StockInputs(
        routes,
        demand,
        demand * 120.0,
        np.array([53.0]),
        np.array([10.0]),
        YEAR,
        date(YEAR - 1, 10, 1),
        no_holiday,
    )
    cash = CashInputs(
        route_market=np.array(["US"], dtype=object),
        goods_cost=np.array([40.0]),
        freight=np.array([5.0]),
        duties=np.array([8.0]),
        vat_refund=np.array([3.0]),
        unit_value=np.array([53.0]),
        deposit_rate=np.array([0.3]),
        balance_days=np.array([-7.0]),
        line_route=np.array([0]),
        line_market=np.array(["US"], dtype=object),
        line_units=demand.copy(),
        receipts=np.array([100.0]),
        fulfilment=np.array([10.0]),
        ads=np.array([5.0]),
        payout_days=np.array([14.0]),
        opening_cash=0.0,
        vat_recovery_days=45.0,
    )._replace(**cash_changes)
    transit = TransitChoice(
        {
            "sea": np.array([38.0]),
            "rail": np.array([25.0]),
            "air": np.array([10.0]),
            "express": np.array([5.0]),
        },
        {
            "sea": np.array([1.0]),
            "rail": np.array([1.8]),
            "air": np.array([6.0]),
            "express": np.array([9.0]),
        },
        np.array([1.0]),
    )
    return SupplyCase(stock, cash, transit, 0.0, 30.0)


def test_each_payment_falls_when_its_terms_say() -> None:
    plan = run_case(case())
    curve = plan.cash.curve.set_index("month")
    # January's order: placed 14 October, shipped 13 November, arrives 21 December
    assert plan.stock.order_day[0, 0] == plan.stock.month_start[0] - 78
    assert curve.loc["2025-10", "deposits"] == pytest.approx(0.3 * 1000 * 40)
    assert curve.loc["2025-11", "balances"] == pytest.approx(0.7 * 1000 * 40)  # 6 November
    assert curve.loc["2025-11", "freight"] == pytest.approx(1000 * 5)
    assert curve.loc["2025-12", "duties"] == pytest.approx(1000 * 8)
    assert curve.loc["2026-02", "vat_refunds"] == pytest.approx(1000 * 3)  # 45 days on
    # every goods payment of the year's twelve orders is inside the curve
    assert (curve["deposits"] + curve["balances"]).sum() == pytest.approx(12 * 1000 * 40)


def test_payouts_come_after_the_channels_cycle() -> None:
    plan = run_case(case())
    curve = plan.cash.curve.set_index("month")
    # sales spread over January: 14 of its 31 days' payouts land in February
    assert curve.loc["2026-01", "receipts"] == pytest.approx(100_000 * (1 - 14 / 31))
    assert curve.loc["2026-01", "fulfilment"] == pytest.approx(10_000)
    assert curve.loc["2026-01", "ads"] == pytest.approx(5_000)
    # after December: the rest of December's payouts, and the import tax of the goods for
    # December (arrived 21 November) refunded 45 days later, on 5 January
    assert plan.cash.after_year == pytest.approx(100_000 * 14 / 31 + 3_000, rel=1e-6)


def test_the_curve_balances_and_starts_from_the_opening_cash() -> None:
    plan = run_case(case(opening_cash=250_000.0))
    curve = plan.cash.curve
    assert curve["opening"].iloc[0] == 250_000.0
    assert np.allclose(curve["opening"] + curve["inflow"] - curve["outflow"], curve["closing"])
    assert np.allclose(curve["opening"].iloc[1:].to_numpy(), curve["closing"].iloc[:-1].to_numpy())
    assert np.allclose(curve["inflow"], curve["receipts"] + curve["vat_refunds"])
    assert plan.cash.lowest_cash == curve["closing"].min()
    assert plan.cash.lowest_month == curve["month"].iloc[int(curve["closing"].to_numpy().argmin())]


def test_the_funding_need_is_the_money_tied_up_at_its_peak() -> None:
    plan = run_case(case())
    curve = plan.cash.curve
    tied = curve["tied_up"]
    assert tied.iloc[: curve["month"].tolist().index("2026-01")].isna().all()  # before the year
    assert plan.cash.funding_need == pytest.approx(tied.max())
    peak = int(np.nanargmax(tied.to_numpy(dtype=float)))
    assert plan.cash.peak_month == curve["month"].iloc[peak]
    # at the end of January: February's goods arrived (available 1 February is after January),
    # so the pipeline holds February's and March's paid goods, plus half a month of payouts due
    summary = cash_summary(plan.cash).iloc[0]
    assert summary["funding_need"] == plan.cash.funding_need


def test_a_short_month_falls_on_its_routes_lines_alike() -> None:
    inputs = case()
    both = inputs.cash._replace(
        line_route=np.array([0, 0]),
        line_market=np.array(["US", "US"], dtype=object),
        line_units=np.vstack([np.full(12, 750.0), np.full(12, 250.0)]),
        receipts=np.array([100.0, 100.0]),
        fulfilment=np.array([10.0, 10.0]),
        ads=np.array([5.0, 5.0]),
        payout_days=np.array([14.0, 3.0]),
    )
    stock = plan_stock(inputs.stock._replace(as_of=date(YEAR, 1, 1)))
    sold = line_sales(stock, both)
    assert sold[:, 0].tolist() == [0.0, 0.0]  # January could not be stocked any more
    assert sold[:, 6].tolist() == [750.0, 250.0]


def test_paying_before_the_goods_arrive_lengthens_the_cycle() -> None:
    plan = run_case(case())
    cycle = plan.cash.cycle.set_index("market")
    us = cycle.loc["US"]
    assert us["payable_days"] < 0  # the supplier is paid before the goods are available
    assert us["receivable_days"] == pytest.approx(14.0)
    assert us["ccc_days"] == pytest.approx(
        us["inventory_days"] + us["receivable_days"] - us["payable_days"]
    )
    assert cycle.loc[""].equals(cycle.loc[""])  # the all-markets row is there


def test_the_levers_side_by_side() -> None:
    inputs = case()
    levers = compare_levers(inputs).set_index("lever")
    assert levers.loc["plan", "change"] == 0.0
    # paying nothing upfront and the balance 30 days after shipment needs less money
    assert levers.loc["terms", "funding_need"] < levers.loc["plan", "funding_need"]
    assert levers.loc["terms", "freight"] == levers.loc["plan", "freight"]
    # air: six times the freight, less stock on the water, more cash spent by December
    assert levers.loc["air", "freight"] == pytest.approx(
        6 * levers.loc["plan", "freight"], rel=0.02
    )
    assert levers.loc["air", "closing_cash"] < levers.loc["plan", "closing_cash"]
    assert levers.loc["sea", "funding_need"] == pytest.approx(levers.loc["plan", "funding_need"])
    assert list(levers.index) == ["plan", "terms", "sea", "air"]


def test_an_empty_plan_has_a_flat_curve() -> None:
    inputs = case()
    empty = inputs.stock._replace(demand=np.zeros((1, 12)), revenue=np.zeros((1, 12)))
    stock = plan_stock(empty)
    cash = plan_cash(stock, inputs.cash, empty.calendar, YEAR)
    assert (cash.curve["closing"] == 0).all() and cash.funding_need == 0
    assert isinstance(cash.curve, pd.DataFrame)
