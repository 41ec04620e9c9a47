"""The README's Windows walkthrough quotes what ``xlplan doctor`` prints when a step was missed:
each quoted line is what the checks print for that situation, word for word."""

from __future__ import annotations

import re
from pathlib import Path, PureWindowsPath

import pytest

from xlplan import __version__
from xlplan.app import addin, doctor, environment, excel_setup
from xlplan.app.checks import Check
from xlplan.app.environment import PythonSetup

REPO = Path(__file__).resolve().parents[2]
USER = PureWindowsPath(r"C:\Users\li")
STORE = PureWindowsPath(
    r"C:\Users\li\AppData\Local\Microsoft\WindowsApps"
    r"\PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0\python.exe"
)
SYSTEM = PureWindowsPath(r"C:\Program Files\Python311")


def _lines(checks: list[Check]) -> list[str]:
    return [line for c in checks for line in c.lines("en")]


def scenarios() -> list[str]:
    """What doctor prints for each missed step of the walkthrough."""
    store = PythonSetup("win32", STORE, STORE.parent, STORE.parent, xlwings_version="0.37.8")
    user_site = USER / "AppData" / "Roaming" / "Python" / "Python311" / "site-packages"
    per_user = PythonSetup(
        "win32",
        SYSTEM / "python.exe",
        SYSTEM,
        SYSTEM,
        user_site=user_site,
        xlwings_version="0.37.8",
        xlwings_folder=user_site / "xlwings",
        xlwings_dlls=(USER / "AppData" / "Roaming" / "Python" / "xlwings64-0.37.8.dll",),
    )
    xlstart = Path(str(USER / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART"))
    checks = [
        environment.check_python(store),
        environment.check_user_site(per_user),
        environment.check_dll(per_user, SYSTEM / "python.exe"),
        excel_setup.check_trust(excel_setup.fake_registry({}), "win32"),
        *addin.status_checks(Path(f"{xlstart}\\xlplan.xlam")),
        addin.stamp_check(
            {"XLPLAN_VERSION": __version__, "XLWINGS_VERSION": "0.37.8"},
            addin.Stamps(__version__, "0.37.9"),
        ),
        doctor.check_runpython(
            PythonSetup("darwin", Path("/p"), Path("/p"), Path("/p"), xlwings_version="0.37.8")
        ),
    ]
    return _lines(checks)


def _quoted() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## In Excel") : text.index("## Headless")]
    return [
        line.strip().strip("(`")
        for line in section.splitlines()
        if line.strip().startswith(("[FAIL]", "fix:", "(`[FAIL]"))
    ]


def _same(quoted: str, printed: str) -> bool:
    versions = re.compile(r"XLPlan \d+\.\d+\.\d+")
    quoted, printed = versions.sub("XLPlan V", quoted), versions.sub("XLPlan V", printed.strip())
    parts = [p for p in re.split(r"\.\.\.", quoted.split("`")[0]) if p]
    if len(parts) == 1 and not quoted.rstrip("`").endswith("..."):
        return printed == parts[0].strip()
    at = 0
    for part in parts:  # "..." in the README stands for any text
        found = printed.find(part.strip(), at)
        if found < 0:
            return False
        at = found + len(part.strip())
    return True


@pytest.mark.parametrize("quoted", _quoted())
def test_each_quoted_doctor_line_is_what_doctor_prints(quoted: str) -> None:
    printed = scenarios()
    assert any(_same(quoted, line) for line in printed), (quoted, printed)


def test_the_walkthrough_quotes_every_missed_step() -> None:
    quoted = " ".join(_quoted())
    for title in (
        "Python",
        "install location",
        "xlwings DLL",
        "trust access to the VBA project",
        "add-in",
        "add-in versions",
        "macOS RunPython",
    ):
        assert f"[FAIL] {title}:" in quoted, title
