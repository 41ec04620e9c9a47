"""The business map's action: screen, score and rank candidate markets (margins from the
Landed Cost Results), propose an incremental target per market."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import money
from xlplan.core.errors import (
    Message,
    concat_errors,
    empty_errors,
)
from xlplan.core.money import round_largest_remainder
from xlplan.maps import tables as schema_maps
from xlplan.maps.action.common import (
    DEFAULT_INCREMENTAL_POOL,
    KEPT_TEXT,
    LANDED_COST_RESULTS,
    PASS_TEXT,
    STATUS_TEXT,
    fx_or_shipped,
    proposal_rows,
    read_settings_model,
    record_at,
    replace_proposals,
    rows_of,
    skip,
    usd_rate,
    whole_units,
)
from xlplan.maps.calc.business import (
    BusinessSettings,
    Status,
    screen_markets,
    with_macro_defaults,
)
from xlplan.plan.action import ActionResult, Context, WorkbookPort
from xlplan.plan.read import read_fx
from xlplan.workbook.coerce import coerce_table, relocate


def landed_cost_margins(port: WorkbookPort) -> pd.DataFrame:
    """Median contribution margin [fraction] and line count per market from the Landed Cost
    Results (a run that includes the business map computes them first when they are empty)."""
    results = port.read_table(LANDED_COST_RESULTS)
    if results is None or results.empty or results["market"].isna().all():
        return pd.DataFrame({"margin": [], "lines": []})
    return median_margins(results)


def median_margins(results: pd.DataFrame) -> pd.DataFrame:
    """Median contribution margin [fraction] and line count per market (the index) of the
    clean lines of a Landed Cost Results table (``market``, ``contribution_margin``,
    ``error``)."""
    margin = pd.to_numeric(results["contribution_margin"], errors="coerce")
    market = results["market"].astype("string").fillna("").str.strip().str.upper()
    error = results["error"].astype("string").fillna("").str.strip() if "error" in results else ""
    ok = margin.notna() & (market != "") & (error == "")
    grouped = margin[ok].groupby(market[ok])
    return pd.DataFrame({"margin": grouped.median(), "lines": grouped.size()})


def incremental_pool(
    values: Mapping[str, object], rows: Mapping[str, int]
) -> tuple[float, pd.DataFrame]:
    """Business settings ``incremental_pool`` [reporting ccy/year]: blank = no pool yet (0:
    the markets are screened, nothing is proposed); the default (and an error record on its
    row) when it is negative."""
    pool = values.get("incremental_pool")
    if pool is None:
        return 0.0, empty_errors()
    if not isinstance(pool, float) or pool < 0:
        problem = record_at(
            "business_settings",
            rows.get("incremental_pool", 0),
            "value",
            f"增量目标池不能为负: {pool}，使用默认值",
            f"the incremental pool cannot be negative: {pool}; the default is used",
        )
        return DEFAULT_INCREMENTAL_POOL, problem
    return pool, empty_errors()


def allocate_pool(targets: np.ndarray, pool: float, unit: float) -> tuple[np.ndarray, float]:
    """Proposals in whole ``unit`` that add up exactly to the part of ``pool`` they take, and
    the part left unallocated (``pool`` minus their sum, exactly).

    ``targets`` are the markets' unrounded proposals [reporting ccy/year], summing to at most
    ``pool``; ``unit`` > 0 is the plan's rounding unit (Settings ``rounding_unit``). The
    allocated pool is the whole units the markets absorb (their sum, floored to the unit); it
    is split by largest remainder, so no market that asks for nothing gets a unit and none
    gets more than one unit above what it asks.
    """
    # The planning capability owns the largest-remainder rounding until it moves to
    # xlplan.core.money; import it here, at the one boundary that needs it.
    asked = np.nan_to_num(np.asarray(targets, dtype=float), nan=0.0)
    absorbed = min(float(asked.sum()), pool)
    allocated = float(np.floor(np.round(absorbed / unit, 6))) * unit
    if len(asked) == 0 or allocated <= 0:
        return np.zeros(len(asked)), pool
    amounts = np.asarray(round_largest_remainder(asked, np.array([allocated]), unit), dtype=float)
    return amounts, pool - float(amounts.sum())


def _growth_source(typed: pd.Series, market: pd.Series) -> np.ndarray:
    """Where each market's e-commerce growth comes from: typed, the shipped table (its source
    and year), or nowhere."""
    macro = reference.market_macro()
    macro = macro.assign(market=macro["market"].astype(str).str.upper()).drop_duplicates(
        "market", keep="last"
    )
    shipped = macro.set_index("market")
    label = (
        "内置 shipped: "
        + shipped["ecommerce_growth_source"].astype(str)
        + " "
        + shipped["ecommerce_growth_year"].astype(str)
    )
    known = pd.to_numeric(shipped["ecommerce_growth"], errors="coerce").notna()
    from_table = market.map(label[known]).fillna("缺失 missing")
    return np.where(typed.notna(), "输入 entered", from_table.to_numpy(dtype=object))


def screening_table(
    table: pd.DataFrame,
    settings: BusinessSettings,
    pool: float,
    rate: float,
    margins: pd.DataFrame,
    unit: float = 1.0,
) -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """The Market Screening table from the typed candidate markets, sorted by rank.

    ``pool`` is in the reporting currency, ``rate`` units of it per US$; ``margins`` (index
    market, ``margin``, ``lines``) fills blank margins (:func:`landed_cost_margins`); ``unit``
    is the plan's rounding unit. Returns the table (the :data:`BUSINESS_SCREENING` columns and
    the domain's, amounts in the reporting currency, proposals in whole units summing exactly
    to the allocated pool, and ``row``: the market's row in ``table``), the part of the pool
    not allocated (``pool`` minus the proposals, exactly) [reporting ccy] and error records on
    ``business_markets`` rows.
    """
    markets = table[table["market"] != ""].copy()
    from_lc = markets["margin"].isna() & markets["market"].isin(margins.index)
    markets.loc[from_lc, "margin"] = markets.loc[from_lc, "market"].map(margins["margin"])
    lc_lines = markets["market"].map(margins["lines"]).fillna(0).astype(int)
    source = np.where(
        from_lc,
        [f"落地成本 landed cost ({n})" for n in lc_lines],
        np.where(markets["margin"].notna(), "输入 entered", "缺失 missing"),
    )
    growth_source = _growth_source(markets["ecommerce_growth"], markets["market"])
    markets = with_macro_defaults(markets, reference.market_macro())
    screened, screen_errors = screen_markets(
        markets.reset_index(drop=True), incremental_pool_usd=pool / rate, settings=settings
    )
    screen_errors = relocate(screen_errors, markets.index, "business_markets")
    proposed, unallocated = allocate_pool(
        screened["proposed_target_usd"].to_numpy(dtype=float) * rate, pool, unit
    )
    status = screened["status"].map(lambda v: STATUS_TEXT[Status(v)])
    out = screened.assign(
        row=np.asarray(markets.index, dtype=np.int64),
        channel=markets["channel"].to_numpy(),
        margin_source=source,
        growth_source=growth_source,
        status=status.to_numpy(),
        keep_reason=np.where(screened["kept"], screened["keep_reason"].astype(object), ""),
        score=money.round_half_up(screened["score"], 1),
        opportunity_score=money.round_half_up(screened["opportunity_score"], 1),
        margin=money.round_half_up(screened["margin"].astype(float), 4),
        ecommerce_penetration=money.round_half_up(
            screened["ecommerce_penetration"].astype(float), 4
        ),
        ecommerce_growth=money.round_half_up(screened["ecommerce_growth"].astype(float), 4),
        target_share=money.round_half_up(screened["target_share"], 4),
        capacity=whole_units(screened["capacity_usd"] * rate),
        proposed_target=proposed,
    )
    out = out.sort_values(["rank", "market"], kind="stable").reset_index(drop=True)
    return out, unallocated, screen_errors


def _note(row: pd.Series, capped: bool) -> str:
    """The Map Proposals note of one market: its score and rank, and for a kept market the
    screens it fails and its owner's reason."""
    zh = f"得分 {row['score']:.1f}，排名 {row['rank']}{'，已达可争取上限' if capped else ''}"
    en = f"score {row['score']:.1f}, rank {row['rank']}{', capped at capacity' if capped else ''}"
    if row["status"] != KEPT_TEXT:
        return f"{zh} / {en}"
    return (
        f"{zh}；保留，未通过：{row['failed_zh']} / {en}; kept, fails: {row['failed_en']}"
        f" — {row['keep_reason']}"
    )


