"""Customer map (客户地图): customers from order lines, tiers, and a proposed target per tier.

Pure: order lines come in as a DataFrame (the contract of :mod:`xlplan.orders`), the "as of"
date and the plan year's start are parameters (never the clock), FX rates are a table parameter.

Flow::

    lines --convert_amounts(fx)--> lines + amount_base --build_customers(as_of)--> customers
          --tier_customers--> customers + tier --summarise_tiers--> one row per tier
    lines --describe_coverage(as_of, plan_start)--> how old the data is, how many months it
          covers, the lines without a customer id; and the warnings they call for

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

A tier's proposed target
------------------------
Every factor has its own column of the tier table, so the target can be followed cell by cell::

    annual_revenue  = customers x orders_per_customer x aov
                    = revenue (window) x 12 / months_covered
    existing_target = annual_revenue x retention x (1 + upsell)
    new_target      = new_customers x first_year_value
    proposed_target = existing_target + new_target

- ``months_covered`` [months]: how much of the window the data covers (the whole window unless
  the data starts inside it), days x 12 / 365 to 0.1 month. The window's figures are annualised
  by 12 / ``months_covered``, and said so.
- ``orders_per_customer`` [orders/customer/year] = window orders / customers x 12 /
  ``months_covered``; ``aov`` [base/order] = window revenue / window orders.
- ``retention`` [fraction], measured where the data allows: the customers who were in the tier
  at the window's start (tiered as of that day by the same rules, ``cohort``), and of them those
  who ordered in the window (``retained``); retention = retained / cohort when the cohort has at
  least ``retention_min_customers``, else the tier's default (:data:`DEFAULT_RETENTION`; at-risk
  and churned customers retain little). ``retention_basis`` says which (:class:`Basis`).
- ``upsell`` [fraction] = ``settings.upsell``.
- ``new_customers`` [customers/year]: the customers acquired in the window (first order in it),
  annualised, counted in the tier a new customer enters: every B2C customer enters as ``new``,
  a B2B customer in the spend band it buys at. ``first_year_value`` [base/customer]: their mean
  window revenue (a floor: those acquired late in the window have not had a whole year).
- The Tier assumptions table overrides retention, upsell, new customers and first-year value
  per tier (non-blank cells win).

The assumptions are stated as the sheet shows them (retention and upsell to 0.1%, new customers
whole, first-year value to 0.01) and the targets are computed from the stated figures. The two
parts of every tier are then rounded together to the plan's rounding unit by largest remainder:
the tier targets add up exactly to the total, and each part is within one unit of the product
of its factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from xlplan.core.errors import Message, concat_errors, errors_where
from xlplan.core.money import round_half_up, round_largest_remainder
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


DEFAULT_RETENTION: dict[Tier, float] = {
    Tier.B2B_LARGE: 0.85,  # DOMAIN.md section 1: renewal > 85% (the ERP vendor's sellers)
    Tier.B2B_MID: 0.80,
    Tier.B2B_SMALL: 0.70,
    Tier.HIGH_VALUE_REPEAT: 0.60,
    Tier.POTENTIAL: 0.30,
    Tier.NEW: 0.25,
    Tier.AT_RISK: 0.10,
    Tier.CHURNED: 0.03,
}
"""[fraction] The share of a tier's customers expected to buy again within a year, where the
data cannot measure it. B2B large follows DOMAIN.md section 1; the others are planning
defaults (uncertain): overridable per tier on the Tier assumptions table."""


class Basis(str, Enum):
    """Where a tier's retention comes from."""

    MEASURED = "measured"
    DEFAULT = "default"
    ASSUMPTION = "assumption"


