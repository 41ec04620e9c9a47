"""Stock and cash UDFs as Excel calls them: whole tables with their header rows, blanks as None;
each block agrees with what the stock and cash actions write."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

import udfs.supply as udf
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.plan.sheets import settings_frame, template_fx
from xlplan.plan.tables import FX, SETTINGS
from xlplan.planning import sheets as planning_sheets
from xlplan.supply.sheets import ROUTE_BLOCK
from xlplan.supply.tables import (
    CASH_CURVE,
    PURCHASE_ORDERS,
    SUPPLIER_CLOSURES,
    SUPPLY_ROUTES,
    SUPPLY_SETTINGS,
    SUPPLY_SKUS,
    TRANSIT_MODES,
)
from xlplan.workbook.schema import Table

TODAY = date(2026, 11, 1)
YEAR = 2027


def rows(table: Table, frame: pd.DataFrame | None, lang: str = "en") -> list[list[Any]] | None:
    """A table as xlwings hands it over: a header row, then the cells, None for blanks."""
    if frame is None:
        return None
    body = frame.reindex(columns=table.keys).astype(object)
    body = body.where(body.notna(), None)
    return [table.headers(lang), *body.to_numpy().tolist()]


@pytest.fixture(scope="module")
def plan() -> dict[str, pd.DataFrame]:
    """The template's example, run through the actions (what a workbook holds after a run)."""
    lines = landed_cost_sheets.sample_lines()
    port = templates._MemoryPort(
        {
            SETTINGS.key: settings_frame("en", templates.PlanTargets().settings(YEAR)),
            FX.key: template_fx(),
            "landed_cost": lines,
            "target_lines": planning_sheets.sample_target_lines(),
            "events": planning_sheets.events_frame(),
            **templates.supply_inputs("en", templates.PlanTargets(), YEAR),
        },
        {},
    )
    actions.run(port, TODAY, ["landed_cost", "align", "split", "stock", "cash"])
    return port.tables


def args(plan: dict[str, pd.DataFrame], lang: str = "en", **changes: Any) -> list[Any]:
    tables: dict[str, Any] = {
        "routes": rows(SUPPLY_ROUTES, plan["supply_routes"], lang),
        "skus": rows(SUPPLY_SKUS, plan["supply_skus"], lang),
        "plan": rows(CATALOG.tables["monthly_plan"], plan["monthly_plan"], lang),
        "closures": rows(SUPPLIER_CLOSURES, plan["supplier_closures"], lang),
        "settings": rows(SUPPLY_SETTINGS, plan["supply_settings"], lang),
        "transit": rows(TRANSIT_MODES, plan["transit_modes"], lang),
        "fx": rows(FX, plan["fx"], lang),
        "year": YEAR,
        "as_of": TODAY,
        "lines": rows(CATALOG.tables["landed_cost"], plan["landed_cost"], lang),
        "launches": None,
        "results": rows(CATALOG.tables["landed_cost_results"], plan["landed_cost_results"], lang),
    }
    tables.update(changes)
    return list(tables.values())


def test_stock_plan_gives_one_row_per_route_row(plan: dict[str, pd.DataFrame]) -> None:
    block = udf.XLP_STOCK_PLAN(*args(plan))
    assert block[0] == ROUTE_BLOCK.headers("en")
    assert len(block) == 1 + len(plan["supply_routes"])
    summary = plan["stock_summary"]
    orders = plan["purchase_orders"]
    for i, row in enumerate(block[1:]):
        got = dict(zip(ROUTE_BLOCK.keys, row, strict=True))
        assert got["error"] == ""
        assert got["turnover"] == pytest.approx(summary["turnover"].iloc[i])
        mine = orders[orders["sku"] == summary["sku"].iloc[i]]
        mine = mine[mine["market"] == summary["market"].iloc[i]]
        first = mine.sort_values("order_date").iloc[0]
        assert got["next_order"] == udf.serial(first["order_date"])  # an Excel day number
        assert got["next_quantity"] == first["quantity"]


