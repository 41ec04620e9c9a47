"""The demo plan end to end: what `make demo` writes reconciles to the unit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from xlplan.app import demo


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = demo.run_demo(out, date(2026, 11, 21))
    assert [p.name for p in result.workbooks] == ["demo-plan.xlsx", "demo-plan-zh.xlsx"]
    return out


def _table(path: Path, name: str) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path, data_only=True)
    for ws in wb.worksheets:
        if name in ws.tables:
            rows = list(ws.iter_rows(values_only=True))
            ref = ws.tables[name].ref
            first, last = ref.split(":")
            r1 = int("".join(ch for ch in first if ch.isdigit()))
            r2 = int("".join(ch for ch in last if ch.isdigit()))
            block = rows[r1 - 1 : r2]
            return pd.DataFrame(block[1:], columns=block[0])
    raise AssertionError(name)


def test_monthly_plan_reconciles_to_the_company_target(written: Path) -> None:
    plan = _table(written / "demo-plan.xlsx", "tblMonthlyPlan")
    months = plan[
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    ]
    assert months.to_numpy(dtype=float).sum() == demo.COMPANY_TARGET
    assert (months.sum(axis=1) == plan["Full year"]).all()
    br = plan[plan["Market / region"] == "BR"].iloc[0]
    assert br[["Jan", "Feb", "Mar"]].tolist() == [0, 0, 0]  # Brazil launches in April


def test_tracking_uses_nine_months_of_actuals(written: Path) -> None:
    tracking = _table(written / "demo-plan.xlsx", "tblTracking")
    actuals = demo.demo_targets().actuals
    assert actuals is not None
    closed = tracking[tracking["Actual"].notna()]
    assert closed["Month"].tolist() == list(range(1, 10))
    assert closed["Actual"].sum() == pytest.approx(pd.to_numeric(actuals["actual"]).sum())
    forecast = _table(written / "demo-plan.xlsx", "tblForecast").iloc[0]
    assert forecast["Full-year plan"] == demo.COMPANY_TARGET


def test_the_chinese_demo_has_the_same_figures(written: Path) -> None:
    en = _table(written / "demo-plan.xlsx", "tblMonthlyPlan")
    zh = _table(written / "demo-plan-zh.xlsx", "tblMonthlyPlan")
    assert zh["全年"].tolist() == en["Full year"].tolist()


def test_all_three_maps_are_filled_and_their_proposals_reach_alignment(written: Path) -> None:
    tiers = _table(written / "demo-plan.xlsx", "tblCustomerTiers")
    assert len(tiers) >= 3 and tiers.iloc[:, 1].notna().any()  # tiers from the Shopify export
    proposals = _table(written / "demo-plan.xlsx", "tblMapProposals")
    assert {"business", "customer", "product"} <= set(proposals["Map"])
    totals = _table(written / "demo-plan.xlsx", "tblMapTotals").set_index("Map")
    proposed = totals["Proposed by the map"]
    by_map = proposals.groupby("Map")["Target"].sum()
    for m in ("business", "customer", "product"):
        assert proposed[m] == pytest.approx(by_map[m])


@pytest.mark.parametrize("name", ["demo-plan.xlsx", "demo-plan-zh.xlsx"])
def test_every_number_is_stored_as_a_number(written: Path, name: str) -> None:
    """Excel flags numbers stored as text and SUM skips them: every cell of a numeric column of
    every XLPlan table (inputs and results) holds a number or nothing."""
    from openpyxl.utils.cell import range_boundaries

    from xlplan.actions import CATALOG
    from xlplan.workbook.schema import NUMERIC_KINDS, normalise_header

    wb = openpyxl.load_workbook(written / name)
    checked = 0
    for ws in wb.worksheets:
        for table_name, xl in ws.tables.items():
            ref = xl if isinstance(xl, str) else xl.ref
            table = next((t for t in CATALOG.tables.values() if t.name == table_name), None)
            if table is None:
                continue
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            lookup = table.header_map()
            for c in range(min_col, max_col + 1):
                key = lookup.get(normalise_header(ws.cell(min_row, c).value))
                if key is None or table.column(key).kind not in NUMERIC_KINDS:
                    continue
                for r in range(min_row + 1, max_row + 1):
                    value = ws.cell(r, c).value
                    assert value is None or isinstance(value, int | float), (
                        f"{ws.title}!{ws.cell(r, c).coordinate} ({table_name}.{key}): {value!r}"
                    )
                    checked += value is not None
    assert checked > 1000


def test_one_timeline_and_one_seller(written: Path) -> None:
    """Issue 11: KPI months of 2027 in a 2026 plan, a product map "as of 2026-12" while the
    actuals stop in September, T-shirts and yoga mats in a 3C seller's plan, 72.6 turns a year
    shown green, a product map worth a few percent of the target. Now: the actuals' last month
    is the product map's as-of month and the KPIs' last month; the products are the plan's 3C
    categories; no KPI figure is implausible; the product map's bottom-up is most of the plan."""
    path = written / "demo-plan.xlsx"
    actuals = _table(path, "tblActuals")
    last = max(str(m)[:7] for m in actuals["Month"])
    assert last == f"{demo.PLAN_YEAR}-09"
    sales = _table(path, "tblProductSales")
    assert max(str(m)[:7] for m in sales["Month"]) == last
    kpi_months = {str(m)[:7] for m in _table(path, "tblKpiRaw")["Month"]}
    kpi_months |= {str(m)[:7] for m in _table(path, "tblKpiValues")["Month"]}
    assert max(kpi_months) == last and min(kpi_months) >= f"{demo.PLAN_YEAR}-01"
    lines = set(_table(path, "tblProductLines")["Product line"])
    categories = set(_table(path, "tblTargetLines")["Category"].dropna())
    assert categories <= lines
    assert {"power banks", "GaN chargers", "cables", "bundles"} <= lines
    flags = _table(path, "tblKpiFlags")
    assert "check" not in set(flags["Flag"])
    turnover = flags[flags["KPI"].astype(str).str.contains("turnover", case=False)]
    assert len(turnover) and turnover["Value"].between(3, 12).all()
    product = _table(path, "tblMapTotals").set_index("Map").loc["product", "Proposed by the map"]
    assert 0.6 * demo.COMPANY_TARGET <= product <= 1.1 * demo.COMPANY_TARGET


