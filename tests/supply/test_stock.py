"""The replenishment plan: its invariants under random routes, calendars and as-of dates
(hypothesis), and worked cases a planner can check by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.reference.dates import chinese_new_year
from xlplan.supply.calc.calendar import build_calendar, cny_windows
from xlplan.supply.calc.settings import SupplySettings
from xlplan.supply.calc.stock import (
    StockInputs,
    first_planned_month,
    lot_size,
    plan_stock,
    purchase_orders,
    stock_months,
)

YEAR = 2026
ORIGIN = date(YEAR - 2, 1, 1)
DAYS = (date(YEAR + 2, 1, 1) - ORIGIN).days


def calendar(closures: list[tuple[int, int, float]] | None = None, cny: bool = True):  # type: ignore[no-untyped-def]
    """The common calendar with Chinese New Year and ``closures`` (start day of the plan year,
    length, capacity) for every supplier."""
    frames = []
    if cny:
        frames.append(cny_windows(chinese_new_year(range(YEAR - 2, YEAR + 2)), SupplySettings()))
    for start, length, capacity in closures or []:
        first = date(YEAR, 1, 1) + timedelta(days=start)
        frames.append(
            pd.DataFrame(
                {
                    "supplier": [""],
                    "kind": ["closure"],
                    "start": [pd.Timestamp(first)],
                    "end": [pd.Timestamp(first + timedelta(days=length))],
                    "capacity": [capacity],
                    "note": [""],
                }
            )
        )
    windows = pd.concat(frames, ignore_index=True) if frames else cny_windows([], SupplySettings())
    return build_calendar(ORIGIN, DAYS, windows, [])


def routes_frame(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "sku": [f"S{i}" for i in range(n)],
        "market": ["US"] * n,
        "warehouse": [""] * n,
        "supplier": [""] * n,
        "mode": ["sea"] * n,
        "production_days": [30.0] * n,
        "transit_days": [38.0] * n,
        "receiving_days": [10.0] * n,
        "moq": [0.0] * n,
        "order_multiple": [1.0] * n,
        "safety_days": [0.0] * n,
        "opening_stock": [0.0] * n,
        "in_transit": [0.0] * n,
        "in_transit_date": [pd.NaT] * n,
    }
    base.update(columns)
    frame = pd.DataFrame(base)
    frame["in_transit_date"] = pd.to_datetime(frame["in_transit_date"]).astype("datetime64[s]")
    return frame


def inputs(routes: pd.DataFrame, demand: np.ndarray, as_of: date, cal=None) -> StockInputs:  # type: ignore[no-untyped-def]
    n = len(routes)
    return StockInputs(
        routes,
        demand.astype(float),
        demand.astype(float) * 100.0,
        np.full(n, 50.0),
        np.full(n, 10.0),
        YEAR,
        as_of,
        cal if cal is not None else calendar(),
    )


route = st.fixed_dictionaries(
    {
        "production_days": st.integers(0, 60).map(float),
        "transit_days": st.integers(0, 60).map(float),
        "receiving_days": st.integers(0, 21).map(float),
        "moq": st.integers(0, 3000).map(float),
        "order_multiple": st.integers(1, 120).map(float),
        "safety_days": st.integers(0, 60).map(float),
        "opening_stock": st.integers(0, 20000).map(float),
        "in_transit": st.integers(0, 5000).map(float),
        "in_transit_day": st.one_of(st.none(), st.integers(-30, 400)),
    }
)
closure = st.tuples(st.integers(0, 360), st.integers(0, 30), st.sampled_from([0.0, 0.3, 0.5]))


@st.composite
def plans(draw: st.DrawFn) -> tuple[StockInputs, np.ndarray]:
    rows = draw(st.lists(route, min_size=1, max_size=5))
    demand = np.array(
        draw(
            st.lists(
                st.lists(st.integers(0, 5000), min_size=12, max_size=12),
                min_size=len(rows),
                max_size=len(rows),
            )
        ),
        dtype=float,
    )
    as_of = date(YEAR - 1, 6, 1) + timedelta(days=draw(st.integers(0, 540)))
    cal = calendar(draw(st.lists(closure, max_size=3)), cny=draw(st.booleans()))
    columns: dict[str, list[object]] = {
        k: [r[k] for r in rows] for k in rows[0] if k != "in_transit_day"
    }
    columns["in_transit_date"] = [
        pd.NaT
        if r["in_transit_day"] is None
        else pd.Timestamp(date(YEAR, 1, 1)) + pd.Timedelta(days=r["in_transit_day"])
        for r in rows
    ]
    return inputs(routes_frame(**columns), demand, as_of, cal), demand


@settings(max_examples=150)
@given(plans())
def test_stock_balances_month_by_month(case: tuple[StockInputs, np.ndarray]) -> None:
    inp, _ = case
    plan = plan_stock(inp)
    first = plan.first_month
    planned = slice(first, 12)
    np.testing.assert_allclose(
        plan.opening[:, planned] + plan.arrivals[:, planned] - plan.sales[:, planned],
        plan.closing[:, planned],
    )
    if first < 11:
        np.testing.assert_allclose(plan.opening[:, first + 1 :], plan.closing[:, first:11])
    if first < 12:
        np.testing.assert_allclose(plan.opening[:, first], inp.routes["opening_stock"])
    assert (plan.closing[:, planned] >= -1e-9).all()
    assert (plan.sales[:, planned] <= plan.demand[:, planned] + 1e-9).all()


@settings(max_examples=150)
@given(plans())
def test_no_order_is_due_after_its_need_date_less_the_lead_time(
    case: tuple[StockInputs, np.ndarray],
) -> None:
    inp, _ = case
    plan = plan_stock(inp)
    r, m = np.nonzero(plan.ordered > 0)
    lead = (
        inp.routes["production_days"] + inp.routes["transit_days"] + inp.routes["receiving_days"]
    ).to_numpy()
    need = plan.month_start[m]
    assert (plan.order_day[r, m] <= need - lead[r]).all()
    assert (plan.available_day[r, m] <= need).all()  # every order is in stock by its month
    as_of = inp.calendar.day(np.datetime64(inp.as_of, "D"))
    assert (plan.order_day[r, m] >= as_of).all()  # and none is placed in the past
    assert (plan.order_day[r, m] <= plan.ship_day[r, m]).all()


@settings(max_examples=150)
@given(plans())
def test_quantities_are_multiples_of_the_order_multiple_and_at_least_the_moq(
    case: tuple[StockInputs, np.ndarray],
) -> None:
    inp, _ = case
    plan = plan_stock(inp)
    r, m = np.nonzero(plan.ordered > 0)
    qty = plan.ordered[r, m]
    multiple = inp.routes["order_multiple"].to_numpy()[r]
    assert np.allclose(np.round(qty / multiple), qty / multiple)
    assert (qty >= inp.routes["moq"].to_numpy()[r] - 1e-9).all()


@settings(max_examples=150)
@given(plans())
def test_safety_stock_holds_whenever_the_order_could_be_placed(
    case: tuple[StockInputs, np.ndarray],
) -> None:
    inp, _ = case
    plan = plan_stock(inp)
    planned = np.arange(12) >= plan.first_month
    ok = plan.feasible & planned[None, :]
    assert (plan.closing[ok] >= plan.safety[ok] - 1e-6).all()
    short = np.nan_to_num(plan.shortage) > 1e-9
    assert not (short & plan.feasible).any()  # a month goes short only when it was too late


@settings(max_examples=100)
@given(st.lists(st.lists(st.integers(0, 5000), min_size=12, max_size=12), min_size=1, max_size=6))
def test_with_zero_lead_times_and_no_safety_stock_the_plan_buys_each_months_units(
    rows: list[list[int]],
) -> None:
    demand = np.array(rows, dtype=float)
    n = len(rows)
    zero = [0.0] * n
    routes = routes_frame(production_days=zero, transit_days=zero, receiving_days=zero)
    plan = plan_stock(inputs(routes, demand, date(YEAR - 1, 12, 1)))
    np.testing.assert_array_equal(plan.ordered, demand)
    np.testing.assert_array_equal(plan.sales, demand)
    np.testing.assert_array_equal(plan.closing, np.zeros_like(demand))


def test_lot_size_rounds_up_to_the_carton_and_the_moq() -> None:
    net = np.array([1.0, 120.0, 121.0, 0.5, 4999.0])
    moq = np.array([0.0, 0.0, 0.0, 0.0, 5000.0])
    got = lot_size(net, moq, np.array([60.0, 60.0, 60.0, 1.0, 60.0]))
    assert got.tolist() == [60.0, 120.0, 180.0, 1.0, 5040.0]


@pytest.mark.parametrize(
    ("transit", "flagged"),
    [
        (38.0, ["2026-04", "2026-05"]),  # sea: March's goods ship mid-January, before it
        (10.0, ["2026-03", "2026-04"]),  # air: March's goods are made over the holiday
    ],
)
def test_the_orders_chinese_new_year_brings_forward_are_flagged(
    transit: float, flagged: list[str]
) -> None:
    """DOMAIN.md section 5: orders for March-April must be placed before the shutdown. Chinese
    New Year 2026 is 17 February; factories stop 10 days before (7 February), are closed a week
    after and run at 30% for two weeks more."""
    demand = np.full((1, 12), 1000.0)
    routes = routes_frame(opening_stock=[2500.0], transit_days=[transit])
    plan = plan_stock(inputs(routes, demand, date(YEAR - 1, 10, 1)))
    orders = purchase_orders(plan, routes, calendar(), np.array([40.0]), YEAR)
    by_month = orders.set_index("need_month")
    assert sorted(by_month.index[by_month["before_cny"]]) == flagged
    for month in flagged:
        assert by_month.loc[month, "order_date"] < pd.Timestamp("2026-02-07")


def test_the_shutdown_moves_an_april_sea_order_to_early_january() -> None:
    """Available 1 April by sea: shipped by 12 February, inside the shutdown; 30 days of
    production must end by 7 February, so the order goes out on 8 January."""
    demand = np.full((1, 12), 1000.0)
    routes = routes_frame(opening_stock=[2500.0])
    plan = plan_stock(inputs(routes, demand, date(YEAR - 1, 11, 1)))
    orders = purchase_orders(plan, routes, calendar(), np.array([40.0]), YEAR)
    april = orders.set_index("need_month").loc["2026-04"]
    assert april["order_date"] == pd.Timestamp("2026-01-08")
    assert april["ship_date"] == pd.Timestamp("2026-02-07")
    without = plan_stock(inputs(routes, demand, date(YEAR - 1, 11, 1), calendar(cny=False)))
    # without the holiday it would go out 30 days before 12 February
    assert without.order_day[0, 3] == without.month_start[3] - 48 - 30


def test_an_order_due_before_the_as_of_date_leaves_the_month_short_with_its_revenue() -> None:
    demand = np.full((1, 12), 1000.0)
    routes = routes_frame(opening_stock=[400.0])
    plan = plan_stock(inputs(routes, demand, date(YEAR, 1, 1)))
    # 78 days of lead by sea: January to March can no longer be supplied from 1 January
    assert plan.shortage[0, :3].tolist() == [600.0, 1000.0, 1000.0]
    assert plan.revenue_at_risk[0, 0] == pytest.approx(600.0 * 100.0)
    assert not plan.feasible[0, 2] and plan.feasible[0, 3]
    # by air (50 days door to door with production) March's units would still arrive:
    # production must end before the 7 February shutdown, so order by 8 January
    assert plan.air_in_time[0].tolist()[:3] == [False, False, True]
    assert np.nansum(plan.shortage[0, 3:]) == 0


def test_months_before_the_as_of_month_are_not_planned() -> None:
    assert first_planned_month(YEAR, date(YEAR - 1, 11, 15)) == 0
    assert first_planned_month(YEAR, date(YEAR, 7, 20)) == 6
    assert first_planned_month(YEAR, date(YEAR + 1, 1, 2)) == 12
    demand = np.full((1, 12), 100.0)
    plan = plan_stock(inputs(routes_frame(opening_stock=[1000.0]), demand, date(YEAR, 7, 20)))
    assert np.isnan(plan.closing[0, :6]).all() and plan.opening[0, 6] == 1000.0


def test_arrivals_are_booked_when_the_goods_become_available() -> None:
    """An order for April that is available on 27 March counts in March's arrivals (with March's
    own order of 500, what the opening stock leaves uncovered)."""
    demand = np.full((1, 12), 1000.0)
    routes = routes_frame(opening_stock=[2500.0])
    plan = plan_stock(inputs(routes, demand, date(YEAR - 1, 11, 1)))
    months = stock_months(plan, np.array([50.0]), YEAR)
    assert months.loc[2, "arrivals"] == 1500.0  # March's and April's orders
    assert months.loc[3, "arrivals"] == 0.0
    assert months["closing_units"].min() >= 0


@pytest.mark.parametrize("as_of", [date(YEAR, 7, 20), date(YEAR, 12, 20), date(YEAR + 1, 1, 5)])
def test_a_plan_late_in_the_year_or_after_it_still_gives_its_tables(as_of: date) -> None:
    from xlplan.supply.calc.stock import at_risk, market_summary, route_summary, stock_positions

    demand = np.full((2, 12), 500.0)
    routes = routes_frame(opening_stock=[800.0, 0.0])
    plan = plan_stock(inputs(routes, demand, as_of))
    cal = calendar()
    orders = purchase_orders(plan, routes, cal, np.array([40.0, 40.0]), YEAR)
    assert list(orders.columns)[0] == "po"
    assert orders["po"].is_unique and orders["po"].str.startswith("PO-").all()
    assert len(stock_months(plan, np.array([50.0, 50.0]), YEAR)) == 12
    assert len(route_summary(plan, routes, cal)) == 2
    assert len(market_summary(plan, routes, demand * 100, np.array([50.0, 50.0]))) == 1
    assert len(stock_positions(plan, routes)) == 8
    risky = at_risk(plan, routes, cal, YEAR)
    if as_of.year > YEAR:
        assert orders.empty and risky.empty  # nothing left to plan
    else:
        assert (risky["month"] >= f"{YEAR}-{as_of.month:02d}").all()
