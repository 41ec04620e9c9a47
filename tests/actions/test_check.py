"""Validate and run agree: every problem a run reports, check finds first, at the same cell,
because check is a dry run of the same actions. And a renamed header stops only the actions
that need its table."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter, range_boundaries

from xlplan import actions
from xlplan.actions import check
from xlplan.actions.check import DryRunPort
from xlplan.app import templates
from xlplan.core.errors import InputError, records
from xlplan.landed_cost import action as landed_cost_action
from xlplan.plan.action import WorkbookPort
from xlplan.workbook.io import FilePort

TODAY = date(2026, 11, 21)


def template(tmp_path: Path, lang: str = "en") -> Path:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return path


def set_cell(path: Path, table: str, row: int, header: str, value: object) -> str:
    """Type ``value`` into data row ``row`` (0-based) of ``table`` under ``header``; the cell."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if table in ws.tables:
            min_col, min_row, max_col, _ = range_boundaries(ws.tables[table].ref)
            heads = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
            cell = f"{get_column_letter(min_col + heads.index(header))}{min_row + 1 + row}"
            ws[cell] = value
            wb.save(path)
            return f"{ws.title}!{cell}"
    raise KeyError(table)


def set_setting(path: Path, key: str, value: object) -> str:
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    row = next(r for r in ws.iter_rows() if r[0].value == key)
    row[1].value = value
    wb.save(path)
    return f"Settings!{row[1].coordinate}"


def problems(path: Path, names: list[str] | None) -> set[tuple[str, str]]:
    port = FilePort(path, actions.CATALOG)
    report = actions.run(port, TODAY, names)
    return {(port.locate(r), r.en) for r in records(report.errors)}


MISTAKES: list[tuple[str, str, int, object]] = [
    # (table, header, row, typed): the common typing mistakes of a planner
    ("tblLandedCost", "Market", 0, "XX"),
    ("tblLandedCost", "Unit cost", 1, "abc"),
    ("tblLandedCost", "Price", 2, -5),
    ("tblLandedCost", "Import tax recoverable", 0, "maybe"),
    ("tblLandedCost", "Cost currency", 3, "ABC"),
    ("tblLandedCost", "Duty rate", 1, "1500%"),
    ("tblTargetLines", "Map", 1, "marketing"),
    ("tblTargetLines", "Target", 0, "lots"),
    ("tblActuals", "Month", 0, 13),
    ("tblActuals", "Actual", 1, "n/a"),
    ("tblEvents", "Uplift", 0, "big"),
    ("tblFX", "Rate", 0, 0),
    ("tblKpiValues", "Value", 0, "n/a"),
    ("tblBusinessMarkets", "Margin after fees", 0, "lots"),
    # the scenarios and the stock plan leave out, in a dry run, only what cannot fail
    ("tblScenarios", "Value", 0, "lots"),
    ("tblScenarios", "Rule", 1, "surcharge"),
    ("tblScenarios", "Market", 2, "ZZ"),
    ("tblScenarioSelection", "Scenario", 0, "nope"),
    ("tblSupplyRoutes", "MOQ", 0, "many"),
    ("tblSupplySkus", "Price", 1, "cheap"),
    ("tblSupplierClosures", "End (incl.)", 0, datetime(2027, 9, 1)),
]


@pytest.mark.parametrize(("table", "header", "row", "typed"), MISTAKES)
def test_check_finds_what_run_rejects(
    tmp_path: Path, table: str, header: str, row: int, typed: object
) -> None:
    path = template(tmp_path)
    where = set_cell(path, table, row, header, typed)
    checked = problems(path, ["check"])
    assert any(w == where for w, _ in checked), (where, checked)
    assert checked == problems(path, None)


@pytest.mark.parametrize(
    ("key", "typed"), [("rules_date", "明年一月"), ("plan_year", "next"), ("rounding_unit", 0)]
)
def test_check_finds_what_run_rejects_in_settings(tmp_path: Path, key: str, typed: object) -> None:
    path = template(tmp_path)
    where = set_setting(path, key, typed)
    checked = problems(path, ["check"])
    assert [w for w, _ in checked] == [where]
    assert checked == problems(path, None)


