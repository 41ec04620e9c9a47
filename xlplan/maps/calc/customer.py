"""Customer map (客户地图): customers from order lines, tiers, and a proposed target per tier.

Pure: order lines come in as a DataFrame (the contract of :mod:`xlplan.orders`), the "as of"
date is a parameter (never the clock), FX rates are a table parameter.

Flow::

    lines --convert_amounts(fx)--> lines + amount_base --build_customers(as_of)--> customers
          --tier_customers--> customers + tier --summarise_tiers--> one row per tier

:func:`customer_map` runs the whole flow.

Tiering rules (every customer gets exactly one tier)
----------------------------------------------------
B2B customers (``business`` true, or every customer with ``TierMode.B2B``) by average
monthly spend ``monthly_spend`` [base currency/month] over the window:
``> b2b_large`` -> large, ``>= b2b_mid`` -> mid, otherwise small (defaults US$100k and
US$10k, DOMAIN.md section 1; the thresholds are in the base currency).

B2C customers by recency / frequency / monetary, first rule that applies:

1. churned: ``recency_days > churn_days`` (default 365)
2. at risk: ``recency_days > at_risk_days`` (default 180)
3. new: one order and first order at most ``new_days`` ago (default 90)
4. high-value repeat: ``orders >= repeat_orders`` (default 2) and ``m_score >= high_value_score``
   (default 4, i.e. the top 40% by revenue)
5. potential: everyone else (active, but one-off or lower value)

R, F and M scores are quintile scores 1-5 over all customers (``rank(pct=True)``, 5 = most
recent / most frequent / highest revenue); they are reported for the sheet and M drives rule 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from xlplan.core.errors import Message, concat_errors, empty_errors, errors_where
from xlplan.reference import fx_rates

Currency = str


class Tier(str, Enum):
    """Customer tiers: three B2B spend bands and five B2C RFM segments."""

    B2B_LARGE = "b2b_large"
    B2B_MID = "b2b_mid"
    B2B_SMALL = "b2b_small"
    HIGH_VALUE_REPEAT = "high_value_repeat"
    POTENTIAL = "potential"
    NEW = "new"
    AT_RISK = "at_risk"
    CHURNED = "churned"


B2B_TIERS = (Tier.B2B_LARGE, Tier.B2B_MID, Tier.B2B_SMALL)
B2C_TIERS = (Tier.HIGH_VALUE_REPEAT, Tier.POTENTIAL, Tier.NEW, Tier.AT_RISK, Tier.CHURNED)

TIER_LABELS: dict[Tier, Message] = {
    Tier.B2B_LARGE: Message("大客户 (月消费 > 10万美元)", "Large (> US$100k/month)"),
    Tier.B2B_MID: Message("中型客户 (月消费 1-10万美元)", "Mid (US$10k-100k/month)"),
    Tier.B2B_SMALL: Message("小客户 (月消费 < 1万美元)", "Small (< US$10k/month)"),
    Tier.HIGH_VALUE_REPEAT: Message("高价值复购客户", "High-value repeat"),
    Tier.POTENTIAL: Message("潜力客户", "Potential"),
    Tier.NEW: Message("新客户", "New"),
    Tier.AT_RISK: Message("流失风险客户", "At risk"),
    Tier.CHURNED: Message("已流失客户", "Churned"),
}


class TierMode(str, Enum):
    """Which rules tier a customer: by its ``business`` flag, or all B2B, or all B2C."""

    AUTO = "auto"
    B2B = "b2b"
    B2C = "b2c"


class TierSettings(BaseModel):
    """Editable settings of the customer map (units in brackets)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: TierMode = TierMode.AUTO
    b2b_large: float = Field(
        default=100_000.0, gt=0, description="[base currency/month], exclusive"
    )
    b2b_mid: float = Field(default=10_000.0, gt=0, description="[base currency/month], inclusive")
    window_months: int = Field(
        default=12, ge=1, le=60, description="[months] spend and target window"
    )
    churn_days: int = Field(default=365, ge=1, description="[days] no order for longer = churned")
    at_risk_days: int = Field(default=180, ge=1, description="[days] no order for longer = at risk")
    new_days: int = Field(default=90, ge=1, description="[days] first order within = new")
    repeat_orders: int = Field(default=2, ge=2, description="[orders] to count as repeat")
    high_value_score: int = Field(default=4, ge=1, le=5, description="M score for high value")
    budget_months_top: int = Field(default=3, ge=1, le=12, description="[months] reported per tier")
    upsell: float = Field(
        default=0.10, ge=-1, description="[fraction] default upsell on retained revenue"
    )
    exclude_statuses: tuple[str, ...] = ("voided", "cancelled", "canceled")


