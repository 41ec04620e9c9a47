"""The add-in steps that need Excel: import, check, install, remove, probe, self-test.

They drive Excel through xlwings, so they live here at the Excel edge; ``xlplan.app.addin``
builds everything else on any OS and reaches :data:`EDGE` through the ``xlplan.excel`` entry
point. Each step checks its own result and reports the real cause when it fails:

1. A hidden Excel (``xw.App(visible=False, add_book=False)``) opens the built add-in. Nothing
   else is open, and nothing here needs an ``ActiveWorkbook``: xlwings' VBA importer
   (``ImportPythonUDFsToAddin``) reads ``ActiveWorkbook.FullName`` and fails with error 91 when
   only an add-in is open, so the functions are imported with xlwings' own Python-side
   importer, ``xlwings.udfs.import_udfs(modules, book.api)``, which needs neither the DLL nor
   the UDF server.
2. VBA access is probed first (``VBProject.VBComponents``). A refusal is told apart by the
   registry (Trust Center setting, or a group policy forcing it off) from a protected project
   and from other COM failures; each message says what to do.
3. The template's ``RibbonMyAddin`` module goes, the project is named ``XLPlan``, the ribbon
   dispatcher is imported, then the functions. xlwings swallows some of its own errors, so the
   result is checked: the ``xlwings_udfs`` module exists and defines every ``XLP_`` function
   of :data:`udfs.MODULES`. The add-in is saved, reopened and checked again.
4. Installing copies it into Excel's XLSTART folder after closing the copy every running Excel
   has loaded (as ``xlwings addin install`` does); a file Excel still holds is reported as
   such, not as a Trust Center problem. The add-in is then reopened in those Excels and the
   ``XLP_`` formulas of open plans re-entered, so they bind to it.

Every failure is logged with its traceback (:mod:`xlplan.app.logs`) and its message names the
log file.
"""

from __future__ import annotations

import importlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import udfs
from xlplan.app import addin, excel_setup, logs
from xlplan.app.addin import (
    ADDIN_NAME,
    BAS_NAME,
    PROJECT_NAME,
    QUICKSTART_MODULE,
    RUN_MACRO,
    UDF_MODULE,
    UDF_MODULES,
    VBA_MODULE,
    AddinReport,
    dispatcher_bas,
    locked,
)
from xlplan.app.checks import Check, failed, passed
from xlplan.core.errors import InputError, Message, XlplanError
from xlplan.workbook.relink import addin_probe

# COM error codes (pywintypes.com_error.args = (hresult, text, excepinfo, argerr); excepinfo =
# (wcode, source, description, helpfile, helpcontext, scode)).
DISP_E_EXCEPTION = -2147352567
VBA_1004 = -2146827284  # 0x800A03EC: "not trusted", "cannot run the macro", range errors ...
MACRO_FAILED = -2146788248  # 0x800A9C68: an unhandled VBA error inside Application.Run
CALL_REJECTED = (-2147418111, -2146777998)  # Excel busy: a dialog open, a cell being edited
CLASS_NOT_REGISTERED = -2147221164  # no Excel registered for automation
SERVER_EXEC_FAILURE = -2146959355  # Excel could not be started

REGISTRY: excel_setup.Registry = excel_setup.windows_registry
"""Where the Trust Center setting is read (tests put a stand-in here)."""

_PROCEDURE = re.compile(r"^\s*(?:Public\s+|Private\s+)?(?:Function|Sub)\s+(\w+)\s*\(", re.M)


@dataclass(frozen=True)
class ComCodes:
    hresult: int | None
    scode: int | None
    text: str

    @classmethod
    def of(cls, exc: BaseException) -> ComCodes:
        args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
        hresult = args[0] if args and isinstance(args[0], int) else None
        scode, description = None, ""
        info: Any = args[2] if len(args) > 2 else None
        if isinstance(info, tuple) and len(info) >= 6:
            scode = info[5] if isinstance(info[5], int) else None
            description = str(info[2] or "")
        text = description or (str(args[1]) if len(args) > 1 else str(exc))
        return cls(hresult, scode, text.strip())

    def has(self, *codes: int) -> bool:
        return self.hresult in codes or self.scode in codes


