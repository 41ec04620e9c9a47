"""Target planning actions: align the three maps, split into months, track actuals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core.errors import InputError, Message, concat_errors, empty_errors, errors_where
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.settings import PlanSettings, ReconcileMethod
from xlplan.plan.tables import DIMENSION_COLUMNS
from xlplan.planning.calc.seasonality import plan_profiles, read_calendar_events
from xlplan.planning.calc.targets import (
    MONTH_COLUMNS,
    Alignment,
    AlignmentSettings,
    align_targets,
    phase_buckets,
    quarterly,
)
from xlplan.planning.calc.tracking import attainment, explain_gap, forecast
from xlplan.planning.tables import (
    ACTUALS,
    BUCKETS,
    EVENTS,
    FORECAST,
    GAP_DRIVERS,
    LAUNCHES,
    MAP_TOTALS,
    MARKET_ATTAINMENT,
    MONTHLY_PLAN,
    OVERLAPS,
    TARGET_LINES,
    TRACKING,
)
from xlplan.workbook.coerce import coerce_table, good_rows

MAP_PROPOSALS = "map_proposals"
"""The maps' proposals (a table the maps capability writes in the target-line shape)."""


def market_regions(on: date) -> pd.Series:
    """Region of each market on ``on`` (``MX`` -> ``LATAM``), for regional target lines."""
    return reference.markets(on)["region"]


def align_tables(
    raw_lines: pd.DataFrame,
    company_target: float | None,
    method: ReconcileMethod,
    unit: float,
    regions: pd.Series,
) -> tuple[Alignment, pd.DataFrame]:
    """Align a raw target-lines table (cells by column key) with the company target.

    ``company_target`` None means the sum of the lines (amount + adjustment) [reporting ccy].
    Bad rows are reported and left out; the rest still align. The action and the UDF share
    this path.
    """
    lines, errors = coerce_table(raw_lines, TARGET_LINES)
    lines["map"] = lines["map"].str.strip().str.lower()
    lines["customer_type"] = lines["customer_type"].str.strip().str.lower()
    kept_rows = good_rows(lines, errors)
    good = kept_rows.reset_index(drop=True)
    if company_target is None:
        company_target = float(good["amount"].fillna(0).sum() + good["adjustment"].fillna(0).sum())
    align_settings = AlignmentSettings(company_target=company_target, method=method, unit=unit)
    alignment = align_targets(good, align_settings, regions)
    # The domain saw only the good rows; point lines and records back at the sheet's rows.
    kept = kept_rows.index.to_numpy()

    def original(rows: pd.Series) -> pd.Series:
        pos = rows.to_numpy(dtype=int)
        ok = (pos >= 0) & (pos < len(kept))
        return (
            pd.Series(
                np.where(ok, kept[np.clip(pos, 0, max(len(kept) - 1, 0))], pos), index=rows.index
            )
            if len(kept)
            else rows
        )

    buckets = alignment.buckets.assign(line=original(alignment.buckets["line"]))
    records_ = alignment.errors.copy()
    on_lines = records_["table"] == "target_lines"
    records_.loc[on_lines, "row"] = original(records_.loc[on_lines, "row"]).to_numpy()
    return replace(alignment, buckets=buckets, errors=records_), errors


def read_alignment(port: WorkbookPort, settings: PlanSettings) -> tuple[Alignment, pd.DataFrame]:
    """Align the Alignment sheet's target lines with the company target of Settings."""
    raw = port.read_table(TARGET_LINES.key)
    if raw is None:
        raise InputError(
            "工作簿中没有三方目标表（tblTargetLines）",
            "the workbook has no Target lines table (tblTargetLines)",
        )
    return align_tables(
        raw,
        settings.company_target,
        settings.reconcile_method,
        settings.rounding_unit,
        market_regions(settings.rules_on),
    )


def bucket_errors_on_lines(errors: pd.DataFrame, buckets: pd.DataFrame) -> pd.DataFrame:
    """Records about buckets re-pointed at the target line each bucket came from (its market
    cell), so they print as ``Alignment!C8``; the unallocated bucket keeps its own record."""
    if errors.empty:
        return errors
    out = errors.copy()
    lines = buckets["line"].to_numpy(dtype=int)
    on_buckets = (out["table"] == "buckets").to_numpy()
    rows = out["row"].to_numpy(dtype=int)
    valid = on_buckets & (rows >= 0) & (rows < len(lines))
    source = np.where(valid, lines[np.clip(rows, 0, max(len(lines) - 1, 0))], -1)
    move = valid & (source >= 0)
    out.loc[move, "table"] = "target_lines"
    out.loc[move, "row"] = source[move]
    out.loc[move & (out["column"] == "").to_numpy(), "column"] = "market"
    return out


def map_proposals_by_map(raw: pd.DataFrame | None) -> pd.Series:
    """Total proposed per map from the Map Proposals table [reporting ccy] (empty without it),
    so the Alignment result shows each map's analysis beside what its owner agreed to."""
    if raw is None or raw.empty or "map" not in raw.columns:
        return pd.Series(dtype=float)
    amounts = pd.to_numeric(raw["amount"], errors="coerce")
    maps = raw["map"].astype("string").str.strip().str.lower()
    return amounts.groupby(maps.to_numpy()).sum()


