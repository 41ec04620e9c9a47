"""Actions through the file port on real template files: align, split, track."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.core.errors import records
from xlplan.plan.action import Context
from xlplan.planning.action import read_alignment, run_align, run_split, run_track
from xlplan.planning.calc.targets import MONTH_COLUMNS
from xlplan.planning.tables import MONTHLY_PLAN
from xlplan.workbook.io import FilePort

TODAY = date(2026, 11, 21)
YI = 100_000_000


def port_of(path: Path) -> FilePort:
    return FilePort(path, actions.CATALOG)


def ctx_of(port: FilePort) -> Context:
    ctx, errors = actions.context(port, TODAY)
    assert errors.empty, errors
    return ctx


def template(tmp_path: Path, lang: str = "en") -> Path:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return path


def edit(path: Path, sheet: str, cells: dict[str, object]) -> None:
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def test_registry_orders_by_the_tables_actions_exchange() -> None:
    names = [a.name for a in actions.ordered(["track"])]
    assert names == ["track"]  # only what was asked: track reads the plan, it does not need it
    assert [a.name for a in actions.ordered(["track", "align", "split"])] == [
        "align",
        "split",
        "track",
    ]
    assert set(actions.ACTIONS) >= {"landed_cost", "align", "split", "track"}
    everything = [a.name for a in actions.ordered()]
    assert "check" not in everything  # Validate runs only when asked
    assert everything.index("products") < everything.index("align") < everything.index("kpi")
    # the business map needs the landed-cost results: without a workbook to look in, asking
    # for it alone brings their producer along, first
    assert [a.name for a in actions.ordered(["business"])] == ["landed_cost", "business"]


def test_align_reproduces_the_worked_example(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    result = run_align(port, ctx_of(port))
    assert result.errors.empty
    totals = port.written["map_totals"].set_index("map")["amount"].to_dict()
    assert totals == {"business": 3 * YI, "customer": 2.5 * YI, "product": 6.5 * YI}
    buckets = port.written["buckets"]
    assert buckets["amount"].sum() == 12 * YI
    assert len(port.written["overlaps"]) > 0
    assert "gap to company target 0" in result.summary[0].en


def test_split_sums_to_the_company_target_to_the_unit(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    ctx = ctx_of(port)
    result = run_split(port, ctx)
    assert result.errors.empty, result.errors
    plan = port.written["monthly_plan"]
    months = plan[MONTH_COLUMNS]
    assert months.to_numpy().sum() == 12 * YI
    assert (months.sum(axis=1) == plan["total"]).all()
    buckets = read_alignment(port, ctx.settings)[0].buckets
    assert plan["total"].tolist() == buckets["amount"].tolist()
    # rounded to the template's unit (10,000 CNY): every month a whole multiple
    assert ((months % 10_000) == 0).all().all()
    # LATAM follows its own calendar: Christmas and Buen Fin lift Nov-Dec above Feb
    latam = plan[plan["market"] == "LATAM"].iloc[0]
    assert latam["m12"] > latam["m02"]
    assert plan[["q1", "q2", "q3", "q4"]].sum(axis=1).tolist() == plan["total"].tolist()


def test_track_reports_attainment_forecast_and_drivers(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    actions.run(port, TODAY, ["split", "track"])
    monthly = port.written["tracking"]
    assert monthly["month"].tolist()[:3] == [1, 2, 3]
    plan = port.written["monthly_plan"]
    jan_plan = plan["m01"].sum()
    assert monthly.loc[0, "plan"] == pytest.approx(jan_plan)
    assert monthly.loc[0, "actual"] == pytest.approx(7.3e6 + 9.1e6 + 52e6)
    outlook = port.written["forecast"].iloc[0]
    assert outlook["full_year_plan"] == pytest.approx(12 * YI)
    assert outlook["gap_to_close"] == pytest.approx(12 * YI - outlook["forecast"])
    drivers = port.written["gap_drivers"]
    # the dimension as the sheet names it, in both languages (issue 11: not the column key)
    assert {"市场/区域 / Market / region", "新/老客户 / New / existing"} >= set(
        drivers["dimension"]
    )


def test_bad_rows_are_located_in_the_sheet(tmp_path: Path) -> None:
    path = template(tmp_path)
    edit(path, "Alignment", {"A8": "marketing"})  # second target line: not a map
    edit(path, "Actuals", {"A7": 13})  # first actual: month 13
    port = port_of(path)
    result = run_align(port, ctx_of(port))
    where = [port.locate(r) for r in records(result.errors)]
    assert "Alignment!A8" in where
    track = run_track(port, ctx_of(port))
    where = [port.locate(r) for r in records(track.errors)]
    assert any(w.startswith("Actuals!") for w in where), where


def test_unknown_reconcile_method_is_reported_on_its_settings_cell(tmp_path: Path) -> None:
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    row = next(r for r in ws.iter_rows() if r[0].value == "reconcile_method")
    row[1].value = "average"
    wb.save(path)
    port = port_of(path)
    report = actions.run(port, TODAY, ["align"])
    found = [(port.locate(r), r.en) for r in records(report.errors)]
    assert found[0][0] == f"Settings!{row[1].coordinate}"
    assert "reconcile_method" in found[0][1] and "keep" in found[0][1]
    assert report.steps[1].result.errors.empty  # align itself ran, with the default


def test_cli_run_all_actions_on_the_chinese_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = template(tmp_path, "zh")
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "-o", str(out), "--date", "2026-11-21"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"\[\d/\d\] 月度跟踪", text) and "累计达成" in text
    wb = openpyxl.load_workbook(out, data_only=True)
    for sheet in ("月度拆解", "对齐结果", "月度跟踪", "落地成本结果"):
        assert sheet in wb.sheetnames
    ws = wb["月度拆解"]
    ref = ws.tables["tblMonthlyPlan"].ref
    rows = list(ws[ref])
    header = [c.value for c in rows[0]]
    assert header[: len(MONTHLY_PLAN.columns)] == MONTHLY_PLAN.headers("zh")
    total = header.index("全年")
    assert sum(r[total].value for r in rows[1:]) == 12 * YI
    # the user's input sheets are untouched
    before = openpyxl.load_workbook(src, data_only=True)
    for sheet in ("三方对齐", "实际数据", "设置", "落地成本"):
        a = [[c.value for c in r] for r in before[sheet].iter_rows()]
        b = [[c.value for c in r] for r in wb[sheet].iter_rows()]
        assert a == b, sheet


def test_written_tables_read_back(tmp_path: Path) -> None:
    """What a run writes, a later run reads: track uses the Monthly Plan in the file."""
    src = template(tmp_path)
    first = tmp_path / "first.xlsx"
    assert main(["run", str(src), "--action", "split", "--action", "align", "-o", str(first)]) == 0
    port = port_of(first)
    plan = port.read_table("monthly_plan")
    assert plan is not None and len(plan) == 5
    assert pd.to_numeric(plan["total"]).sum() == 12 * YI
    result = run_track(port, ctx_of(port))
    assert result.errors.empty


def test_split_errors_point_at_the_target_line_cells(tmp_path: Path) -> None:
    path = template(tmp_path)
    edit(path, "Alignment", {"A7": "marketing", "C9": "XX"})  # line 1 bad map, line 3 market
    port = port_of(path)
    report = actions.run(port, TODAY, ["align", "split"])
    where = [port.locate(r) for r in records(report.errors)]
    assert "Alignment!A7" in where
    # the third line's market, even though the first line was left out of the alignment
    assert where.count("Alignment!C9") >= 2
    assert not any(w.startswith("buckets") for w in where)