def _fail(exc: BaseException, zh: str, en: str) -> InputError:
    """An error for the user (with the log file) after logging ``exc`` with its traceback."""
    path = logs.log_exception("addin", exc)
    hint = logs.see_log(path)
    return InputError(f"{zh}。{hint.zh}", f"{en}. {hint.en}")


def _xlwings() -> Any:
    addin.require_windows()
    import xlwings as xw  # imported here: on other systems this module must still import

    return xw


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


def start_excel(xw: Any, visible: bool = False) -> Any:
    """A new Excel with no workbook, its alerts off (a dialog would block it)."""
    try:
        app = xw.App(visible=visible, add_book=False)
    except Exception as exc:  # COM start-up failures come in many types
        raise excel_failure(exc) from exc
    with suppress(Exception):
        app.display_alerts = False
    return app


def excel_failure(exc: BaseException) -> InputError:
    codes = ComCodes.of(exc)
    if codes.has(CLASS_NOT_REGISTERED):
        return _fail(
            exc,
            "找不到可自动化的 Excel（Excel.Application 未注册）：请安装桌面版 Excel"
            "（Microsoft Store 版无法被 xlwings 驱动）",
            "no Excel that can be automated (Excel.Application is not registered): install "
            "desktop Excel (the Microsoft Store version cannot be driven by xlwings)",
        )
    if codes.has(SERVER_EXEC_FAILURE, *CALL_REJECTED):
        return _fail(
            exc,
            f"Excel 无法启动或正忙（{codes.text}）：请手动打开一次 Excel，关闭所有对话框"
            "（激活、隐私提示），退出后重试",
            f"Excel could not start or is busy ({codes.text}): start Excel once by hand, close "
            "any dialog (activation, privacy notice), quit it and try again",
        )
    return _fail(exc, f"无法启动 Excel: {exc}", f"cannot start Excel: {exc}")


@contextmanager
def hidden_excel(xw: Any, visible: bool = False) -> Iterator[Any]:
    app = start_excel(xw, visible)
    try:
        yield app
    finally:
        with suppress(Exception):
            app.quit()


def vba_components(book: Any, registry: excel_setup.Registry | None = None) -> Any:
    """The add-in's ``VBProject.VBComponents``, or the reason Excel refuses them."""
    registry = registry or REGISTRY
    try:
        components = book.api.VBProject.VBComponents
        components.Count  # noqa: B018  (the probe: raises when access is refused)
        return components
    except Exception as exc:
        raise vba_refusal(exc, registry) from exc


def vba_refusal(exc: BaseException, registry: excel_setup.Registry) -> InputError:
    """Why Excel refused the VBA project: the Trust Center (by the registry, or its error code
    when the registry is silent), a password, or something else."""
    codes = ComCodes.of(exc)
    trusted = excel_setup.vba_trusted(registry)
    if "protected" in codes.text.lower() or "保护" in codes.text:
        return _fail(
            exc,
            f"加载项的 VBA 工程有密码保护（{codes.text}）：请从 xlwings 的模板重新生成"
            "（xlplan addin install -o 新文件名.xlam）",
            f"the add-in's VBA project is password-protected ({codes.text}): build it again from "
            "xlwings' template (xlplan addin install -o new-name.xlam)",
        )
    if trusted is False or (trusted is None and codes.has(VBA_1004)):
        fix = excel_setup.trust_fix(registry)
        return _fail(
            exc,
            f"Excel 拒绝访问 VBA 工程（{codes.text}）。{fix.zh}",
            f"Excel refused access to the VBA project ({codes.text}). {fix.en}",
        )
    return _fail(
        exc,
        f"无法访问加载项的 VBA 工程（{codes.text}），而信任中心设置已开启：请关闭所有 Excel 后重试",
        f"cannot reach the add-in's VBA project ({codes.text}) although the Trust Center "
        "setting is on: quit every Excel and try again",
    )


