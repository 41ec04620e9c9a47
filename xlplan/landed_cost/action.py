"""The landed-cost action: read the lines and the rule overrides, compute every line, write the
Landed Cost Results table. :func:`compute_lines` and :func:`results_table` are the one path the
action, Validate and the UDFs share."""

from __future__ import annotations

from datetime import date

import pandas as pd

from xlplan import reference
from xlplan.core import money
from xlplan.core.errors import InputError, Message, concat_errors, row_messages
from xlplan.landed_cost.calc import (
    LABEL_KEYS,
    MONEY_OUTPUTS,
    OUTPUT_KEYS,
    PRICE_OUTPUTS,
    LandedCostResult,
    compute_landed_cost,
)
from xlplan.landed_cost.tables import (
    LANDED_COST,
    LANDED_COST_RESULTS,
    LOW_VALUE_OVERRIDES,
    MARKET_OVERRIDES,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.read import fx_table
from xlplan.plan.tables import FX
from xlplan.reference import Rules, load_rules
from xlplan.workbook.coerce import blank_rows, coerce_table, good_rows

MARKET_BOOLS = (
    "price_includes_tax",
    "tax_base_includes_duty",
    "tax_base_includes_transport",
    "tax_gross_up",
    "import_tax_recoverable",
)

# sku and channel pass through untouched (no rule reads them): 1M labels are not coerced.
_COERCED = LANDED_COST.view([k for k in LANDED_COST.keys if k not in ("sku", "channel")])


def typed_lines(raw: pd.DataFrame, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A raw lines table (cells by column key, as read from a sheet, a CSV or a UDF argument)
    read and checked against :data:`~xlplan.landed_cost.tables.LANDED_COST`: typed columns
    (market names such as ``美国`` read as their code) and the error records. Missing optional
    columns count as blank."""
    lists = {
        "markets": set(rules.markets.index.astype(str)),
        "currencies": set(rules.currencies.index.astype(str)),
    }
    frame = raw.reset_index(drop=True)
    return coerce_table(frame, _COERCED, lists=lists, table_key=LANDED_COST.key)


COLUMN_LABELS: dict[str, Message] = {
    c.key: Message(c.header("zh"), c.header("en")) for c in LANDED_COST.columns
}
"""The lines' columns as their headers name them, for the error column."""


def compute_lines(raw: pd.DataFrame, rules: Rules) -> LandedCostResult:
    """Every line of a raw lines table computed with ``rules`` (:func:`typed_lines`): bad rows
    get their errors, wholly blank rows (a gap in the table) stay blank, the rest compute."""
    typed, errors = typed_lines(raw, rules)
    return _computed(raw, typed, errors, rules)


def _computed(
    raw: pd.DataFrame, typed: pd.DataFrame, errors: pd.DataFrame, rules: Rules
) -> LandedCostResult:
    result = compute_landed_cost(typed, rules, errors)
    result.outputs["error"] = row_messages(result.errors, len(typed), COLUMN_LABELS).to_numpy()
    gaps = blank_rows(typed)
    if gaps.any():
        result.outputs.loc[gaps, [k for k in OUTPUT_KEYS if k != "error"]] = None
    result.outputs.index = raw.index
    return result


def results_table(raw: pd.DataFrame, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Landed Cost Results table (money rounded to each currency's minor unit, margins to
    0.01 %) and the error records."""
    typed, input_errors = typed_lines(raw, rules)
    result = _computed(raw, typed, input_errors, rules)
    values = money.round_money(
        result.outputs,
        [*MONEY_OUTPUTS, *PRICE_OUTPUTS],
        result.outputs["currency"],
        rules.currencies,
    )
    values["contribution_margin"] = money.round_half_up(values["contribution_margin"], 4)
    labels = pd.DataFrame(
        {k: raw[k].to_numpy() if k in raw.columns else None for k in LABEL_KEYS},
        index=values.index,
    )
    labels["market"] = typed["market"].to_numpy()  # the code, also where a name was typed
    return pd.concat([labels, values], axis=1)[LANDED_COST_RESULTS.keys], result.errors


def rules_from_tables(
    on: date,
    fx: pd.DataFrame | None,
    market_overrides: pd.DataFrame | None,
    low_value_overrides: pd.DataFrame | None,
) -> tuple[Rules, pd.DataFrame]:
    """Rules in force on ``on`` with the workbook's settings tables applied, and their errors.

    Bad rows of a settings table are reported and left out; the good ones still apply.
    """
    errs = []
    fx_typed, e = fx_table(fx)
    errs.append(e)
    if fx_typed is None:  # a CSV of lines, or a workbook without an FX table
        fx_typed = reference.default_fx()
    over_typed = lv_typed = None
    if market_overrides is not None:
        typed, e = coerce_table(market_overrides, MARKET_OVERRIDES)
        errs.append(e)
        over_typed = good_rows(typed, e)
        over_typed = over_typed[over_typed["market"] != ""].replace({"": None})
        for col in MARKET_BOOLS:
            over_typed[col] = over_typed[col].map(lambda v: None if pd.isna(v) else bool(v))
    if low_value_overrides is not None:
        typed, e = coerce_table(low_value_overrides, LOW_VALUE_OVERRIDES)
        errs.append(e)
        lv_typed = good_rows(typed, e)
        lv_typed = lv_typed[lv_typed["market"] != ""].copy()
        for col in ("effective_from", "effective_to"):
            lv_typed[col] = lv_typed[col].dt.strftime("%Y-%m-%d").fillna("")
    rules = load_rules(on, market_overrides=over_typed, regimes=lv_typed, fx=fx_typed)
    return rules, concat_errors(errs)


def _shipped_fx_note() -> Message:
    fx = reference.default_fx()
    as_of = str(fx["as_of"].max())
    main = fx["source"].value_counts().index[0]
    return Message(
        f"汇率: 未提供汇率表，使用内置汇率（截至 {as_of}；主要来源: {main}；见 "
        "reference/data/SOURCES.md）",
        f"FX: no FX table given; the shipped rates are used (as of {as_of}; mostly {main}; "
        "see reference/data/SOURCES.md)",
    )


SHIPPED_FX = _shipped_fx_note()
"""What a run says when it computes with the shipped FX rates."""


def read_rules(port: WorkbookPort, ctx: Context) -> tuple[Rules, pd.DataFrame]:
    """The rules in force on the plan's rules date, with the workbook's overrides."""
    return rules_from_tables(
        ctx.settings.rules_on,
        port.read_table(FX.key),
        port.read_table(MARKET_OVERRIDES.key),
        port.read_table(LOW_VALUE_OVERRIDES.key),
    )


def read_lines(port: WorkbookPort) -> pd.DataFrame:
    """The Landed Cost lines; a clear error when the workbook has none."""
    lines = port.read_table(LANDED_COST.key)
    if lines is None:
        raise InputError(
            "工作簿中没有落地成本表（tblLandedCost）",
            "the workbook has no Landed Cost table (tblLandedCost)",
        )
    return lines


def run_landed_cost(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Compute every landed-cost line and write the Landed Cost Results table."""
    lines = read_lines(port)
    rules, setting_errors = read_rules(port, ctx)
    table, errors = results_table(lines, rules)
    port.write_table(LANDED_COST_RESULTS.key, table)
    ok = int((table["error"] == "").sum())
    summary = [
        Message(
            f"落地成本: {ok}/{len(table)} 行计算成功（规则日期 {rules.on}）",
            f"landed cost: {ok} of {len(table)} lines computed (rules of {rules.on})",
        )
    ]
    if port.read_table(FX.key) is None:
        summary.append(SHIPPED_FX)
    return ActionResult(concat_errors([setting_errors, errors]), summary)


ACTIONS = (
    Action(
        "landed_cost",
        Message("落地成本", "Landed cost"),
        run_landed_cost,
        produces=(LANDED_COST_RESULTS.key,),
        help=Message(
            "读取“落地成本”明细与设置表的汇率和规则覆盖，写入“落地成本结果”。",
            "Reads the Landed Cost lines and the Settings FX and rule overrides; writes Landed "
            "Cost Results.",
        ),
    ),
)
