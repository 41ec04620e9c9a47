"""Business map (业务地图): screen candidate markets, score growth and opportunity, rank, propose
incremental targets; a market owner may keep a market that fails a screen, with a reason.

Input table ``markets`` (one row per candidate market), units in brackets:

``market``                   ISO 3166-1 alpha-2 code
``gdp_per_capita_usd``       [US$/person/year]
``ecommerce_penetration``    online shoppers / population [fraction]
``ecommerce_market_usd_bn``  B2C e-commerce of goods [US$ bn/year]
``margin``                   margin after tax, platform fees and landed cost [fraction]
``payout_days``              payout cycle of the platform or payment provider [days]
``delivery_days``            delivery time to the buyer today [days]
``competition_score``        competition gap, 1 (crowded, price war) .. 5 (open: weak local supply,
                             rivals who ignore localisation)
``compliance_score``         how easy compliance is, 1 (hard: certification, EPR, licences) .. 5
``ecommerce_growth``         annual growth of the market's e-commerce [fraction/year]
``planned_delivery_days``    delivery time after a planned logistics fix, e.g. a local warehouse
                             [days]; blank = no fix planned
``keep``                     the market owner keeps the market although it fails a screen [bool]
``keep_reason``              why (required with ``keep``)

Higher is better for the seller in both 1-5 scores.

:func:`with_macro_defaults` fills GDP per capita, penetration, market size and e-commerce growth
from ``xlplan/reference/data/market_macro.csv``.

Screening: a market passes when every threshold holds (defaults DOMAIN.md section 2): GDP per
capita > 15,000, penetration > 30%, market > US$10bn, margin > 30%, payout <= 7 days. A missing
value fails its criterion (and is reported as an error record). Static screens miss the markets
the method expands into (DOMAIN.md section 1: Latin America is "chosen for growth even where
static screens fail"), so a market that fails can be *kept*: ``keep`` with a ``keep_reason``.
A kept market is scored, ranked and gets a share of the pool like a passing one; the result
still names the screens it failed. ``keep`` without a reason is an error on ``keep_reason`` and
the market is not kept.

Score [0, 100]: a weighted mean of per-component scores in [0, 1]:

- higher-is-better with threshold t (GDP per capita, penetration, margin): ``clip(x / 2t)``, so
  the threshold scores 0.5 and twice the threshold scores 1;
- market size, on a log scale because markets span three orders of magnitude:
  ``clip(0.5 + log10(x / t) / 2)``, so t scores 0.5, 10t scores 1, t/10 scores 0;
- payout days (threshold t): ``clip(1 - x / 2t)``: 0 days 1, t days 0.5, 2t days 0;
- delivery days today (reference r, default 10): ``clip(1 - x / 2r)``;
- compliance (1-5): ``(x - 1) / 4``;
- growth and opportunity:
  - e-commerce growth (reference g, default 10%/yr): ``clip(x / 2g)``: 10% scores 0.5, 20% or
    more 1, shrinking markets 0;
  - competition gap (1-5): ``(x - 1) / 4``;
  - logistics fix: the share of delivery time a planned fix cuts, ``clip((now - planned) /
    now)``: 15-20 days cut to 3-5 scores about 0.77; no fix planned scores 0.

Missing values score 0. Weights are normalised to sum to 1. ``opportunity_score`` [0, 100] is
the weighted mean of the three growth-and-opportunity components alone (their share of the
weights shows how far the score looks past static screens).

Rank: passing and kept markets first, by score descending; then failing markets by score (1 =
best; ties share the lower rank).

Proposed incremental target [US$/year]: the incremental pool (the growth the company asks new
markets to deliver) is shared among the passing and kept markets in proportion to their score,
and each share is capped at ``max_market_share`` x the market's e-commerce size (what a seller
can plausibly win). Capped-off amounts are not redistributed: ``unallocated`` in
:func:`screen_markets` output's attrs tells how much of the pool the markets cannot absorb.
Amounts are not rounded here; the action rounds them to the plan's rounding unit so that they
add up to the allocated pool exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from xlplan.core.errors import Message, concat_errors, errors_where


class Criterion(str, Enum):
    """The screening criteria with thresholds."""

    GDP_PER_CAPITA = "gdp_per_capita_usd"
    PENETRATION = "ecommerce_penetration"
    MARKET_SIZE = "ecommerce_market_usd_bn"
    MARGIN = "margin"
    PAYOUT = "payout_days"


CRITERION_LABELS: dict[Criterion, tuple[Message, Message]] = {
    # the criterion's name, and the text of a market that fails it
    Criterion.GDP_PER_CAPITA: (
        Message("人均GDP", "GDP per capita"),
        Message("人均GDP不足", "GDP per capita too low"),
    ),
    Criterion.PENETRATION: (
        Message("电商渗透率", "e-commerce penetration"),
        Message("电商渗透率不足", "e-commerce penetration too low"),
    ),
    Criterion.MARKET_SIZE: (
        Message("电商市场规模", "e-commerce market size"),
        Message("电商市场规模不足", "e-commerce market too small"),
    ),
    Criterion.MARGIN: (Message("毛利率", "margin"), Message("毛利率不足", "margin too low")),
    Criterion.PAYOUT: (
        Message("回款周期", "payout cycle"),
        Message("回款周期过长", "payout cycle too long"),
    ),
}

MARKET_INPUT_COLUMNS = [
    "market",
    "gdp_per_capita_usd",
    "ecommerce_penetration",
    "ecommerce_market_usd_bn",
    "margin",
    "payout_days",
    "delivery_days",
    "competition_score",
    "compliance_score",
    "ecommerce_growth",
    "planned_delivery_days",
]
KEEP_COLUMNS = ["keep", "keep_reason"]
"""The market owner's decision to keep a market that fails a screen, and why."""