def module_names(components: Any) -> list[str]:
    return [str(components.Item(i).Name) for i in range(1, int(components.Count) + 1)]


def module_text(components: Any, name: str) -> str:
    code = components.Item(name).CodeModule
    count = int(code.CountOfLines)
    return str(code.Lines(1, count)) if count else ""


def expected_functions() -> set[str]:
    """Every ``XLP_`` function of the UDF modules (what the add-in must define)."""
    names: set[str] = set()
    for module_name in udfs.MODULES:
        module = importlib.import_module(module_name)
        for attr in dir(module):
            if attr.startswith("XLP_") and callable(getattr(module, attr)):
                info = getattr(getattr(module, attr), "__xlfunc__", None)
                names.add(str(info["name"]) if isinstance(info, dict) else attr)
    return names


def vba_problems(components: Any, expected: set[str]) -> list[Message]:
    """What is wrong with the add-in's VBA: missing modules or functions, leftovers."""
    names = module_names(components)
    problems: list[Message] = []
    if VBA_MODULE not in names:
        problems.append(Message(f"缺少模块 {VBA_MODULE}", f"module {VBA_MODULE} missing"))
    if QUICKSTART_MODULE in names:
        problems.append(
            Message(
                f"模板的 {QUICKSTART_MODULE} 模块仍在", f"template module {QUICKSTART_MODULE} left"
            )
        )
    if UDF_MODULE not in names:
        stray = [n for n in names if n.startswith(UDF_MODULE)]
        return [
            *problems,
            Message(
                f"没有 {UDF_MODULE} 模块（XLP_ 函数未导入；现有模块: {', '.join(names)}）",
                f"no {UDF_MODULE} module (the XLP_ functions were not imported; modules: "
                f"{', '.join(names)})"
                + (f"; a stale {stray[0]} suggests a failed replace" if stray else ""),
            ),
        ]
    text = module_text(components, UDF_MODULE)
    missing = sorted(expected - set(_PROCEDURE.findall(text)))
    if missing:
        problems.append(
            Message(
                f"{UDF_MODULE} 缺少 {len(missing)} 个函数: {', '.join(missing)}",
                f"{UDF_MODULE} lacks {len(missing)} functions: {', '.join(missing)}",
            )
        )
    wanted = {m for m in UDF_MODULES.split(";")}
    called = set(re.findall(r'XLPy\.CallUDF\("([\w.]+)"', text))
    if called - wanted:
        problems.append(
            Message(
                f"函数调用了意外的模块: {', '.join(sorted(called - wanted))}",
                f"functions call unexpected modules: {', '.join(sorted(called - wanted))}",
            )
        )
    return problems


def _joined(problems: list[Message]) -> Message:
    return Message("；".join(p.zh for p in problems), "; ".join(p.en for p in problems))


# --------------------------------------------------------------------------------------------
# Install
# --------------------------------------------------------------------------------------------


def prepare_vba(book: Any, components: Any, report: AddinReport) -> None:
    """Drop the template's module, name the project, import the dispatcher."""
    names = module_names(components)
    if QUICKSTART_MODULE in names:
        components.Remove(components.Item(QUICKSTART_MODULE))
    try:
        book.api.VBProject.Name = PROJECT_NAME
    except Exception as exc:
        raise _fail(
            exc,
            f"无法把 VBA 工程命名为 {PROJECT_NAME}",
            f"cannot name the VBA project {PROJECT_NAME}",
        ) from exc
    if VBA_MODULE in names:
        components.Remove(components.Item(VBA_MODULE))
    with tempfile.TemporaryDirectory() as tmp:
        bas = Path(tmp) / BAS_NAME
        bas.write_bytes(dispatcher_bas().encode("ascii"))
        try:
            components.Import(str(bas))
        except Exception as exc:
            raise _fail(
                exc,
                f"无法导入 VBA 模块 {BAS_NAME}: {ComCodes.of(exc).text}",
                f"cannot import the VBA module {BAS_NAME}: {ComCodes.of(exc).text}",
            ) from exc
    report.done.append(
        Message(
            f"已导入 VBA 模块 {VBA_MODULE}；已删除 {QUICKSTART_MODULE}；VBA 工程名 {PROJECT_NAME}",
            f"VBA module {VBA_MODULE} imported; {QUICKSTART_MODULE} dropped; "
            f"VBA project named {PROJECT_NAME}",
        )
    )


