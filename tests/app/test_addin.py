"""The add-in build without Excel: the package, its ribbon, its config sheet and document
properties; the install record, status and remove.

Issue 10's findings covered here: 5 (versions stamped into the config, a pinned xlwings), 6
(ADD_WORKBOOK_TO_PYTHONPATH off and XLPlan's package folder first on sys.path), 7 (Use UDF
Server), 11 (distinct icons, bilingual supertips, no template author).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from xlplan import __version__
from xlplan.actions import ACTIONS
from xlplan.app import addin, cli, environment
from xlplan.app.checks import Status
from xlplan.core.errors import InputError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REPO = Path(__file__).resolve().parents[2]
BAS = REPO / "workbooks" / "addin" / "XLPlanRibbon.bas"
CHANGED = {
    "customUI/customUI.xml",
    "xl/workbook.xml",
    "xl/worksheets/sheet1.xml",
    "docProps/core.xml",
}


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
    """The config sheet's name and its settings (column A -> column B), read the way xlwings'
    VBA reads them: from A1 down to the first blank cell in column A."""
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

    rows: dict[int, dict[str, str]] = {}
    for row in sheet.iter(f"{MAIN}row"):
        cells = {re.sub(r"\d", "", c.get("r", "")): value(c) for c in row.iter(f"{MAIN}c")}
        rows[int(row.get("r", "0"))] = cells
    settings: dict[str, str] = {}
    number = 1
    while rows.get(number, {}).get("A"):  # xlwings: Range("A1").End(xlDown)
        settings[rows[number]["A"]] = rows[number].get("B", "")
        number += 1
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


def test_every_button_has_its_own_built_in_icon(built: Path) -> None:
    """Finding 11: 7 of 12 buttons shared MacroPlay."""
    images = [b.get("imageMso") for b in _buttons(built)]
    assert len(images) == len(set(images)) == len(_buttons(built))
    assert addin.DEFAULT_IMAGE not in images


def test_every_button_has_a_bilingual_supertip_of_what_it_reads_and_writes(built: Path) -> None:
    """Finding 11: the screentip only repeated the label."""
    for b in _buttons(built):
        tip = b.get("supertip") or ""
        zh, en = tip.split("\n")
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii(), tip
        assert len(tip) <= 1024  # Excel's limit
        assert en not in (b.get("label"), b.get("screentip"))
        assert re.search(r"\b(reads?|writes?)\b", en, re.I), (b.get("tag"), en)
    landed = next(b for b in _buttons(built) if b.get("tag") == "landed_cost")
    assert "Landed Cost Results" in (landed.get("supertip") or "")


def test_actions_added_later_get_distinct_icons(monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan.core.errors import Message
    from xlplan.plan.action import Action, ActionResult

    for name in ("supply_a", "supply_b"):
        act = Action(name, Message(name, name), lambda port, ctx: ActionResult())
        monkeypatch.setitem(ACTIONS, name, act)
    images = [b.image for *_, bs in addin.ribbon_groups() for b in bs]
    assert len(images) == len(set(images))


def test_the_ribbon_keeps_the_templates_namespace(built: Path) -> None:
    with zipfile.ZipFile(addin.xlwings_template()) as zf:
        theirs = ET.fromstring(zf.read("customUI/customUI.xml"))
    assert _ribbon(built).tag == theirs.tag


def test_the_config_sheet_is_active_and_names_the_udf_module(built: Path) -> None:
    name, settings = _config(built)
    assert name == "myaddin.conf"  # xlwings reads <PROJECT_NAME>.conf; "_" disables it
    assert settings["UDF Modules"] == "udfs.landed_cost;udfs.planning;udfs.kpi;udfs.maps"
    assert settings["UDF Modules"] == ";".join(__import__("udfs").MODULES)
    assert settings["Interpreter_Win"] == ""
    assert settings["Debug UDFs"] == "0"


def test_the_config_keeps_a_plans_folder_off_sys_path(built: Path) -> None:
    """Finding 6: a udfs.py beside a plan (or in XLSTART) must not shadow XLPlan's udfs."""
    _, settings = _config(built)
    assert settings["ADD_WORKBOOK_TO_PYTHONPATH"] == "False"


