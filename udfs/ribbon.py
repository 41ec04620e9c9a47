"""The ribbon's one entry point: every XLPlan button calls :func:`dispatch` with its tag.

The VBA side (``workbooks/addin/XLPlanRibbon.bas``) is one callback that runs
``RunPython("import udfs.ribbon; udfs.ribbon.dispatch('<tag>')")``. With the add-in's
``Use UDF Server`` setting this runs in the warm Python that already serves the ``XLP_``
functions (on Windows; a Mac starts a Python per click, in the background). A tag is a
registered action's name (run through the registry on the calling workbook via
:class:`udfs.live.LivePort`) or one of the dispatcher's own tags: ``new`` (a new plan from the
Excel template) and ``help``.

While an action writes, Excel's calculation is manual and screen updating off; both are
restored afterwards, also when the action fails. Nothing raises into Excel: expected problems
and unexpected ones alike end in a message box in the workbook's language; unexpected ones are
logged with their traceback, and the box names the log file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any

import xlwings as xw
from pydantic import ValidationError

from udfs.live import LivePort, book_lang
from xlplan import actions
from xlplan.app import logs, places
from xlplan.app.addin import ADD_FROM_TEMPLATE, ADDIN_NAME, VBA_MODULE
from xlplan.core.errors import FileError, Message, XlplanError, format_error, records

MAX_ERROR_LINES = 15
TITLE = "XLPlan"
NEW_PLAN_LANG = "zh"  # a new plan from a workbook that is not a plan: as `xlplan new`


def dispatch(tag: str, book: Any = None, today: date | None = None, quiet: bool = False) -> None:
    """Run what the button ``tag`` stands for on the calling workbook; report in Excel.

    ``book`` and ``today`` default to the workbook that called (``xw.Book.caller()``) and the
    system date; tests pass a stand-in book. ``quiet`` (the add-in's self-test) puts the
    report on the status bar instead of a message box, which would block a hidden Excel.
    """
    book = book if book is not None else xw.Book.caller()
    lang, mode = "en", "info"
    app = book.app
    log: Path | None = None
    try:
        lang = book_lang(book) or lang
        if tag == "help":
            message = help_text(lang)
        elif tag == "new":
            message = new_plan(book, book_lang(book) or NEW_PLAN_LANG, today or date.today())
        else:
            message, ok = run_actions(book, [tag], today or date.today())
            mode = "info" if ok else "critical"
    except XlplanError as exc:  # expected: its message, in both languages
        message, mode = str(exc), "critical"
    except ValidationError as exc:
        message = "\n".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        mode = "critical"
    except Exception as exc:  # never raise into Excel: say what happened instead
        log = logs.log_exception(f"ribbon {tag}", exc)
        message = f"XLPlan 意外错误 / unexpected error: {type(exc).__name__}: {exc}"
        mode = "critical"
    finally:
        app.status_bar = False  # hand the status bar back to Excel
    if mode == "critical":
        log = log or logs.log_info(f"ribbon {tag}: {message}")
        message = f"{message}\n\n{logs.see_log(log).text(lang)}"
    if quiet:
        app.status_bar = ("XLPlan failed: " if mode == "critical" else "XLPlan: ") + message[:200]
        return
    app.alert(message, title=TITLE, mode=mode)


@contextmanager
def excel_quiet(app: Any) -> Iterator[None]:
    """Calculation manual and screen updating off while an action writes; both restored
    afterwards, also on error (each restored even when the other cannot be)."""
    updating = app.screen_updating
    calculation = None
    with suppress(Exception):  # Excel refuses while no workbook is open
        calculation = app.calculation
        app.calculation = "manual"
    app.screen_updating = False
    try:
        yield
    finally:
        try:
            if calculation is not None:
                app.calculation = calculation
        finally:
            app.screen_updating = updating


def run_actions(book: Any, names: Sequence[str], today: date) -> tuple[str, bool]:
    """Run the named actions through the one runner; the report text and whether all went
    well. Calculation is manual and screen updating off while they write."""
    port = LivePort(book)
    lang = port.lang
    app = book.app

    def progress(i: int, n: int, label: Message) -> None:
        app.status_bar = f"XLPlan [{i}/{n}] {label.text(lang)} ..."

    with excel_quiet(app):
        report = actions.run(port, today, list(names), progress=progress)
    if "relink" in names:
        recalculate(app)
    lines = [line.text(lang) for line in report.summary]
    problems = [format_error(r, lang, port.locate) for r in records(report.errors)]
    if problems:
        more = len(problems) - MAX_ERROR_LINES
        lines += ["", *problems[:MAX_ERROR_LINES]]
        if more > 0:
            lines.append(
                Message(f"... 另有 {more} 个问题", f"... +{more} more problems").text(lang)
            )
    return "\n".join(lines) or DONE.text(lang), not problems


def recalculate(app: Any) -> None:
    """Recalculate every open workbook, rebuilding the dependency tree (Windows; elsewhere
    xlwings' ``App.calculate``)."""
    try:
        app.api.CalculateFullRebuild()
    except Exception:  # no COM (macOS): the documented xlwings call
        try:
            app.calculate()
        except Exception as exc:  # Excel recalculates on its own when it can
            logs.log_exception("recalculate", exc)


def rebind(book: Any, today: date | None = None) -> Message:
    """Re-enter the book's ``XLP_`` formulas so Excel binds them to the loaded add-in (the
    relink action), then recalculate."""
    report = actions.run(LivePort(book), today or date.today(), ["relink"])
    recalculate(book.app)
    return report.summary[0] if report.summary else DONE


def new_plan(book: Any, lang: str, today: date) -> str:
    """Open a new plan (next year's) from the Excel template in the calling Excel."""
    year = today.year + 1
    open_new_plan(book.app, lang, today)
    return Message(
        f"新计划（{year} 年）已打开。保存时 Excel 会询问保存位置。",
        f"A new plan for {year} is open. Excel asks where to save it when you save.",
    ).text(lang)


def open_new_plan(app: Any, lang: str, today: date) -> Any:
    """A new, unsaved workbook from the plan template for next year (``Workbooks.Add`` of an
    ``.xltx``), its ``XLP_`` formulas bound to the loaded add-in. The template is written to
    the app-data folder, never next to the user's files or into a temp folder."""
    path = write_plan_template(lang, today.year + 1)
    if sys.platform.startswith("win"):
        name = str(app.api.Workbooks.Add(str(path)).Name)
    else:  # macOS: no COM; the dispatcher's VBA adds it
        name = str(app.macro(f"'{ADDIN_NAME}'!{VBA_MODULE}.{ADD_FROM_TEMPLATE}")(str(path)))
    plan = app.books[name]
    rebind(plan, today)
    return plan


def write_plan_template(lang: str, year: int) -> Path:
    """The Excel template of a plan for ``year`` in ``lang``, in the app-data folder."""
    from xlplan.app import templates

    folder = places.templates_dir()
    path = folder / f"xlplan-plan-{year}-{lang}.xltx"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(templates.excel_template_bytes(lang, plan_year=year))
    except OSError as exc:
        raise FileError(
            f"无法写入计划模板 {path}: {exc.strerror}",
            f"cannot write the plan template {path}: {exc.strerror}",
        ) from exc
    return path


HELP_HEAD = Message(
    "XLPlan：填写黄色的输入表，然后点击按钮。结果写入 XLPlan 的输出表。",
    "XLPlan: fill in the yellow input tables, then click a button. Results go to XLPlan's "
    "output tables.",
)
HELP_TAIL = Message(
    "命令行: xlplan --help；检查安装: xlplan doctor；文档: 项目 README。",
    "Command line: xlplan --help; check the set-up: xlplan doctor; documentation: the README.",
)
NEW_PLAN = Message("新建计划", "New plan")
DONE = Message("完成", "done")


def help_text(lang: str) -> str:
    """What the buttons do, one line each, from the action registry; and the log file."""
    labels = [NEW_PLAN, *(a.label for a in actions.ACTIONS.values())]
    body = [f"- {label.text(lang)}" for label in labels]
    log = Message(f"日志: {logs.log_file()}", f"log: {logs.log_file()}")
    return "\n".join([HELP_HEAD.text(lang), "", *body, "", HELP_TAIL.text(lang), log.text(lang)])