def import_functions(book: Any, components: Any, report: AddinReport) -> None:
    """Import the ``XLP_`` functions with xlwings' Python-side importer, then check them.

    ``import_udfs`` writes the ``xlwings_udfs`` module, imports it and sets each function's
    description (``Application.MacroOptions``). It swallows some COM errors and falls back on a
    VBA macro that needs an active workbook, so only the check afterwards says whether the
    functions are there.
    """
    importer: Callable[[str, Any], None] = importlib.import_module("xlwings.udfs").import_udfs
    expected = expected_functions()
    try:
        importer(UDF_MODULES, book.api)
    except Exception as exc:
        problems = vba_problems(components, expected)
        if problems:
            codes = ComCodes.of(exc)
            cause = (
                Message(
                    "（xlwings 的备用宏需要一个活动工作簿）",
                    " (xlwings' fallback macro needs an active workbook)",
                )
                if codes.has(MACRO_FAILED)
                else Message("", "")
            )
            raise _fail(
                exc,
                f"XLP_ 函数导入失败: {codes.text}{cause.zh}；{_joined(problems).zh}",
                f"importing the XLP_ functions failed: {codes.text}{cause.en}; "
                f"{_joined(problems).en}",
            ) from exc
        logs.log_exception("addin: function descriptions", exc)
        report.done.append(
            Message(
                f"函数已导入，但函数说明未能设置（{ComCodes.of(exc).text}）",
                f"functions imported, but their descriptions could not be set "
                f"({ComCodes.of(exc).text})",
            )
        )
    problems = vba_problems(components, expected)
    if problems:
        raise InputError(
            f"导入后核对未通过: {_joined(problems).zh}。{logs.see_log().zh}",
            f"the check after importing failed: {_joined(problems).en}. {logs.see_log().en}",
        )
    report.done.append(
        Message(
            f"已导入并核对 {len(expected)} 个 XLP_ 函数（模块 {UDF_MODULE}）",
            f"{len(expected)} XLP_ functions imported and checked (module {UDF_MODULE})",
        )
    )


def build_in_excel(app: Any, target: Path, report: AddinReport) -> None:
    """Steps 1-3 of the module doc on the add-in at ``target``."""
    book = open_book(app, target)
    components = vba_components(book)
    prepare_vba(book, components, report)
    import_functions(book, components, report)
    book.save()
    book.close()
    book = open_book(app, target)
    problems = vba_problems(vba_components(book), expected_functions())
    book.close()
    if problems:
        raise InputError(
            f"保存并重新打开后核对未通过: {_joined(problems).zh}。{logs.see_log().zh}",
            f"after saving and reopening, the check failed: {_joined(problems).en}. "
            f"{logs.see_log().en}",
        )
    report.done.append(Message("保存、重新打开后再次核对通过", "saved, reopened and checked again"))


def open_book(app: Any, path: Path, read_only: bool = False) -> Any:
    try:
        return (
            app.books.open(str(path), read_only=read_only)
            if read_only
            else app.books.open(str(path))
        )
    except Exception as exc:
        raise _fail(
            exc,
            f"Excel 无法打开 {path}: {ComCodes.of(exc).text}",
            f"Excel cannot open {path}: {ComCodes.of(exc).text}",
        ) from exc


def running_excels(xw: Any) -> list[Any]:
    """The Excel instances xlwings can see (those with a workbook window)."""
    try:
        return list(xw.apps)
    except Exception as exc:  # an Excel busy with a dialog
        logs.log_exception("addin: listing running Excels", exc)
        return []


