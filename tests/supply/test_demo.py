"""The demo's stock and cash plan reads as a planner would believe it: Latin American stock
arrives before the launch, the orders Chinese New Year brings forward are placed before the
shutdown, and the money tied up peaks before Q4."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan.app import demo


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo.DemoResult, Path]:
    out = tmp_path_factory.mktemp("demo")
    return demo.run_demo(out, date(2026, 11, 21)), out


def _table(path: Path, name: str) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path, data_only=True)
    for ws in wb.worksheets:
        if name in ws.tables:
            rows = [[c.value for c in r] for r in ws[ws.tables[name].ref]]
            return pd.DataFrame(rows[1:], columns=rows[0])
    raise AssertionError(name)


def test_the_stock_plan_is_drawn_up_when_the_targets_are_set(
    written: tuple[demo.DemoResult, Path],
) -> None:
    result, out = written
    assert result.problems == 0
    orders = _table(out / "demo-plan.xlsx", "tblPurchaseOrders")
    assert pd.to_datetime(orders["Order by"]).min() >= pd.Timestamp(demo.SUPPLY_AS_OF)
    text = "\n".join(result.lines)
    assert "must be placed before the Chinese New Year shutdown" in text
    assert "peak funding need" in text
    # the bundle has no Landed Cost line: the plan says what that leaves out
    assert "2 SKUs have no Landed Cost line" in text and "BN-GAN-CB US" in text


def test_latin_american_stock_arrives_before_the_launch(
    written: tuple[demo.DemoResult, Path],
) -> None:
    _, out = written
    orders = _table(out / "demo-plan.xlsx", "tblPurchaseOrders")
    brazil = pd.to_datetime(orders.loc[orders["Market"] == "BR", "Available"])
    assert brazil.min() < pd.Timestamp("2026-04-01")  # Brazil goes live in April
    mexico = pd.to_datetime(orders.loc[orders["Market"] == "MX", "Available"])
    assert mexico.min() <= pd.Timestamp("2026-02-01")


def test_the_new_year_orders_are_placed_before_the_shutdown(
    written: tuple[demo.DemoResult, Path],
) -> None:
    _, out = written
    orders = _table(out / "demo-plan.xlsx", "tblPurchaseOrders")
    early = orders[orders["Before CNY"] == "yes"]
    assert len(early) >= 9  # one at least for every route
    assert (pd.to_datetime(early["Order by"]) < pd.Timestamp("2026-02-07")).all()
    assert set(early["For month"]) <= {"2026-03", "2026-04", "2026-05"}


def test_the_funding_peak_comes_before_q4(written: tuple[demo.DemoResult, Path]) -> None:
    _, out = written
    summary = _table(out / "demo-plan.xlsx", "tblCashSummary").iloc[0]
    assert summary["Peak month"] < "2026-10"
    assert summary["Lowest cash"] >= 0  # 20 million of opening cash see the seller through
    curve = _table(out / "demo-plan.xlsx", "tblCashCurve")
    tied = curve.dropna(subset=["Money tied up"]).set_index("Month")["Money tied up"]
    assert tied.idxmax() == summary["Peak month"]
    # a visible build-up for the peak season, well above the quiet months and released by December
    assert tied.max() > 1.3 * tied.loc["2026-02"] and tied.max() > 1.3 * tied.loc["2026-12"]
    levers = _table(out / "demo-plan.xlsx", "tblCashLevers").set_index("Scenario")
    assert levers.loc["Other terms", "Change in need"] < 0
    assert levers.loc["All by air", "Freight"] > 3 * levers.loc["As planned", "Freight"]


def test_only_the_new_german_bundle_misses_a_month(written: tuple[demo.DemoResult, Path]) -> None:
    _, out = written
    risky = _table(out / "demo-plan.xlsx", "tblStockAtRisk")
    assert risky[["SKU", "Market", "Month"]].to_numpy().tolist() == [["BN-GAN-CB", "DE", "2026-01"]]
    turnover = _table(out / "demo-plan.xlsx", "tblStockMarkets").set_index("Market")["Turnover"]
    assert ((turnover > 6) & (turnover < 24)).all()  # healthy, and believable


def test_the_chinese_demo_has_the_same_plan(written: tuple[demo.DemoResult, Path]) -> None:
    _, out = written
    en = _table(out / "demo-plan.xlsx", "tblCashCurve")
    zh = _table(out / "demo-plan-zh.xlsx", "tblCashCurve")
    assert zh["期末"].tolist() == en["Closing"].tolist()