@dataclass(frozen=True)
class CustomerMap:
    """Result of :func:`customer_map`: the three tables and the problems found."""

    lines: pd.DataFrame
    customers: pd.DataFrame
    tiers: pd.DataFrame
    errors: pd.DataFrame


# --------------------------------------------------------------------------------------------
# FX


def validate_fx(fx: pd.DataFrame) -> pd.DataFrame:
    """Error records (table ``fx``) for rates that are missing, not numbers or not positive."""
    rate = pd.to_numeric(fx["rate"], errors="coerce")
    bad = ~(rate > 0)
    return errors_where(
        bad.to_numpy(),
        table="fx",
        column="rate",
        zh="汇率须为正数",
        en="the rate must be a positive number",
    )


def convert_amounts(
    lines: pd.DataFrame, fx: pd.DataFrame, base_currency: Currency = "USD"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``amount_base`` [base currency] = ``amount`` x rate to ``lines``.

    ``fx`` has columns ``from_currency``, ``to_currency``, ``rate`` (1 ``from`` = ``rate``
    ``to``); rates are used directly, inverted or crossed through USD, CNY or EUR
    (:func:`xlplan.reference.fx_rates`). Lines whose currency the FX table cannot convert
    get NaN and one error record each (table ``orders``, column ``currency``); the rest
    convert. Index kept.
    """
    table = fx.assign(
        from_currency=fx["from_currency"].astype(str).str.strip().str.upper(),
        to_currency=fx["to_currency"].astype(str).str.strip().str.upper(),
        rate=pd.to_numeric(fx["rate"], errors="coerce"),
    )
    cur = lines["currency"].astype(str).str.upper()
    # resolve the few distinct currencies, then spread the rates over the lines
    codes, uniques = pd.factorize(cur)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    base = pd.Series([base_currency.upper()] * len(distinct), dtype=object)
    rates = fx_rates(table, distinct, base).to_numpy(dtype=float)
    per_line = rates[codes] if len(rates) else np.full(len(cur), np.nan)
    out = lines.assign(amount_base=lines["amount"].to_numpy(dtype=float) * per_line)
    missing = ~np.isfinite(per_line)
    # messages only for the unconvertible lines: building 1,000,000 strings would cost seconds
    bad_cur = cur.to_numpy(dtype=object)[missing]
    errs = errors_where(
        np.ones(int(missing.sum()), dtype=bool),
        table="orders",
        column="currency",
        zh=pd.Series(
            [f"汇率表中没有 {c} 兑 {base_currency} 的汇率" for c in bad_cur], dtype=object
        ),
        en=pd.Series(
            [f"no rate from {c} to {base_currency} in the FX table" for c in bad_cur], dtype=object
        ),
        positions=np.flatnonzero(missing),
    )
    return out, concat_errors([validate_fx(fx), errs])


# --------------------------------------------------------------------------------------------
# Customers


CUSTOMER_COLUMNS = [
    "customer_id",
    "orders",
    "revenue",
    "revenue_window",
    "revenue_prev_window",
    "orders_window",
    "orders_prev_window",
    "first_order_date",
    "last_order_date",
    "recency_days",
    "tenure_days",
    "monthly_spend",
    "aov",
    "business",
    "country",
]


def _month_index(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    d = pd.DatetimeIndex(dates)
    return np.asarray(d.year * 12 + d.month - 1, dtype=np.int64)


def build_customers(
    lines: pd.DataFrame, *, as_of: pd.Timestamp, settings: TierSettings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per customer from order lines that carry ``amount_base``.

    Lines dated after ``as_of``, lines whose status is in ``settings.exclude_statuses`` and
    lines without ``amount_base`` are left out; lines without ``customer_id`` are left out with
    one error record each (table ``orders``, column ``customer_id``).

    Output columns (:data:`CUSTOMER_COLUMNS`): ``customer_id``; ``orders`` [count of distinct
    order ids]; ``revenue`` [base] up to ``as_of``; ``revenue_window`` / ``orders_window``
    in the last ``window_months`` (``as_of - window``, ``as_of``]; ``revenue_prev_window`` /
    ``orders_prev_window`` in the window before that; ``first_order_date``,
    ``last_order_date``; ``recency_days`` [days] from the last order to ``as_of``;
    ``tenure_days`` [days] from the first order; ``monthly_spend`` [base/month] =
    ``revenue_window`` / months active in the window (calendar months from the first order's
    month to ``as_of``'s month, at most ``window_months``); ``aov`` [base/order] = revenue /
    orders; ``business`` [bool] any line flagged business; ``country`` of the first line.
    """
    s = settings or TierSettings()
    as_of = pd.Timestamp(as_of)
    dated = lines["order_date"] <= as_of
    status = lines["status"].astype(str).str.lower()
    usable = dated & ~status.isin(list(s.exclude_statuses)) & lines["amount_base"].notna()
    no_cust = usable & lines["customer_id"].isna()
    errors = errors_where(
        no_cust.to_numpy(),
        table="orders",
        column="customer_id",
        zh="订单行没有客户标识, 未计入客户地图",
        en="the order line has no customer id and is left out of the customer map",
    )
    work = lines.loc[
        usable & ~no_cust,
        ["customer_id", "order_id", "order_date", "amount_base", "business", "country"],
    ]
    win_start = as_of - pd.DateOffset(months=s.window_months)
    prev_start = win_start - pd.DateOffset(months=s.window_months)
    cust_code, cust_uniques = pd.factorize(work["customer_id"], sort=False)
    order_code, _ = pd.factorize(work["order_id"], sort=False)
    # Orders first: one row per (customer, order), so counts are distinct orders.
    key = cust_code.astype(np.int64) * (int(order_code.max(initial=0)) + 1) + order_code
    orders = (
        pd.DataFrame(
            {
                "key": key,
                "cust": cust_code,
                "date": work["order_date"].to_numpy(),
                "amount": work["amount_base"].to_numpy(dtype=float),
            }
        )
        .groupby("key", sort=False)
        .agg(cust=("cust", "first"), date=("date", "min"), amount=("amount", "sum"))
    )
    in_win = (orders["date"] > win_start).to_numpy()
    in_prev = ((orders["date"] > prev_start) & (orders["date"] <= win_start)).to_numpy()
    amt = orders["amount"].to_numpy()
    g = orders.assign(
        rev_w=np.where(in_win, amt, 0.0),
        rev_p=np.where(in_prev, amt, 0.0),
        n_w=in_win.astype(np.int64),
        n_p=in_prev.astype(np.int64),
    ).groupby("cust", sort=True)
    agg = g.agg(
        orders=("amount", "size"),
        revenue=("amount", "sum"),
        revenue_window=("rev_w", "sum"),
        revenue_prev_window=("rev_p", "sum"),
        orders_window=("n_w", "sum"),
        orders_prev_window=("n_p", "sum"),
        first_order_date=("date", "min"),
        last_order_date=("date", "max"),
    )
    per_line = pd.DataFrame(
        {
            "cust": cust_code,
            "business": work["business"].to_numpy(dtype=bool),
            "country": work["country"].to_numpy(dtype=object),
        }
    ).groupby("cust", sort=True)
    agg["business"] = per_line["business"].any()
    agg["country"] = per_line["country"].first()
    out = agg.reset_index(drop=False)
    out.insert(0, "customer_id", np.asarray(cust_uniques, dtype=object)[out.pop("cust").to_numpy()])
    out["recency_days"] = (as_of - out["last_order_date"]).dt.days.astype("int64")
    out["tenure_days"] = (as_of - out["first_order_date"]).dt.days.astype("int64")
    active_months = np.clip(
        _month_index(pd.DatetimeIndex([as_of] * len(out)))
        - _month_index(out["first_order_date"])
        + 1,
        1,
        s.window_months,
    )
    out["monthly_spend"] = out["revenue_window"] / active_months
    out["aov"] = out["revenue"] / out["orders"]
    out["orders"] = out["orders"].astype("int64")
    out["orders_window"] = out["orders_window"].astype("int64")
    out["orders_prev_window"] = out["orders_prev_window"].astype("int64")
    out["business"] = out["business"].astype(bool)
    return out[CUSTOMER_COLUMNS], errors


def _quintile(values: pd.Series) -> np.ndarray:
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    pct = values.rank(pct=True, method="average").to_numpy(dtype=float)
    return np.clip(np.ceil(pct * 5), 1, 5).astype(np.int64)


def tier_customers(customers: pd.DataFrame, settings: TierSettings | None = None) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score`` [1-5] and ``tier`` (a :class:`Tier` value).

    Rules in the module docstring; every customer gets exactly one tier. Index kept.
    """
    s = settings or TierSettings()
    out = customers.copy()
    out["r_score"] = _quintile(-out["recency_days"].astype(float))
    out["f_score"] = _quintile(out["orders"].astype(float))
    out["m_score"] = _quintile(out["revenue"].astype(float))
    if s.mode is TierMode.B2B:
        is_b2b = np.ones(len(out), dtype=bool)
    elif s.mode is TierMode.B2C:
        is_b2b = np.zeros(len(out), dtype=bool)
    else:
        is_b2b = out["business"].to_numpy(dtype=bool)
    spend = out["monthly_spend"].to_numpy(dtype=float)
    b2b = np.select(
        [spend > s.b2b_large, spend >= s.b2b_mid],
        [Tier.B2B_LARGE.value, Tier.B2B_MID.value],
        default=Tier.B2B_SMALL.value,
    )
    rec = out["recency_days"].to_numpy()
    n_orders = out["orders"].to_numpy()
    b2c = np.select(
        [
            rec > s.churn_days,
            rec > s.at_risk_days,
            (n_orders == 1) & (out["tenure_days"].to_numpy() <= s.new_days),
            (n_orders >= s.repeat_orders) & (out["m_score"].to_numpy() >= s.high_value_score),
        ],
        [Tier.CHURNED.value, Tier.AT_RISK.value, Tier.NEW.value, Tier.HIGH_VALUE_REPEAT.value],
        default=Tier.POTENTIAL.value,
    )
    out["tier"] = np.where(is_b2b, b2b, b2c).astype(object)
    return out


# --------------------------------------------------------------------------------------------
# Tier summary and targets


TIER_SUMMARY_COLUMNS = [
    "tier",
    "tier_zh",
    "tier_en",
    "customers",
    "orders",
    "revenue",
    "revenue_share",
    "repeat_rate",
    "churn_rate",
    "aov",
    "budget_months",
    "retention",
    "upsell",
    "new_customers",
    "first_year_value",
    "retained_revenue",
    "new_revenue",
    "proposed_target",
]

ASSUMPTION_COLUMNS = ["retention", "upsell", "new_customers", "first_year_value"]


def _tiers_for(mode: TierMode) -> tuple[Tier, ...]:
    if mode is TierMode.B2B:
        return B2B_TIERS
    if mode is TierMode.B2C:
        return B2C_TIERS
    return B2B_TIERS + B2C_TIERS


def summarise_tiers(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    settings: TierSettings | None = None,
    assumptions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per tier (every tier of the mode, empty ones with zeros) with the target.

    ``lines`` are the converted order lines (``customer_id``, ``order_date``, ``amount_base``);
    ``customers`` come from :func:`tier_customers`. Columns (:data:`TIER_SUMMARY_COLUMNS`):

    - ``customers`` [count]; ``orders`` [count] in the window; ``revenue`` [base] in the window
      (last ``window_months`` to ``as_of``); ``revenue_share`` [fraction] of the window revenue
      of all tiers (0 when there is none); ``aov`` [base/order] window revenue / window orders.
    - ``repeat_rate`` [fraction]: customers with ``orders >= repeat_orders``.
    - ``churn_rate`` [fraction]: of the tier's customers who ordered in the previous window,
      the share with no order in the last window; where none ordered then, the share with
      ``recency_days > churn_days``.
    - ``budget_months``: the ``budget_months_top`` calendar months with most of the tier's
      revenue (all history to ``as_of``), ascending, comma-separated (``"1,11,12"``) - when the
      tier's buyers release budget.
    - Assumptions, each overridable per tier by ``assumptions`` (columns ``tier`` and any of
      :data:`ASSUMPTION_COLUMNS`; non-blank cells win): ``retention`` [fraction] = 1 -
      ``churn_rate``; ``upsell`` [fraction] = ``settings.upsell``; ``new_customers`` [count] =
      tier customers whose first order is in the window (last year's intake, repeated);
      ``first_year_value`` [base/customer] = their mean window revenue.
    - ``retained_revenue`` = ``revenue`` x ``retention``; ``new_revenue`` = ``new_customers`` x
      ``first_year_value``; ``proposed_target`` [base] = ``retained_revenue`` x (1 + ``upsell``)
      + ``new_revenue``.
    """
    s = settings or TierSettings()
    as_of = pd.Timestamp(as_of)
    tiers = _tiers_for(s.mode)
    win_start = as_of - pd.DateOffset(months=s.window_months)
    c = customers
    tier_col = c["tier"].astype(str)
    new_mask = c["first_order_date"] > win_start
    churned = c["recency_days"] > s.churn_days
    prev_active = c["orders_prev_window"] > 0
    lost = prev_active & (c["orders_window"] == 0)
    frame = pd.DataFrame(
        {
            "tier": tier_col,
            "customers": 1,
            "orders": c["orders_window"],
            "revenue": c["revenue_window"],
            "repeat": (c["orders"] >= s.repeat_orders).astype(int),
            "churned": churned.astype(int),
            "prev_active": prev_active.astype(int),
            "lost": lost.astype(int),
            "new": new_mask.astype(int),
            "new_revenue_obs": c["revenue_window"].where(new_mask, 0.0),
        }
    )
    g = frame.groupby("tier").sum()
    g = g.reindex([t.value for t in tiers], fill_value=0)
    total = float(g["revenue"].sum())
    out = pd.DataFrame(index=g.index)
    out["tier_zh"] = [TIER_LABELS[Tier(t)].zh for t in g.index]
    out["tier_en"] = [TIER_LABELS[Tier(t)].en for t in g.index]
    out["customers"] = g["customers"].astype("int64")
    out["orders"] = g["orders"].astype("int64")
    out["revenue"] = g["revenue"].astype(float)
    out["revenue_share"] = out["revenue"] / total if total > 0 else 0.0
    n = g["customers"].where(g["customers"] > 0)
    out["repeat_rate"] = (g["repeat"] / n).fillna(0.0)
    cohort = g["lost"] / g["prev_active"].where(g["prev_active"] > 0)
    out["churn_rate"] = cohort.fillna(g["churned"] / n).fillna(0.0)
    out["aov"] = (out["revenue"] / g["orders"].where(g["orders"] > 0)).fillna(0.0)
    months = _budget_months(lines, customers, as_of, s.budget_months_top).astype(object)
    out["budget_months"] = months.reindex(g.index).fillna("").astype(str).to_numpy()
    out["retention"] = 1.0 - out["churn_rate"]
    out["upsell"] = float(s.upsell)
    out["new_customers"] = g["new"].astype(float)
    out["first_year_value"] = (g["new_revenue_obs"] / g["new"].where(g["new"] > 0)).fillna(0.0)
    if assumptions is not None and len(assumptions):
        a = assumptions.assign(tier=assumptions["tier"].astype(str)).set_index("tier")
        for col in ASSUMPTION_COLUMNS:
            if col in a.columns:
                override = pd.to_numeric(a[col], errors="coerce").reindex(out.index)
                out[col] = override.where(override.notna(), out[col]).astype(float)
    out["retained_revenue"] = out["revenue"] * out["retention"]
    out["new_revenue"] = out["new_customers"] * out["first_year_value"]
    out["proposed_target"] = out["retained_revenue"] * (1.0 + out["upsell"]) + out["new_revenue"]
    out = out.rename_axis("tier").reset_index()
    return out[TIER_SUMMARY_COLUMNS]


def _budget_months(
    lines: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp, top: int
) -> pd.Series:
    tier_of = pd.Series(customers["tier"].to_numpy(), index=customers["customer_id"].to_numpy())
    ok = lines["customer_id"].notna() & (lines["order_date"] <= as_of)
    ok &= lines["amount_base"].notna()
    sub = lines.loc[ok, ["customer_id", "order_date", "amount_base"]]
    # look up the few distinct customers, not every line
    codes, uniques = pd.factorize(sub["customer_id"])
    tier = pd.Series(
        tier_of.reindex(np.asarray(uniques, dtype=object)).to_numpy(dtype=object)[codes],
        index=sub.index,
    )
    frame = pd.DataFrame(
        {"tier": tier, "month": sub["order_date"].dt.month, "amount": sub["amount_base"]}
    ).dropna(subset=["tier"])
    if frame.empty:
        return pd.Series(dtype=object)
    by = frame.groupby(["tier", "month"])["amount"].sum().reset_index()
    by = by[by["amount"] > 0].sort_values(
        ["tier", "amount", "month"], ascending=[True, False, True]
    )
    best = by.groupby("tier").head(top)
    return best.groupby("tier")["month"].agg(lambda m: ",".join(str(x) for x in sorted(m)))


def customer_map(
    lines: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    fx: pd.DataFrame | None = None,
    base_currency: Currency = "USD",
    settings: TierSettings | None = None,
    assumptions: pd.DataFrame | None = None,
) -> CustomerMap:
    """The whole customer map: convert, build customers, tier, summarise.

    ``fx`` may be omitted when every line is already in ``base_currency``.
    """
    s = settings or TierSettings()
    fx_table = (
        fx if fx is not None else pd.DataFrame({"from_currency": [], "to_currency": [], "rate": []})
    )
    converted, fx_errors = convert_amounts(lines, fx_table, base_currency)
    customers, cust_errors = build_customers(converted, as_of=as_of, settings=s)
    tiered = tier_customers(customers, s)
    tiers = summarise_tiers(converted, tiered, as_of=as_of, settings=s, assumptions=assumptions)
    errors = (
        concat_errors([fx_errors, cust_errors])
        if len(fx_errors) or len(cust_errors)
        else empty_errors()
    )
    return CustomerMap(lines=converted, customers=tiered, tiers=tiers, errors=errors)