def test_a_bad_route_row_says_why_in_its_own_row(plan: dict[str, pd.DataFrame]) -> None:
    routes = plan["supply_routes"].astype(object)
    routes.loc[1, "mode"] = "boat"
    routes.loc[3, "moq"] = "many"
    block = udf.XLP_STOCK_PLAN(*args(plan, routes=rows(SUPPLY_ROUTES, routes)))
    assert len(block) >= 1 + len(routes)
    assert "boat" in block[2][-1] and " / " in block[2][-1]
    assert "MOQ" in block[4][-1] or "起订量" in block[4][-1]
    assert block[1][-1] == "" and block[1][0] != ""
    # the SKUs of the refused routes are not reported a second time as having no route
    assert not any("no supply route" in str(r[0]) for r in block[1 + len(routes) :])


def test_chinese_headers_give_a_chinese_block(plan: dict[str, pd.DataFrame]) -> None:
    block = udf.XLP_STOCK_PLAN(*args(plan, "zh"))
    assert block[0] == ROUTE_BLOCK.headers("zh")
    orders = udf.XLP_PURCHASE_ORDERS(*args(plan, "zh"))
    assert orders[0] == PURCHASE_ORDERS.headers("zh")
    flags = {r[-1] for r in orders[1:]}
    assert flags <= {"是", ""} and "是" in flags


def test_purchase_orders_match_the_action(plan: dict[str, pd.DataFrame]) -> None:
    block = udf.XLP_PURCHASE_ORDERS(*args(plan))
    assert block[0] == PURCHASE_ORDERS.headers("en")
    orders = plan["purchase_orders"]
    assert len(block) == 1 + len(orders)
    quantity = PURCHASE_ORDERS.keys.index("quantity")
    assert sum(r[quantity] for r in block[1:]) == orders["quantity"].sum()


def test_cash_curve_matches_the_action(plan: dict[str, pd.DataFrame]) -> None:
    block = udf.XLP_CASH_CURVE(*args(plan))
    assert block[0] == CASH_CURVE.headers("en")
    curve = plan["cash_curve"]
    closing = CASH_CURVE.keys.index("closing")
    assert [r[0] for r in block[1:]] == curve["month"].tolist()
    assert [r[closing] for r in block[1:]] == pytest.approx(curve["closing"].tolist())


def test_without_a_routes_table_the_error_says_what_to_pass() -> None:
    (cell,) = udf.XLP_STOCK_PLAN(None, None, None, year=YEAR)[0]
    assert cell.startswith("#XLPLAN!") and "tblSupplyRoutes[#All]" in cell


def test_order_by_counts_back_through_chinese_new_year() -> None:
    """Stock needed on 1 April 2026 by sea (38 + 10 days) after 30 days of production: ready by
    12 February, inside the shutdown (7-24 February), so the order goes out on 8 January."""
    ((order, ship, early),) = udf.XLP_ORDER_BY("2026-04-01", 30, 38, 10)
    assert order == udf.serial(pd.Timestamp("2026-01-08"))
    assert ship == udf.serial(pd.Timestamp("2026-02-07"))
    assert early is True
    ((order, _, early),) = udf.XLP_ORDER_BY("2026-08-01", 30, 38, 10)
    assert order == udf.serial(pd.Timestamp("2026-05-15")) and early is False


def test_order_by_reads_a_suppliers_own_closure() -> None:
    closures: list[list[object]] = [["Supplier", "Start", "End (incl.)", "Capacity", "Note"]]
    closures.append(["Ningbo Cable", "2026-06-01", "2026-06-10", 0, "move"])
    plain = udf.XLP_ORDER_BY("2026-08-01", 30, 38, 10, closures)
    theirs = udf.XLP_ORDER_BY("2026-08-01", 30, 38, 10, closures, None, "Ningbo Cable")
    assert theirs[0][0] == plain[0][0] - 10  # ten days earlier: the factory moves in June
    (cell,) = udf.XLP_ORDER_BY("", 30, 38)[0]
    assert cell.startswith("#XLPLAN!")