def test_a_month_typed_in_chinese_is_read_by_check_and_run_alike(tmp_path: Path) -> None:
    path = template(tmp_path)
    before = FilePort(path, actions.CATALOG)
    actions.run(before, TODAY, ["split", "track"])
    ytd = before.written["forecast"].iloc[0]["ytd_actual"]
    set_cell(path, "tblActuals", 0, "Month", "2027年1月")  # was 1
    assert problems(path, ["check"]) == set()
    after = FilePort(path, actions.CATALOG)
    report = actions.run(after, TODAY, ["split", "track"])
    assert report.errors.empty
    assert after.written["forecast"].iloc[0]["ytd_actual"] == ytd  # the row still counts


def test_a_renamed_header_stops_only_the_actions_that_need_its_table(tmp_path: Path) -> None:
    path = template(tmp_path, "zh")
    wb = openpyxl.load_workbook(path)
    ws = wb["落地成本"]
    cell = next(c for c in ws[6] if c.value == "售价")
    cell.value = "售价(含税)"
    wb.save(path)
    port = FilePort(path, actions.CATALOG)
    report = actions.run(port, TODAY)
    steps = {s.action.name: s.result for s in report.steps if s.action is not None}
    (problem,) = records(steps["landed_cost"].errors)
    assert "售价（是否为“售价(含税)”？）" in problem.zh
    assert "did you mean '售价(含税)'?" in problem.en
    # the planning chain does not need the landed-cost lines: it ran
    for name in ("align", "split", "track"):
        assert steps[name].errors.empty, name
    assert {"monthly_plan", "tracking"} <= set(port.written)
    assert problem.en in {r.en for r in records(actions.run(port, TODAY, ["check"]).errors)}


def test_a_dry_run_of_the_scenarios_builds_no_table_and_finds_what_a_run_finds(
    tmp_path: Path,
) -> None:
    path = template(tmp_path)
    set_cell(path, "tblScenarios", 0, "Value", "lots")
    run_port = FilePort(path, actions.CATALOG)
    ran = actions.run(run_port, TODAY, ["scenarios"])
    assert "scenario_results" in run_port.written
    dry = DryRunPort(FilePort(path, actions.CATALOG))
    ctx, _ = actions.context(dry, TODAY)
    result = actions.ACTIONS["scenarios"].run(dry, replace(ctx, dry_run=True))
    assert dry.written == {}
    assert records(result.errors) == records(ran.errors)


def test_validate_builds_only_the_tables_other_actions_report_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenarios, the stock and cash plans and the KPI flags and Dashboard report nothing
    from their tables: a dry run stops after their checks. The landed costs and the plans the
    maps and the stock plan check against are still built."""
    dry_ports: list[DryRunPort] = []

    class Recorded(DryRunPort):
        def __init__(self, port: WorkbookPort) -> None:
            super().__init__(port)
            dry_ports.append(self)

    monkeypatch.setattr(check, "DryRunPort", Recorded)
    path = template(tmp_path)
    assert problems(path, ["check"]) == set()
    (dry,) = dry_ports
    skipped = {
        key
        for name in ("scenarios", "stock", "cash", "kpi")
        for key in actions.ACTIONS[name].produces
    }
    assert skipped and not skipped & set(dry.written)
    assert {"landed_cost_results", "monthly_plan"} <= set(dry.written)


def test_check_finds_a_scenario_whose_rules_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dry run stops after making each scenario's rules, the last step that can fail."""
    path = template(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise InputError("情景规则无法生成", "the scenario's rules cannot be made")

    monkeypatch.setattr(landed_cost_action, "scenario_rules", broken)
    checked = problems(path, ["check"])
    assert "the scenario's rules cannot be made" in {en for _, en in checked}
    assert checked == problems(path, None)
