"""The relink action: bind every formula that calls XLPlan's functions to the loaded add-in.

A workbook saved where ``xlplan.xlam`` lived in one folder and opened where it lives in another
shows ``='C:\\...\\xlplan.xlam'!XLP_X(...)`` or ``#NAME?``; a formula written by another program
(the templates are written by XlsxWriter) may not bind to the add-in's functions until Excel
parses it again. The action rewrites each path-qualified call to the bare ``XLP_X(...)`` (see
:mod:`xlplan.workbook.relink`) and re-enters *every* formula that calls an ``XLP_`` function,
changed or not, so Excel parses it against the add-in that is loaded now. The workbook port has
no formula access, so the action needs a port that also implements :class:`FormulaPort` (the
live port does); on any other port it says so and changes nothing. Files are relinked by
``xlplan relink FILE``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from xlplan.core.errors import Message
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.workbook.relink import calls_addin, relink_formula


@runtime_checkable
class FormulaPort(Protocol):
    """A port that can list and set the formulas of a workbook."""

    def formulas(self) -> list[tuple[str, str, str]]:
        """Every formula cell: (sheet name, cell address such as ``B7``, formula text)."""
        ...

    def set_formula(self, sheet: str, cell: str, text: str) -> None:
        """Replace the formula of one cell."""
        ...


def run_relink(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Make every add-in-qualified ``XLP_`` call bare and re-enter every ``XLP_`` formula."""
    if not isinstance(port, FormulaPort):
        return ActionResult(
            summary=[
                Message(
                    "修复公式链接: 此方式无法读取公式；请在 Excel 中运行，或用 xlplan relink 文件",
                    "relink: this port cannot read formulas; run it in Excel, "
                    "or use `xlplan relink FILE`",
                )
            ]
        )
    changed: list[str] = []
    entered = 0
    for sheet, cell, formula in port.formulas():
        new = relink_formula(formula)
        if new != formula:
            changed.append(f"{sheet}!{cell}")
        if new != formula or calls_addin(new):
            port.set_formula(sheet, cell, new)  # re-entered: Excel binds it to the add-in
            entered += 1
    bound = Message(
        f"；已重新输入 {entered} 个 XLP_ 公式，使其绑定到已加载的加载项",
        f"; re-entered {entered} XLP_ formulas so they bind to the loaded add-in",
    )
    if not changed:
        head = Message("修复公式链接: 没有需要修复的公式", "relink: no formula needed repair")
        return ActionResult(summary=[head + bound if entered else head])
    where = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
    return ActionResult(
        summary=[
            Message(
                f"修复公式链接: 已修复 {len(changed)} 个公式（{where}）",
                f"relink: repaired {len(changed)} formulas ({where})",
            )
            + bound
        ]
    )


RELINK = Action(
    "relink",
    Message("修复公式链接", "Relink add-in formulas"),
    run_relink,
    standalone=True,
    help=Message(
        "把指向其他电脑加载项路径的 XLP_ 公式改回直接调用，并重新输入所有 XLP_ 公式，"
        "使其绑定到已加载的加载项；只改公式，不写入任何表。",
        "Rewrites XLP_ formulas that point at another machine's add-in path to bare calls and "
        "re-enters every XLP_ formula so it binds to the loaded add-in; changes formulas only, "
        "writes no table.",
    ),
)