def close_loaded(xw: Any) -> int:
    """Close ``xlplan.xlam`` in every running Excel, as ``xlwings addin install`` does."""
    closed = 0
    for app in running_excels(xw):
        try:
            app.books[ADDIN_NAME].close()
            closed += 1
        except Exception:  # KeyError when that Excel has not loaded it
            continue
    return closed


def copy_to_startup(xw: Any, app: Any, target: Path, report: AddinReport) -> Path:
    folder = Path(str(app.startup_path))
    installed = folder / ADDIN_NAME
    closed = close_loaded(xw)
    if closed:
        report.done.append(
            Message(
                f"已在 {closed} 个运行中的 Excel 里关闭旧的加载项",
                f"closed the loaded add-in in {closed} running Excel(s)",
            )
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, installed)
    except PermissionError as exc:
        logs.log_exception("addin: copy to XLSTART", exc)
        raise locked(installed, exc) from exc
    except OSError as exc:
        raise _fail(
            exc, f"无法复制到 {installed}: {exc}", f"cannot copy to {installed}: {exc}"
        ) from exc
    report.installed = installed
    report.done.append(Message(f"已安装到 {installed}", f"installed: {installed}"))
    return installed


def reload_running(xw: Any, installed: Path, report: AddinReport) -> None:
    """Open the new add-in in every running Excel and bind the open plans' formulas to it."""
    apps = running_excels(xw)
    if not apps:
        report.done.append(
            Message("启动 Excel 后即可使用 XLPlan 选项卡", "start Excel: the XLPlan tab is there")
        )
        return
    from udfs.live import book_lang
    from udfs.ribbon import rebind

    for app in apps:
        try:
            app.books.open(str(installed))
        except Exception as exc:
            logs.log_exception("addin: reopening in a running Excel", exc)
            report.done.append(Message("请重启 Excel", "restart Excel to load the add-in"))
            continue
        for book in list(app.books):
            try:
                if book_lang(book) is not None:
                    rebind(book)
                    report.done.append(
                        Message(
                            f"已重新绑定 {book.name} 的 XLP_ 公式",
                            f"re-entered the XLP_ formulas of {book.name}",
                        )
                    )
            except Exception as exc:  # one workbook must not stop the others
                logs.log_exception(f"addin: rebinding {getattr(book, 'name', '?')}", exc)
    report.done.append(
        Message("已在运行中的 Excel 里加载新的加载项", "the new add-in is loaded in running Excel")
    )


def install_addin(target: Path, report: AddinReport, install: bool) -> None:
    """The steps of the module doc on ``target``; with ``install`` copy it into XLSTART."""
    xw = _xlwings()
    installed: Path | None = None
    try:
        with hidden_excel(xw) as app:
            build_in_excel(app, target, report)
            if install:
                installed = copy_to_startup(xw, app, target, report)
    except XlplanError:
        raise
    except Exception as exc:  # a COM error nobody foresaw: say what it was
        raise _fail(
            exc,
            f"Excel 步骤失败: {ComCodes.of(exc).text}",
            f"the Excel step failed: {ComCodes.of(exc).text}",
        ) from exc
    report.remaining.clear()
    if installed is not None:
        reload_running(xw, installed, report)


# --------------------------------------------------------------------------------------------
# Doctor and self-test
# --------------------------------------------------------------------------------------------

EXCEL = Message("Excel（自动化）", "Excel (automation)")
VBA = Message("加载项的 VBA", "the add-in's VBA")
FUNCTIONS = Message("XLP_ 函数", "XLP_ functions")
STARTUP = Message("启动文件夹", "start-up folder")


