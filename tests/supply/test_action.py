"""The stock and cash actions through the file port, on real template files and the command
line: what they write, in which order they run, and where they put a bad cell."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.core.errors import records
from xlplan.supply import action as supply_action
from xlplan.supply.tables import (
    CASH_TABLES,
    PAYOUTS,
    STOCK_TABLES,
    SUPPLIER_CLOSURES,
    SUPPLY_ROUTES,
    SUPPLY_SKUS,
)
from xlplan.workbook.io import FilePort
from xlplan.workbook.schema import Table

TODAY = date(2026, 11, 1)


def template(tmp_path: Path, lang: str = "en") -> Path:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return path


def test_the_runner_puts_stock_after_split_and_cash_after_stock_and_landed_cost() -> None:
    assert [a.name for a in actions.ordered(["cash"])] == ["landed_cost", "split", "stock", "cash"]
    everything = [a.name for a in actions.ordered()]
    assert everything.index("split") < everything.index("stock") < everything.index("cash")
    assert everything.index("landed_cost") < everything.index("cash") < everything.index("kpi")


def test_stock_and_cash_write_their_sheets(tmp_path: Path) -> None:
    port = FilePort(template(tmp_path), actions.CATALOG)
    report = actions.run(port, TODAY, ["stock", "cash"])
    assert report.errors.empty, records(report.errors)
    for table in (*STOCK_TABLES, *CASH_TABLES):
        assert table.key in port.written, table.key
    orders = port.written["purchase_orders"]
    assert len(orders) and (orders["order_date"] >= pd.Timestamp(TODAY)).all()
    assert orders["before_cny"].any()  # Chinese New Year 2027 is 6 February
    summary = [m.en for m in report.summary]
    assert any(s.startswith("stock plan:") for s in summary)
    assert any("Chinese New Year" in s for s in summary)
    assert any(s.startswith("cash plan: peak funding need") for s in summary)


def test_a_bad_route_cell_is_reported_on_the_supply_sheet(tmp_path: Path) -> None:
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Supply"]
    ref = ws.tables[SUPPLY_ROUTES.name].ref
    header_row = int("".join(c for c in ref.split(":")[0] if c.isdigit()))
    mode_col = SUPPLY_ROUTES.keys.index("mode") + 1
    ws.cell(header_row + 2, mode_col, "boat")
    wb.save(path)
    port = FilePort(path, actions.CATALOG)
    report = actions.run(port, TODAY, ["stock"])
    (record,) = [r for r in records(report.errors) if r.table == SUPPLY_ROUTES.key]
    letter = openpyxl.utils.get_column_letter(mode_col)
    assert port.locate(record) == f"Supply!{letter}{header_row + 2}"
    assert "boat" in record.en and "boat" in record.zh
    assert len(port.written["stock_summary"]) == 5  # the other routes still plan


def test_cli_runs_stock_and_cash_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = template(tmp_path, "zh")
    out = tmp_path / "stock.xlsx"
    assert main(["run", str(src), "--action", "stock", "-o", str(out), "--date", "2026-11-01"]) == 0
    assert "备货计划" in capsys.readouterr().out
    wb = openpyxl.load_workbook(out)
    assert "tblPurchaseOrders" in wb["备货计划"].tables
    cash = tmp_path / "cash.xlsx"
    assert main(["run", str(out), "--action", "cash", "-o", str(cash), "--date", "2026-11-01"]) == 0
    text = capsys.readouterr().out
    assert "资金占用峰值" in text and "杠杆" in text
    wb = openpyxl.load_workbook(cash, data_only=True)
    ws = wb["资金计划"]
    assert {"tblCashCurve", "tblCashLevers", "tblCashCycle", "tblCashSummary"} <= set(ws.tables)
    # the charts travel with the sheet: each reads its own sheet
    with zipfile.ZipFile(cash) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        bodies = [zf.read(n).decode("utf-8") for n in charts]
    assert any("资金计划" in b for b in bodies)
    # the input sheets are untouched
    before = openpyxl.load_workbook(src, data_only=True)
    after = openpyxl.load_workbook(cash, data_only=True)
    for sheet in ("备货参数", "备货与资金设置"):
        a = [[c.value for c in r] for r in before[sheet].iter_rows()]
        b = [[c.value for c in r] for r in after[sheet].iter_rows()]
        assert a == b, sheet


def test_written_plans_read_back(tmp_path: Path) -> None:
    src = template(tmp_path)
    port = FilePort(src, actions.CATALOG)
    actions.run(port, TODAY, ["stock", "cash"])
    out = tmp_path / "out.xlsx"
    port.save(out)
    again = FilePort(out, actions.CATALOG)
    orders = again.read_table("purchase_orders")
    assert orders is not None and len(orders) == len(port.written["purchase_orders"])
    curve = again.read_table("cash_curve")
    assert curve is not None
    assert pd.to_numeric(curve["closing"]).tolist() == pytest.approx(
        port.written["cash_curve"]["closing"].tolist()
    )


def test_cash_says_when_the_stock_plan_is_older_than_the_inputs(tmp_path: Path) -> None:
    port = FilePort(template(tmp_path), actions.CATALOG)
    actions.run(port, TODAY, ["stock"])
    port.written["purchase_orders"] = port.written["purchase_orders"].head(3)
    report = actions.run(port, TODAY, ["cash"])
    assert any("older than the inputs" in m.en for m in report.summary)


def test_validate_finds_the_supply_problems_the_actions_would(tmp_path: Path) -> None:
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Supply"]
    ref = ws.tables["tblSupplySkus"].ref
    header_row = int("".join(c for c in ref.split(":")[0] if c.isdigit()))
    ws.cell(header_row + 1, 5, -3)  # a negative price
    wb.save(path)
    port = FilePort(path, actions.CATALOG)
    report = actions.run(port, TODAY, ["check"])
    assert any(r.table == "supply_skus" and r.column == "price" for r in records(report.errors))


def test_a_plan_without_supply_tables_still_runs_on_the_landed_cost_lines(
    tmp_path: Path,
) -> None:
    """A workbook from before the stock and cash sheets: the SKUs are its Landed Cost lines,
    and without routes the plan says which SKUs it cannot stock."""
    data = templates.template_bytes("en")
    src = io.BytesIO(data)
    wb = openpyxl.load_workbook(src)
    for name in ("Supply", "Supply Settings", "Stock Plan", "Cash Plan"):
        del wb[name]
    path = tmp_path / "old.xlsx"
    wb.save(path)
    port = FilePort(path, actions.CATALOG)
    report = actions.run(port, TODAY, ["stock"])
    missing = [r for r in records(report.errors) if "no supply route" in r.en]
    # the example's lines have SKUs in US, DE, JP and MX; the Monthly Plan reaches them all
    assert missing and all(r.table == "landed_cost" for r in missing)
    assert port.locate(missing[0]).startswith("Landed Cost!")


def _cell(ws: openpyxl.worksheet.worksheet.Worksheet, table: Table, row: int, key: str) -> Any:
    ref = ws.tables[table.name].ref
    header_row = int("".join(c for c in ref.split(":")[0] if c.isdigit()))
    first = openpyxl.utils.column_index_from_string("".join(c for c in ref if c.isalpha())[0])
    return ws.cell(header_row + 1 + row, first + table.keys.index(key))


def test_check_and_run_report_the_same_supply_cells(tmp_path: Path) -> None:
    """Validate is a dry run: every bad cell of the stock and cash inputs it finds, the run
    finds at the same Sheet!Cell, and no other."""
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    supply = wb["Supply"]
    _cell(supply, SUPPLY_ROUTES, 1, "mode").value = "boat"
    _cell(supply, SUPPLY_ROUTES, 2, "moq").value = -5
    _cell(supply, SUPPLY_SKUS, 0, "price").value = -3
    _cell(supply, SUPPLIER_CLOSURES, 0, "start").value = "someday"
    _cell(wb["Supply Settings"], PAYOUTS, 0, "payout_days").value = 999
    wb.save(path)

    def located(names: list[str]) -> set[str]:
        port = FilePort(path, actions.CATALOG)
        report = actions.run(port, TODAY, names)
        keys = {t.key for t in (SUPPLY_ROUTES, SUPPLY_SKUS, SUPPLIER_CLOSURES, PAYOUTS)}
        return {port.locate(r) for r in records(report.errors) if r.table in keys}

    checked, ran = located(["check"]), located(["stock", "cash"])
    assert len(checked) == 5, checked
    assert checked == ran


def test_a_dry_reading_of_the_inputs_finds_the_same_problems_and_is_not_kept_for_a_run(
    tmp_path: Path,
) -> None:
    """Validate's reading leaves out the landed costs' money (it reports nothing); the plans'
    memory of their last reading does not hand it to a run."""
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    _cell(wb["Supply"], SUPPLY_ROUTES, 0, "moq").value = "many"
    wb.save(path)
    port = FilePort(path, actions.CATALOG)
    actions.run(port, TODAY, ["landed_cost"])
    ctx, _ = actions.context(port, TODAY)
    dry = supply_action.read_supply(port, replace(ctx, dry_run=True))
    full = supply_action.read_supply(port, ctx)
    assert not dry.has_results and full.has_results
    assert len(full.errors) and records(dry.errors) == records(full.errors)
