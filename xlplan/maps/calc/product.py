"""Product map (产品地图): lifecycle stage, portfolio quadrant, ROI and a proposed target per line.

Pure functions over two tables:

``sales`` (monthly series, long format), one row per product line (or SKU) and month:
    ``line`` [str]; ``month`` [any date in the month, or ``YYYY-MM`` text]; ``units`` [units];
    ``revenue`` [currency]. Missing months count as zero sales.

``economics``, one row per line:
    ``line``; ``gross_margin`` [fraction of revenue, after platform fees and commissions];
    ``promotion_cost`` [currency/year]; ``inventory_days`` [days of cover].

Lifecycle rules (thresholds in :class:`LifecycleSettings`)
----------------------------------------------------------
``months_on_sale`` counts calendar months from the line's first month with units > 0 to
``as_of_month``. ``growth`` [fraction] compares units in the last ``window_months`` with the
same months a year earlier when the line has at least ``12 + window_months`` months on sale
(seasonality cancels), otherwise with the ``window_months`` just before; NaN when the earlier
period had no units (then growth is treated as +infinity if the recent period sold). Stage,
first rule that applies:

1. introduction: ``months_on_sale <= intro_months`` (default 6)
2. growth: ``growth >= growth_threshold`` (default +10%)
3. decline: ``growth <= decline_threshold`` (default -10%)
4. maturity: otherwise

Quadrant (thresholds in :class:`QuadrantSettings`)
--------------------------------------------------
From margin and growth, as DOMAIN.md section 1 uses the words: star = high margin and high
growth; question mark = high growth, low margin; cash cow = low growth with high margin *or*
steady volume (a share of units >= ``cash_cow_volume_share``; the T-shirts of the apparel
example are a cash cow at 8% margin because they carry 70% of volume); dog = the rest.
"High margin" is ``gross_margin >= margin_threshold`` (default 30%, the market-screening
benchmark of DOMAIN.md section 2); "high growth" is ``growth >= growth_threshold``.

ROI
---
``gross_profit`` = revenue x gross_margin; ``inventory_investment`` = revenue x
(1 - gross_margin) x inventory_days / 365 (average stock at cost); ``roi`` = (gross_profit -
promotion_cost) / (promotion_cost + inventory_investment); ``inventory_turnover`` = 365 /
inventory_days [per year]. Revenue is the trailing twelve months to ``as_of_month``.

Proposed target
---------------
``annual_revenue`` = trailing-twelve-month revenue, annualised for lines on sale fewer than 12
months (revenue / months_on_sale x 12); ``proposed_target`` = annual_revenue x (1 +
``stage_uplift[stage]``) [currency]. Default uplifts: introduction +50%, growth +30%,
maturity +5%, decline -20% (assumptions to edit).
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from xlplan.core.errors import Message, concat_errors, errors_where


class Stage(str, Enum):
    """Product lifecycle stage."""

    INTRODUCTION = "introduction"
    GROWTH = "growth"
    MATURITY = "maturity"
    DECLINE = "decline"


class Quadrant(str, Enum):
    """Portfolio quadrant from margin and growth."""

    STAR = "star"
    CASH_COW = "cash_cow"
    QUESTION_MARK = "question_mark"
    DOG = "dog"


STAGE_LABELS: dict[Stage, Message] = {
    Stage.INTRODUCTION: Message("导入期", "Introduction"),
    Stage.GROWTH: Message("成长期", "Growth"),
    Stage.MATURITY: Message("成熟期", "Maturity"),
    Stage.DECLINE: Message("衰退期", "Decline"),
}
QUADRANT_LABELS: dict[Quadrant, Message] = {
    Quadrant.STAR: Message("明星产品", "Star"),
    Quadrant.CASH_COW: Message("现金牛", "Cash cow"),
    Quadrant.QUESTION_MARK: Message("问题产品", "Question mark"),
    Quadrant.DOG: Message("瘦狗产品", "Dog"),
}


class LifecycleSettings(BaseModel):
    """Editable lifecycle thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intro_months: int = Field(
        default=6, ge=0, description="[months] on sale still counted as introduction"
    )
    window_months: int = Field(default=3, ge=1, le=12, description="[months] compared for growth")
    growth_threshold: float = Field(
        default=0.10, description="[fraction] growth at or above = growth"
    )
    decline_threshold: float = Field(
        default=-0.10, description="[fraction] growth at or below = decline"
    )