def probe(addin_path: Path | None) -> list[Check]:
    """Start a hidden Excel, open the installed add-in read-only and check its VBA."""
    xw = _xlwings()
    checks: list[Check] = []
    try:
        app = start_excel(xw)
    except InputError as exc:
        return [failed("excel_start", EXCEL, exc.message, DOCTOR_EXCEL_FIX)]
    try:
        checks.append(
            passed(
                "excel_start",
                EXCEL,
                Message(f"Excel {app.version} 可启动", f"Excel {app.version} starts"),
            )
        )
        startup = Path(str(app.startup_path))
        if addin_path is not None and addin_path.parent != startup:
            checks.append(
                failed(
                    "startup",
                    STARTUP,
                    Message(
                        f"加载项在 {addin_path.parent}，但 Excel 从 {startup} 加载",
                        f"the add-in is in {addin_path.parent}, but Excel loads from {startup}",
                    ),
                    Message("运行 xlplan addin install", "run xlplan addin install"),
                )
            )
        else:
            checks.append(passed("startup", STARTUP, Message(str(startup), str(startup))))
        if addin_path is None or not addin_path.is_file():
            return checks
        try:
            book = open_book(app, addin_path, read_only=True)
            components = vba_components(book)
        except InputError as exc:
            checks.append(failed("functions", FUNCTIONS, exc.message, RERUN_INSTALL))
            return checks
        problems = vba_problems(components, expected_functions())
        checks.append(
            failed("functions", FUNCTIONS, _joined(problems), RERUN_INSTALL)
            if problems
            else passed(
                "functions",
                FUNCTIONS,
                Message(
                    f"{UDF_MODULE} 定义了全部 {len(expected_functions())} 个函数",
                    f"{UDF_MODULE} defines all {len(expected_functions())} functions",
                ),
            )
        )
        with suppress(Exception):
            book.close()
        return checks
    finally:
        with suppress(Exception):
            app.quit()


DOCTOR_EXCEL_FIX = Message(
    "手动启动一次 Excel，关闭所有对话框后退出，再运行 xlplan doctor",
    "start Excel once by hand, close any dialog, quit it, then run xlplan doctor again",
)
RERUN_INSTALL = Message(
    "关闭 Excel，运行 xlplan addin install", "quit Excel and run xlplan addin install"
)
SELFTEST_LINES = 4  # the landed-cost lines of the template's worked example


def selftest(addin_path: Path, lang: str = "en", visible: bool = False) -> list[Check]:
    """The release gate on a Windows machine (see ``xlplan addin selftest``).

    In a new hidden Excel: open the installed add-in, open a new plan from the template
    (.xltx, as the New plan button does, formulas re-entered), check that the landed-cost block
    computes (its header row and numbers, not the fallback text), run one ribbon action
    through the dispatcher macro and check its result table. Each step is one check; the first
    failure ends the run, naming its cause.
    """
    xw = _xlwings()
    checks: list[Check] = []
    try:
        app = start_excel(xw, visible)
    except InputError as exc:
        return [failed("excel_start", EXCEL, exc.message, DOCTOR_EXCEL_FIX)]
    try:
        _selftest_steps(app, addin_path, lang, checks)
    except _Stop:
        pass
    except Exception as exc:  # report, never raise: the run's other checks stay visible
        path = logs.log_exception("selftest", exc)
        checks.append(
            failed(
                "selftest",
                Message("自检", "self-test"),
                Message(f"意外错误: {exc}", f"unexpected error: {exc}")
                + Message(f"（{logs.see_log(path).zh}）", f" ({logs.see_log(path).en})"),
                Message("把日志附在问题报告中", "attach the log to a problem report"),
            )
        )
    finally:
        with suppress(Exception):
            app.quit()
    return checks


class _Stop(Exception):
    """A self-test step failed; later steps would only repeat its cause."""


def _step(checks: list[Check], check: Check) -> None:
    checks.append(check)
    if check.failed:
        raise _Stop


