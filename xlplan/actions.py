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
from xlplan.targets import Alignment
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


# --------------------------------------------------------------------------------------------
# Target planning: align, split, track
# --------------------------------------------------------------------------------------------


def read_settings(port: WorkbookPort) -> dict[str, object]:
    """The Settings key/value table as a dict (blank values left out)."""
    raw = port.read_table("settings")
    if raw is None or raw.empty:
        return {}
    out: dict[str, object] = {}
    for key, value in zip(raw["setting"], raw["value"], strict=False):
        if key is None or value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        if str(value).strip() == "":
            continue
        out[str(key).strip()] = value
    return out


def plan_year(port: WorkbookPort, ctx: Context) -> int:
    """Settings ``plan_year``, else the year after today (plans are made for next year)."""
    value = pd.to_numeric(pd.Series([read_settings(port).get("plan_year")]), errors="coerce")
    year = value.iloc[0]
    if pd.notna(year) and 2000 <= year <= 2100:
        return int(year)
    return ctx.today.year + 1


def _setting_number(settings: dict[str, object], key: str, default: float | None) -> float | None:
    value = pd.to_numeric(pd.Series([settings.get(key)]), errors="coerce").iloc[0]
    return default if pd.isna(value) else float(value)


def _market_regions(port: WorkbookPort, ctx: Context) -> pd.Series:
    from xlplan.reference import markets

    return markets(read_rules_date(port, ctx))["region"]


def read_alignment(port: WorkbookPort, ctx: Context) -> tuple[Alignment, pd.DataFrame]:
    """Align the Alignment sheet's target lines with the company target of Settings."""
    from xlplan.targets import AlignmentSettings, ReconcileMethod, align_targets

    raw = port.read_table("target_lines")
    if raw is None:
        raise InputError(
            "工作簿中没有三方目标表（tblTargetLines）",
            "the workbook has no Target lines table (tblTargetLines)",
        )
    lines, errors = schema.coerce_table(raw, schema.TARGET_LINES)
    lines["map"] = lines["map"].str.strip().str.lower()
    lines["customer_type"] = lines["customer_type"].str.strip().str.lower()
    settings = read_settings(port)
    target = _setting_number(settings, "company_target", None)
    if target is None:
        target = float(lines["amount"].fillna(0).sum() + lines["adjustment"].fillna(0).sum())
    method = str(settings.get("reconcile_method", "keep")).strip().lower() or "keep"
    if method not in {m.value for m in ReconcileMethod}:
        raise InputError(
            f"设置表 reconcile_method 应为 keep / pro_rata / priority，实为 '{method}'",
            f"Settings reconcile_method must be keep, pro_rata or priority, not '{method}'",
        )
    unit = _setting_number(settings, "rounding_unit", 1.0) or 1.0
    align_settings = AlignmentSettings(
        company_target=target, method=ReconcileMethod(method), unit=unit
    )
    good = lines.drop(index=errors["row"].unique().tolist()).reset_index(drop=True)
    alignment = align_targets(good, align_settings, _market_regions(port, ctx))
    return alignment, errors


