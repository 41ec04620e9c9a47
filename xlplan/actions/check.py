"""Validate: everything any action would reject, found by the actions themselves.

Validate runs every action against a dry-run port (what an action writes stays in memory; the
workbook is not touched), with ``Context.dry_run`` set so that an action may skip building the
outputs nobody reads (its checks all run first), and collects what they report, plus the
cell-level problems of every input table no action reads. So ``xlplan check`` and ``xlplan
run`` can never disagree: there is one validation path, the actions' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from xlplan.actions.catalog import CATALOG
from xlplan.actions.runner import Progress, plan_run, workbook_error
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


CELL_CHECKS = Message("其余输入表的单元格", "cells of the other input tables")


def check_workbook(
    actions: Mapping[str, Action],
    port: WorkbookPort,
    ctx: Context,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every problem the actions would report, and the cell problems of unread input tables,
    each once. ``progress`` hears of each action as it is dry-run."""
    dry = DryRunPort(port)
    ctx = replace(ctx, dry_run=True)
    found: list[pd.DataFrame] = []
    todo = plan_run(actions, None)
    for i, act in enumerate(todo, 1):
        if progress is not None:
            progress(i, len(todo) + 1, act.label)
        try:
            found.append(act.run(dry, ctx).errors)
        except InputError as exc:
            found.append(workbook_error(exc.message))
    if progress is not None:
        progress(len(todo) + 1, len(todo) + 1, CELL_CHECKS)
    for table in CATALOG.input_tables():
        raw = port.read_table(table.key)
        if raw is not None:
            found.append(coerce_table(raw, table)[1])
    errors = concat_errors(found)
    return errors.drop_duplicates(["table", "row", "column", "en"]).reset_index(drop=True)


def check_result(
    actions: Mapping[str, Action],
    port: WorkbookPort,
    ctx: Context,
    progress: Progress | None = None,
) -> ActionResult:
    """What Validate reports: the problems of :func:`check_workbook` and their count."""
    errors = check_workbook(actions, port, ctx, progress)
    n = len(errors)
    summary = [
        Message(f"校验: 发现 {n} 个问题", f"validate: {n} problems")
        if n
        else Message("校验: 没有问题", "validate: no problems")
    ]
    return ActionResult(errors, summary)


def make_check(actions: Mapping[str, Action]) -> Action:
    """The Validate action over ``actions``."""

    def run_check(port: WorkbookPort, ctx: Context) -> ActionResult:
        return check_result(actions, port, ctx)

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
