"""``xlplan addin selftest``, the release gate on a Windows machine, against the stand-in Excel
(``excel_com``): a new plan from the template computes through the add-in and one ribbon action
runs through the dispatcher macro; each way it can fail names its cause."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from excel_com import CLASS_NOT_REGISTERED, FakeXlwings, all_functions, com_error

from udfs import addin_excel, ribbon
from xlplan.app import cli
from xlplan.app.checks import Check, Status


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeXlwings]:
    """Windows, Excel, and the add-in installed in XLSTART."""
    fake = FakeXlwings(tmp_path / "XLSTART")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "xlwings", fake)
    installed = tmp_path / "XLSTART" / "xlplan.xlam"
    installed.parent.mkdir()
    installed.write_bytes(b"built")
    fake.disk.install(installed)
    yield fake


def run(tmp_path: Path, lang: str = "en") -> dict[str, Check]:
    checks = addin_excel.selftest(tmp_path / "XLSTART" / "xlplan.xlam", lang)
    return {c.key: c for c in checks}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_good_install_passes_every_step(world: FakeXlwings, tmp_path: Path, lang: str) -> None:
    checks = run(tmp_path, lang)
    assert list(checks) == [
        "excel_start",
        "addin_open",
        "new_plan",
        "probe",
        "udf_block",
        "ribbon_action",
    ]
    assert all(c.status is Status.PASS for c in checks.values()), checks
    (excel,) = world.started
    assert excel.quit_called
    assert world.ribbon_calls == [("landed_cost", True)]  # through the dispatcher, quietly
    (added,) = excel.api.Workbooks.added
    assert added.endswith(".xltx") and "unsaved" in checks["new_plan"].detail.en
    assert excel.addins["xlplan.xlam"].read_only  # the user's copy is not locked by the test


def test_an_add_in_without_all_functions_stops_there(world: FakeXlwings, tmp_path: Path) -> None:
    partial = {k: v for k, v in all_functions().items() if k != "XLP_SPREAD"}
    world.disk.install(tmp_path / "XLSTART" / "xlplan.xlam", partial)  # type: ignore[arg-type]
    checks = run(tmp_path)
    assert checks["addin_open"].status is Status.FAIL
    assert "XLP_SPREAD" in checks["addin_open"].detail.en
    assert "new_plan" not in checks  # later steps would only repeat the cause


def test_formulas_that_did_not_bind_are_named(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 10 as the self-test sees it: without re-entering, the block shows its fallback."""
    monkeypatch.setattr(ribbon, "rebind", lambda book, today=None: None)
    checks = run(tmp_path)
    check = checks["udf_block"]
    assert check.status is Status.FAIL
    assert "formulas not bound" in check.detail.en and check.fix is not None
    assert "Relink" in check.fix.en


def test_a_ribbon_action_that_cannot_reach_python_is_named(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the dispatcher's VBA does in quiet mode when RunPython fails (a DLL, say)."""

    def no_python(tag: str, quiet: bool = False) -> None:
        world.started[
            -1
        ].status_bar = (
            "XLPlan failed: Could not load xlwings64-0.37.8.dll from either of the folders"
        )

    monkeypatch.setattr(world, "run_python", no_python)
    checks = run(tmp_path)
    assert checks["udf_block"].status is Status.PASS
    check = checks["ribbon_action"]
    assert check.status is Status.FAIL and "xlwings64-0.37.8.dll" in check.detail.en


def test_xlwings_error_texts_go_to_a_sheet_not_a_dialog(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hidden Excel cannot show a dialog: the plan's own config sends errors to a sheet."""

    def python_error(tag: str, quiet: bool = False) -> None:
        plan = world.started[-1].active
        assert plan is not None
        conf = plan.sheets["myaddin.conf"]
        assert conf.range("A1").value == "SHOW_ERROR_POPUPS"
        assert conf.range("B1").value == "False"
        error = plan.sheets.add("Error")
        error.range("A1").value = "ModuleNotFoundError: No module named 'udfs'"

    monkeypatch.setattr(world, "run_python", python_error)
    check = run(tmp_path)["ribbon_action"]
    assert check.status is Status.FAIL and "No module named 'udfs'" in check.detail.en


def test_no_excel_is_one_failed_check(world: FakeXlwings, tmp_path: Path) -> None:
    world.start_error = com_error(CLASS_NOT_REGISTERED, "Class not registered")
    checks = run(tmp_path)
    assert list(checks) == ["excel_start"]
    assert checks["excel_start"].status is Status.FAIL
    assert "desktop Excel" in checks["excel_start"].detail.en


def test_the_cli_selftest_exit_status(
    world: FakeXlwings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    addin_path = str(tmp_path / "XLSTART" / "xlplan.xlam")
    assert cli.main(["addin", "selftest", "--addin", addin_path]) == 0
    out = capsys.readouterr().out
    assert "self-test passed" in out and "[ok]" in out
    world.start_error = com_error(CLASS_NOT_REGISTERED, "Class not registered")
    assert cli.main(["addin", "selftest", "--addin", addin_path, "--lang", "zh"]) == 1
    assert "自检未通过" in capsys.readouterr().out


def test_a_probe_that_cannot_see_the_add_in_is_reported_and_the_run_goes_on(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If INDIRECT into an add-in's sheet did not resolve in this Excel, the fallback could
    not tell its two causes apart: reported, while the functions are still tested."""
    from excel_com import Application

    monkeypatch.setattr(Application, "Evaluate", lambda self, text: False)
    checks = run(tmp_path)
    assert checks["probe"].status is Status.FAIL
    assert checks["udf_block"].status is Status.PASS
    assert checks["ribbon_action"].status is Status.PASS


def test_a_new_plan_that_already_has_a_path_fails(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 8 as the self-test checks it: Ctrl+S must ask where to save."""
    opened = ribbon.open_new_plan

    def saved_somewhere(app: object, lang: str, today: object) -> object:
        plan = opened(app, lang, today)  # type: ignore[arg-type]
        plan.fullname = str(tmp_path / "Temp" / "xlplan-plan-2027-en.xlsx")
        return plan

    monkeypatch.setattr(ribbon, "open_new_plan", saved_somewhere)
    check = run(tmp_path)["new_plan"]
    assert check.status is Status.FAIL and "Ctrl+S would not ask where" in check.detail.en
