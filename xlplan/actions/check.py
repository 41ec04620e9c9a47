"""Validate: everything any action would reject, found by the actions themselves.

Validate runs every action against a dry-run port (what an action writes stays in memory; the
workbook is not touched) and collects what they report, plus the cell-level problems of every
input table no action reads. So ``xlplan check`` and ``xlplan run`` can never disagree: there
is one validation path, the actions' own.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from xlplan.actions.catalog import CATALOG
from xlplan.actions.runner import plan_run, workbook_error
from xlplan.core.errors import (
    ErrorRecord,
    InputError,
    Message,
    concat_errors,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.workbook.coerce import coerce_table


class DryRunPort:
    """A port that reads through to another and keeps what is written to itself."""

    def __init__(self, port: WorkbookPort) -> None:
        self.port = port
        self.written: dict[str, pd.DataFrame] = {}

    def read_table(self, key: str) -> pd.DataFrame | None:
        if key in self.written:
            return self.written[key]
        return self.port.read_table(key)

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        self.written[key] = frame

    def locate(self, record: ErrorRecord) -> str:
        return self.port.locate(record)


def check_workbook(actions: Mapping[str, Action], port: WorkbookPort, ctx: Context) -> pd.DataFrame:
    """Every problem the actions would report, and the cell problems of unread input tables,
    each once."""
    dry = DryRunPort(port)
    found: list[pd.DataFrame] = []
    for act in plan_run(actions, None):
        try:
            found.append(act.run(dry, ctx).errors)
        except InputError as exc:
            found.append(workbook_error(exc.message))
    for table in CATALOG.input_tables():
        raw = port.read_table(table.key)
        if raw is not None:
            found.append(coerce_table(raw, table)[1])
    errors = concat_errors(found)
    return errors.drop_duplicates(["table", "row", "column", "en"]).reset_index(drop=True)


def make_check(actions: Mapping[str, Action]) -> Action:
    """The Validate action over ``actions``."""

    def run_check(port: WorkbookPort, ctx: Context) -> ActionResult:
        errors = check_workbook(actions, port, ctx)
        n = len(errors)
        summary = [
            Message(f"校验: 发现 {n} 个问题", f"validate: {n} problems")
            if n
            else Message("校验: 没有问题", "validate: no problems")
        ]
        return ActionResult(errors, summary)

    return Action(
        "check",
        Message("校验", "Validate"),
        run_check,
        standalone=True,
        help=Message(
            "检查所有输入表：任何操作会拒绝的内容都会列出，不写入任何内容。",
            "Checks every input table: lists everything any action would reject; writes nothing.",
        ),
    )