def test_the_ribbon_runs_through_the_udf_server(built: Path) -> None:
    """Finding 7: one warm Python serves the buttons (xlwings' 'Use UDF Server')."""
    _, settings = _config(built)
    assert settings["Use UDF Server"] == "1"
    assert 'RunPython cmd & ")"' in addin.dispatcher_bas()


def test_the_versions_and_the_log_are_stamped_into_the_config(built: Path) -> None:
    """Finding 5: the add-in says which XLPlan and xlwings it was built from."""
    _, settings = _config(built)
    assert settings["XLPLAN_VERSION"] == __version__
    assert settings["XLWINGS_VERSION"] == environment.current_setup().xlwings_version
    assert settings["XLPLAN_LOG"].endswith("xlplan.log")
    read = addin.read_config(built)  # what status and doctor read (booleans as TRUE/FALSE)
    assert list(read) == list(settings)
    assert read["Use UDF Server"] == "TRUE" and read["XLPLAN_VERSION"] == __version__


def test_new_settings_are_contiguous_rows_below_the_templates(built: Path) -> None:
    """xlwings stops reading at the first blank cell in column A; duplicates break it."""
    _, settings = _config(built)
    assert list(settings)[:9] == [
        "Interpreter_Win",
        "Interpreter_Mac",
        "PYTHONPATH",
        "Conda Path",
        "Conda Env",
        "UDF Modules",
        "Debug UDFs",
        "Use UDF Server",
        "Show Console",
    ]
    assert list(settings)[9:] == list(addin.APPENDED)
    upper = [k.upper() for k in settings]
    assert len(upper) == len(set(upper))


def test_a_machines_python_goes_into_the_config(tmp_path: Path) -> None:
    setup = environment.PythonSetup(
        platform="win32",
        executable=Path(r"C:\venv\Scripts\python.exe"),
        prefix=Path(r"C:\venv"),
        base_prefix=Path(r"C:\Python311"),
        xlwings_version="0.37.8",
        package_folder=Path(r"C:\venv\Lib\site-packages"),
    )
    target = tmp_path / "xlplan.xlam"
    addin.build_addin(target, excel=False, setup=setup)
    _, settings = _config(target)
    assert settings["Interpreter_Win"] == r"C:\venv\Scripts\python.exe"
    assert settings["PYTHONPATH"] == r"C:\venv\Lib\site-packages"
    assert settings["XLWINGS_VERSION"] == "0.37.8"


def test_a_conda_python_goes_in_as_conda_path_and_env(tmp_path: Path) -> None:
    setup = environment.PythonSetup(
        platform="win32",
        executable=Path("C:/miniconda3/envs/plan/python.exe"),
        prefix=Path("C:/miniconda3/envs/plan"),
        base_prefix=Path("C:/miniconda3/envs/plan"),
        xlwings_version="0.37.8",
        conda_root=Path("C:/miniconda3"),
        conda_env="plan",
    )
    target = tmp_path / "xlplan.xlam"
    addin.build_addin(target, excel=False, setup=setup)
    _, settings = _config(target)
    assert settings["Interpreter_Win"] == ""
    assert (settings["Conda Path"], settings["Conda Env"]) == (str(Path("C:/miniconda3")), "plan")


def test_the_template_authors_name_and_folder_are_gone(built: Path) -> None:
    """Finding 11: no author of xlwings' quickstart template in the user's add-in."""
    with zipfile.ZipFile(built) as zf, zipfile.ZipFile(addin.xlwings_template()) as theirs:
        core = zf.read("docProps/core.xml").decode()
        book = zf.read("xl/workbook.xml").decode()
        assert "Felix" in theirs.read("docProps/core.xml").decode()  # what was there
    assert "Felix" not in core and "<dc:creator>XLPlan</dc:creator>" in core
    assert "<dc:title>XLPlan</dc:title>" in core
    assert "absPath" not in book and "felix" not in book.lower()
    ET.fromstring(core), ET.fromstring(book)  # still well-formed


def test_an_interpreter_goes_into_the_config_sheet(tmp_path: Path) -> None:
    target = tmp_path / "xlplan.xlam"
    addin.build_addin(target, excel=False, interpreter=r"C:\Python\python.exe & co")
    _, settings = _config(target)
    key = "Interpreter_Mac" if sys.platform == "darwin" else "Interpreter_Win"
    assert settings[key] == r"C:\Python\python.exe & co"
    assert addin.read_config(target)[key] == r"C:\Python\python.exe & co"


