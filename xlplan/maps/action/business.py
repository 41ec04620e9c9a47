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
from xlplan.maps import tables as schema_maps
from xlplan.maps.action.common import (
    DEFAULT_INCREMENTAL_POOL,
    FAIL_TEXT,
    LANDED_COST_RESULTS,
    PASS_TEXT,
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
    """Business settings ``incremental_pool`` [reporting ccy/year]; the default (and an error
    record on its row) when it is negative."""
    pool = values.get("incremental_pool", DEFAULT_INCREMENTAL_POOL)
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


def screening_table(
    table: pd.DataFrame,
    settings: BusinessSettings,
    pool: float,
    rate: float,
    margins: pd.DataFrame,
) -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """The Market Screening table from the typed candidate markets, sorted by rank.

    ``pool`` is in the reporting currency, ``rate`` units of it per US$; ``margins`` (index
    market, ``margin``, ``lines``) fills blank margins (:func:`landed_cost_margins`). Returns
    the table (the :data:`BUSINESS_SCREENING` columns and the domain's, amounts in the
    reporting currency, and ``row``: the market's row in ``table``), the part of the pool the
    markets cannot absorb [reporting ccy] and error records on ``business_markets`` rows.
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
    markets = with_macro_defaults(markets, reference.market_macro())
    screened, screen_errors = screen_markets(
        markets.reset_index(drop=True), incremental_pool_usd=pool / rate, settings=settings
    )
    screen_errors = relocate(screen_errors, markets.index, "business_markets")

    out = screened.assign(
        row=np.asarray(markets.index, dtype=np.int64),
        channel=markets["channel"].to_numpy(),
        margin_source=source,
        passes=np.where(screened["passes"], PASS_TEXT, FAIL_TEXT),
        score=money.round_half_up(screened["score"], 1),
        margin=money.round_half_up(screened["margin"].astype(float), 4),
        ecommerce_penetration=money.round_half_up(
            screened["ecommerce_penetration"].astype(float), 4
        ),
        target_share=money.round_half_up(screened["target_share"], 4),
        capacity=whole_units(screened["capacity_usd"] * rate),
        proposed_target=whole_units(screened["proposed_target_usd"] * rate),
    )
    out = out.sort_values(["rank", "market"], kind="stable").reset_index(drop=True)
    unallocated = float(screened.attrs.get("unallocated_usd", 0.0)) * rate
    return out, unallocated, screen_errors


def run_business(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Screen, score and rank the candidate markets; propose an incremental target per market."""
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
        table, settings, pool, rate, landed_cost_margins(port)
    )
    port.write_table("business_screening", out[schema_maps.BUSINESS_SCREENING.keys])

    passes = out["passes"] == PASS_TEXT
    chosen = out[passes & (out["proposed_target"] > 0)]
    capped = chosen["proposed_target"] >= chosen["capacity"]
    notes = [
        f"得分 {s:.1f}，排名 {r}{'，已达可争取上限' if c else ''} / score {s:.1f}, rank {r}"
        f"{', capped at capacity' if c else ''}"
        for s, r, c in zip(chosen["score"], chosen["rank"], capped, strict=True)
    ]
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
    passing = ", ".join(chosen["market"]) or "-"
    summary = [
        Message(
            f"业务地图: {int(passes.sum())}/{len(out)} 个市场通过（{passing}），"
            f"建议增量目标 {total:,.0f} {currency}，未分配 {unallocated:,.0f}",
            f"business map: {int(passes.sum())} of {len(out)} markets pass ({passing}), "
            f"proposed {total:,.0f} {currency}, unallocated {unallocated:,.0f}",
        )
    ]
    errors = concat_errors([input_errors, setting_errors, screen_errors])
    return ActionResult(errors, summary)