def _selftest_steps(app: Any, addin_path: Path, lang: str, checks: list[Check]) -> None:
    from udfs.ribbon import open_new_plan

    checks.append(
        passed("excel_start", EXCEL, Message(f"Excel {app.version}", f"Excel {app.version}"))
    )
    title = Message("打开加载项", "open the add-in")
    if not addin_path.is_file():
        _step(
            checks,
            failed(
                "addin_open",
                title,
                Message(f"{addin_path} 不存在", f"{addin_path} does not exist"),
                RERUN_INSTALL,
            ),
        )
    try:
        addin_book = open_book(app, addin_path, read_only=True)
        problems = vba_problems(vba_components(addin_book), expected_functions())
    except InputError as exc:
        _step(checks, failed("addin_open", title, exc.message, RERUN_INSTALL))
        return
    _step(
        checks,
        failed("addin_open", title, _joined(problems), RERUN_INSTALL)
        if problems
        else passed(
            "addin_open", title, Message(f"{addin_path}：函数齐全", f"{addin_path}: all functions")
        ),
    )
    title = Message("新建计划（.xltx）", "new plan (.xltx)")
    try:
        plan = open_new_plan(app, lang, date.today())
    except Exception as exc:
        path = logs.log_exception("selftest: new plan", exc)
        _step(
            checks,
            failed(
                "new_plan",
                title,
                Message(f"{exc}（{logs.see_log(path).zh}）", f"{exc} ({logs.see_log(path).en})"),
                RERUN_INSTALL,
            ),
        )
        return
    fullname = str(getattr(plan, "fullname", plan.name))
    _step(
        checks,
        passed(
            "new_plan",
            title,
            Message(
                f"{plan.name}（未保存：Excel 会询问保存位置）",
                f"{plan.name} (unsaved: Excel asks where to save)",
            ),
        )
        if str(Path(fullname).parent) in ("", ".")  # an unsaved book's full name is its name
        else failed(
            "new_plan",
            title,
            Message(
                f"新计划已有路径 {fullname}：Ctrl+S 不会询问位置",
                f"the new plan already has a path {fullname}: Ctrl+S would not ask where",
            ),
            RERUN_INSTALL,
        ),
    )
    title = Message("加载项探针", "add-in probe")
    seen = app.api.Evaluate(f'ISREF(INDIRECT("{addin_probe()}"))')
    checks.append(  # only the fallback text depends on it: the run goes on
        passed(
            "probe", title, Message("公式能看到已加载的加载项", "formulas see the loaded add-in")
        )
        if seen is True
        else failed(
            "probe",
            title,
            Message(
                f"ISREF(INDIRECT(...)) = {seen}：回退文字无法区分“未加载”和“未绑定”",
                f"ISREF(INDIRECT(...)) = {seen}: the fallback text cannot tell 'not loaded' "
                "from 'not bound'",
            ),
            Message("报告此问题（附日志）", "report this (with the log)"),
        ),
    )
    app.api.CalculateFull()
    _step(checks, landed_cost_check(plan, lang))
    _mute_error_popups(plan)
    title = Message("功能区操作（经调度宏）", "ribbon action (through the dispatcher macro)")
    app.status_bar = False
    app.macro(f"'{ADDIN_NAME}'!{VBA_MODULE}.{RUN_MACRO}")("landed_cost", True)
    _step(checks, result_check(plan, lang, app))
    with suppress(Exception):
        plan.close()


def landed_cost_check(plan: Any, lang: str) -> Check:
    """The landed-cost block on the new plan: its header row and numbers, not the fallback."""
    from xlplan.actions import CATALOG
    from xlplan.landed_cost.tables import LANDED_COST_OUTPUT_COLUMNS

    title = Message("落地成本公式块", "landed-cost formula block")
    sheet = plan.sheets[CATALOG.sheets["landed_cost"].title(lang)]
    anchor = _anchor(plan, sheet, "XLP_LANDED_COST(")
    if anchor is None:
        return failed(
            "udf_block",
            title,
            Message("找不到 XLP_LANDED_COST 公式", "no XLP_LANDED_COST formula"),
            RERUN_INSTALL,
        )
    width = len(LANDED_COST_OUTPUT_COLUMNS)
    block = anchor.resize(SELFTEST_LINES + 1, width).options(ndim=2).value
    header = [str(v) for v in block[0]]
    wanted = [c.header(lang) for c in LANDED_COST_OUTPUT_COLUMNS]
    if header[0] != wanted[0]:
        shown = header[0]
        return failed(
            "udf_block",
            title,
            Message(f"公式单元格显示: {shown}", f"the formula cell shows: {shown}"),
            Message(
                "运行 xlplan doctor；若显示“未绑定”，点 XLPlan > 修复公式链接",
                "run xlplan doctor; if it says 'not bound', click XLPlan > Relink",
            ),
        )
    column = [c.key for c in LANDED_COST_OUTPUT_COLUMNS].index("landed_cost")
    numbers = [row[column] for row in block[1:]]
    if not all(isinstance(v, int | float) for v in numbers):
        return failed(
            "udf_block",
            title,
            Message(
                f"落地成本列不是数字: {numbers}",
                f"the landed-cost column is not numbers: {numbers}",
            ),
            Message("查看日志", "see the log"),
        )
    return passed(
        "udf_block",
        title,
        Message(f"表头与 {len(numbers)} 行数字", f"header row and {len(numbers)} rows of numbers"),
    )


