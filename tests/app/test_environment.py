"""Finding 4 (and 5) of issue 10: the Python Excel will start is checked before Excel is
touched -- Store Python, user-site installs, conda, the DLL where xlwings' VBA looks -- and the
xlwings version is pinned to what the add-in is built for."""

from __future__ import annotations

import re
import sys
from pathlib import Path, PureWindowsPath

import pytest
import tomllib

from xlplan.app import environment as env
from xlplan.app import excel_setup
from xlplan.app.checks import Check, Status
from xlplan.app.environment import PythonSetup

REPO = Path(__file__).resolve().parents[2]
STORE_EXE = PureWindowsPath(
    r"C:\Users\li\AppData\Local\Microsoft\WindowsApps"
    r"\PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0\python.exe"
)


def venv(root: Path, *, dll: bool = True, version: str = "0.37.8") -> PythonSetup:
    """A python.org venv on Windows (folders made under ``root``)."""
    scripts = root / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (scripts / name).write_bytes(b"")
    if dll:
        (root / "venv" / f"xlwings64-{version}.dll").write_bytes(b"")
    return PythonSetup(
        platform="win32",
        executable=scripts / "python.exe",
        prefix=root / "venv",
        base_prefix=root / "Python311",
        xlwings_version=version,
        package_folder=REPO,
    )


def by_key(checks: list[Check]) -> dict[str, Check]:
    return {c.key: c for c in checks}


def test_a_venv_passes_and_excel_starts_its_pythonw(tmp_path: Path) -> None:
    setup = venv(tmp_path)
    python = env.excel_python(setup)
    assert python.interpreter_win == str(tmp_path / "venv" / "Scripts" / "pythonw.exe")
    assert python.pythonpath == str(REPO)  # XLPlan's udfs first on sys.path
    checks = by_key(env.python_checks(setup, python))
    assert all(c.status is not Status.FAIL for c in checks.values()), checks
    assert checks["dll"].status is Status.PASS
    assert str(tmp_path / "venv" / "xlwings64-0.37.8.dll") in checks["dll"].detail.en
    assert "virtual environment" in checks["python"].detail.en


def test_store_python_is_refused_with_the_fix() -> None:
    setup = PythonSetup(
        platform="win32",
        executable=STORE_EXE,
        prefix=STORE_EXE.parent,
        base_prefix=PureWindowsPath(
            r"C:\Program Files\WindowsApps\PythonSoftwareFoundation.Python.3.11_3.11.2288.0_x64"
        ),
        xlwings_version="0.37.8",
    )
    assert setup.store
    check = env.check_python(setup)
    assert check.status is Status.FAIL
    assert "Microsoft Store Python" in check.detail.en and "UDF server" in check.detail.en
    assert check.fix is not None and "python.org" in check.fix.en and "venv" in check.fix.en
    assert "Microsoft Store 版 Python" in check.detail.zh


def test_a_user_site_install_is_refused_because_its_dll_is_not_beside_python(
    tmp_path: Path,
) -> None:
    """pip install --user puts the DLL in %APPDATA%\\Python, where VBA never looks."""
    system = tmp_path / "Program Files" / "Python311"
    system.mkdir(parents=True)
    (system / "python.exe").write_bytes(b"")
    user_site = tmp_path / "Roaming" / "Python" / "Python311" / "site-packages"
    dll = tmp_path / "Roaming" / "Python" / "xlwings64-0.37.8.dll"
    setup = PythonSetup(
        platform="win32",
        executable=system / "python.exe",
        prefix=system,
        base_prefix=system,
        user_site=user_site,
        xlwings_version="0.37.8",
        xlwings_folder=user_site / "xlwings",
        xlwings_dlls=(dll,),
    )
    checks = by_key(env.python_checks(setup))
    assert checks["user_site"].status is Status.FAIL
    assert "user site" in checks["user_site"].detail.en
    assert checks["dll"].status is Status.FAIL
    assert str(dll) in checks["dll"].detail.en  # says where it is instead
    assert str(system) in checks["dll"].detail.en  # and where Excel looks


def test_conda_gets_conda_path_and_env_and_no_interpreter(tmp_path: Path) -> None:
    root = tmp_path / "miniconda3"
    env_dir = root / "envs" / "plan"
    (root / "condabin").mkdir(parents=True)
    (root / "condabin" / "conda.bat").write_bytes(b"")
    (env_dir / "conda-meta").mkdir(parents=True)
    (env_dir / "python.exe").write_bytes(b"")
    (env_dir / "xlwings64-0.37.8.dll").write_bytes(b"")
    found_root, name = env._conda(env_dir, {})
    assert (found_root, name) == (root, "plan")
    setup = PythonSetup(
        platform="win32",
        executable=env_dir / "python.exe",
        prefix=env_dir,
        base_prefix=env_dir,
        xlwings_version="0.37.8",
        conda_root=root,
        conda_env="plan",
    )
    python = env.excel_python(setup)
    assert (python.interpreter_win, python.conda_path, python.conda_env) == ("", str(root), "plan")
    checks = by_key(env.python_checks(setup, python))
    assert checks["conda"].status is Status.PASS, checks["conda"]
    assert checks["dll"].status is Status.PASS  # in the env folder, where VBA looks under conda
    # naming an interpreter under conda switches xlwings' conda activation off
    named = env.excel_python(setup, str(env_dir / "python.exe"))
    assert env.check_conda(setup, named).status is Status.FAIL