def test_the_dispatcher_module_defines_the_ribbons_callback(built: Path) -> None:
    module, sub = addin.CALLBACK.split(".")
    text = BAS.read_bytes().decode("ascii")
    assert f'Attribute VB_Name = "{module}"' in text
    assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)", text, re.M)
    assert 'cmd = "import udfs.ribbon; udfs.ribbon.dispatch(\'" & tag & "\'"' in text
    assert re.search(rf"^Public Sub {addin.RUN_MACRO}\(ByVal tag As String", text, re.M)
    assert re.search(rf"^Public Function {addin.ADD_FROM_TEMPLATE}\(", text, re.M)
    assert "Workbooks.Add(Template:=path)" in text


def test_the_dispatcher_reports_a_python_failure_bilingually_with_the_log() -> None:
    text = addin.dispatcher_bas()
    assert "On Error GoTo failed" in text and 'GetConfig("XLPLAN_LOG")' in text
    # Chinese is spelled with ChrW: the VBA editor reads .bas files in the ANSI code page
    assert "ChrW(&H65E0)" in text  # 无, of 无法运行
    assert "xlplan doctor" in text
    assert addin.vba_string('a"b') == '"a""b"'
    assert addin.vba_string("中\nx") == 'ChrW(&H4E2D) & vbLf & "x"'
    assert max(len(line) for line in text.split("\r\n")) < 200


def test_the_committed_dispatcher_is_the_generated_one() -> None:
    committed = BAS.read_bytes().decode("ascii").replace("\r\n", "\n")
    assert committed == addin.dispatcher_bas().replace("\r\n", "\n")


def test_a_report_lists_what_remains_for_excel(tmp_path: Path) -> None:
    report = addin.build_addin(tmp_path / "x.xlam", excel=False)
    remaining = " ".join(line.en for line in report.remaining)
    assert "import_udfs" in remaining and "RibbonMyAddin" in remaining
    assert "XLSTART" in remaining
    assert all(line.startswith(("[x] ", "[ ] ")) for line in report.lines("zh"))


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Excel may be there on Windows")
def test_the_excel_steps_say_they_need_windows(tmp_path: Path) -> None:
    target = tmp_path / "x.xlam"
    with pytest.raises(InputError) as info:
        addin.build_addin(target, excel=True)
    assert "needs Excel on Windows" in info.value.en and "--no-excel" in info.value.en
    assert "Trust" not in info.value.en  # not blamed on the Trust Center
    assert not target.exists()


