"""The add-in installer at the Excel edge, against a stand-in for Excel (``excel_com``) and,
for the import itself, xlwings' own Windows importer (``xlwings_windows``).

Issue 10's findings covered here: 1 (the functions are imported without an ActiveWorkbook),
2 (a failed import is not reported as success), 3 (install errors say their real cause),
11 (no quickstart leftovers in the VBA project); and the install's reload into running Excels
with the re-entering of formulas (10).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from excel_com import (
    CLASS_NOT_REGISTERED,
    ComError,
    FakeXlwings,
    all_functions,
    com_error,
    error_91,
    importer,
    not_trusted,
    silent_importer,
    wrappers,
)
from xlwings_windows import WindowsXlwings

import udfs
from udfs import addin_excel
from xlplan.app import addin, excel_setup
from xlplan.app.environment import PythonSetup
from xlplan.core.errors import InputError

REPO = Path(__file__).resolve().parents[2]
UDFS = set(all_functions())
TRUSTED = excel_setup.fake_registry(
    {
        (excel_setup.HKCU, r"Software\Microsoft\Office\16.0\Excel\Security", "AccessVBOM"): 1,
    }
)
UNTRUSTED = excel_setup.fake_registry(
    {
        (excel_setup.HKCU, r"Software\Microsoft\Office\16.0\Excel\Security", "AccessVBOM"): 0,
    }
)
POLICY_OFF = excel_setup.fake_registry(
    {
        (
            excel_setup.HKCU,
            r"Software\Policies\Microsoft\Office\16.0\Excel\Security",
            "AccessVBOM",
        ): 0,
    }
)


def windows_python(root: Path) -> PythonSetup:
    """A python.org-style venv on Windows, with xlwings' DLL where pip puts it."""
    scripts = root / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (scripts / name).write_bytes(b"")
    (root / "venv" / "xlwings64-0.37.8.dll").write_bytes(b"")
    return PythonSetup(
        platform="win32",
        executable=scripts / "python.exe",
        prefix=root / "venv",
        base_prefix=root / "Python311",
        xlwings_version="0.37.8",
        package_folder=REPO,
    )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeXlwings]:
    """Windows with Excel: ``xlwings`` is the stand-in, VBA access is trusted."""
    template = addin.xlwings_template()  # found before xlwings is swapped out
    monkeypatch.setattr(addin, "xlwings_template", lambda: template)
    fake = FakeXlwings(tmp_path / "XLSTART")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "xlwings", fake)
    monkeypatch.setitem(sys.modules, "xlwings.udfs", importer())
    monkeypatch.setattr(addin_excel, "REGISTRY", TRUSTED)
    yield fake


def install(tmp_path: Path, **kwargs: object) -> addin.AddinReport:
    return addin.build_addin(
        tmp_path / "build" / "xlplan.xlam",
        excel=True,
        install=True,
        edge=addin_excel.EDGE,
        setup=windows_python(tmp_path),
        **kwargs,  # type: ignore[arg-type]
    )


def test_install_imports_checks_and_copies_without_an_active_workbook(
    world: FakeXlwings, tmp_path: Path
) -> None:
    """Finding 1: only the add-in is open (no ActiveWorkbook), and the functions arrive."""
    report = install(tmp_path)
    (excel,) = world.started
    assert excel.active is None and not excel.plans  # nothing but the add-in was ever open
    built = tmp_path / "build" / "xlplan.xlam"
    saved = world.disk.vba(built)
    assert set(addin_excel._PROCEDURE.findall(saved.modules["xlwings_udfs"])) >= UDFS
    (call,) = sys.modules["xlwings.udfs"].calls
    assert call[0] == addin.UDF_MODULES and call[1].Name == "xlplan.xlam"
    installed = tmp_path / "XLSTART" / "xlplan.xlam"
    assert installed.read_bytes() == built.read_bytes()
    assert report.installed == installed and report.remaining == []
    assert excel.quit_called and excel.display_alerts is False
    text = " ".join(line.en for line in report.done)
    assert f"{len(UDFS)} XLP_ functions imported and checked" in text
    assert "saved, reopened and checked again" in text


def test_xlwings_vba_importer_fails_with_only_an_add_in_open(world: FakeXlwings) -> None:
    """Why finding 1 matters: the macro path needs an ActiveWorkbook the hidden Excel lacks."""
    excel = world.App(visible=False, add_book=False)
    with pytest.raises(ComError) as info:
        excel.macro("ImportPythonUDFsToAddin")()
    assert addin_excel.ComCodes.of(info.value).has(addin_excel.MACRO_FAILED)


