"""``xlplan doctor``: every check of the Excel set-up in one report.

In the order of the README's walkthrough: the Python (where it lives, what kind), xlwings and
its DLL where the add-in's VBA looks for it, Excel, the Trust Center setting, the installed
add-in and the versions stamped into it, its config values, whether the Python it names starts
with XLPlan importable, and -- in a hidden Excel, through the Excel edge -- whether the add-in
defines every ``XLP_`` function. Each check passes, fails with its fix, or says why it does not
apply on this system; the run passes when nothing that applies failed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from xlplan import __version__
from xlplan.app import addin, environment, excel_setup, logs
from xlplan.app.addin import ExcelEdge, Key
from xlplan.app.checks import Check, Status, all_pass, failed, not_applicable, passed
from xlplan.app.environment import ExcelPython, PythonSetup
from xlplan.core.errors import Message, XlplanError

Runner = Callable[[Sequence[str]], tuple[int, str]]

RUNS = Message("加载项的 Python", "the add-in's Python")
RUNPYTHON = Message("macOS RunPython", "macOS RunPython")
LOG = Message("日志", "log")
EXCEL_PROBE = Message("Excel 中的检查", "checks in Excel")
IMPORT_CHECK = (
    "import sys; sys.path[0:0] = [p for p in sys.argv[1:] if p]; "
    "import xlwings, xlplan, udfs.ribbon; print(xlwings.__version__, xlplan.__version__)"
)


def run_command(command: Sequence[str]) -> tuple[int, str]:
    """Run ``command``; its exit status and its output (stdout, then stderr)."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=180, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def config_python(config: dict[str, str]) -> ExcelPython:
    return ExcelPython(
        interpreter_win=config.get(Key.INTERPRETER_WIN, ""),
        interpreter_mac=config.get(Key.INTERPRETER_MAC, ""),
        conda_path=config.get(Key.CONDA_PATH, ""),
        conda_env=config.get(Key.CONDA_ENV, ""),
        pythonpath=config.get(Key.PYTHONPATH, ""),
    )


def check_runs(
    setup: PythonSetup, python: ExcelPython, stamped: str, run: Runner = run_command
) -> Check:
    """The Python the add-in names starts and imports xlwings (the stamped version), XLPlan
    and its ``udfs`` -- what the UDF server and every button need."""
    if not (setup.windows or setup.mac):
        return not_applicable(
            "python_runs", RUNS, Message("此系统上没有 Excel", "no Excel on this system")
        )
    interpreter = (
        environment.excel_interpreter(python)
        if setup.windows
        else (Path(python.interpreter_mac) if python.interpreter_mac else None)
    )
    if interpreter is None:
        return failed(
            "python_runs",
            RUNS,
            Message("加载项没有指定 Python", "the add-in names no Python"),
            Message("运行 xlplan addin install", "run xlplan addin install"),
        )
    console = interpreter.with_name("python.exe")  # pythonw.exe has no output to read
    if interpreter.name.lower() == "pythonw.exe" and console.is_file():
        interpreter = console
    command = [str(interpreter), "-c", IMPORT_CHECK, python.pythonpath]
    if setup.windows and python.conda_path:  # as xlwings does: in the activated environment
        conda = Path(python.conda_path) / "condabin" / "conda.bat"
        where = ["-p", python.conda_env] if "\\" in python.conda_env else ["-n", python.conda_env]
        command = [str(conda), "run", *where, "python", *command[1:]]
    code, out = run(command)
    if code != 0:
        last = out.strip().splitlines()[-1] if out.strip() else f"exit status {code}"
        return failed(
            "python_runs",
            RUNS,
            Message(
                f"{interpreter} 无法导入 XLPlan: {last}",
                f"{interpreter} cannot import XLPlan: {last}",
            ),
            Message(
                f"用 {interpreter} -m pip install xlplan 安装，或在装有 XLPlan 的 Python 中运行 "
                "xlplan addin install",
                f"install it there ({interpreter} -m pip install xlplan), or run "
                "xlplan addin install from the Python that has XLPlan",
            ),
        )
    versions = out.split()
    if len(versions) >= 2 and stamped and versions[0] != stamped:
        return failed(
            "python_runs",
            RUNS,
            Message(
                f"{interpreter} 中的 xlwings 是 {versions[0]}，加载项按 {stamped} 生成",
                f"{interpreter} has xlwings {versions[0]}; the add-in was built for {stamped}",
            ),
            Message(
                "关闭 Excel，运行 xlplan addin install", "quit Excel and run xlplan addin install"
            ),
        )
    return passed(
        "python_runs",
        RUNS,
        Message(f"{interpreter}：xlwings/XLPlan {out}", f"{interpreter}: xlwings/XLPlan {out}"),
    )


def check_runpython(setup: PythonSetup, home: Path | None = None) -> Check:
    """macOS: xlwings' AppleScript is where Excel's RunPython looks for it."""
    if not setup.mac:
        return not_applicable(
            "runpython", RUNPYTHON, Message("只在 macOS 上适用", "applies on macOS only")
        )
    folder = (home or Path.home()) / "Library" / "Application Scripts" / "com.microsoft.Excel"
    script = folder / f"xlwings-{setup.xlwings_version}.applescript"
    if script.is_file():
        return passed("runpython", RUNPYTHON, Message(str(script), str(script)))
    return failed(
        "runpython",
        RUNPYTHON,
        Message(f"缺少 {script}", f"{script} is missing"),
        Message("xlwings runpython install", "xlwings runpython install"),
    )


