"""The ribbon dispatcher on a stand-in book: every button's tag runs, nothing raises into Excel.

Issue 10's findings covered here: 7 (calculation manual and screen updating off while an
action writes, both restored, also on error), 8 (New plan opens an Excel template with
Workbooks.Add, nothing in the temp folder), 9 (an unexpected error names the log), 10 (New
plan re-enters the XLP_ formulas so they bind to the loaded add-in).
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from excel_com import FakeExcel, FakeXlwings, PlanBook
from xlwings_double import Book, book_from_file

from udfs import ribbon
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import addin, places, templates
from xlplan.core.errors import Message
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.workbook import render

TODAY = date(2026, 11, 21)


@pytest.fixture
def plan(tmp_path: Path) -> Book:
    path = tmp_path / "plan-en.xlsx"
    path.write_bytes(templates.template_bytes("en"))
    return book_from_file(path)


@pytest.fixture(autouse=True)
def temp_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where "New plan" writes


def _alert(book: Book) -> dict[str, object]:
    assert len(book.app.alerts) == 1
    return book.app.alerts[0]


def test_a_button_runs_its_action_on_the_calling_workbook(plan: Book) -> None:
    sheet = plan.sheets[CATALOG.sheets["landed_cost_results"].en]
    table = sheet.tables[LANDED_COST_RESULTS.name]
    before = table.data_body_range
    assert before is None or all(v is None for v in before.options(ndim=2).value[0])
    ribbon.dispatch("landed_cost", book=plan, today=TODAY)
    body = table.data_body_range
    assert body is not None
    rows = body.options(ndim=2).value
    assert len(rows) == 4  # one result per line of the template's Landed Cost table
    margin = LANDED_COST_RESULTS.keys.index("contribution_margin")
    assert all(isinstance(r[margin], float) for r in rows)
    alert = _alert(plan)
    assert alert["title"] == "XLPlan"
    assert alert["mode"] == "info"  # the template's lines are clean
    assert "4 of 4 lines computed" in str(alert["prompt"])
    assert plan.app.status_history[0] == "XLPlan [1/1] Landed cost ..."
    assert plan.app.status_bar is False  # handed back to Excel
    assert plan.app.screen_updating is True


@pytest.mark.parametrize("tag", sorted({*actions.ACTIONS, *addin.SPECIAL_TAGS}))
def test_every_ribbon_tag_is_handled(excel: FakeExcel, tmp_path: Path, tag: str) -> None:
    plan = plan_in(excel, tmp_path)
    ribbon.dispatch(tag, book=plan, today=TODAY)
    prompt = str(_alert(plan)["prompt"])
    assert "unknown action" not in prompt
    assert "unexpected error" not in prompt


def test_the_ribbon_offers_exactly_what_the_dispatcher_handles() -> None:
    tags = {b.tag for *_, buttons in addin.ribbon_groups() for b in buttons}
    assert tags == {*actions.ACTIONS, *addin.SPECIAL_TAGS}


def test_an_unknown_tag_is_reported_not_raised(plan: Book) -> None:
    ribbon.dispatch("nope", book=plan, today=TODAY)
    alert = _alert(plan)
    assert alert["mode"] == "critical"
    assert "未知的操作" in str(alert["prompt"]) and "unknown action: nope" in str(alert["prompt"])


def test_an_unexpected_failure_is_reported_not_raised(
    plan: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(port: WorkbookPort, ctx: Context) -> ActionResult:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(
        actions.ACTIONS, "broken", Action("broken", Message("坏", "Broken"), broken)
    )
    ribbon.dispatch("broken", book=plan, today=TODAY)
    alert = _alert(plan)
    assert alert["mode"] == "critical"
    assert "RuntimeError: disk on fire" in str(alert["prompt"])
    assert plan.app.status_bar is False
    assert plan.app.screen_updating is True


def test_problems_are_listed_with_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "plan-zh.xlsx"
    path.write_bytes(templates.template_bytes("zh"))
    book = book_from_file(path)
    lines = book.sheets[CATALOG.sheets["landed_cost"].zh].tables[LANDED_COST.name]
    assert lines.data_body_range is not None
    market = 1 + LANDED_COST.keys.index("market")
    first = lines.data_body_range.row
    cell = (first, lines.data_body_range.column + market - 1)
    book.sheets[CATALOG.sheets["landed_cost"].zh].range(cell).value = "ZZ"
    ribbon.dispatch("check", book=book, today=TODAY)
    alert = _alert(book)
    assert alert["mode"] == "critical"
    sheet = CATALOG.sheets["landed_cost"].zh
    letter = chr(64 + cell[1])
    assert f"{sheet}!{letter}{first}:" in str(alert["prompt"])


def test_help_lists_every_action(plan: Book) -> None:
    ribbon.dispatch("help", book=plan, today=TODAY)
    prompt = str(_alert(plan)["prompt"])
    assert all(a.label.en in prompt for a in actions.ACTIONS.values())


@pytest.fixture
def excel(tmp_path: Path) -> FakeExcel:
    """An Excel with the add-in loaded."""
    world = FakeXlwings(tmp_path / "XLSTART")
    app = world.user_excel()
    app.books.open(str(tmp_path / "XLSTART" / "xlplan.xlam"))
    return app


def plan_in(excel: FakeExcel, tmp_path: Path, lang: str = "en") -> PlanBook:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    book = excel.books.open(str(path))
    assert isinstance(book, PlanBook)
    return book


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_new_plan_adds_a_workbook_from_the_excel_template(
    excel: FakeExcel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    """Finding 8: Workbooks.Add of an .xltx (Windows through COM, macOS through the
    dispatcher's VBA), so the new plan is unsaved and Excel asks where to save it."""
    monkeypatch.setattr(sys, "platform", platform)
    plan = plan_in(excel, tmp_path)
    ribbon.dispatch("new", book=plan, today=TODAY)
    (added,) = excel.api.Workbooks.added
    path = Path(added)
    assert path.parent == places.templates_dir() and path.name == "xlplan-plan-2027-en.xltx"
    assert not path.is_relative_to(tmp_path)  # not the temp folder (tmp_path is tempdir here)
    with zipfile.ZipFile(path) as zf:
        assert templates.CT_WORKBOOK_TEMPLATE in zf.read("[Content_Types].xml").decode()
    books: Any = excel.books
    new = books["xlplan-plan-2027-en1"]
    assert new.fullname == "xlplan-plan-2027-en1"  # no folder: unsaved
    assert "Excel asks where to save it" in str(_alert(plan)["prompt"])


def test_new_plan_binds_its_formulas_to_the_loaded_add_in(excel: FakeExcel, tmp_path: Path) -> None:
    """Finding 10: the template's XLP_ formulas are entered again, then calculated."""
    plan = plan_in(excel, tmp_path)
    ribbon.dispatch("new", book=plan, today=TODAY)
    books: Any = excel.books
    new = books["xlplan-plan-2027-en1"]
    sheet = new.sheets[CATALOG.sheets["landed_cost"].en]
    formulas: dict[str, str] = sheet.formulas
    ((cell, formula),) = [(c, f) for c, f in formulas.items() if "XLP_LANDED_COST(" in f]
    assert cell in sheet.entered
    assert sheet.cells[cell] == "Currency"  # the block's header, not the fallback text
    assert render.ADDIN_NOT_LOADED.both not in str(sheet.cells[cell])


def test_a_plan_opened_without_relink_shows_not_bound(excel: FakeExcel, tmp_path: Path) -> None:
    """What the fallback says before Relink: the add-in is loaded, the formula is not bound;
    after Relink it computes."""
    plan = plan_in(excel, tmp_path)
    excel.calculate()
    sheet: Any = plan.sheets[CATALOG.sheets["landed_cost"].en]
    ((cell, _),) = [(c, f) for c, f in sheet.formulas.items() if "XLP_LANDED_COST(" in f]
    assert sheet.cells[cell] == render.ADDIN_NOT_BOUND.both
    ribbon.dispatch("relink", book=plan, today=TODAY)
    assert sheet.cells[cell] == "Currency"
    assert "re-entered" in str(_alert(plan)["prompt"])


def test_a_blank_workbook_gets_a_chinese_plan_as_xlplan_new_does(excel: FakeExcel) -> None:
    book = Book("Book1.xlsx", app=excel)
    book.sheets.add("Sheet1")
    ribbon.dispatch("new", book=book, today=TODAY)
    assert excel.api.Workbooks.added[-1].endswith("xlplan-plan-2027-zh.xltx")


def test_an_action_runs_with_calculation_manual_and_screen_updating_off(
    excel: FakeExcel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 7: both switched while the action writes, both restored after."""
    seen: list[tuple[object, object]] = []

    def watch(port: WorkbookPort, ctx: Context) -> ActionResult:
        seen.append((excel.calculation, excel.screen_updating))
        return ActionResult()

    monkeypatch.setitem(actions.ACTIONS, "watch", Action("watch", Message("看", "Watch"), watch))
    plan = plan_in(excel, tmp_path)
    ribbon.dispatch("watch", book=plan, today=TODAY)
    assert seen == [("manual", False)]
    assert (excel.calculation, excel.screen_updating) == ("automatic", True)


def test_a_failing_action_restores_calculation_and_screen_updating_and_names_the_log(
    excel: FakeExcel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings 7 and 9."""
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(tmp_path / "logs"))

    def broken(port: WorkbookPort, ctx: Context) -> ActionResult:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(
        actions.ACTIONS, "broken", Action("broken", Message("坏", "Broken"), broken)
    )
    excel.calculation = "semiautomatic"
    plan = plan_in(excel, tmp_path)
    ribbon.dispatch("broken", book=plan, today=TODAY)
    assert (excel.calculation, excel.screen_updating) == ("semiautomatic", True)
    prompt = str(_alert(plan)["prompt"])
    log = tmp_path / "logs" / "xlplan.log"
    assert "RuntimeError: disk on fire" in prompt and str(log) in prompt
    text = log.read_text(encoding="utf-8")
    assert "ribbon broken: RuntimeError: disk on fire" in text and "Traceback" in text


def test_an_expected_error_names_the_log_too(plan: Book, tmp_path: Path) -> None:
    ribbon.dispatch("nope", book=plan, today=TODAY)
    assert "details in the log" in str(_alert(plan)["prompt"])


def test_quiet_reports_on_the_status_bar_not_in_a_box(plan: Book) -> None:
    """The self-test runs a button in a hidden Excel, where a message box would block."""
    ribbon.dispatch("landed_cost", book=plan, today=TODAY, quiet=True)
    assert plan.app.alerts == []
    assert str(plan.app.status_bar).startswith("XLPlan: ")
    ribbon.dispatch("nope", book=plan, today=TODAY, quiet=True)
    assert str(plan.app.status_bar).startswith("XLPlan failed: ")


def test_help_names_doctor_and_the_log(plan: Book) -> None:
    ribbon.dispatch("help", book=plan, today=TODAY)
    prompt = str(_alert(plan)["prompt"])
    assert "xlplan doctor" in prompt and "xlplan.log" in prompt
