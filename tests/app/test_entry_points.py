"""How XLPlan is started: ``xlplan``, ``python -m xlplan`` (the usual way on Windows when
Python's Scripts folder is not on PATH) and ``--version``, without importing the heavy parts."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from xlplan import __version__
from xlplan.app import cli

HEAVY = ("xlwings", "openpyxl", "xlsxwriter", "pydantic", "xlplan.actions", "xlplan.app.addin")
PROBE = """
import sys
from xlplan.app.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def test_version_names_xlplan_xlwings_and_python(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"xlplan {__version__} (xlwings {version('xlwings')}, Python 3.")


def test_the_installed_version_is_the_packages() -> None:
    assert version("xlplan") == __version__  # pyproject reads xlplan.__version__


def test_python_dash_m_xlplan_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"xlplan {__version__}")
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", "doctor", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "--json" in done.stdout


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["addin", "--help"]])
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    heavy = {m.split(".")[0] for m in HEAVY}
    code = PROBE.replace("{heavy!r}", repr(heavy))
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(filter(None, done.stdout.strip().splitlines()[-1].split(",")))
    assert not {m for m in loaded if m.startswith(HEAVY)}, loaded