def result_check(plan: Any, lang: str, app: Any) -> Check:
    """The Landed Cost Results table the ribbon action wrote."""
    from xlplan.actions import CATALOG
    from xlplan.landed_cost.tables import LANDED_COST_RESULTS

    title = Message("功能区操作（经调度宏）", "ribbon action (through the dispatcher macro)")
    error = _error_sheet(plan)
    status = app.status_bar
    if error or (isinstance(status, str) and status.startswith("XLPlan failed")):
        shown = error or str(status)
        return failed(
            "ribbon_action",
            title,
            Message(f"失败: {shown}", f"failed: {shown}"),
            Message("运行 xlplan doctor，并查看日志", "run xlplan doctor and see the log"),
        )
    sheet = plan.sheets[CATALOG.sheets["landed_cost_results"].title(lang)]
    table = sheet.tables[LANDED_COST_RESULTS.name]
    body = table.data_body_range
    rows = [] if body is None else body.options(ndim=2).value
    column = LANDED_COST_RESULTS.keys.index("landed_cost")
    good = [r for r in rows if isinstance(r[column], int | float)]
    if len(good) != SELFTEST_LINES:
        return failed(
            "ribbon_action",
            title,
            Message(
                f"结果表有 {len(good)} 行数字，应为 {SELFTEST_LINES}",
                f"the result table has {len(good)} rows of numbers, not {SELFTEST_LINES}",
            ),
            Message("查看日志", "see the log"),
        )
    return passed(
        "ribbon_action",
        title,
        Message(f"“落地成本”写入 {len(good)} 行结果", f"Landed cost wrote {len(good)} result rows"),
    )


def _anchor(plan: Any, sheet: Any, call: str) -> Any:
    """The cell on ``sheet`` whose formula holds ``call`` (None when there is none)."""
    from udfs.live import LivePort

    for name, cell, formula in LivePort(plan).formulas():
        if name == sheet.name and call in formula:
            return sheet.range(cell)
    return None


def _error_sheet(plan: Any) -> str:
    for sheet in plan.sheets:
        if sheet.name == "Error":
            return str(sheet.range("A1").value or "")
    return ""


def _mute_error_popups(plan: Any) -> None:
    """Send xlwings' own error texts to an "Error" sheet of the plan instead of a dialog,
    which would block a hidden Excel (the plan's config sheet overrides the add-in's)."""
    sheet = plan.sheets.add(addin.CONFIG_SHEET, after=plan.sheets[-1])
    sheet.range("A1").value = [["SHOW_ERROR_POPUPS", "False"]]


class XlwingsEdge:
    """The Excel edge for :mod:`xlplan.app.addin` (entry point ``xlplan.excel:edge``)."""

    def install(self, target: Path, report: AddinReport, install: bool) -> None:
        install_addin(target, report, install)

    def close_loaded(self) -> int:
        return close_loaded(_xlwings())

    def probe(self, addin: Path | None) -> list[Check]:
        return probe(addin)

    def selftest(self, addin: Path, lang: str, visible: bool) -> list[Check]:
        return selftest(addin, lang, visible)


EDGE = XlwingsEdge()