class QuadrantSettings(BaseModel):
    """Editable quadrant thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    margin_threshold: float = Field(
        default=0.30, description="[fraction] gross margin counted as high"
    )
    growth_threshold: float = Field(default=0.10, description="[fraction] growth counted as high")
    cash_cow_volume_share: float = Field(
        default=0.25, ge=0, le=1, description="[fraction of units] steady volume for a cash cow"
    )


def _default_uplift() -> dict[Stage, float]:
    return {
        Stage.INTRODUCTION: 0.50,
        Stage.GROWTH: 0.30,
        Stage.MATURITY: 0.05,
        Stage.DECLINE: -0.20,
    }


class ProductSettings(BaseModel):
    """All product-map settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lifecycle: LifecycleSettings = LifecycleSettings()
    quadrant: QuadrantSettings = QuadrantSettings()
    stage_uplift: dict[Stage, float] = Field(default_factory=_default_uplift)


def monthly_matrix(
    sales: pd.DataFrame, as_of_month: str | pd.Period, value: str = "units"
) -> pd.DataFrame:
    """``value`` as a line x month matrix, from the first month in ``sales`` to ``as_of_month``,
    missing months 0. Months after ``as_of_month`` are dropped."""
    end = pd.Period(as_of_month, freq="M")
    months = pd.PeriodIndex(pd.to_datetime(sales["month"].astype(str)), freq="M")
    frame = pd.DataFrame(
        {
            "line": sales["line"].astype(str).to_numpy(),
            "month": months,
            "v": pd.to_numeric(sales[value], errors="coerce").fillna(0.0).to_numpy(),
        }
    )
    frame = frame[frame["month"] <= end]
    start = frame["month"].min() if len(frame) else end
    cols = pd.period_range(start, end, freq="M")
    wide = frame.pivot_table(index="line", columns="month", values="v", aggfunc="sum")
    return wide.reindex(columns=cols).astype(float).fillna(0.0)


def classify_lifecycle(
    sales: pd.DataFrame, *, as_of_month: str | pd.Period, settings: LifecycleSettings | None = None
) -> pd.DataFrame:
    """Lifecycle stage per line (rules in the module docstring).

    Output columns: ``line``; ``months_on_sale`` [months]; ``units_recent`` [units] in the last
    ``window_months``; ``units_base`` [units] in the comparison period; ``growth`` [fraction,
    NaN when the base is 0]; ``stage`` (a :class:`Stage` value). One row per line, sorted by
    line.
    """
    s = settings or LifecycleSettings()
    m = monthly_matrix(sales, as_of_month, "units")
    arr = m.to_numpy(dtype=float)
    n_lines, n_months = arr.shape
    w = s.window_months
    sold = arr > 0
    first = np.where(sold.any(axis=1), sold.argmax(axis=1), n_months)
    months_on_sale = n_months - first
    csum = np.concatenate([np.zeros((n_lines, 1)), arr.cumsum(axis=1)], axis=1)

    def window_sum(end_excl: int) -> np.ndarray:
        e = max(0, min(end_excl, n_months))
        b = max(0, e - w)
        out: np.ndarray = csum[:, e] - csum[:, b]
        return out

    recent = window_sum(n_months)
    prior = window_sum(n_months - w)
    yoy = window_sum(n_months - 12)
    base = np.where(months_on_sale >= 12 + w, yoy, prior)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(base > 0, recent / base - 1.0, np.nan)
    eff = np.where(np.isnan(growth), np.where(recent > 0, np.inf, 0.0), growth)
    stage = np.select(
        [months_on_sale <= s.intro_months, eff >= s.growth_threshold, eff <= s.decline_threshold],
        [Stage.INTRODUCTION.value, Stage.GROWTH.value, Stage.DECLINE.value],
        default=Stage.MATURITY.value,
    )
    return pd.DataFrame(
        {
            "line": m.index.astype(str).to_numpy(),
            "months_on_sale": months_on_sale.astype("int64"),
            "units_recent": recent,
            "units_base": base,
            "growth": growth,
            "stage": stage.astype(object),
        }
    )


