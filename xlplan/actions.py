"""The macros: each ribbon button and each ``xlplan run --action`` is one action.

An action takes a workbook port and a context, reads tables, calls domain code and writes its
output tables. Two ports implement :class:`WorkbookPort`: the file port
(:class:`xlplan.workbook.io.FilePort`, headless) and the live port (``udfs.live``, an open
Excel workbook). Actions are registered by name in :data:`ACTIONS`; the ribbon, the CLI and the
tests reach them only through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import pandas as pd

from xlplan import money
from xlplan.errors import ErrorRecord, InputError, concat_errors, empty_errors
from xlplan.landed_cost import MONEY_OUTPUTS, compute_landed_cost
from xlplan.reference import Rules, load_rules
from xlplan.workbook import schema


class WorkbookPort(Protocol):
    """What an action may do to a workbook."""

    def read_table(self, key: str) -> pd.DataFrame | None:
        """The table's raw cells by column key, or None when the workbook lacks it."""

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        """Replace the content of an output table XLPlan owns."""

    def locate(self, record: ErrorRecord) -> str:
        """Where an error record points, in the user's terms (``Sheet!D7``)."""


@dataclass(frozen=True)
class Context:
    """What an action knows besides the workbook: today's date, from the edge."""

    today: date


@dataclass
class ActionResult:
    """Errors found (records, see :mod:`xlplan.errors`) and summary lines for the user."""

    errors: pd.DataFrame = field(default_factory=empty_errors)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) lines


ActionFunc = Callable[[WorkbookPort, Context], ActionResult]


@dataclass(frozen=True)
class Action:
    name: str
    zh: str
    en: str
    run: ActionFunc
    after: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {}


def action(
    name: str, zh: str, en: str, after: tuple[str, ...] = ()
) -> Callable[[ActionFunc], ActionFunc]:
    """Register an action under ``name`` (the ribbon button's tag)."""

    def register(func: ActionFunc) -> ActionFunc:
        ACTIONS[name] = Action(name, zh, en, func, after)
        return func

    return register


def ordered(names: list[str] | None = None) -> list[Action]:
    """Actions to run, each after those it depends on; all of them when ``names`` is None."""
    wanted = list(ACTIONS) if not names else names
    unknown = [n for n in wanted if n not in ACTIONS]
    if unknown:
        raise InputError(
            f"未知的操作: {', '.join(unknown)}（可用: {', '.join(ACTIONS)}）",
            f"unknown action: {', '.join(unknown)} (available: {', '.join(ACTIONS)})",
        )
    out: list[Action] = []

    def visit(name: str) -> None:
        if any(a.name == name for a in out):
            return
        for dep in ACTIONS[name].after:
            if dep in wanted:
                visit(dep)
        out.append(ACTIONS[name])

    for n in wanted:
        visit(n)
    return out


# --------------------------------------------------------------------------------------------
# Settings shared by actions
# --------------------------------------------------------------------------------------------


def read_rules_date(port: WorkbookPort, ctx: Context) -> date:
    """The date whose rules apply: Settings ``rules_date``, else 1 Jan of ``plan_year``, else
    today."""
    raw = port.read_table("settings")
    if raw is None or raw.empty:
        return ctx.today
    values = dict(zip(raw["setting"].astype(str).str.strip(), raw["value"], strict=False))
    when = values.get("rules_date")
    if isinstance(when, datetime):
        return when.date()
    if isinstance(when, date):
        return when
    if when not in (None, ""):
        parsed = pd.to_datetime(str(when), errors="coerce")
        if not pd.isna(parsed):
            return parsed.date()
    year = pd.to_numeric(pd.Series([values.get("plan_year")]), errors="coerce").iloc[0]
    if pd.notna(year) and 2000 <= year <= 2100:
        return date(int(year), 1, 1)
    return ctx.today


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
    fx_typed = over_typed = lv_typed = None
    if fx is not None:
        fx_typed, e = schema.coerce_table(fx, schema.FX)
        errs.append(e)
        fx_typed = fx_typed.drop(index=e["row"].unique().tolist())
    if market_overrides is not None:
        over_typed, e = schema.coerce_table(market_overrides, schema.MARKET_OVERRIDES)
        errs.append(e)
        over_typed = over_typed.drop(index=e["row"].unique().tolist())
        over_typed = over_typed[over_typed["market"] != ""]
        over_typed = over_typed.replace({"": None})
        for col in (
            "price_includes_tax",
            "tax_base_includes_duty",
            "tax_base_includes_transport",
            "tax_gross_up",
            "import_tax_recoverable",
        ):
            over_typed[col] = over_typed[col].map(lambda v: None if pd.isna(v) else bool(v))
        over_typed["tax_rate"] = (
            over_typed["tax_rate"].astype(object).where(over_typed["tax_rate"].notna(), None)
        )
    if low_value_overrides is not None:
        lv_typed, e = schema.coerce_table(low_value_overrides, schema.LOW_VALUE_OVERRIDES)
        errs.append(e)
        lv_typed = lv_typed.drop(index=e["row"].unique().tolist())
        lv_typed = lv_typed[lv_typed["market"] != ""].copy()
        for col in ("effective_from", "effective_to"):
            lv_typed[col] = lv_typed[col].dt.strftime("%Y-%m-%d").fillna("")
    rules = load_rules(on, market_overrides=over_typed, regimes=lv_typed, fx=fx_typed)
    return rules, concat_errors(errs)


def read_rules(port: WorkbookPort, ctx: Context) -> tuple[Rules, pd.DataFrame]:
    return rules_from_tables(
        read_rules_date(port, ctx),
        port.read_table("fx"),
        port.read_table("market_overrides"),
        port.read_table("low_value_overrides"),
    )


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------


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