class Status(str, Enum):
    """What the screening decided for a market."""

    PASS = "pass"  # every screen holds
    KEPT = "kept"  # fails a screen, kept by the market owner with a reason
    FAIL = "fail"


class Component(str, Enum):
    """The parts of the score; each is a weight in :class:`ScoreWeights`."""

    GDP_PER_CAPITA = "gdp_per_capita"
    PENETRATION = "penetration"
    MARKET_SIZE = "market_size"
    MARGIN = "margin"
    PAYOUT = "payout"
    DELIVERY = "delivery"
    COMPLIANCE = "compliance"
    GROWTH = "growth"
    COMPETITION = "competition"
    LOGISTICS_FIX = "logistics_fix"


OPPORTUNITY = (Component.GROWTH, Component.COMPETITION, Component.LOGISTICS_FIX)
"""The growth-and-opportunity components (``opportunity_score``)."""


class ScreeningThresholds(BaseModel):
    """Pass marks (DOMAIN.md section 2 defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gdp_per_capita_usd: float = Field(default=15_000.0, gt=0, description="[US$], must be exceeded")
    ecommerce_penetration: float = Field(
        default=0.30, gt=0, description="[fraction], must be exceeded"
    )
    ecommerce_market_usd_bn: float = Field(
        default=10.0, gt=0, description="[US$ bn], must be exceeded"
    )
    margin: float = Field(default=0.30, gt=0, description="[fraction], must be exceeded")
    payout_days: float = Field(default=7.0, gt=0, description="[days], at most")


class ScoreWeights(BaseModel):
    """Relative weights of the score components (normalised to sum 1).

    The defaults give growth and opportunity (growth, competition gap, logistics fix) 40% of
    the score, static attractiveness (size, margin, wealth, penetration, payout, delivery,
    compliance) 60%."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gdp_per_capita: float = Field(default=0.05, ge=0)
    penetration: float = Field(default=0.05, ge=0)
    market_size: float = Field(default=0.15, ge=0)
    margin: float = Field(default=0.20, ge=0)
    payout: float = Field(default=0.05, ge=0)
    delivery: float = Field(default=0.05, ge=0)
    compliance: float = Field(default=0.05, ge=0)
    growth: float = Field(default=0.20, ge=0)
    competition: float = Field(default=0.10, ge=0)
    logistics_fix: float = Field(default=0.10, ge=0)

    def of(self, components: Sequence[Component]) -> np.ndarray:
        """The weights of ``components``, in that order."""
        return np.array([getattr(self, c.value) for c in components], dtype=float)


