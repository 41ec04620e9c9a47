"""The landed-cost action: compute every line and write the Landed Cost Results table."""

from __future__ import annotations

import pandas as pd

from xlplan.actions.registry import ActionResult, Context, WorkbookPort, action
from xlplan.actions.settings import read_rules
from xlplan.core import money
from xlplan.core.errors import InputError, concat_errors
from xlplan.landed_cost.calc import MONEY_OUTPUTS, compute_landed_cost
from xlplan.reference import Rules


def landed_cost_results(lines: pd.DataFrame, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Landed Cost Results table (rounded for display) and the error records."""
    result = compute_landed_cost(lines, rules)
    values = money.round_money(
        result.outputs, MONEY_OUTPUTS, result.outputs["currency"], rules.currencies
    )
    values["contribution_margin"] = money.round_half_up(values["contribution_margin"], 4)
    keys = pd.DataFrame(
        {
            k: lines[k].to_numpy() if k in lines.columns else None
            for k in ("sku", "market", "channel")
        },
        index=values.index,
    )
    return pd.concat([keys, values], axis=1), result.errors


@action("landed_cost", "落地成本", "Landed cost")
def run_landed_cost(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Compute every landed-cost line and write the Landed Cost Results table."""
    lines = port.read_table("landed_cost")
    if lines is None:
        raise InputError(
            "工作簿中没有落地成本表（tblLandedCost）",
            "the workbook has no Landed Cost table (tblLandedCost)",
        )
    rules, setting_errors = read_rules(port, ctx)
    table, errors = landed_cost_results(lines, rules)
    port.write_table("landed_cost_results", table)
    ok = int((table["error"] == "").sum())
    summary = [
        (
            f"落地成本: {ok}/{len(table)} 行计算成功（规则日期 {rules.on}）",
            f"landed cost: {ok} of {len(table)} lines computed (rules of {rules.on})",
        )
    ]
    return ActionResult(concat_errors([setting_errors, errors]), summary)
