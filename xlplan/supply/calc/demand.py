"""From revenue targets to units: the Monthly Plan spread over SKUs by their mix and prices.

A target (a row of the Monthly Plan: market, channel, product line, twelve amounts in the
reporting currency) reaches every SKU whose market, channel and product line it names; a blank
dimension reaches all, and a region code (``LATAM``) reaches its markets. Within a target the
SKUs share its units by their ``share`` [fraction] (a weight, normalised over the SKUs the
target reaches; blank = 1). With ``share`` s and price p [reporting ccy/unit], a target of
revenue R in a month sells ``U = R / sum(s_i p_i)`` units in all, ``U s_i`` of SKU i, so the
SKUs' revenues add up to R.

A SKU sells nothing before its market's launch month: in those months the target's units go to
the SKUs it reaches that are live; revenue no live SKU can carry is reported, not stocked. The
whole spread is two matrix products over targets x SKUs; no loop runs per SKU.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.core.errors import errors_where

MONTHS: tuple[str, ...] = tuple(f"m{m:02d}" for m in range(1, 13))
"""Monthly Plan amount columns, January first [reporting ccy]."""

PLAN_KEYS: tuple[str, ...] = ("market", "channel", "category", *MONTHS)
"""What the spread reads of a target: its dimensions and twelve amounts."""

SKU_KEYS: tuple[str, ...] = ("sku", "category", "market", "channel", "price", "share")
"""A SKU row: ``price`` [market ccy/unit], ``share`` [fraction, weight] of a target's units."""

FloatArray = npt.NDArray[np.float64]


class Demand(NamedTuple):
    """Units and revenue per SKU row and month, and what no SKU carries.

    ``units`` S x 12 [units, whole]; ``revenue`` S x 12 [reporting ccy] (units x price);
    ``unplaced`` B x 12 [reporting ccy]: each target's revenue no live SKU reaches;
    ``errors`` records on the targets with unplaced revenue (table ``monthly_plan``).
    """

    units: FloatArray
    revenue: FloatArray
    unplaced: FloatArray
    errors: pd.DataFrame


def _codes(left: pd.Series, right: pd.Series) -> tuple[npt.NDArray[np.int64], ...]:
    """Integer codes of two text columns over one shared vocabulary (case- and space-blind)."""
    both = pd.concat([left, right], ignore_index=True).fillna("").astype(str)
    codes, _ = pd.factorize(both.str.strip().str.casefold())
    return codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64)


def _blank(values: pd.Series) -> npt.NDArray[np.bool_]:
    return values.fillna("").astype(str).str.strip().eq("").to_numpy(dtype=bool)


def reach(plan: pd.DataFrame, skus: pd.DataFrame, regions: pd.Series) -> FloatArray:
    """Targets x SKUs: 1.0 where a target reaches a SKU (its market, region or all; its channel
    or all; its product line or all), else 0.0."""
    region_of = skus["market"].map(regions).fillna("")
    b_market, s_market = _codes(plan["market"], skus["market"])
    b_region, s_region = _codes(plan["market"], region_of)
    market_ok = (
        _blank(plan["market"])[:, None]
        | (b_market[:, None] == s_market[None, :])
        | (b_region[:, None] == s_region[None, :])
    )
    ok = market_ok
    for key in ("channel", "category"):
        b, s = _codes(plan[key], skus[key])
        ok = ok & (_blank(plan[key])[:, None] | (b[:, None] == s[None, :]))
    matrix: FloatArray = np.asarray(ok, dtype=float)
    return matrix


def live_months(markets: pd.Series, launches: dict[str, int]) -> FloatArray:
    """SKUs x 12: 1.0 in the months a SKU's market sells (from its launch month, 1-12; a
    market without a launch sells all year)."""
    first = markets.fillna("").astype(str).str.upper().map(launches).fillna(1).to_numpy(float)
    return (np.arange(1, 13)[None, :] >= first[:, None]).astype(float)


def spread_units(
    plan: pd.DataFrame,
    skus: pd.DataFrame,
    price: FloatArray,
    regions: pd.Series,
    launches: dict[str, int] | None = None,
    *,
    table: str = "monthly_plan",
) -> Demand:
    """Units of every SKU in every month of the plan year (see the module docstring).

    ``plan`` holds :data:`PLAN_KEYS` (amounts float, NaN = 0); ``skus`` holds the SKU rows
    (``share`` NaN = 1); ``price`` [reporting ccy/unit] per SKU row (rows with no usable price
    carry nothing); ``regions`` maps market -> region; ``launches`` market -> first month sold.
    Units are rounded half up to whole units per SKU and month.
    """
    amounts = np.nan_to_num(plan[list(MONTHS)].to_numpy(dtype=float))
    share = skus["share"].to_numpy(dtype=float)
    usable = np.isfinite(price) & (price > 0)
    weight = np.where(np.isnan(share), 1.0, share) * usable
    live = live_months(skus["market"], launches or {})
    matrix = reach(plan, skus, regions) * weight[None, :]
    value = matrix @ (np.where(usable, price, 0.0)[:, None] * live)  # B x 12
    per_unit = np.divide(amounts, value, out=np.zeros_like(amounts), where=value > 0)
    units = np.floor(live * (matrix.T @ per_unit) + 0.5)
    revenue = units * np.where(usable, price, 0.0)[:, None]
    unplaced = np.where(value > 0, 0.0, np.maximum(amounts, 0.0))
    lost = unplaced.sum(axis=1)
    dims = [plan[k].fillna("").astype(str).str.strip() for k in ("market", "channel", "category")]
    label = [" / ".join(v for v in row if v) or "*" for row in zip(*dims, strict=True)]
    errors = errors_where(
        lost > 0.5,
        table=table,
        column="",
        zh=lambda idx: [
            f"目标 {label[i]} 有 {lost[i]:,.0f} 的收入找不到在售的 SKU（未备货）：请在"
            "“备货参数”的 SKU 表补上该产品线或市场"
            for i in idx
        ],
        en=lambda idx: [
            f"target {label[i]}: {lost[i]:,.0f} of revenue reaches no SKU on sale (not "
            "stocked); add its product line or market to the SKU table on Supply"
            for i in idx
        ],
    )
    return Demand(units, revenue, unplaced, errors)
