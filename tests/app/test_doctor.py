"""``xlplan doctor``: every check in one report, on this system and on a simulated Windows and
macOS (registry, files, the add-in's Python and the Excel edge stood in)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from xlplan import __version__
from xlplan.app import addin, cli, doctor, excel_setup
from xlplan.app.checks import Check, Status, passed
from xlplan.app.environment import PythonSetup
from xlplan.core.errors import Message

REPO = Path(__file__).resolve().parents[2]
SECURITY = r"Software\Microsoft\Office\16.0\Excel\Security"
EXCEL = {
    (excel_setup.HKCR, r"Excel.Application\CLSID", ""): "{00024500-0000-0000-C000-000000000046}",
    (excel_setup.HKCR, r"Excel.Application\CurVer", ""): "Excel.Application.16",
}
TRUSTED = {**EXCEL, (excel_setup.HKCU, SECURITY, "AccessVBOM"): 1}


class Edge:
    """The Excel edge's probe, as it reports a good add-in."""

    def __init__(self) -> None:
        self.probed: list[Path | None] = []

    def probe(self, addin_path: Path | None) -> list[Check]:
        self.probed.append(addin_path)
        title = Message("XLP_ 函数", "XLP_ functions")
        return [passed("functions", title, Message("全部", "all 16"))]


def windows(tmp_path: Path, xlwings: str = "0.37.8") -> tuple[PythonSetup, Path]:
    """A venv on Windows with the add-in built for it and installed into XLSTART."""
    scripts = tmp_path / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (scripts / name).write_bytes(b"")
    (tmp_path / "venv" / f"xlwings64-{xlwings}.dll").write_bytes(b"")
    setup = PythonSetup(
        platform="win32",
        executable=scripts / "python.exe",
        prefix=tmp_path / "venv",
        base_prefix=tmp_path / "Python311",
        xlwings_version=xlwings,
        package_folder=REPO,
    )
    installed = tmp_path / "XLSTART" / "xlplan.xlam"
    built_for = PythonSetup(**{**setup.__dict__, "xlwings_version": "0.37.8"})
    addin.build_addin(installed, excel=False, setup=built_for)
    return setup, installed


def runs(command: Sequence[str]) -> tuple[int, str]:
    return 0, f"0.37.8 {__version__}"


def by_key(checks: list[Check]) -> dict[str, Check]:
    return {c.key: c for c in checks}


def report(checks: list[Check]) -> str:
    return "\n".join(doctor.report_lines(checks, "en"))


def test_a_good_windows_set_up_passes_every_check(tmp_path: Path) -> None:
    setup, installed = windows(tmp_path)
    edge = Edge()
    checks = doctor.run_doctor(
        setup=setup,
        registry=excel_setup.fake_registry(TRUSTED),
        edge=edge,
        run=runs,
        addin_path=installed,
    )
    found = by_key(checks)
    assert all(c.status in (Status.PASS, Status.NA) for c in checks), report(checks)
    assert found["dll"].status is Status.PASS and found["python_runs"].status is Status.PASS
    assert found["functions"].status is Status.PASS and edge.probed == [installed]
    assert found["conda"].status is Status.NA and found["runpython"].status is Status.NA
    assert "every check that applies passed" in report(checks)


def test_a_missed_trust_step_fails_with_its_fix_and_skips_excel(tmp_path: Path) -> None:
    setup, installed = windows(tmp_path)
    edge = Edge()
    checks = doctor.run_doctor(
        setup=setup,
        registry=excel_setup.fake_registry(EXCEL),
        edge=edge,
        run=runs,
        addin_path=installed,
    )
    found = by_key(checks)
    assert found["trust"].status is Status.FAIL
    assert found["functions"].status is Status.FAIL and edge.probed == []
    text = report(checks)
    assert "[FAIL] trust access to the VBA project: off" in text
    assert "Trust access to the VBA project object model" in text
    assert "2 failed" in text


def test_an_add_in_not_installed_says_how(tmp_path: Path) -> None:
    setup, _ = windows(tmp_path)
    checks = doctor.run_doctor(
        setup=setup,
        registry=excel_setup.fake_registry(TRUSTED),
        edge=Edge(),
        run=runs,
        addin_path=tmp_path / "nowhere" / "xlplan.xlam",
    )
    check = by_key(checks)["addin"]
    assert check.status is Status.FAIL and check.fix is not None
    assert "[FAIL] add-in: not installed" in report(checks)
    assert "[FAIL] checks in Excel: not run: install the add-in first" in report(checks)


