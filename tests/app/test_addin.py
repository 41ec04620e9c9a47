"""The add-in build without Excel: the package, its ribbon, its config sheet, nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import udfs
from udfs.addin_excel import run_excel_steps
from xlplan.actions import ACTIONS
from xlplan.app import addin, cli
from xlplan.core.errors import InputError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REPO = Path(__file__).resolve().parents[2]
BAS = REPO / "workbooks" / "addin" / "XLPlanRibbon.bas"
CHANGED = {"customUI/customUI.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("addin") / "xlplan.xlam"
    report = addin.build_addin(target, excel=False, interpreter="")
    assert report.path == target
    return target


def _ribbon(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("customUI/customUI.xml"))


def _buttons(path: Path) -> list[ET.Element]:
    return [el for el in _ribbon(path).iter() if el.tag.endswith("}button")]


def _config(path: Path) -> tuple[str, dict[str, str]]:
    """The config sheet's name and its settings (column A -> column B)."""
    with zipfile.ZipFile(path) as zf:
        workbook = ET.fromstring(zf.read("xl/workbook.xml"))
        sst = ET.fromstring(zf.read("xl/sharedStrings.xml"))
        sheet = ET.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    (name,) = [s.get("name", "") for s in workbook.iter(f"{MAIN}sheet")]
    strings = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in sst]

    def value(cell: ET.Element) -> str:
        if cell.get("t") == "s":
            return strings[int(cell.findtext(f"{MAIN}v") or 0)]
        if cell.get("t") == "inlineStr":
            return "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
        return cell.findtext(f"{MAIN}v") or ""

    settings: dict[str, str] = {}
    for row in sheet.iter(f"{MAIN}row"):
        cells = {re.sub(r"\d", "", c.get("r", "")): value(c) for c in row.iter(f"{MAIN}c")}
        if cells.get("A"):
            settings[cells["A"]] = cells.get("B", "")
    return name, settings


def test_the_package_is_a_valid_zip_with_the_templates_members(built: Path) -> None:
    template = addin.xlwings_template()
    with zipfile.ZipFile(built) as ours, zipfile.ZipFile(template) as theirs:
        assert ours.testzip() is None
        assert ours.namelist() == theirs.namelist()


def test_only_ribbon_config_and_workbook_parts_change(built: Path) -> None:
    with zipfile.ZipFile(built) as ours, zipfile.ZipFile(addin.xlwings_template()) as theirs:
        changed = {n for n in theirs.namelist() if ours.read(n) != theirs.read(n)}
        assert changed == CHANGED
        for info in theirs.infolist():  # untouched members keep their stored bytes
            if info.filename not in CHANGED:
                mine = ours.getinfo(info.filename)
                assert (mine.CRC, mine.compress_size, mine.compress_type) == (
                    info.CRC,
                    info.compress_size,
                    info.compress_type,
                )
                assert ours.read(info.filename) == theirs.read(info.filename)


def test_the_ribbon_is_one_xlplan_tab_with_a_button_per_action(built: Path) -> None:
    root = _ribbon(built)
    tabs = [el for el in root.iter() if el.tag.endswith("}tab")]
    assert [t.get("label") for t in tabs] == ["XLPlan"]
    tags = [b.get("tag") for b in _buttons(built)]
    assert len(tags) == len(set(tags))
    assert set(tags) == set(ACTIONS) | set(addin.SPECIAL_TAGS)
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


def test_every_button_uses_the_one_callback_and_a_bilingual_label(built: Path) -> None:
    buttons = _buttons(built)
    assert {b.get("onAction") for b in buttons} == {addin.CALLBACK}
    landed = next(b for b in buttons if b.get("tag") == "landed_cost")
    assert landed.get("label") == "落地成本 Landed cost"


def test_the_ribbon_keeps_the_templates_namespace(built: Path) -> None:
    with zipfile.ZipFile(addin.xlwings_template()) as zf:
        theirs = ET.fromstring(zf.read("customUI/customUI.xml"))
    assert _ribbon(built).tag == theirs.tag


def test_the_config_sheet_is_active_and_names_the_udf_module(built: Path) -> None:
    name, settings = _config(built)
    assert name == "myaddin.conf"  # xlwings reads <PROJECT_NAME>.conf; "_" disables it
    assert settings["UDF Modules"] == ";".join(udfs.MODULES)
    assert settings["Interpreter_Win"] == ""
    assert settings["Debug UDFs"] == "0"


def test_an_interpreter_goes_into_the_config_sheet(tmp_path: Path) -> None:
    target = tmp_path / "xlplan.xlam"
    addin.build_addin(target, excel=False, interpreter=r"C:\Python\python.exe & co")
    _, settings = _config(target)
    key = "Interpreter_Mac" if sys.platform == "darwin" else "Interpreter_Win"
    assert settings[key] == r"C:\Python\python.exe & co"


def test_the_dispatcher_module_defines_the_ribbons_callback(built: Path) -> None:
    module, sub = addin.CALLBACK.split(".")
    text = BAS.read_bytes().decode("ascii")
    assert f'Attribute VB_Name = "{module}"' in text
    assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)", text, re.M)
    assert 'RunPython "import udfs.ribbon; udfs.ribbon.dispatch(\'" & tag & "\')"' in text