def test_the_quickstart_leftovers_are_gone_and_the_project_is_named(
    world: FakeXlwings, tmp_path: Path
) -> None:
    """Finding 11: no RibbonMyAddin module, the project is XLPlan, the dispatcher is there."""
    install(tmp_path)
    saved = world.disk.vba(tmp_path / "build" / "xlplan.xlam")
    assert saved.name == "XLPlan"
    assert "RibbonMyAddin" not in saved.modules
    assert addin.VBA_MODULE in saved.modules
    assert "Sub XLPlanDispatch(control As IRibbonControl)" in saved.modules[addin.VBA_MODULE]


def test_an_import_that_returns_normally_but_imports_nothing_fails_loudly(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 2: xlwings caught its own error; the installer does not say "imported"."""
    monkeypatch.setitem(sys.modules, "xlwings.udfs", silent_importer())
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "no xlwings_udfs module" in info.value.en
    assert "xlplan.log" in info.value.en  # the message names the log
    assert not (tmp_path / "XLSTART" / "xlplan.xlam").exists()
    assert world.started[0].quit_called


def test_a_missing_function_is_named(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = {k: v for k, v in all_functions().items() if k != "XLP_KPI_FLAGS"}
    monkeypatch.setitem(sys.modules, "xlwings.udfs", importer(partial))
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "lacks 1 functions: XLP_KPI_FLAGS" in info.value.en
    assert "缺少 1 个函数: XLP_KPI_FLAGS" in info.value.zh


def test_failing_descriptions_after_a_good_import_are_a_note_not_a_failure(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MacroOptions can fail after the module is in (xlwings#1468): the check decides."""
    error = com_error(-2147352567, "MacroOptions method of Application class failed")
    monkeypatch.setitem(sys.modules, "xlwings.udfs", importer(fail=error))
    report = install(tmp_path)
    assert any("descriptions could not be set" in line.en for line in report.done)
    assert (tmp_path / "XLSTART" / "xlplan.xlam").exists()


def test_a_failing_import_with_nothing_imported_names_the_fallback_macro(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(module_names: str, xl_workbook: object) -> None:
        raise error_91()  # xlwings' fallback macro, without an ActiveWorkbook

    fake = silent_importer()
    fake.import_udfs = failing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "xlwings.udfs", fake)
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "fallback macro needs an active workbook" in info.value.en
    assert "Trust" not in info.value.en


# --- Finding 3: each install error says its own cause ----------------------------------------


def test_trust_access_off_names_the_trust_center(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.trust_refusal = not_trusted()
    monkeypatch.setattr(addin_excel, "REGISTRY", UNTRUSTED)
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "Trust access to the VBA project object model" in info.value.en
    assert "信任对 VBA 工程对象模型的访问" in info.value.zh
    assert "not trusted" in info.value.en  # Excel's own words are kept


def test_a_policy_that_forces_trust_off_sends_the_user_to_it(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.trust_refusal = not_trusted()
    monkeypatch.setattr(addin_excel, "REGISTRY", POLICY_OFF)
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "group policy" in info.value.en and "ask IT" in info.value.en


def test_a_refusal_while_trusted_is_not_blamed_on_the_trust_center(
    world: FakeXlwings, tmp_path: Path
) -> None:
    world.trust_refusal = com_error(-2147352567, "Exception occurred.", -2147024891, "busy")
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "although the Trust Center setting is on" in info.value.en
    assert "File > Options > Trust Center" not in info.value.en


def test_a_protected_project_says_so(world: FakeXlwings, tmp_path: Path) -> None:
    world.trust_refusal = com_error(
        -2147352567, "x", -2146827284, "Can't perform operation since the project is protected."
    )
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "password-protected" in info.value.en


def test_no_excel_says_install_desktop_excel(world: FakeXlwings, tmp_path: Path) -> None:
    world.start_error = com_error(CLASS_NOT_REGISTERED, "Class not registered")
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "desktop Excel" in info.value.en and "Trust" not in info.value.en


def test_an_add_in_locked_by_a_running_excel_says_quit_excel(
    world: FakeXlwings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked_copy(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(shutil, "copyfile", locked_copy)
    with pytest.raises(InputError) as info:
        install(tmp_path)
    assert "in use by a running Excel" in info.value.en and "EXCEL.EXE" in info.value.en
    assert "Trust" not in info.value.en


def test_install_closes_the_loaded_copy_first_and_reopens_it_in_running_excel(
    world: FakeXlwings, tmp_path: Path
) -> None:
    """As ``xlwings addin install``: close the add-in every running Excel has loaded, copy,
    load the new one there; and the open plan's XLP_ formulas are entered again (finding 10)."""
    from xlplan.app import templates

    mine = world.user_excel()
    old = mine.books.open(str(tmp_path / "XLSTART" / "xlplan.xlam"))
    plan_file = tmp_path / "plan.xlsx"
    plan_file.write_bytes(templates.template_bytes("en"))
    plan = mine.books.open(str(plan_file))
    report = install(tmp_path)
    assert old.closed  # type: ignore[attr-defined]
    assert mine.books.opened[-1] == str(tmp_path / "XLSTART" / "xlplan.xlam")
    assert "xlplan.xlam" in mine.addins
    entered = [c for s in plan.sheets for c in getattr(s, "entered", [])]
    assert entered, "the plan's XLP_ formulas were entered again"
    assert any("re-entered the XLP_ formulas of plan.xlsx" in line.en for line in report.done)


def test_checks_fail_before_excel_is_touched(world: FakeXlwings, tmp_path: Path) -> None:
    """Finding 4 at install: a Store Python stops the install before Excel starts."""
    setup = windows_python(tmp_path)
    store = PythonSetup(
        platform="win32",
        executable=Path(
            r"C:\Users\a\AppData\Local\Microsoft\WindowsApps"
            r"\PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0\python.exe"
        ),
        prefix=setup.prefix,
        base_prefix=Path(r"C:\Program Files\WindowsApps\PythonSoftwareFoundation.Python.3.11"),
        xlwings_version="0.37.8",
    )
    target = tmp_path / "build" / "xlplan.xlam"
    with pytest.raises(InputError) as info:
        addin.build_addin(target, excel=True, install=True, edge=addin_excel.EDGE, setup=store)
    assert "Microsoft Store Python" in info.value.en and "python.org" in info.value.en
    assert world.started == [] and not target.exists()


# --- The real importer ---------------------------------------------------------------------


def test_xlwings_own_importer_fills_the_add_in_and_the_check_accepts_it(
    xlwings_windows: WindowsXlwings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``xlwings.udfs.import_udfs`` (Windows code, stood up here) writes wrappers the check
    accepts: every XLP_ function, each calling its own UDF module."""
    from excel_com import FakeExcel

    for name in udfs.MODULES:  # the UDF modules as Windows imports them: real decorators
        monkeypatch.setitem(sys.modules, name, xlwings_windows.load(name))
    monkeypatch.setattr(xlwings_windows.udfs, "udf_modules", {})
    fake = FakeXlwings(tmp_path)
    excel = FakeExcel(fake, tmp_path)
    book = excel.books.open(str(tmp_path / "xlplan.xlam"))
    components = addin_excel.vba_components(book, TRUSTED)
    report = addin.AddinReport(tmp_path / "xlplan.xlam")
    monkeypatch.setitem(sys.modules, "xlwings.udfs", xlwings_windows.udfs)
    addin_excel.prepare_vba(book, components, report)
    addin_excel.import_functions(book, components, report)
    text = book.state.modules["xlwings_udfs"]  # type: ignore[attr-defined]
    assert set(addin_excel._PROCEDURE.findall(text)) == UDFS
    assert addin_excel.vba_problems(components, UDFS) == []
    assert excel.active is None  # no workbook was needed
    assert len(excel.api.macro_options) == len(UDFS)  # descriptions set for each


def test_the_check_reads_wrappers_as_xlwings_writes_them() -> None:
    text = wrappers({"XLP_A": "udfs.kpi", "XLP_B": "udfs.maps"})
    assert set(addin_excel._PROCEDURE.findall(text)) == {"XLP_A", "XLP_B"}


def test_com_codes_are_read_from_pywin32s_error_shape() -> None:
    codes = addin_excel.ComCodes.of(not_trusted())
    assert codes.hresult == -2147352567 and codes.scode == addin_excel.VBA_1004
    assert codes.text.startswith("Programmatic access")
    plain = addin_excel.ComCodes.of(RuntimeError("boom"))
    assert plain.hresult is None and plain.text == "boom"
