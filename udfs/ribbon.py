"""The ribbon's one entry point: every XLPlan button calls :func:`dispatch` with its tag.

The VBA side (``workbooks/addin/XLPlanRibbon.bas``) is one callback that runs
``RunPython("import udfs.ribbon; udfs.ribbon.dispatch('<tag>')")``. A tag is a registered
action's name (run through the registry on the calling workbook via :class:`udfs.live.LivePort`)
or one of the dispatcher's own tags: ``new`` (open a fresh plan from the template) and
``help``. Nothing raises into Excel: expected problems and unexpected ones alike end in a
message box, in the workbook's language.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import xlwings as xw
from pydantic import ValidationError

from udfs.live import LivePort, book_lang
from xlplan import actions
from xlplan.core.errors import Message, XlplanError, format_error, records

MAX_ERROR_LINES = 15
TITLE = "XLPlan"
NEW_PLAN_LANG = "zh"  # a new plan from a workbook that is not a plan: as `xlplan new`


def dispatch(tag: str, book: Any = None, today: date | None = None) -> None:
    """Run what the button ``tag`` stands for on the calling workbook; report in Excel.

    ``book`` and ``today`` default to the workbook that called (``xw.Book.caller()``) and the
    system date; tests pass a stand-in book.
    """
    book = book if book is not None else xw.Book.caller()
    lang, mode = "en", "info"
    app = book.app
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
        message = f"XLPlan 意外错误 / unexpected error: {type(exc).__name__}: {exc}"
        mode = "critical"
    finally:
        app.status_bar = False  # hand the status bar back to Excel
    app.alert(message, title=TITLE, mode=mode)


def run_actions(book: Any, names: Sequence[str], today: date) -> tuple[str, bool]:
    """Run the named actions through the one runner; the report text and whether all went
    well. Screen updating is off while the actions write, and restored after."""
    port = LivePort(book)
    lang = port.lang
    app = book.app
    updating = app.screen_updating
    app.screen_updating = False

    def progress(i: int, n: int, label: Message) -> None:
        app.status_bar = f"XLPlan [{i}/{n}] {label.text(lang)} ..."

    try:
        report = actions.run(port, today, list(names), progress=progress)
    finally:
        app.screen_updating = updating
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


def new_plan(book: Any, lang: str, today: date) -> str:
    """Open a fresh plan (next year's) from the template in the calling Excel instance."""
    from xlplan.app import templates

    year = today.year + 1
    folder = Path(tempfile.mkdtemp(prefix="xlplan-"))
    path = folder / f"xlplan-plan-{year}-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang, plan_year=year))
    book.app.books.open(str(path))
    return Message(
        f"新计划（{year} 年）已打开。请用“另存为”保存到您的文件夹。",
        f"A new plan for {year} is open. Use Save As to keep it in your own folder.",
    ).text(lang)


HELP_HEAD = Message(
    "XLPlan：填写黄色的输入表，然后点击按钮。结果写入 XLPlan 的输出表。",
    "XLPlan: fill in the yellow input tables, then click a button. Results go to XLPlan's "
    "output tables.",
)
HELP_TAIL = Message(
    "命令行: xlplan --help；文档: 项目 README。",
    "Command line: xlplan --help; documentation: the project README.",
)
NEW_PLAN = Message("新建计划", "New plan")
DONE = Message("完成", "done")


def help_text(lang: str) -> str:
    """What the buttons do, one line each, from the action registry."""
    labels = [NEW_PLAN, *(a.label for a in actions.ACTIONS.values())]
    body = [f"- {label.text(lang)}" for label in labels]
    return "\n".join([HELP_HEAD.text(lang), "", *body, "", HELP_TAIL.text(lang)])