def test_the_committed_dispatcher_is_the_generated_one() -> None:
    committed = BAS.read_bytes().decode("ascii").replace("\r\n", "\n")
    assert committed == addin.dispatcher_bas().replace("\r\n", "\n")


def test_a_report_lists_what_remains_for_excel(tmp_path: Path) -> None:
    report = addin.build_addin(tmp_path / "x.xlam", excel=False)
    remaining = " ".join(line.en for line in report.remaining)
    assert "ImportPythonUDFsToAddin" in remaining
    assert "XLSTART" in remaining
    assert all(line.startswith(("[x] ", "[ ] ")) for line in report.lines("zh"))


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Excel may be there on Windows")
def test_the_excel_steps_say_what_to_enable(tmp_path: Path) -> None:
    target = tmp_path / "x.xlam"
    with pytest.raises(InputError) as info:
        addin.build_addin(target, excel=True)
    assert "Trust access to the VBA project object model" in info.value.en
    assert "信任对 VBA 工程对象模型的访问" in info.value.zh
    assert not target.exists()


def test_the_cli_builds_without_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "xlplan.xlam"
    assert cli.main(["addin", "build", "--no-excel", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert zipfile.is_zipfile(target)
    assert "[ ] import the UDFs into the add-in" in out
    assert "xlplan addin install" in out


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Excel may be there on Windows")
def test_the_cli_install_fails_cleanly_without_excel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["addin", "install", "-o", str(tmp_path / "x.xlam")]) == 1
    err = capsys.readouterr().err
    assert "Trust Center" in err
    assert "Traceback" not in err


def test_the_installed_command_builds_without_excel(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "xlplan"
    if not exe.exists():
        pytest.skip("the xlplan console script is not installed next to this Python")
    target = tmp_path / "xlplan.xlam"
    proc = subprocess.run(
        [str(exe), "addin", "build", "--no-excel", "-o", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "remain for Excel" in proc.stdout
    assert zipfile.is_zipfile(target)


# --- The Excel steps, with a stand-in for xlwings' App (the COM side cannot run here) -------


class _Components:
    def __init__(self, trusted: bool) -> None:
        self.trusted = trusted
        self.names = ["xlwings", "RibbonMyAddin"]
        self.imported: list[str] = []

    @property
    def Count(self) -> int:  # noqa: N802  (COM names)
        if not self.trusted:
            raise RuntimeError("Programmatic access to Visual Basic Project is not trusted")
        return len(self.names)

    def Item(self, key: int | str) -> types.SimpleNamespace:  # noqa: N802
        name = self.names[key - 1] if isinstance(key, int) else key
        return types.SimpleNamespace(Name=name)

    def Remove(self, item: types.SimpleNamespace) -> None:  # noqa: N802
        self.names.remove(item.Name)

    def Import(self, path: str) -> None:  # noqa: N802
        text = Path(path).read_bytes().decode("ascii")
        self.imported.append(text)
        self.names.append(re.search(r'VB_Name = "(\w+)"', text).group(1))  # type: ignore[union-attr]


class _FakeExcel:
    def __init__(self, startup: Path, trusted: bool) -> None:
        self.startup_path = str(startup)
        self.components = _Components(trusted)
        self.macros: list[str] = []
        self.quit_called = False
        outer = self

        class Book:
            api = types.SimpleNamespace(
                VBProject=types.SimpleNamespace(VBComponents=outer.components)
            )

            def macro(self, name: str) -> Callable[[], None]:
                return lambda: outer.macros.append(name)

            def save(self) -> None: ...

            def close(self) -> None: ...

        self.books = types.SimpleNamespace(open=lambda path: Book())

    def __call__(self, visible: bool = True, add_book: bool = True) -> _FakeExcel:
        return self

    def quit(self) -> None:
        self.quit_called = True


def _on_windows(monkeypatch: pytest.MonkeyPatch, excel: _FakeExcel) -> None:
    template = addin.xlwings_template()  # found before xlwings is swapped out
    monkeypatch.setattr(addin, "xlwings_template", lambda: template)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "xlwings", types.SimpleNamespace(App=excel))


def test_install_imports_the_dispatcher_and_the_udfs_then_copies_to_xlstart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    startup = tmp_path / "XLSTART"
    startup.mkdir()
    excel = _FakeExcel(startup, trusted=True)
    _on_windows(monkeypatch, excel)
    report = addin.build_addin(
        tmp_path / "xlplan.xlam", excel=True, install=True, excel_steps=run_excel_steps
    )
    assert excel.components.imported == [addin.dispatcher_bas()]
    assert excel.components.names.count("XLPlanRibbon") == 1
    assert excel.macros == ["ImportPythonUDFsToAddin"]
    assert (startup / "xlplan.xlam").read_bytes() == (tmp_path / "xlplan.xlam").read_bytes()
    assert report.remaining == [] and excel.quit_called


def test_an_untrusted_vba_project_names_the_trust_center_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    excel = _FakeExcel(tmp_path, trusted=False)
    _on_windows(monkeypatch, excel)
    with pytest.raises(InputError) as info:
        addin.build_addin(tmp_path / "xlplan.xlam", excel=True, excel_steps=run_excel_steps)
    assert "Trust access to the VBA project object model" in info.value.en
    assert excel.macros == [] and excel.quit_called