def test_an_xlwings_upgrade_after_the_build_is_caught_twice(tmp_path: Path) -> None:
    """Finding 5: the stamp differs, and the DLL the add-in declares is gone."""
    setup, installed = windows(tmp_path, xlwings="0.37.9")
    checks = by_key(
        doctor.run_doctor(
            setup=setup,
            registry=excel_setup.fake_registry(TRUSTED),
            edge=Edge(),
            run=runs,
            addin_path=installed,
        )
    )
    assert checks["stamps"].status is Status.FAIL
    assert checks["dll"].status is Status.FAIL
    assert "xlwings64-0.37.8.dll" in checks["dll"].detail.en


def test_the_add_ins_python_must_import_xlplan(tmp_path: Path) -> None:
    setup, installed = windows(tmp_path)

    def broken(command: Sequence[str]) -> tuple[int, str]:
        assert command[1] == "-c" and command[0].endswith("python.exe")  # not pythonw
        return 1, "Traceback ...\nModuleNotFoundError: No module named 'xlplan'"

    check = by_key(
        doctor.run_doctor(
            setup=setup,
            registry=excel_setup.fake_registry(TRUSTED),
            edge=Edge(),
            run=broken,
            addin_path=installed,
        )
    )["python_runs"]
    assert check.status is Status.FAIL
    assert "No module named 'xlplan'" in check.detail.en


def test_the_import_check_really_imports_in_a_python(tmp_path: Path) -> None:
    """The command doctor runs works with this Python (and the config's PYTHONPATH)."""
    code, out = doctor.run_command([sys.executable, "-c", doctor.IMPORT_CHECK, str(REPO)])
    assert code == 0, out
    assert out.split()[1] == __version__


def test_on_macos_runpython_needs_xlwings_applescript(tmp_path: Path) -> None:
    setup = PythonSetup(
        platform="darwin",
        executable=Path("/opt/py/bin/python3"),
        prefix=Path("/opt/py"),
        base_prefix=Path("/opt/py"),
        xlwings_version="0.37.8",
    )
    check = doctor.check_runpython(setup, home=tmp_path)
    assert check.status is Status.FAIL and check.fix is not None
    assert check.fix.en == "xlwings runpython install"
    folder = tmp_path / "Library" / "Application Scripts" / "com.microsoft.Excel"
    folder.mkdir(parents=True)
    (folder / "xlwings-0.37.8.applescript").write_text("")
    assert doctor.check_runpython(setup, home=tmp_path).status is Status.PASS


def test_here_every_check_that_applies_passes_and_the_rest_say_why_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("this machine has an Excel set-up of its own")
    assert cli.main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["xlplan"] == __version__
    statuses = {c["key"]: c["status"] for c in data["checks"]}
    assert statuses["python"] == "pass" and statuses["xlwings"] == "pass"
    for key in ("excel", "trust", "dll", "functions", "addin"):
        assert statuses[key] == "n/a", key
    excel = next(c for c in data["checks"] if c["key"] == "excel")
    assert excel["detail"]["en"].startswith("no Excel on this system")
    assert excel["detail"]["zh"]
    assert cli.main(["doctor", "--lang", "zh"]) == 0
    assert "全部适用的检查都通过" in capsys.readouterr().out


def test_the_json_exit_status_follows_the_checks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = Check("x", Message("甲", "X"), Status.FAIL, Message("坏", "bad"), Message("修", "fix"))
    monkeypatch.setattr(doctor, "run_doctor", lambda **_: [bad])
    assert cli.main(["doctor", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["checks"][0] == {
        "key": "x",
        "status": "fail",
        "title": {"zh": "甲", "en": "X"},
        "detail": {"zh": "坏", "en": "bad"},
        "fix": {"zh": "修", "en": "fix"},
    }


def test_a_conda_python_is_checked_in_its_activated_environment(tmp_path: Path) -> None:
    """As xlwings starts it: conda activates the environment (DLL folders on PATH) first."""
    setup = PythonSetup(
        platform="win32",
        executable=tmp_path / "envs" / "plan" / "python.exe",
        prefix=tmp_path / "envs" / "plan",
        base_prefix=tmp_path / "envs" / "plan",
        xlwings_version="0.37.8",
        conda_root=tmp_path,
        conda_env="plan",
    )
    python = doctor.config_python({"Conda Path": str(tmp_path), "Conda Env": "plan"})
    seen: list[Sequence[str]] = []

    def run(command: Sequence[str]) -> tuple[int, str]:
        seen.append(command)
        return 0, f"0.37.8 {__version__}"

    assert doctor.check_runs(setup, python, "0.37.8", run).status is Status.PASS
    (command,) = seen
    assert command[:5] == [str(tmp_path / "condabin" / "conda.bat"), "run", "-n", "plan", "python"]
    assert command[5] == "-c"
