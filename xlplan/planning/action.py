"""Target planning actions: align the three maps, split into months, track actuals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from xlplan.actions.registry import ActionResult, Context, WorkbookPort, action
from xlplan.actions.settings import market_regions, plan_year, read_settings, setting_number
from xlplan.core.errors import InputError, concat_errors, empty_errors
from xlplan.planning.calc.targets import Alignment
from xlplan.workbook import schema


def align_tables(
    raw_lines: pd.DataFrame,
    company_target: float | None,
    method: str,
    unit: float,
    regions: pd.Series,
) -> tuple[Alignment, pd.DataFrame]:
    """Align a raw target-lines table (cells by column key) with the company target.

    ``company_target`` None means the sum of the lines (amount + adjustment) [CNY]. Bad rows are
    reported and left out; the rest still align. The action and the UDF share this path.
    """
    from xlplan.planning.calc.targets import AlignmentSettings, ReconcileMethod, align_targets

    lines, errors = schema.coerce_table(raw_lines, schema.TARGET_LINES)
    lines["map"] = lines["map"].str.strip().str.lower()
    lines["customer_type"] = lines["customer_type"].str.strip().str.lower()
    good = lines.drop(index=errors["row"].unique().tolist()).reset_index(drop=True)
    if company_target is None:
        company_target = float(good["amount"].fillna(0).sum() + good["adjustment"].fillna(0).sum())
    method = (method or "keep").strip().lower()
    if method not in {m.value for m in ReconcileMethod}:
        raise InputError(
            f"对齐方式 reconcile_method 应为 keep / pro_rata / priority，实为 '{method}'",
            f"reconcile_method must be keep, pro_rata or priority, not '{method}'",
        )
    align_settings = AlignmentSettings(
        company_target=company_target, method=ReconcileMethod(method), unit=unit or 1.0
    )
    alignment = align_targets(good, align_settings, regions)
    # The domain saw only the good rows; point lines and records back at the sheet's rows.
    kept = lines.index.difference(pd.Index(errors["row"].unique())).to_numpy()

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


def read_alignment(port: WorkbookPort, ctx: Context) -> tuple[Alignment, pd.DataFrame]:
    """Align the Alignment sheet's target lines with the company target of Settings."""
    raw = port.read_table("target_lines")
    if raw is None:
        raise InputError(
            "工作簿中没有三方目标表（tblTargetLines）",
            "the workbook has no Target lines table (tblTargetLines)",
        )
    settings = read_settings(port)
    return align_tables(
        raw,
        setting_number(settings, "company_target", None),
        str(settings.get("reconcile_method", "keep")),
        setting_number(settings, "rounding_unit", 1.0) or 1.0,
        market_regions(port, ctx),
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


@action("align", "三方对齐", "Align the three maps")
def run_align(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Map totals, overlaps, gap and reconciled buckets on the Alignment Result sheet."""
    alignment, input_errors = read_alignment(port, ctx)
    totals = alignment.map_totals.reset_index()
    proposed = map_proposals_by_map(port.read_table("map_proposals"))
    totals["proposed"] = totals["map"].map(proposed)
    port.write_table("map_totals", totals)
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
    """Shipped events with the workbook's uplifts (see :func:`merge_events`)."""
    return merge_events(port.read_table("events"))


def merge_events(raw: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipped events with a workbook events table's uplifts and markets; events the table
    removed are dropped; without a table, the shipped calendar."""
    from xlplan.planning.calc.seasonality import read_calendar_events

    events = read_calendar_events()
    if raw is None:
        return events, empty_errors()
    table, errors = schema.coerce_table(raw, schema.EVENTS)
    keys = table["event_key"].str.strip()
    known = keys.isin(set(events["event_key"])) | (keys == "")
    from xlplan.core.errors import errors_where

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
    from xlplan.planning.calc.seasonality import plan_profiles
    from xlplan.planning.calc.targets import MONTH_COLUMNS, phase_buckets, quarterly

    alignment, input_errors = read_alignment(port, ctx)
    events, event_errors = read_events(port)
    launches, launch_errors = read_launches(port)
    year = plan_year(port, ctx)
    buckets = alignment.buckets
    profiles, profile_errors = plan_profiles(
        buckets, year, market_regions(port, ctx), events, launches=launches
    )
    keyed = buckets.assign(market=buckets["market"].fillna("").astype(str).str.upper())
    unit = setting_number(read_settings(port), "rounding_unit", 1.0) or 1.0
    phased, phase_errors = phase_buckets(keyed, profiles, unit=unit)
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


def track_tables(
    plan: pd.DataFrame, raw_actuals: pd.DataFrame, year: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Attainment by month, the forecast and the gap drivers for a plan (``m01`` .. ``m12``) and
    a raw actuals table; returns (monthly, forecast, drivers, errors). Shared by action and UDF.
    """
    from xlplan.planning.calc.tracking import attainment, explain_gap, forecast

    actuals, input_errors = schema.coerce_table(raw_actuals, schema.ACTUALS)
    actuals = actuals.drop(index=input_errors["row"].unique().tolist())
    actuals = actuals[actuals["month"] != ""]
    dims = [
        c
        for c in ("market", "channel", "customer_tier", "category", "customer_type")
        if (actuals[c] != "").any()
    ]
    monthly, e1 = attainment(plan, actuals, year)
    outlook, e2 = forecast(plan, actuals, year)
    drivers, e3 = explain_gap(plan, actuals, year, dimensions=dims or None, top=10)
    return monthly, outlook, drivers, concat_errors([input_errors, e1, e2, e3])


@action("track", "月度跟踪", "Track actuals", after=("split",))
def run_track(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Attainment by month and YTD, the run-rate forecast, the gap and what explains it."""
    raw_actuals = port.read_table("actuals")
    if raw_actuals is None:
        raise InputError(
            "工作簿中没有实际数据表（tblActuals）", "the workbook has no Actuals table (tblActuals)"
        )
    raw_plan = port.read_table("monthly_plan")
    if raw_plan is None or raw_plan.empty:
        plan, plan_errors = monthly_plan(port, ctx)
    else:
        plan, plan_errors = schema.coerce_table(raw_plan, schema.MONTHLY_PLAN)
    monthly, outlook, drivers, track_errors = track_tables(plan, raw_actuals, plan_year(port, ctx))
    port.write_table("tracking", monthly)
    port.write_table("forecast", outlook)
    port.write_table("gap_drivers", drivers)
    errors = concat_errors([plan_errors, track_errors])
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