def run_business(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Screen, score and rank the candidate markets; propose an incremental target per market
    that passes or that its owner keeps."""
    raw = port.read_table("business_markets")
    if raw is None:
        return skip(
            Message(
                "候选市场表（tblBusinessMarkets）", "Candidate markets table (tblBusinessMarkets)"
            )
        )
    table, input_errors = coerce_table(raw, schema_maps.BUSINESS_MARKETS)
    settings, values, setting_errors = read_settings_model(
        port, "business_settings", BusinessSettings
    )
    pool, pool_errors = incremental_pool(values, rows_of(port, "business_settings"))
    setting_errors = concat_errors([setting_errors, pool_errors])
    currency = ctx.settings.reporting_currency
    fx, _ = read_fx(port)
    rate = usd_rate(fx_or_shipped(fx), currency)
    out, unallocated, screen_errors = screening_table(
        table, settings, pool, rate, landed_cost_margins(port), ctx.settings.rounding_unit
    )
    port.write_table("business_screening", out[schema_maps.BUSINESS_SCREENING.keys])

    passes = out["status"] == PASS_TEXT
    kept = out["status"] == KEPT_TEXT
    chosen = out[(passes | kept) & (out["proposed_target"] > 0)]
    capped = chosen["proposed_target"] >= chosen["capacity"]
    notes = [_note(row, c) for (_, row), c in zip(chosen.iterrows(), capped, strict=True)]
    proposals = proposal_rows(
        "business",
        {
            "market": chosen["market"].tolist(),
            "channel": chosen["channel"].tolist(),
            "amount": chosen["proposed_target"].tolist(),
            "note": notes,
        },
        len(chosen),
    )
    replace_proposals(port, "business", proposals)
    total = float(chosen["proposed_target"].sum())
    passing = ", ".join(out.loc[passes, "market"]) or "-"
    keeping = ", ".join(out.loc[kept, "market"]) or "-"
    summary = [
        Message(
            f"业务地图: {int(passes.sum())}/{len(out)} 个市场通过（{passing}），"
            f"保留 {int(kept.sum())} 个（{keeping}）；建议增量目标 {total:,.0f} {currency}，"
            f"未分配 {unallocated:,.0f}",
            f"business map: {int(passes.sum())} of {len(out)} markets pass ({passing}), "
            f"{int(kept.sum())} kept ({keeping}); proposed {total:,.0f} {currency}, "
            f"unallocated {unallocated:,.0f}",
        )
    ]
    errors = concat_errors([input_errors, setting_errors, screen_errors])
    return ActionResult(errors, summary)