def test_the_cli_builds_without_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "xlplan.xlam"
    assert cli.main(["addin", "build", "--no-excel", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert zipfile.is_zipfile(target)
    assert "[ ] import the XLP_ functions into the add-in" in out
    assert "xlplan addin install" in out


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Excel may be there on Windows")
def test_the_cli_install_fails_cleanly_without_excel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["addin", "install", "-o", str(tmp_path / "x.xlam")]) == 1
    err = capsys.readouterr().err
    assert "needs Excel on Windows" in err and "xlplan.log" in err  # names the log
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


# --- Status and remove ---------------------------------------------------------------------


def _installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An add-in built here and recorded as installed."""
    path = tmp_path / "XLSTART" / "xlplan.xlam"
    addin.build_addin(path, excel=False, interpreter=sys.executable)
    addin.write_record(path, addin.current_stamps())
    return path


def test_status_finds_the_recorded_add_in_and_checks_its_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _installed(tmp_path, monkeypatch)
    assert addin.installed_path() == path
    checks = {c.key: c for c in addin.status_checks(path)}
    assert checks["addin"].status is Status.PASS
    assert checks["stamps"].status is Status.PASS
    assert f"XLPlan {__version__}" in checks["stamps"].detail.en


def test_status_says_when_xlwings_changed_since_the_build(tmp_path: Path) -> None:
    """Finding 5: after an xlwings upgrade the add-in's DLL name is stale."""
    config = {"XLPLAN_VERSION": __version__, "XLWINGS_VERSION": "0.37.8"}
    check = addin.stamp_check(config, addin.Stamps(__version__, "0.37.9"))
    assert check.status is Status.FAIL
    assert "xlwings64-0.37.8.dll, which is gone" in check.detail.en
    assert check.fix is not None and "xlplan addin install" in check.fix.en
    unstamped = addin.stamp_check({}, addin.Stamps(__version__, "0.37.8"))
    assert unstamped.status is Status.FAIL and "XLPlan ?" in unstamped.detail.en


def test_status_of_a_missing_add_in_says_how_to_install(tmp_path: Path) -> None:
    (check,) = addin.status_checks(tmp_path / "nowhere" / "xlplan.xlam")
    assert check.status is Status.FAIL and check.fix is not None
    assert "xlplan addin install" in check.fix.en
    assert addin.status_checks(None)[0].status is Status.NA


def test_status_checks_the_config_xlplan_relies_on(tmp_path: Path) -> None:
    setup = environment.current_setup()
    good = addin.read_config(_build(tmp_path, sys.executable))
    assert addin.config_check(good, setup).status is Status.PASS
    bad = {**good, "ADD_WORKBOOK_TO_PYTHONPATH": "", "Use UDF Server": "FALSE"}
    check = addin.config_check(bad, setup)
    assert check.status is Status.FAIL
    assert "ADD_WORKBOOK_TO_PYTHONPATH is not False" in check.detail.en
    assert "Use UDF Server is off" in check.detail.en


def _build(tmp_path: Path, interpreter: str) -> Path:
    target = tmp_path / "b" / "xlplan.xlam"
    addin.build_addin(target, excel=False, interpreter=interpreter)
    return target


def test_the_cli_status_and_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _installed(tmp_path, monkeypatch)
    assert cli.main(["addin", "status"]) == 0
    out = capsys.readouterr().out
    assert f"installed: {path}" in out and "xlplan addin remove" in out
    assert cli.main(["addin", "remove"]) == 0
    assert not path.exists()
    assert f"removed {path}" in capsys.readouterr().out
    assert cli.main(["addin", "remove"]) == 1  # the record went with it; no Excel here
    assert "Traceback" not in capsys.readouterr().err


def test_remove_closes_the_add_in_in_running_excel_first(tmp_path: Path) -> None:
    path = _build(tmp_path, "")
    calls: list[str] = []

    class Edge:
        def close_loaded(self) -> int:
            calls.append("close")
            return 2

    done = addin.remove_addin(path, Edge())
    assert calls == ["close"] and not path.exists()
    assert "closed it in 2 Excel(s)" in " ".join(m.en for m in done)


def test_remove_of_a_file_excel_holds_says_quit_excel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _build(tmp_path, "")

    def held(target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "remove", held)
    with pytest.raises(InputError) as info:
        addin.remove_addin(path, None)
    assert "in use by a running Excel" in info.value.en and "Trust" not in info.value.en


def test_the_excel_edge_is_found_through_its_entry_point() -> None:
    from udfs.addin_excel import EDGE

    assert addin.installed_edge() is EDGE


def test_remove_of_an_add_in_that_is_not_there_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        addin.remove_addin(tmp_path / "xlplan.xlam", None)
    assert "not installed" in info.value.en


SHADOW_PROBE = """
import sys, xlwings.utils
xlwings.utils.prepare_sys_path(sys.argv[1])
import udfs
print(udfs.__file__)
"""


@pytest.mark.parametrize("where", ["plan folder", "current folder"])
def test_a_udfs_py_beside_a_plan_cannot_shadow_xlplans_udfs(tmp_path: Path, where: str) -> None:
    """Finding 6, through xlwings' own prepare_sys_path and the string its VBA builds from the
    config: ADD_WORKBOOK_TO_PYTHONPATH;active workbook;add-in;3 x OneDrive;PYTHONPATH."""
    target = tmp_path / "XLSTART" / "xlplan.xlam"
    addin.build_addin(target, excel=False, interpreter=sys.executable)
    config = addin.read_config(target)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "udfs.py").write_text("raise SystemExit('shadowed')\n", encoding="utf-8")
    args = ";".join(
        [
            config["ADD_WORKBOOK_TO_PYTHONPATH"] or "true",
            str(plans / "plan.xlsx"),
            str(target),
            "",
            "",
            "",
            config["PYTHONPATH"],
        ]
    )
    cwd = plans if where == "current folder" else tmp_path
    proc = subprocess.run(
        [sys.executable, "-c", SHADOW_PROBE, args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert Path(proc.stdout.strip()) == REPO / "udfs" / "__init__.py"