def classify_quadrant(
    gross_margin: pd.Series | np.ndarray,
    growth: pd.Series | np.ndarray,
    volume_share: pd.Series | np.ndarray,
    settings: QuadrantSettings | None = None,
) -> np.ndarray:
    """:class:`Quadrant` values from margin [fraction], growth [fraction] and share of units
    [fraction]. NaN growth (no base period) counts as high growth; NaN margin as low."""
    s = settings or QuadrantSettings()
    m = np.asarray(gross_margin, dtype=float)
    g = np.asarray(growth, dtype=float)
    v = np.asarray(volume_share, dtype=float)
    high_m = np.nan_to_num(m, nan=-np.inf) >= s.margin_threshold
    high_g = np.nan_to_num(g, nan=np.inf) >= s.growth_threshold
    steady = np.nan_to_num(v, nan=0.0) >= s.cash_cow_volume_share
    out = np.select(
        [high_g & high_m, high_g, high_m | steady],
        [Quadrant.STAR.value, Quadrant.QUESTION_MARK.value, Quadrant.CASH_COW.value],
        default=Quadrant.DOG.value,
    )
    return out.astype(object)


def product_roi(
    revenue: pd.Series | np.ndarray,
    gross_margin: pd.Series | np.ndarray,
    promotion_cost: pd.Series | np.ndarray,
    inventory_days: pd.Series | np.ndarray,
) -> pd.DataFrame:
    """ROI figures (formulas in the module docstring), one row per input row.

    Columns: ``gross_profit`` [currency], ``inventory_investment`` [currency], ``roi``
    [fraction, NaN when the investment is 0], ``inventory_turnover`` [per year, NaN when
    inventory_days is 0]. NaN in gives NaN out.
    """
    rev = np.asarray(revenue, dtype=float)
    gm = np.asarray(gross_margin, dtype=float)
    promo = np.asarray(promotion_cost, dtype=float)
    days = np.asarray(inventory_days, dtype=float)
    gp = rev * gm
    inv = rev * (1.0 - gm) * days / 365.0
    denom = promo + inv
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(denom > 0, (gp - promo) / np.where(denom > 0, denom, 1.0), np.nan)
        turnover = np.where(days > 0, 365.0 / np.where(days > 0, days, 1.0), np.nan)
    roi = np.where(np.isnan(denom), np.nan, roi)
    return pd.DataFrame(
        {
            "gross_profit": gp,
            "inventory_investment": inv,
            "roi": roi,
            "inventory_turnover": turnover,
        }
    )


def portfolio_margin(
    revenue: pd.Series | np.ndarray, gross_margin: pd.Series | np.ndarray
) -> float:
    """Overall margin of a mix [fraction]: gross profit / revenue, i.e. margins weighted by
    revenue (not by units). NaN when revenue sums to 0."""
    rev = np.asarray(revenue, dtype=float)
    gm = np.asarray(gross_margin, dtype=float)
    total = rev.sum()
    return float((rev * gm).sum() / total) if total else float("nan")


def target_mix(units: np.ndarray, target_share: np.ndarray) -> np.ndarray:
    """Each line's share of units under a target mix [fraction]: the share given where given;
    the lines without one share the rest (1 - the given shares, at least 0) in proportion to
    their current units. Total units stay as they are."""
    u = np.nan_to_num(np.asarray(units, dtype=float))
    target = np.asarray(target_share, dtype=float)
    given = ~np.isnan(target)
    total = u.sum()
    share = u / total if total > 0 else np.zeros_like(u)
    rest = max(1.0 - float(target[given].sum()), 0.0)
    free = float(share[~given].sum())
    scaled = share * rest / free if free > 0 else np.zeros_like(share)
    return np.where(given, target, scaled)


MIX_COLUMNS = ["mix", "mix_zh", "mix_en", "weighted_margin", "revenue_12m", "gross_profit"]


class Mix(str, Enum):
    """The two mixes of the what-if."""

    NOW = "now"
    TARGET = "target"


MIX_LABELS: dict[Mix, Message] = {
    Mix.NOW: Message("当前组合（近12月）", "current mix (last 12 months)"),
    Mix.TARGET: Message("目标组合（总销量不变）", "target mix (same total units)"),
}


