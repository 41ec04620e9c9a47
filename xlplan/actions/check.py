"""Validate: every input table of the workbook checked, nothing written.

Each table the user fills is read and checked against its schema declaration (required cells,
numbers, ranges, lists). Tables with domain rules are checked by the same code the actions run
(landed cost: unknown markets, missing FX, unreachable target margins; target lines: maps and
dimensions), so Validate reports exactly what a run would.
"""

from __future__ import annotations

import pandas as pd

from xlplan.actions.registry import ActionResult, Context, WorkbookPort, action
from xlplan.actions.settings import market_regions, read_rules, read_settings, setting_number
from xlplan.core.errors import concat_errors
from xlplan.landed_cost.calc import compute_landed_cost
from xlplan.workbook import schema


def input_tables() -> list[schema.Table]:
    """The tables users fill: those on sheets XLPlan does not own."""
    return [
        t
        for t in schema.TABLES.values()
        if t.sheet in schema.SHEETS and not schema.SHEETS[t.sheet].owned
    ]


@action("check", "校验", "Validate", standalone=True)
def run_check(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Check every input table; report problems with their cells, write nothing."""
    from xlplan.planning.action import align_tables

    errors: list[pd.DataFrame] = []
    checked: list[str] = []
    for table in input_tables():
        raw = port.read_table(table.key)
        if raw is None:
            continue
        checked.append(table.name)
        if table.key == "landed_cost":
            rules, setting_errors = read_rules(port, ctx)
            errors += [setting_errors, compute_landed_cost(raw, rules).errors]
        elif table.key == "target_lines":
            settings = read_settings(port)
            alignment, line_errors = align_tables(
                raw,
                setting_number(settings, "company_target", None),
                str(settings.get("reconcile_method", "keep")),
                setting_number(settings, "rounding_unit", 1.0) or 1.0,
                market_regions(port, ctx),
            )
            errors += [line_errors, alignment.errors]
        elif table.key not in ("fx", "market_overrides", "low_value_overrides"):
            errors.append(schema.coerce_table(raw, table)[1])  # settings tables: via read_rules
    found = concat_errors(errors).drop_duplicates(["table", "row", "column", "en"])
    found = found.reset_index(drop=True)
    n = len(found)
    summary = [
        (
            f"校验: {len(checked)} 张表，{n} 个问题"
            if n
            else f"校验: {len(checked)} 张表，没有问题",
            f"validate: {len(checked)} tables, {n} problems"
            if n
            else f"validate: {len(checked)} tables, no problems",
        )
    ]
    return ActionResult(found, summary)