def test_dashboard_margin_is_the_plans_not_one_lines(written: Path) -> None:
    """Issue 11: the Dashboard's "单品贡献利润率 11.6%" was the first line's margin. Each
    market now shows the mean margin of its lines, and the headline tile weighs them by the
    market's plan; the red counts say which months they count."""
    from xlplan.kpi.calc import weighted_margin

    path = written / "demo-plan.xlsx"
    results = _table(path, "tblLandedCostResults")
    markets = _table(path, "tblDashMarkets").set_index("Market")
    us = results[results["Market"] == "US"]["Contribution margin"].astype(float).mean()
    assert markets.loc["US", "Line margin"] == pytest.approx(us, abs=1e-4)
    frame = markets.reset_index().rename(
        columns={"Market": "market", "YTD plan": "ytd_plan", "Line margin": "margin"}
    )
    plan_margin = weighted_margin(frame)
    assert plan_margin is not None
    known = frame.dropna(subset=["margin"])
    assert known["margin"].min() <= plan_margin <= known["margin"].max()
    expected = (known["margin"] * known["ytd_plan"]).sum() / known["ytd_plan"].sum()
    assert plan_margin == pytest.approx(expected)
    wb = openpyxl.load_workbook(path)
    tiles = [c.value for c in wb["Dashboard"][5]]
    assert "Plan-weighted margin" in tiles and "Line margin" not in tiles
    titles = {str(c.value) for row in wb["Dashboard"].iter_rows() for c in row if c.value}
    assert any("each market's latest month" in t for t in titles)


def test_monthly_plan_has_its_total_and_the_event_dates_it_used(written: Path) -> None:
    """Issue 11: the Monthly Plan had no total row and the Calendar's computed dates for the
    plan year were shown nowhere."""
    path = written / "demo-plan.xlsx"
    plan = _table(path, "tblMonthlyPlan")
    total = _table(path, "tblMonthlyTotal").iloc[0]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert [total[m] for m in months] == [plan[m].sum() for m in months]
    assert total["Full year"] == demo.COMPANY_TARGET
    events = _table(path, "tblEventDates").set_index("Event")
    black_friday = events.loc["Black Friday to Cyber Monday"]
    assert str(black_friday["Date"])[:10] == f"{demo.PLAN_YEAR}-11-26"  # Thanksgiving, the anchor
    assert str(black_friday["Starts"])[:10] == f"{demo.PLAN_YEAR}-11-27"
    assert str(events.loc["11.11 Singles' Day", "Date"])[:10] == f"{demo.PLAN_YEAR}-11-11"
    # the total row lines up under the months it adds up, column for column
    ws = openpyxl.load_workbook(path)["Monthly Plan"]
    header = {name: _header_columns(ws, name) for name in ("tblMonthlyPlan", "tblMonthlyTotal")}
    for m in [*months, "Q4", "Full year"]:
        assert header["tblMonthlyTotal"][m] == header["tblMonthlyPlan"][m], m


def _header_columns(ws: Any, name: str) -> dict[str, int]:
    """Each header of table ``name`` and the sheet column it sits in."""
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, _ = range_boundaries(ws.tables[name].ref)
    return {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