BASIS_LABELS: dict[Basis, Message] = {
    Basis.MEASURED: Message("实测", "measured"),
    Basis.DEFAULT: Message("默认", "default"),
    Basis.ASSUMPTION: Message("假设", "assumption"),
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
    retention_min_customers: int = Field(
        default=20, ge=1, description="[customers] fewest in a cohort to measure retention on"
    )
    exclude_statuses: tuple[str, ...] = ("voided", "cancelled", "canceled")


MONTH_DAYS = 365.0 / 12.0
"""[days/month] 365 days are 12.0 months."""


@dataclass(frozen=True)
class Coverage:
    """What the order data covers, how old it is, and what it could not place.

    Dates are order dates (the file's wall clock); months are days x 12 / 365 to 0.1 month. The
    data runs from its first order's day to the end of the as-of day (by default the last
    order's day), both days counted.
    """

    as_of: pd.Timestamp
    window_start: pd.Timestamp
    window_months: int
    first_order: pd.Timestamp | None
    """The first order used (None: no order)."""
    last_order: pd.Timestamp | None
    """The last order used, at most ``as_of``."""
    data_months: float
    """[months] the data covers: from its first order's day to the end of the as-of day."""
    months_covered: float
    """[months] of the window the data covers (at least 0.1): the annualisation base."""
    plan_start: pd.Timestamp | None
    months_to_plan: float | None
    """[months] from the end of the as-of day to the plan year's start (negative: the data
    reaches into the plan year; None: no plan year given)."""
    orders: int
    """Orders in the window, with or without a customer id."""
    revenue: float
    """[base] Revenue in the window, with or without a customer id."""
    no_customer_lines: int
    """Order lines used (up to ``as_of``) that name no customer: in no customer and no tier."""
    no_customer_orders: int
    no_customer_revenue: float
    """[base] Window revenue of those lines: part of ``revenue``, in no tier."""
    currency: str = "USD"

    @property
    def annualise(self) -> float:
        """The factor the window's figures are multiplied by to make a year: 12 / months."""
        return 12.0 / self.months_covered

    def describe(self) -> Message:
        """One line: the data's dates, its age and the annualisation."""
        if self.first_order is None or self.last_order is None:
            return Message("订单数据: 无", "order data: none")
        span_zh = (
            f"订单 {self.first_order:%Y-%m-%d} 至 {self.as_of:%Y-%m-%d}"
            f"（{self.data_months:.1f} 个月）"
        )
        span_en = (
            f"orders {self.first_order:%Y-%m-%d} to {self.as_of:%Y-%m-%d} "
            f"({self.data_months:.1f} months)"
        )
        if self.plan_start is not None and self.months_to_plan is not None:
            year, months = self.plan_start.year, self.months_to_plan
            if months >= 0:
                span_zh += f"，距计划年度 {year} 开始 {months:.1f} 个月"
                span_en += f", {months:.1f} months before plan year {year} starts"
            else:
                span_zh += f"，已进入计划年度 {year} {-months:.1f} 个月"
                span_en += f", reaching {-months:.1f} months into plan year {year}"
        return Message(
            f"{span_zh}；窗口 {self.window_months} 个月中有数据 {self.months_covered:.1f} 个月，"
            f"按 12/{self.months_covered:.1f} = ×{self.annualise:.2f} 年化",
            f"{span_en}; the {self.window_months}-month window has {self.months_covered:.1f} "
            f"months of data, annualised by 12/{self.months_covered:.1f} = x{self.annualise:.2f}",
        )

    def warnings(self) -> list[Message]:
        """Lines without a customer id, data older than a year, data covering under a year."""
        out = []
        if self.no_customer_lines:
            out.append(
                Message(
                    f"{self.no_customer_lines:,} 行订单（{self.no_customer_orders:,} 个订单）"
                    "没有客户标识: 未计入客户数与分层；其窗口收入 "
                    f"{self.no_customer_revenue:,.0f} {self.currency} 计入窗口收入合计（单列）",
                    f"{self.no_customer_lines:,} order lines ({self.no_customer_orders:,} "
                    "orders) have no customer id: left out of the customer counts and tiers; "
                    f"their window revenue of {self.no_customer_revenue:,.0f} {self.currency} "
                    "is in the total window revenue (shown apart)",
                )
            )
        if self.last_order is not None and self.months_to_plan is not None:
            if self.months_to_plan > 12 and self.plan_start is not None:
                out.append(
                    Message(
                        f"订单数据止于 {self.as_of:%Y-%m-%d}，距计划年度 "
                        f"{self.plan_start.year} 开始已 {self.months_to_plan:.1f} 个月"
                        "（超过一年）: 请导入更近的订单",
                        f"the orders end on {self.as_of:%Y-%m-%d}, "
                        f"{self.months_to_plan:.1f} months before plan year "
                        f"{self.plan_start.year} starts (older than a year): import recent "
                        "orders",
                    )
                )
        if self.first_order is not None and self.data_months < 12:
            out.append(
                Message(
                    f"订单只覆盖 {self.data_months:.1f} 个月（不足 12 个月）: 窗口数据按 "
                    f"×{self.annualise:.2f} 年化，未含全年的季节；窗口内首次出现的客户都算新客",
                    f"the orders cover only {self.data_months:.1f} months (fewer than 12): the "
                    f"window is annualised by x{self.annualise:.2f} and misses part of the "
                    "year's seasons; every customer first seen in it counts as new",
                )
            )
        return out


@dataclass(frozen=True)
class CustomerMap:
    """Result of :func:`customer_map`: the three tables, what the data covers, the problems
    found (error records) and the warnings (the map still computes)."""

    lines: pd.DataFrame
    customers: pd.DataFrame
    tiers: pd.DataFrame
    coverage: Coverage
    no_customer: np.ndarray
    """[bool] per line of ``lines``: used, but names no customer."""
    errors: pd.DataFrame

    @property
    def warnings(self) -> list[Message]:
        return self.coverage.warnings()


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


def window_start(as_of: pd.Timestamp, settings: TierSettings | None = None) -> pd.Timestamp:
    """The window is (``as_of`` - ``window_months``, ``as_of``]."""
    s = settings or TierSettings()
    return pd.Timestamp(as_of) - pd.DateOffset(months=s.window_months)


def used_lines(lines: pd.DataFrame, as_of: pd.Timestamp, settings: TierSettings) -> np.ndarray:
    """[bool] per line: dated up to ``as_of``, a status not excluded, an amount converted."""
    # statuses repeat: compare the few distinct ones, not every line
    codes, uniques = pd.factorize(lines["status"].astype(str))
    names = pd.Index(np.asarray(uniques, dtype=object)).str.lower()
    excluded = np.append(names.isin(list(settings.exclude_statuses)), False)[codes]
    dated = (lines["order_date"] <= pd.Timestamp(as_of)).to_numpy(dtype=bool)
    used: np.ndarray = dated & ~excluded & lines["amount_base"].notna().to_numpy(dtype=bool)
    return used


def build_customers(
    lines: pd.DataFrame, *, as_of: pd.Timestamp, settings: TierSettings | None = None
) -> pd.DataFrame:
    """One row per customer from order lines that carry ``amount_base``.

    Lines dated after ``as_of``, lines whose status is in ``settings.exclude_statuses``, lines
    without ``amount_base`` and lines without ``customer_id`` are left out (the last are counted
    by :func:`describe_coverage`).

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
    keep = used_lines(lines, as_of, s) & lines["customer_id"].notna().to_numpy(dtype=bool)
    work = lines.loc[
        keep, ["customer_id", "order_id", "order_date", "amount_base", "business", "country"]
    ]
    win_start = window_start(as_of, s)
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
    return out[CUSTOMER_COLUMNS]


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
# What the data covers


def _months(days: float) -> float:
    """[months] ``days`` x 12 / 365, to 0.1 month."""
    return float(round_half_up(np.array([days / MONTH_DAYS]), 1)[0])


def describe_coverage(
    lines: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    settings: TierSettings | None = None,
    plan_start: pd.Timestamp | None = None,
    currency: str = "USD",
) -> Coverage:
    """How old the converted order ``lines`` are, how many months they cover, and the lines
    they cannot place (no customer id), for the window ending at ``as_of``.

    Only the lines :func:`build_customers` would use count (up to ``as_of``, status not
    excluded, amount converted), with or without a customer id. ``plan_start`` is the first
    day of the plan year (None: the age is not reported).
    """
    s = settings or TierSettings()
    as_of = pd.Timestamp(as_of)
    start = window_start(as_of, s)
    used = used_lines(lines, as_of, s)
    dates = lines["order_date"].to_numpy()[used]
    amounts = lines["amount_base"].to_numpy(dtype=float)[used]
    orders = pd.factorize(lines["order_id"])[0][used]  # count distinct codes, not strings
    in_window = dates > start.to_datetime64()
    anonymous = lines["customer_id"].isna().to_numpy(dtype=bool)[used]
    plan = None if plan_start is None else pd.Timestamp(plan_start).normalize()
    first = last = None
    data_months, to_plan = 0.0, None
    day = pd.Timedelta(days=1)
    end = as_of.normalize() + day  # the data runs to the end of the as-of day
    if len(dates):
        first, last = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
        data_months = _months((end - first.normalize()) / day)
        if plan is not None:
            to_plan = _months((plan - end) / day)
    covered = max(min(float(s.window_months), data_months), 0.1)
    return Coverage(
        as_of=as_of,
        window_start=start,
        window_months=s.window_months,
        first_order=first,
        last_order=last,
        data_months=data_months,
        months_covered=covered,
        plan_start=plan,
        months_to_plan=to_plan,
        orders=int(np.unique(orders[in_window]).size),
        revenue=float(amounts[in_window].sum()),
        no_customer_lines=int(anonymous.sum()),
        no_customer_orders=int(np.unique(orders[anonymous]).size),
        no_customer_revenue=float(amounts[in_window & anonymous].sum()),
        currency=currency,
    )


def unidentified_lines(
    lines: pd.DataFrame, *, as_of: pd.Timestamp, settings: TierSettings | None = None
) -> np.ndarray:
    """[bool] per line: a line :func:`build_customers` would use but for its missing customer."""
    s = settings or TierSettings()
    return used_lines(lines, pd.Timestamp(as_of), s) & lines["customer_id"].isna().to_numpy(
        dtype=bool
    )


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
    "budget_months",
    "months_covered",
    "orders_per_customer",
    "aov",
    "annual_revenue",
    "cohort",
    "retained",
    "retention",
    "retention_basis",
    "upsell",
    "existing_target",
    "new_customers",
    "first_year_value",
    "new_target",
    "proposed_target",
]

ASSUMPTION_COLUMNS = ["retention", "upsell", "new_customers", "first_year_value"]
STATED_DECIMALS = {"retention": 3, "upsell": 3, "new_customers": 0, "first_year_value": 2}
"""The precision each assumption is stated (and shown) with; targets use the stated figure."""


def _given(assumptions: pd.DataFrame | None) -> pd.DataFrame:
    """The non-blank assumptions by tier (NaN = not given), one row per tier named."""
    if assumptions is None or assumptions.empty:
        return pd.DataFrame(columns=ASSUMPTION_COLUMNS, dtype=float)
    tier = pd.Index(assumptions["tier"].astype(str).str.strip().str.lower(), name="tier")
    out = pd.DataFrame(np.nan, index=tier, columns=ASSUMPTION_COLUMNS)
    for c in ASSUMPTION_COLUMNS:
        if c in assumptions.columns:
            out[c] = pd.to_numeric(assumptions[c], errors="coerce").to_numpy(dtype=float)
    out = out[~out.index.duplicated(keep="last")]
    return out[out.notna().any(axis=1)]


def tiers_shown(
    mode: TierMode, tiers: pd.Series, assumptions: pd.DataFrame | None = None
) -> tuple[Tier, ...]:
    """The tiers of the mode in use: B2B or B2C as set; in ``auto``, the B2B tiers when a
    customer is B2B or a B2B tier has an assumption given, and likewise the B2C tiers."""
    if mode is TierMode.B2B:
        return B2B_TIERS
    if mode is TierMode.B2C:
        return B2C_TIERS
    present = set(tiers.astype(str)) | set(_given(assumptions).index)
    out: tuple[Tier, ...] = ()
    for group in (B2B_TIERS, B2C_TIERS):
        if present & {t.value for t in group}:
            out += group
    return out


def retention_cohorts(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    settings: TierSettings | None = None,
) -> pd.DataFrame:
    """Retention measured on the data, per tier (index; tiers without a cohort absent).

    ``cohort``: the customers in the tier at the window's start, tiered as of that day by the
    same rules from the lines up to it; ``retained``: of them, those who ordered in the window
    (``orders_window`` > 0 in ``customers``, built as of ``as_of``).
    """
    s = settings or TierSettings()
    start = window_start(as_of, s)
    earlier = tier_customers(build_customers(lines, as_of=start, settings=s), s)
    bought = pd.Index(
        customers.loc[customers["orders_window"] > 0, "customer_id"].to_numpy(dtype=object)
    )
    # a hash lookup of ~100,000 ids; Series.isin on Arrow strings loops in Python
    retained = bought.get_indexer(earlier["customer_id"].to_numpy(dtype=object)) >= 0
    frame = pd.DataFrame(
        {"tier": earlier["tier"].astype(str), "cohort": 1, "retained": retained.astype(int)}
    )
    return frame.groupby("tier").sum()


def summarise_tiers(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    settings: TierSettings | None = None,
    assumptions: pd.DataFrame | None = None,
    months_covered: float | None = None,
    unit: float = 1.0,
) -> pd.DataFrame:
    """One row per tier of the mode in use (:func:`tiers_shown`, empty ones with zeros), with
    the proposed target built factor by factor (module docstring).

    ``lines`` are the converted order lines (``customer_id``, ``order_date``, ``amount_base``);
    ``customers`` come from :func:`tier_customers`; ``months_covered`` [months] is the window's
    annualisation base (default: :func:`describe_coverage`); ``unit`` [base] the rounding unit
    of the targets. Columns (:data:`TIER_SUMMARY_COLUMNS`):

    - ``customers`` [count]; ``orders`` [count] and ``revenue`` [base] in the window (last
      ``window_months`` to ``as_of``); ``revenue_share`` [fraction] of the tiers' window
      revenue (0 when there is none); ``repeat_rate`` [fraction]: customers with ``orders >=
      repeat_orders``.
    - ``budget_months``: the ``budget_months_top`` calendar months with most of the tier's
      revenue (all history to ``as_of``), ascending, comma-separated (``"1,11,12"``) - when the
      tier's buyers release budget.
    - ``months_covered``, ``orders_per_customer`` [orders/customer/year], ``aov`` [base/order],
      ``annual_revenue`` [base], ``cohort`` and ``retained`` [customers], ``retention``
      [fraction] and ``retention_basis`` (a :class:`Basis` value), ``upsell`` [fraction],
      ``existing_target`` [base], ``new_customers`` [customers/year], ``first_year_value``
      [base/customer], ``new_target`` and ``proposed_target`` [base, multiples of ``unit``].
    - ``assumptions`` (columns ``tier`` and any of :data:`ASSUMPTION_COLUMNS`; non-blank cells
      win) override the four assumptions per tier.
    """
    s = settings or TierSettings()
    as_of = pd.Timestamp(as_of)
    start = window_start(as_of, s)
    if months_covered is None:
        months_covered = describe_coverage(lines, as_of=as_of, settings=s).months_covered
    per_year = 12.0 / months_covered
    c = customers
    tier_col = c["tier"].astype(str)
    index = pd.Index([t.value for t in tiers_shown(s.mode, tier_col, assumptions)], name="tier")
    frame = pd.DataFrame(
        {
            "tier": tier_col,
            "customers": 1,
            "orders": c["orders_window"],
            "revenue": c["revenue_window"],
            "repeat": (c["orders"] >= s.repeat_orders).astype(int),
        }
    )
    g = frame.groupby("tier").sum().reindex(index, fill_value=0)
    # a customer acquired in the window enters as new (B2C) or in its spend band (B2B)
    acquired = (c["first_order_date"] > start).to_numpy(dtype=bool)
    b2b = tier_col.isin([t.value for t in B2B_TIERS]).to_numpy(dtype=bool)
    entry = np.where(b2b, tier_col.to_numpy(dtype=object), Tier.NEW.value)
    acq = (
        pd.DataFrame(
            {
                "tier": entry[acquired],
                "n": 1,
                "revenue": c["revenue_window"].to_numpy(dtype=float)[acquired],
            }
        )
        .groupby("tier")
        .sum()
        .reindex(index, fill_value=0)
    )
    cohorts = retention_cohorts(lines, c, as_of=as_of, settings=s).reindex(index, fill_value=0)

    out = pd.DataFrame(index=index)
    out["tier_zh"] = [TIER_LABELS[Tier(t)].zh for t in index]
    out["tier_en"] = [TIER_LABELS[Tier(t)].en for t in index]
    n = g["customers"].astype(float)
    orders = g["orders"].astype(float)
    out["customers"] = g["customers"].astype("int64")
    out["orders"] = g["orders"].astype("int64")
    out["revenue"] = g["revenue"].astype(float)
    total = float(out["revenue"].sum())
    out["revenue_share"] = out["revenue"] / total if total > 0 else 0.0
    out["repeat_rate"] = (g["repeat"] / n.where(n > 0)).fillna(0.0)
    months = _budget_months(lines, customers, as_of, s.budget_months_top).astype(object)
    out["budget_months"] = months.reindex(index).fillna("").astype(str).to_numpy()
    out["months_covered"] = float(months_covered)
    out["orders_per_customer"] = (orders / n.where(n > 0) * per_year).fillna(0.0)
    out["aov"] = (out["revenue"] / orders.where(orders > 0)).fillna(0.0)
    out["annual_revenue"] = out["revenue"] * per_year

    out["cohort"] = cohorts["cohort"].astype("int64")
    out["retained"] = cohorts["retained"].astype("int64")
    measured = out["cohort"] >= s.retention_min_customers
    default = pd.Series([DEFAULT_RETENTION[Tier(t)] for t in index], index=index, dtype=float)
    out["retention"] = (out["retained"] / out["cohort"].where(measured)).fillna(default)
    basis = np.where(measured, Basis.MEASURED.value, Basis.DEFAULT.value).astype(object)
    out["upsell"] = float(s.upsell)
    out["new_customers"] = acq["n"].astype(float) * per_year
    out["first_year_value"] = (acq["revenue"] / acq["n"].where(acq["n"] > 0)).fillna(0.0)
    given = _given(assumptions).reindex(index)
    for col in ASSUMPTION_COLUMNS:
        out[col] = given[col].where(given[col].notna(), out[col]).astype(float)
        out[col] = round_half_up(out[col].to_numpy(dtype=float), STATED_DECIMALS[col])
    basis[given["retention"].notna().to_numpy()] = Basis.ASSUMPTION.value
    out["retention_basis"] = basis

    existing = out["annual_revenue"] * out["retention"] * (1.0 + out["upsell"])
    new = out["new_customers"] * out["first_year_value"]
    parts = np.column_stack([existing.to_numpy(dtype=float), new.to_numpy(dtype=float)])
    rounded = round_largest_remainder(parts.reshape(-1), unit=unit).reshape(parts.shape)
    out["existing_target"] = rounded[:, 0]
    out["new_target"] = rounded[:, 1]
    out["proposed_target"] = rounded.sum(axis=1)
    out["new_customers"] = out["new_customers"].astype("int64")
    out = out.reset_index()
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
    plan_start: pd.Timestamp | None = None,
    unit: float = 1.0,
) -> CustomerMap:
    """The whole customer map: convert, build customers, tier, describe the data, summarise.

    ``fx`` may be omitted when every line is already in ``base_currency``; ``plan_start`` (the
    plan year's first day) dates the data against the plan; ``unit`` [base] rounds the targets.
    Lines without a customer id are a warning, not an error: the map computes without them.
    """
    s = settings or TierSettings()
    fx_table = (
        fx if fx is not None else pd.DataFrame({"from_currency": [], "to_currency": [], "rate": []})
    )
    converted, fx_errors = convert_amounts(lines, fx_table, base_currency)
    customers = build_customers(converted, as_of=as_of, settings=s)
    tiered = tier_customers(customers, s)
    coverage = describe_coverage(
        converted, as_of=as_of, settings=s, plan_start=plan_start, currency=base_currency
    )
    tiers = summarise_tiers(
        converted,
        tiered,
        as_of=as_of,
        settings=s,
        assumptions=assumptions,
        months_covered=coverage.months_covered,
        unit=unit,
    )
    return CustomerMap(
        lines=converted,
        customers=tiered,
        tiers=tiers,
        coverage=coverage,
        no_customer=unidentified_lines(converted, as_of=as_of, settings=s),
        errors=fx_errors,
    )