class BusinessSettings(BaseModel):
    """All business-map settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    thresholds: ScreeningThresholds = ScreeningThresholds()
    weights: ScoreWeights = ScoreWeights()
    delivery_days_reference: float = Field(default=10.0, gt=0, description="[days] scores 0.5")
    growth_reference: float = Field(
        default=0.10, gt=0, description="[fraction/year] e-commerce growth that scores 0.5"
    )
    max_market_share: float = Field(
        default=0.01, gt=0, le=1, description="[fraction] of a market's e-commerce a seller can win"
    )


SCREENING_COLUMNS = [
    *MARKET_INPUT_COLUMNS,
    *KEEP_COLUMNS,
    "passes",
    "kept",
    "status",
    "failed_zh",
    "failed_en",
    "score",
    "opportunity_score",
    "rank",
    "target_share",
    "capacity_usd",
    "proposed_target_usd",
]


def _clip01(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0)
    return out


def _numbers(markets: pd.DataFrame, name: str) -> np.ndarray:
    if name not in markets.columns:
        return np.full(len(markets), np.nan)
    return pd.to_numeric(markets[name], errors="coerce").to_numpy(dtype=float)


def criterion_scores(
    markets: pd.DataFrame, settings: BusinessSettings | None = None
) -> pd.DataFrame:
    """Per-component scores in [0, 1] (rules in the module docstring), one row per market.

    Columns ``s_<component>`` in :class:`Component` order (``s_gdp_per_capita`` ...
    ``s_logistics_fix``). Index kept.
    """
    s = settings or BusinessSettings()
    t = s.thresholds

    def col(name: str) -> np.ndarray:
        return _numbers(markets, name)

    size = col("ecommerce_market_usd_bn")
    now, planned = col("delivery_days"), col("planned_delivery_days")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_size = np.where(size > 0, 0.5 + np.log10(size / t.ecommerce_market_usd_bn) / 2, 0.0)
        cut = np.where(now > 0, (now - planned) / now, 0.0)
    parts = {
        Component.GDP_PER_CAPITA: col("gdp_per_capita_usd") / (2 * t.gdp_per_capita_usd),
        Component.PENETRATION: col("ecommerce_penetration") / (2 * t.ecommerce_penetration),
        Component.MARKET_SIZE: log_size,
        Component.MARGIN: col("margin") / (2 * t.margin),
        Component.PAYOUT: 1 - col("payout_days") / (2 * t.payout_days),
        Component.DELIVERY: 1 - now / (2 * s.delivery_days_reference),
        Component.COMPLIANCE: (col("compliance_score") - 1) / 4,
        Component.GROWTH: col("ecommerce_growth") / (2 * s.growth_reference),
        Component.COMPETITION: (col("competition_score") - 1) / 4,
        Component.LOGISTICS_FIX: cut,
    }
    return pd.DataFrame({f"s_{c.value}": _clip01(parts[c]) for c in Component}, index=markets.index)


def _weighted(
    parts: pd.DataFrame, weights: np.ndarray, components: Sequence[Component]
) -> np.ndarray:
    """100 x the weighted mean of the ``components`` columns of ``parts`` (0 when no weight)."""
    total = weights.sum()
    if total <= 0:
        return np.zeros(len(parts))
    block = parts[[f"s_{c.value}" for c in components]].to_numpy()
    out: np.ndarray = block @ (weights / total) * 100
    return out


def _keep_flags(out: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``keep`` as bool (blank and false are False) and whether a reason is written."""
    keep = pd.to_numeric(out["keep"], errors="coerce").fillna(0.0).to_numpy(dtype=float) > 0
    reason = out["keep_reason"].astype("string").fillna("").str.strip()
    return keep, (reason != "").to_numpy(dtype=bool)