def test_conda_base_and_an_env_by_path(tmp_path: Path) -> None:
    base = tmp_path / "anaconda3"
    (base / "conda-meta").mkdir(parents=True)
    (base / "condabin").mkdir()
    assert env._conda(base, {}) == (base, "base")
    elsewhere = tmp_path / "projects" / "env"
    (elsewhere / "conda-meta").mkdir(parents=True)
    exe = str(base / "Scripts" / "conda.exe")
    assert env._conda(elsewhere, {"CONDA_EXE": exe}) == (base, str(elsewhere))
    assert env.conda_interpreter(str(base), "base") == base / "python.exe"
    assert env.conda_interpreter(str(base), "plan") == base / "envs" / "plan" / "python.exe"
    assert env.conda_interpreter(str(base), str(elsewhere)) == elsewhere / "python.exe"


def test_a_missing_dll_says_where_excel_looks(tmp_path: Path) -> None:
    setup = venv(tmp_path, dll=False)
    check = env.check_dll(setup, Path(env.excel_python(setup).interpreter_win))
    assert check.status is Status.FAIL
    assert "xlwings64-0.37.8.dll" in check.detail.en
    assert str(tmp_path / "venv" / "Scripts") in check.detail.en
    assert check.fix is not None and "--force-reinstall" in check.fix.en


def test_the_checks_do_not_apply_off_windows() -> None:
    setup = PythonSetup(
        platform="linux", executable=Path(sys.executable), prefix=Path(sys.prefix),
        base_prefix=Path(sys.base_prefix), xlwings_version="0.37.8",
    )  # fmt: skip
    checks = by_key(env.python_checks(setup))
    assert checks["dll"].status is Status.NA and checks["user_site"].status is Status.NA
    assert env.excel_python(setup) == env.ExcelPython()
    mac = PythonSetup(
        platform="darwin", executable=Path("/opt/py/bin/python3"), prefix=Path("/opt/py"),
        base_prefix=Path("/opt/py"), package_folder=REPO,
    )  # fmt: skip
    assert env.excel_python(mac).interpreter_mac == "/opt/py/bin/python3"


@pytest.mark.parametrize(
    ("version", "ok"),
    [("0.37.8", True), ("0.37.12", True), ("0.37.7", False), ("0.38.0", False), ("0.33.20", False)],
)
def test_the_supported_xlwings_range(version: str, ok: bool) -> None:
    assert env.xlwings_supported(version) is ok
    setup = PythonSetup("win32", Path("p"), Path("p"), Path("p"), xlwings_version=version)
    assert (env.check_xlwings(setup).status is Status.PASS) is ok


def test_pyproject_pins_the_xlwings_range_the_add_in_is_built_for() -> None:
    """Finding 5: not 'any xlwings >= 0.33' -- an upgrade would break the add-in's DLL."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d for d in project["dependencies"] if re.match(r"xlwings\b", d)]
    assert pins == [env.XLWINGS_REQUIREMENT]
    assert "<" in env.XLWINGS_REQUIREMENT  # bounded above


def test_the_running_python_is_described() -> None:
    setup = env.current_setup()
    assert setup.xlwings_version is not None and env.xlwings_supported(setup.xlwings_version)
    assert setup.package_folder is not None and (Path(setup.package_folder) / "udfs").is_dir()


def test_the_trust_center_setting_is_read_from_the_registry() -> None:
    key = r"Software\Microsoft\Office\16.0\Excel\Security"
    policy = r"Software\Policies\Microsoft\Office\16.0\Excel\Security"
    on = excel_setup.fake_registry({(excel_setup.HKCU, key, "AccessVBOM"): 1})
    off = excel_setup.fake_registry({(excel_setup.HKCU, key, "AccessVBOM"): 0})
    forced = excel_setup.fake_registry(
        {(excel_setup.HKCU, key, "AccessVBOM"): 1, (excel_setup.HKCU, policy, "AccessVBOM"): 0}
    )
    silent = excel_setup.fake_registry({})
    assert excel_setup.check_trust(on, "win32").status is Status.PASS
    assert excel_setup.check_trust(off, "win32").status is Status.FAIL
    assert excel_setup.check_trust(silent, "win32").status is Status.FAIL  # Excel's default
    fix = excel_setup.check_trust(forced, "win32").fix
    assert fix is not None and "group policy" in fix.en
    assert excel_setup.check_trust(on, "darwin").status is Status.NA


def test_excel_is_found_through_its_com_registration() -> None:
    found = excel_setup.fake_registry(
        {
            (
                excel_setup.HKCR,
                r"Excel.Application\CLSID",
                "",
            ): "{00024500-0000-0000-C000-000000000046}",
            (excel_setup.HKCR, r"Excel.Application\CurVer", ""): "Excel.Application.16",
        }
    )
    assert excel_setup.check_excel(found, "win32").status is Status.PASS
    missing = excel_setup.check_excel(excel_setup.fake_registry({}), "win32")
    assert missing.status is Status.FAIL and missing.fix is not None
    assert "Store" in missing.fix.en
    assert excel_setup.check_excel(found, "linux").status is Status.NA
    assert excel_setup.check_excel(found, "darwin", exists=lambda p: True).status is Status.PASS