def mix_what_if(
    units_12m: np.ndarray,
    revenue_12m: np.ndarray,
    gross_margin: np.ndarray,
    target_share: np.ndarray,
) -> pd.DataFrame:
    """The portfolio's weighted margin now and under a target mix of units (the method's apparel
    case: jackets from 5% to 30% of volume lift the overall margin from 8% to 16%).

    Per line: units and revenue of the last twelve months [units], [ccy], ``gross_margin``
    [fraction], ``target_share`` [fraction of units, NaN = scaled with the rest, see
    :func:`target_mix`]. Under the target mix each line keeps its average price (revenue /
    units) and the total units stay the same. Lines without a margin or without units are left
    out of both mixes. One row per mix (:data:`MIX_COLUMNS`): ``weighted_margin`` [fraction] =
    :func:`portfolio_margin`, ``revenue_12m`` and ``gross_profit`` [ccy].
    """
    u = np.nan_to_num(np.asarray(units_12m, dtype=float))
    rev = np.nan_to_num(np.asarray(revenue_12m, dtype=float))
    gm = np.asarray(gross_margin, dtype=float)
    keep = ~np.isnan(gm) & (u > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(u > 0, rev / u, 0.0)
    shares = target_mix(u, target_share)
    rev_target = shares * u.sum() * price
    rows = []
    for mix, revenue in ((Mix.NOW, rev), (Mix.TARGET, rev_target)):
        r = np.where(keep, revenue, 0.0)
        profit = float((r * np.nan_to_num(gm)).sum())
        rows.append(
            {
                "mix": mix.value,
                "mix_zh": MIX_LABELS[mix].zh,
                "mix_en": MIX_LABELS[mix].en,
                "weighted_margin": portfolio_margin(r, np.nan_to_num(gm)),
                "revenue_12m": float(r.sum()),
                "gross_profit": profit,
            }
        )
    return pd.DataFrame(rows, columns=MIX_COLUMNS)


PRODUCT_MAP_COLUMNS = [
    "line",
    "months_on_sale",
    "growth",
    "stage",
    "stage_zh",
    "stage_en",
    "units_12m",
    "volume_share",
    "revenue_12m",
    "gross_margin",
    "quadrant",
    "quadrant_zh",
    "quadrant_en",
    "gross_profit",
    "promotion_cost",
    "inventory_days",
    "inventory_investment",
    "roi",
    "inventory_turnover",
    "annual_revenue",
    "uplift",
    "proposed_target",
    "target_volume_share",
]


def product_map(
    sales: pd.DataFrame,
    economics: pd.DataFrame,
    *,
    as_of_month: str | pd.Period,
    settings: ProductSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The product map: one row per line of ``sales`` (:data:`PRODUCT_MAP_COLUMNS`), and error
    records (table ``product_economics``) for lines whose margin, promotion cost or inventory
    days are missing or out of range. Such lines still get a stage; their ROI is NaN and their
    quadrant treats the missing margin as low.

    ``units_12m`` / ``revenue_12m`` are the trailing twelve months to ``as_of_month``;
    ``volume_share`` [fraction] is the line's share of all lines' ``units_12m``.
    """
    s = settings or ProductSettings()
    life = classify_lifecycle(sales, as_of_month=as_of_month, settings=s.lifecycle)
    units = monthly_matrix(sales, as_of_month, "units").reindex(life["line"])
    revenue = monthly_matrix(sales, as_of_month, "revenue").reindex(life["line"], fill_value=0.0)
    units_12m = units.iloc[:, -12:].sum(axis=1).to_numpy(dtype=float)
    rev_12m = revenue.iloc[:, -12:].sum(axis=1).to_numpy(dtype=float)
    total_units = units_12m.sum()
    share = units_12m / total_units if total_units > 0 else np.zeros_like(units_12m)
    econ = economics.assign(line=economics["line"].astype(str)).drop_duplicates("line", keep="last")
    e = econ.set_index("line").reindex(life["line"])

    def num(col: str) -> np.ndarray:
        if col not in e.columns:
            return np.full(len(e), np.nan)
        return pd.to_numeric(e[col], errors="coerce").to_numpy(dtype=float)

    gm = num("gross_margin")
    promo = num("promotion_cost")
    days = num("inventory_days")
    errors = concat_errors(
        [
            errors_where(
                ~((gm > -1) & (gm < 1)),
                table="product_economics",
                column="gross_margin",
                zh="毛利率缺失或不在 -100% 与 100% 之间",
                en="gross margin is missing or not between -100% and 100%",
            ),
            errors_where(
                ~(promo >= 0),
                table="product_economics",
                column="promotion_cost",
                zh="推广费用缺失或为负",
                en="promotion cost is missing or negative",
            ),
            errors_where(
                ~(days >= 0),
                table="product_economics",
                column="inventory_days",
                zh="库存天数缺失或为负",
                en="inventory days are missing or negative",
            ),
        ]
    )
    roi = product_roi(rev_12m, gm, promo, days)
    months = life["months_on_sale"].to_numpy()
    annual = np.where((months > 0) & (months < 12), rev_12m / np.maximum(months, 1) * 12.0, rev_12m)
    uplift = (
        life["stage"].map({k.value: v for k, v in s.stage_uplift.items()}).to_numpy(dtype=float)
    )
    quadrant = classify_quadrant(gm, life["growth"], share, s.quadrant)
    wanted = num("target_volume_share")
    given = ~np.isnan(wanted)
    errors = concat_errors(
        [
            errors,
            errors_where(
                given & ~((wanted >= 0) & (wanted <= 1)),
                table="product_economics",
                column="target_volume_share",
                zh="目标销量占比应在 0 与 100% 之间",
                en="target volume share must be between 0 and 100%",
            ),
            errors_where(
                given & (np.nansum(np.where(given, wanted, 0.0)) > 1.0 + 1e-9),
                table="product_economics",
                column="target_volume_share",
                zh="各产品线的目标销量占比合计超过 100%",
                en="the lines' target volume shares add up to more than 100%",
            ),
        ]
    )
    wanted = np.where(given & (wanted >= 0) & (wanted <= 1), wanted, np.nan)
    out = pd.DataFrame(
        {
            "line": life["line"],
            "months_on_sale": life["months_on_sale"],
            "growth": life["growth"],
            "stage": life["stage"],
            "stage_zh": [STAGE_LABELS[Stage(x)].zh for x in life["stage"]],
            "stage_en": [STAGE_LABELS[Stage(x)].en for x in life["stage"]],
            "units_12m": units_12m,
            "volume_share": share,
            "revenue_12m": rev_12m,
            "gross_margin": gm,
            "quadrant": quadrant,
            "quadrant_zh": [QUADRANT_LABELS[Quadrant(q)].zh for q in quadrant],
            "quadrant_en": [QUADRANT_LABELS[Quadrant(q)].en for q in quadrant],
            "gross_profit": roi["gross_profit"].to_numpy(),
            "promotion_cost": promo,
            "inventory_days": days,
            "inventory_investment": roi["inventory_investment"].to_numpy(),
            "roi": roi["roi"].to_numpy(),
            "inventory_turnover": roi["inventory_turnover"].to_numpy(),
            "annual_revenue": annual,
            "uplift": uplift,
            "proposed_target": annual * (1.0 + uplift),
            "target_volume_share": target_mix(units_12m, wanted),
        }
    )
    return out[PRODUCT_MAP_COLUMNS], errors


SALES_COLUMNS = ["line", "month", "units", "revenue"]


def sales_from_orders(
    lines: pd.DataFrame, *, by: str = "sku", amount_column: str = "amount_base"
) -> pd.DataFrame:
    """The product map's monthly ``sales`` table from order lines (:mod:`xlplan.orders`
    contract, converted by :func:`xlplan.maps.customer.convert_amounts`).

    One row per (``by`` value, calendar month) with ``units`` = summed ``quantity`` [units] and
    ``revenue`` = summed ``amount_column`` [base currency]; ``month`` is ``YYYY-MM`` text.
    Lines without an amount (no FX rate) or with a blank ``by`` value are left out. Sorted by
    line, then month.
    """
    amount = pd.to_numeric(lines[amount_column], errors="coerce")
    key = lines[by].astype("string").fillna("").str.strip()
    keep = amount.notna() & (key != "")
    frame = pd.DataFrame(
        {
            "line": key[keep].astype(str).to_numpy(),
            "month": lines.loc[keep, "order_date"].dt.strftime("%Y-%m").to_numpy(),
            "units": pd.to_numeric(lines.loc[keep, "quantity"], errors="coerce")
            .fillna(0.0)
            .to_numpy(),
            "revenue": amount[keep].to_numpy(dtype=float),
        }
    )
    out = frame.groupby(["line", "month"], as_index=False)[["units", "revenue"]].sum()
    return out.sort_values(["line", "month"], kind="stable").reset_index(drop=True)[SALES_COLUMNS]