def run_align(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Map totals, overlaps, gap and reconciled buckets on the Alignment Result sheet."""
    alignment, input_errors = read_alignment(port, ctx.settings)
    totals = alignment.map_totals.reset_index()
    proposed = map_proposals_by_map(port.read_table(MAP_PROPOSALS))
    totals["proposed"] = totals["map"].map(proposed)
    port.write_table(MAP_TOTALS.key, totals)
    port.write_table(OVERLAPS.key, alignment.overlaps)
    port.write_table(BUCKETS.key, alignment.buckets)
    total = float(alignment.buckets["amount"].sum())
    by_map = ", ".join(f"{m} {v:,.0f}" for m, v in alignment.map_totals["amount"].items())
    summary = [
        Message(
            f"三方对齐: 各地图 {by_map}；与公司目标差距 {alignment.gap:,.0f}；"
            f"对齐后合计 {total:,.0f}",
            f"alignment: by map {by_map}; gap to company target {alignment.gap:,.0f}; "
            f"reconciled total {total:,.0f}",
        ),
        Message(
            f"重叠主张 {len(alignment.overlaps)} 处",
            f"{len(alignment.overlaps)} overlapping claims",
        ),
    ]
    return ActionResult(concat_errors([input_errors, alignment.errors]), summary)


def read_events(port: WorkbookPort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipped events with the workbook's uplifts (see :func:`merge_events`)."""
    return merge_events(port.read_table(EVENTS.key))


def merge_events(raw: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipped events with a workbook events table's uplifts and markets; events the table
    removed are dropped; without a table, the shipped calendar."""
    events = read_calendar_events()
    if raw is None:
        return events, empty_errors()
    table, errors = coerce_table(raw, EVENTS)
    keys = table["event_key"].str.strip()
    known = keys.isin(set(events["event_key"])) | (keys == "")
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
    raw = port.read_table(LAUNCHES.key)
    if raw is None:
        return None, empty_errors()
    table, errors = coerce_table(raw, LAUNCHES)
    table = table[(table["market"] != "") & (table["launch_month"] != "")]
    launches = pd.Series(table["launch_month"].to_numpy(), index=table["market"].to_numpy())
    return (launches if len(launches) else None), errors


def monthly_plan(port: WorkbookPort, settings: PlanSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Align, then phase every bucket into 12 months by its market's seasonality."""
    alignment, input_errors = read_alignment(port, settings)
    events, event_errors = read_events(port)
    launches, launch_errors = read_launches(port)
    buckets = alignment.buckets
    profiles, profile_errors = plan_profiles(
        buckets, settings.plan_year, market_regions(settings.rules_on), events, launches=launches
    )
    keyed = buckets.assign(market=buckets["market"].fillna("").astype(str).str.upper())
    phased, phase_errors = phase_buckets(keyed, profiles, unit=settings.rounding_unit)
    plan = buckets.copy()
    plan[MONTH_COLUMNS] = phased[MONTH_COLUMNS].to_numpy()
    # a bucket's problem is its target line's problem: name the cell the user can fix
    profile_errors = bucket_errors_on_lines(profile_errors, buckets)
    phase_errors = bucket_errors_on_lines(phase_errors, buckets)
    plan = pd.concat([plan, quarterly(plan[MONTH_COLUMNS])], axis=1)
    plan["total"] = plan[MONTH_COLUMNS].sum(axis=1)
    errors = concat_errors(
        [input_errors, alignment.errors, event_errors, launch_errors, profile_errors, phase_errors]
    )
    return plan[MONTHLY_PLAN.keys], errors


def run_split(port: WorkbookPort, ctx: Context) -> ActionResult:
    """The Monthly Plan: every reconciled bucket phased by its market's seasonality, rounded so
    each row sums to its bucket and the plan sums to the company target."""
    plan, errors = monthly_plan(port, ctx.settings)
    port.write_table(MONTHLY_PLAN.key, plan)
    total = float(plan["total"].sum())
    quarters = " / ".join(f"{plan[f'q{q}'].sum():,.0f}" for q in range(1, 5))
    summary = [
        Message(
            f"月度拆解: {len(plan)} 个目标 × 12 个月，全年 {total:,.0f}（季度 {quarters}）",
            f"monthly plan: {len(plan)} buckets x 12 months, full year {total:,.0f} "
            f"(quarters {quarters})",
        )
    ]
    return ActionResult(errors, summary)


DIMENSION_LABELS: dict[str, str] = {
    c.key: f"{c.header('zh')} / {c.header('en')}" for c in DIMENSION_COLUMNS
}
"""A gap driver's dimension as the sheet shows it (both languages, not the column key)."""


def track_tables(
    plan: pd.DataFrame, raw_actuals: pd.DataFrame, year: int, unit: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Attainment by month, the forecast, the gap drivers and attainment by market for a plan
    (``m01`` .. ``m12``) and a raw actuals table; returns (monthly, forecast, drivers, markets,
    errors). Shared by action and UDF."""
    actuals, input_errors = coerce_table(raw_actuals, ACTUALS)
    actuals = good_rows(actuals, input_errors)
    actuals = actuals[actuals["month"] != ""]
    dims = [
        c
        for c in ("market", "channel", "customer_tier", "category", "customer_type")
        if (actuals[c] != "").any()
    ]
    monthly, e1 = attainment(plan, actuals, year)
    outlook, e2 = forecast(plan, actuals, year, unit=unit)
    drivers, e3 = explain_gap(plan, actuals, year, dimensions=dims or None, top=10)
    drivers["dimension"] = drivers["dimension"].map(DIMENSION_LABELS).fillna(drivers["dimension"])
    markets = market_attainment(plan, actuals, year)
    return monthly, outlook, drivers, markets, concat_errors([input_errors, e1, e2, e3])


def market_attainment(plan: pd.DataFrame, actuals: pd.DataFrame, year: int) -> pd.DataFrame:
    """YTD plan, actual and attainment per market (markets first, the unassigned slice last)."""
    if actuals.empty:
        return pd.DataFrame(columns=MARKET_ATTAINMENT.keys)
    gap, _ = explain_gap(plan, actuals, year, dimensions=["market"])
    out = gap.rename(columns={"value": "market"})[MARKET_ATTAINMENT.keys]
    out["market"] = out["market"].fillna("").astype(str)
    return out.sort_values("market", key=lambda s: s == "", kind="stable").reset_index(drop=True)


def run_track(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Attainment by month and YTD, the run-rate forecast, the gap and what explains it."""
    raw_actuals = port.read_table(ACTUALS.key)
    if raw_actuals is None:
        raise InputError(
            "工作簿中没有实际数据表（tblActuals）", "the workbook has no Actuals table (tblActuals)"
        )
    raw_plan = port.read_table(MONTHLY_PLAN.key)
    if raw_plan is None or raw_plan.empty:
        plan, plan_errors = monthly_plan(port, ctx.settings)
    else:
        plan, plan_errors = coerce_table(raw_plan, MONTHLY_PLAN)
    monthly, outlook, drivers, markets, track_errors = track_tables(
        plan, raw_actuals, ctx.settings.plan_year, ctx.settings.rounding_unit
    )
    port.write_table(TRACKING.key, monthly)
    port.write_table(FORECAST.key, outlook)
    port.write_table(GAP_DRIVERS.key, drivers)
    port.write_table(MARKET_ATTAINMENT.key, markets)
    errors = concat_errors([plan_errors, track_errors])
    if (
        len(outlook)
        and outlook["ytd_actual"].notna().any()
        and len(monthly.dropna(subset=["actual"]))
    ):
        row = outlook.iloc[0]
        summary = [
            Message(
                f"月度跟踪: 累计达成 {row['ytd_attainment']:.1%}，全年预测 {row['forecast']:,.0f}"
                f"（{row['forecast_attainment']:.1%}），待弥补 {row['gap_to_close']:,.0f}",
                f"tracking: YTD attainment {row['ytd_attainment']:.1%}, full-year forecast "
                f"{row['forecast']:,.0f} ({row['forecast_attainment']:.1%}), gap to close "
                f"{row['gap_to_close']:,.0f}",
            )
        ]
    else:
        summary = [Message("月度跟踪: 没有实际数据", "tracking: no actuals yet")]
    return ActionResult(errors, summary)


ACTIONS = (
    Action(
        "align",
        Message("三方对齐", "Align the three maps"),
        run_align,
        produces=(MAP_TOTALS.key, OVERLAPS.key, BUCKETS.key),
        reads=(MAP_PROPOSALS,),
        help=Message(
            "读取“三方对齐”的目标主张与设置表的公司目标，写入“对齐结果”。",
            "Reads the Alignment target lines and the Settings company target; writes Alignment "
            "Result.",
        ),
    ),
    Action(
        "split",
        Message("目标拆解", "Split into months"),
        run_split,
        produces=(MONTHLY_PLAN.key,),
        reads=(BUCKETS.key,),
        help=Message(
            "按季节日历把对齐后的目标拆到 12 个月，写入“月度拆解”。",
            "Phases the reconciled targets into 12 months by the Calendar; writes Monthly Plan.",
        ),
    ),
    Action(
        "track",
        Message("月度跟踪", "Track actuals"),
        run_track,
        produces=(TRACKING.key, FORECAST.key, GAP_DRIVERS.key, MARKET_ATTAINMENT.key),
        reads=(MONTHLY_PLAN.key,),
        help=Message(
            "读取“实际数据”与“月度拆解”，写入“月度跟踪”：达成率、全年预测与差距来源。",
            "Reads Actuals and Monthly Plan; writes Tracking: attainment, forecast and what "
            "explains the gap.",
        ),
    ),
)
