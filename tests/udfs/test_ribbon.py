"""The ribbon dispatcher on a stand-in book: every button's tag runs, nothing raises into Excel."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest
from xlwings_double import Book, book_from_file

from udfs import ribbon
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import addin, templates
from xlplan.core.errors import Message
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort

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
def test_every_ribbon_tag_is_handled(plan: Book, tag: str) -> None:
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


def test_new_plan_opens_next_years_template(plan: Book, tmp_path: Path) -> None:
    ribbon.dispatch("new", book=plan, today=TODAY)
    (opened,) = plan.app.books.opened
    path = Path(opened)
    assert path.is_relative_to(tmp_path) and path.name == "xlplan-plan-2027-en.xlsx"
    assert zipfile.is_zipfile(path)
    assert "Save As" in str(_alert(plan)["prompt"])


def test_a_blank_workbook_gets_a_chinese_plan_as_xlplan_new_does() -> None:
    book = Book("Book1.xlsx")
    book.sheets.add("Sheet1")
    ribbon.dispatch("new", book=book, today=TODAY)
    (opened,) = book.app.books.opened
    assert opened.endswith("xlplan-plan-2027-zh.xlsx")