def run_doctor(
    *,
    setup: PythonSetup | None = None,
    registry: excel_setup.Registry | None = None,
    edge: ExcelEdge | None = None,
    excel: bool = True,
    run: Runner = run_command,
    addin_path: Path | None = None,
) -> list[Check]:
    """Every check that applies on this system (see the module doc).

    ``excel`` starts a hidden Excel for the checks only Excel can make (Windows); the
    others read files, package metadata and the registry.
    """
    setup = setup or environment.current_setup()
    registry = registry or excel_setup.windows_registry
    checks = [
        environment.check_python(setup),
        environment.check_xlwings(setup),
        environment.check_user_site(setup),
        environment.check_conda(setup),
        excel_setup.check_excel(registry, setup.platform),
        excel_setup.check_trust(registry, setup.platform),
    ]
    path = addin_path or addin.installed_path(setup.platform)
    status = addin.status_checks(path, setup)
    checks += status
    config: dict[str, str] = {}
    if path is not None and path.is_file():
        try:
            config = addin.read_config(path)
        except XlplanError:
            config = {}
    python = config_python(config) if config else environment.excel_python(setup)
    interpreter = environment.excel_interpreter(python)
    stamped = config.get(Key.XLWINGS_VERSION, "") or (setup.xlwings_version or "")
    if not setup.windows:
        checks.append(not_applicable("dll", environment.DLL, environment.WINDOWS_ONLY))
    elif interpreter is None:
        checks.append(
            failed(
                "dll",
                environment.DLL,
                Message("加载项没有指定 Python", "the add-in names no Python"),
                Message("运行 xlplan addin install", "run xlplan addin install"),
            )
        )
    else:
        checks.append(environment.check_dll(setup, interpreter, stamped))
    if config:
        checks.append(check_runs(setup, python, stamped, run))
    checks.append(check_runpython(setup))
    checks += excel_checks(setup, checks, edge, excel, path)
    checks.append(passed("log", LOG, Message(str(logs.log_file()), str(logs.log_file()))))
    return checks


def excel_checks(
    setup: PythonSetup,
    so_far: list[Check],
    edge: ExcelEdge | None,
    excel: bool,
    path: Path | None,
) -> list[Check]:
    """The checks in a hidden Excel, when they apply and Excel can be reached."""
    if not setup.windows:
        return [
            not_applicable(
                "functions",
                EXCEL_PROBE,
                Message(
                    "只在 Windows 上适用（macOS 上没有 XLP_ 函数，只有功能区按钮）",
                    "applies on Windows only (macOS has the ribbon, not the XLP_ functions)",
                ),
            )
        ]
    if not excel:
        return [
            not_applicable(
                "functions", EXCEL_PROBE, Message("已跳过（--no-excel）", "skipped (--no-excel)")
            )
        ]
    blocked = [c for c in so_far if c.key in ("excel", "trust") and c.status is Status.FAIL]
    if blocked:
        return [
            failed(
                "functions",
                EXCEL_PROBE,
                Message(
                    f"未运行：先修复“{blocked[0].title.zh}”",
                    f"not run: fix '{blocked[0].title.en}' first",
                ),
                blocked[0].fix or Message("", ""),
            )
        ]
    if path is None or not path.is_file():
        return [
            failed(
                "functions",
                EXCEL_PROBE,
                Message("未运行：先安装加载项", "not run: install the add-in first"),
                Message("运行 xlplan addin install", "run xlplan addin install"),
            )
        ]
    try:
        found = addin.require_edge(edge)
    except XlplanError as exc:
        return [
            failed(
                "functions",
                EXCEL_PROBE,
                exc.message,
                Message("pip install xlplan", "pip install xlplan"),
            )
        ]
    return found.probe(path)


def report_lines(checks: Sequence[Check], lang: str) -> list[str]:
    head = Message(
        f"XLPlan {__version__} 环境检查（{sys.platform}）",
        f"XLPlan {__version__} set-up check ({sys.platform})",
    )
    out = [head.text(lang), ""]
    for check in checks:
        out += check.lines(lang)
    verdict = (
        Message("全部适用的检查都通过", "every check that applies passed")
        if all_pass(checks)
        else Message(
            f"{sum(c.failed for c in checks)} 项未通过：按上面的“修复”操作后重新运行 xlplan doctor",
            f"{sum(c.failed for c in checks)} failed: follow each 'fix' above, then run "
            "xlplan doctor again",
        )
    )
    return [*out, "", verdict.text(lang)]


def report_json(checks: Sequence[Check]) -> dict[str, object]:
    return {
        "ok": all_pass(checks),
        "xlplan": __version__,
        "platform": sys.platform,
        "log": str(logs.log_file()),
        "checks": [c.as_json() for c in checks],
    }