@action("align", "三方对齐", "Align the three maps")
def run_align(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Map totals, overlaps, gap and reconciled buckets on the Alignment Result sheet."""
    alignment, input_errors = read_alignment(port, ctx)
    port.write_table("map_totals", alignment.map_totals.reset_index())
    port.write_table("overlaps", alignment.overlaps)
    port.write_table("buckets", alignment.buckets)
    total = float(alignment.buckets["amount"].sum())
    by_map = ", ".join(f"{m} {v:,.0f}" for m, v in alignment.map_totals["amount"].items())
    summary = [
        (
            f"三方对齐: 各地图 {by_map}；与公司目标差距 {alignment.gap:,.0f}；"
            f"对齐后合计 {total:,.0f}",
            f"alignment: by map {by_map}; gap to company target {alignment.gap:,.0f}; "
            f"reconciled total {total:,.0f}",
        ),
        (f"重叠主张 {len(alignment.overlaps)} 处", f"{len(alignment.overlaps)} overlapping claims"),
    ]
    return ActionResult(concat_errors([input_errors, alignment.errors]), summary)


def read_events(port: WorkbookPort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipped events with the workbook's uplifts; events the workbook removed are dropped."""
    from xlplan.calendar import read_calendar_events

    events = read_calendar_events()
    raw = port.read_table("events")
    if raw is None:
        return events, empty_errors()
    table, errors = schema.coerce_table(raw, schema.EVENTS)
    keys = table["event_key"].str.strip()
    known = keys.isin(set(events["event_key"])) | (keys == "")
    from xlplan.errors import errors_where

    errors = concat_errors(
        [
            errors,
            errors_where(
                ~known.to_numpy(),
                table="events",
                column="event_key",
                zh="未知事件（自定义事件暂不支持日期计算）: '" + keys + "'",
                en="unknown event (custom events cannot be dated yet): '" + keys + "'",
            ),
        ]
    )
    given = table[known & (keys != "")].set_index("event_key")
    events = events[events["event_key"].isin(given.index)].copy()
    uplift = given["uplift"].reindex(events["event_key"]).to_numpy()
    events["uplift"] = pd.Series(uplift, index=events.index).fillna(events["uplift"])
    markets = given["markets"].reindex(events["event_key"]).to_numpy()
    events["markets"] = [
        m if str(m).strip() else d for m, d in zip(markets, events["markets"], strict=False)
    ]
    return events.reset_index(drop=True), errors


def read_launches(port: WorkbookPort) -> tuple[pd.Series | None, pd.DataFrame]:
    raw = port.read_table("launches")
    if raw is None:
        return None, empty_errors()
    table, errors = schema.coerce_table(raw, schema.LAUNCHES)
    table = table[(table["market"] != "") & (table["launch_month"] != "")]
    launches = pd.Series(table["launch_month"].to_numpy(), index=table["market"].to_numpy())
    return (launches if len(launches) else None), errors


def monthly_plan(port: WorkbookPort, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Align, then phase every bucket into 12 months by its market's seasonality."""
    from xlplan.calendar import plan_profiles
    from xlplan.targets import MONTH_COLUMNS, phase_buckets, quarterly

    alignment, input_errors = read_alignment(port, ctx)
    events, event_errors = read_events(port)
    launches, launch_errors = read_launches(port)
    year = plan_year(port, ctx)
    buckets = alignment.buckets
    profiles, profile_errors = plan_profiles(
        buckets, year, _market_regions(port, ctx), events, launches=launches
    )
    keyed = buckets.assign(market=buckets["market"].fillna("").astype(str).str.upper())
    unit = _setting_number(read_settings(port), "rounding_unit", 1.0) or 1.0
    phased, phase_errors = phase_buckets(keyed, profiles, unit=unit)
    plan = buckets.copy()
    plan[MONTH_COLUMNS] = phased[MONTH_COLUMNS].to_numpy()
    plan = pd.concat([plan, quarterly(plan[MONTH_COLUMNS])], axis=1)
    plan["total"] = plan[MONTH_COLUMNS].sum(axis=1)
    errors = concat_errors(
        [input_errors, alignment.errors, event_errors, launch_errors, profile_errors, phase_errors]
    )
    return plan[schema.MONTHLY_PLAN.keys], errors


@action("split", "目标拆解", "Split into months", after=("align",))
def run_split(port: WorkbookPort, ctx: Context) -> ActionResult:
    """The Monthly Plan: every reconciled bucket phased by its market's seasonality, rounded so
    each row sums to its bucket and the plan sums to the company target."""
    plan, errors = monthly_plan(port, ctx)
    port.write_table("monthly_plan", plan)
    total = float(plan["total"].sum())
    quarters = " / ".join(f"{plan[f'q{q}'].sum():,.0f}" for q in range(1, 5))
    summary = [
        (
            f"月度拆解: {len(plan)} 个目标 × 12 个月，全年 {total:,.0f}（季度 {quarters}）",
            f"monthly plan: {len(plan)} buckets x 12 months, full year {total:,.0f} "
            f"(quarters {quarters})",
        )
    ]
    return ActionResult(errors, summary)


@action("track", "月度跟踪", "Track actuals", after=("split",))
def run_track(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Attainment by month and YTD, the run-rate forecast, the gap and what explains it."""
    from xlplan.tracking import attainment, explain_gap, forecast

    raw_actuals = port.read_table("actuals")
    if raw_actuals is None:
        raise InputError(
            "工作簿中没有实际数据表（tblActuals）", "the workbook has no Actuals table (tblActuals)"
        )
    actuals, input_errors = schema.coerce_table(raw_actuals, schema.ACTUALS)
    actuals = actuals.drop(index=input_errors["row"].unique().tolist())
    actuals = actuals[actuals["month"] != ""]
    raw_plan = port.read_table("monthly_plan")
    if raw_plan is None or raw_plan.empty:
        plan, plan_errors = monthly_plan(port, ctx)
    else:
        plan, plan_errors = schema.coerce_table(raw_plan, schema.MONTHLY_PLAN)
    year = plan_year(port, ctx)
    dims = [
        c
        for c in ("market", "channel", "customer_tier", "category", "customer_type")
        if (actuals[c] != "").any()
    ]
    monthly, e1 = attainment(plan, actuals, year)
    outlook, e2 = forecast(plan, actuals, year)
    drivers, e3 = explain_gap(plan, actuals, year, dimensions=dims or None, top=10)
    port.write_table("tracking", monthly)
    port.write_table("forecast", outlook)
    port.write_table("gap_drivers", drivers)
    errors = concat_errors([input_errors, plan_errors, e1, e2, e3])
    if len(outlook):
        row = outlook.iloc[0]
        summary = [
            (
                f"月度跟踪: 累计达成 {row['ytd_attainment']:.1%}，全年预测 {row['forecast']:,.0f}"
                f"（{row['forecast_attainment']:.1%}），待弥补 {row['gap_to_close']:,.0f}",
                f"tracking: YTD attainment {row['ytd_attainment']:.1%}, full-year forecast "
                f"{row['forecast']:,.0f} ({row['forecast_attainment']:.1%}), gap to close "
                f"{row['gap_to_close']:,.0f}",
            )
        ]
    else:
        summary = [("月度跟踪: 没有实际数据", "tracking: no actuals yet")]
    return ActionResult(errors, summary)