def screen_markets(
    markets: pd.DataFrame,
    *,
    incremental_pool_usd: float,
    settings: BusinessSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Screen, score and rank the markets, keep the ones their owner keeps, propose a target.

    Returns the table (:data:`SCREENING_COLUMNS`, index kept) and error records (table
    ``business_map``) for missing or invalid inputs. ``passes`` [bool]: every screen holds;
    ``kept`` [bool]: fails a screen and is kept with a reason; ``status`` (:class:`Status`
    value); ``failed_zh`` / ``failed_en`` name the failing screens (``""`` when it passes; kept
    markets keep theirs); ``score`` and ``opportunity_score`` [0-100]; ``rank`` [1 = best];
    ``target_share`` [fraction of the pool]; ``capacity_usd`` = ``max_market_share`` x market
    size [US$]; ``proposed_target_usd`` = min(pool x share, capacity) [US$/year], 0 for failing
    markets. ``attrs["unallocated_usd"]`` is the part of the pool the capped markets cannot take.
    """
    s = settings or BusinessSettings()
    t = s.thresholds
    out = markets.copy()
    for c in MARKET_INPUT_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    if "keep" not in out.columns:
        out["keep"] = False
    if "keep_reason" not in out.columns:
        out["keep_reason"] = ""
    num = {c: _numbers(out, c) for c in MARKET_INPUT_COLUMNS[1:]}
    checks = {
        Criterion.GDP_PER_CAPITA: num["gdp_per_capita_usd"] > t.gdp_per_capita_usd,
        Criterion.PENETRATION: num["ecommerce_penetration"] > t.ecommerce_penetration,
        Criterion.MARKET_SIZE: num["ecommerce_market_usd_bn"] > t.ecommerce_market_usd_bn,
        Criterion.MARGIN: num["margin"] > t.margin,
        Criterion.PAYOUT: num["payout_days"] <= t.payout_days,
    }
    n = len(out)
    passes = np.ones(n, dtype=bool)
    failed_zh = pd.Series([""] * n, dtype=object)
    failed_en = pd.Series([""] * n, dtype=object)
    for crit, ok in checks.items():
        passes &= ok
        zh, en = CRITERION_LABELS[crit][1].zh, CRITERION_LABELS[crit][1].en
        sep_zh = np.where(failed_zh == "", "", "; ")
        sep_en = np.where(failed_en == "", "", "; ")
        failed_zh = failed_zh.where(ok, failed_zh + sep_zh + zh)
        failed_en = failed_en.where(ok, failed_en + sep_en + en)
    keep, has_reason = _keep_flags(out)
    kept = ~passes & keep & has_reason
    eligible = passes | kept
    errors = [
        errors_where(
            np.isnan(num[c.value]),
            table="business_map",
            column=c.value,
            zh=f"缺少{CRITERION_LABELS[c][0].zh}, 按未通过处理",
            en=f"{CRITERION_LABELS[c][0].en} is missing and counts as failed",
        )
        for c in Criterion
    ]
    errors.append(
        errors_where(
            out["market"].astype("string").fillna("").str.strip().eq("").to_numpy(),
            table="business_map",
            column="market",
            zh="市场代码为空",
            en="the market code is blank",
        )
    )
    errors.append(
        errors_where(
            keep & ~has_reason,
            table="business_map",
            column="keep_reason",
            zh="已勾选保留但未写保留原因：该市场按未保留处理",
            en="keep is set but no reason is given: the market is not kept",
        )
    )
    parts = criterion_scores(out, s)
    components = list(Component)
    score = _weighted(parts, s.weights.of(components), components)
    opportunity = _weighted(parts, s.weights.of(OPPORTUNITY), list(OPPORTUNITY))
    # score is within [0, 100], so other markets (+1000) always sort after eligible ones
    order_key = pd.Series((~eligible) * 1000.0 + (100.0 - score), index=out.index)
    rank = order_key.rank(method="min").astype("int64")
    eligible_score = np.where(eligible, score, 0.0)
    total = eligible_score.sum()
    share = eligible_score / total if total > 0 else np.zeros(n)
    capacity = np.nan_to_num(num["ecommerce_market_usd_bn"], nan=0.0) * 1e9 * s.max_market_share
    target = np.minimum(incremental_pool_usd * share, capacity)
    out["keep"] = keep
    out["passes"] = passes
    out["kept"] = kept
    out["status"] = np.where(
        passes, Status.PASS.value, np.where(kept, Status.KEPT.value, Status.FAIL.value)
    )
    out["failed_zh"] = failed_zh.to_numpy()
    out["failed_en"] = failed_en.to_numpy()
    out["score"] = score
    out["opportunity_score"] = opportunity
    out["rank"] = rank.to_numpy()
    out["target_share"] = share
    out["capacity_usd"] = capacity
    out["proposed_target_usd"] = target
    out = out[SCREENING_COLUMNS]
    out.attrs["unallocated_usd"] = (
        float(incremental_pool_usd - target.sum()) if total > 0 else float(incremental_pool_usd)
    )
    return out, concat_errors(errors)


MACRO_DEFAULT_COLUMNS = [
    "gdp_per_capita_usd",
    "ecommerce_penetration",
    "ecommerce_market_usd_bn",
    "ecommerce_growth",
]


def with_macro_defaults(markets: pd.DataFrame, macro: pd.DataFrame) -> pd.DataFrame:
    """Fill blank GDP per capita, penetration, market size and e-commerce growth from ``macro``
    (the shipped ``market_macro.csv`` or the workbook's copy), matched on ``market``. Values the
    user typed win. Index kept."""
    out = markets.copy()
    ref = (
        macro.assign(market=macro["market"].astype(str).str.upper())
        .drop_duplicates("market", keep="last")
        .set_index("market")
    )
    key = out["market"].astype(str).str.strip().str.upper()
    for c in MACRO_DEFAULT_COLUMNS:
        fill = key.map(pd.to_numeric(ref[c], errors="coerce")) if c in ref.columns else np.nan
        if c in out.columns:
            own = pd.to_numeric(out[c], errors="coerce")
            out[c] = own.where(own.notna(), fill)
        else:
            out[c] = fill
    return out
