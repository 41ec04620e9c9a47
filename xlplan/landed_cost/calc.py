"""Landed cost, margin waterfall and the prices that break even or hit a target margin.

One vectorised calculation over a table of typed lines (SKU x market x channel); a single line
is the one-row case of the same code. The column keys are declared here (:data:`INPUT_KEYS`,
:data:`OUTPUT_KEYS`); :mod:`xlplan.landed_cost.tables` declares how their cells look and read,
and :func:`xlplan.landed_cost.action.compute_lines` turns raw cells into the typed frame this
module takes.

Currencies. ``unit_cost`` is in ``cost_currency`` (blank = the market currency) and is converted
with ``fx_rate`` [market ccy per cost ccy] or, when that is blank, the rules' FX table. Every other
money input, and every output, is per unit sold in the market currency. Nothing is rounded here
(:mod:`xlplan.money` rounds at the output boundary).

The rules, per unit, with ``t`` the import/consumption tax rate and ``R`` the market's rules
(:mod:`xlplan.reference`):

``goods``            = unit_cost x fx_rate
``customs_value``    = goods, plus freight and insurance where the market values CIF
``duty``             = customs_value x (duty_rate + extra_duty_rate), unless a low-value regime
                       applies (below)
``tax base``         = customs_value (+ duty where R includes duty) (+ freight and insurance where
                       R includes transport and the market values FOB, as AU's VoTI does)
``import_vat``       = base x t, or base x t / (1 - t) where R grosses up (Brazil ICMS
                       "por dentro"); zero where a regime exempts it or collects it at sale
``landed_cost``      = goods + freight + insurance + duty + clearance
                       + import_vat where it is not recoverable
``sales_tax``        = price x t / (1 + t) where consumer prices include the tax, else 0
                       (US/CA sales tax sits on top of ``price`` and is not the seller's revenue)
``net_price``        = price - sales_tax
``referral_fee``     = max(price x referral_rate, referral_min); on the price the buyer pays
``payment_fee``      = price x payment_rate + payment_fixed
``fx_loss``          = price x fx_loss_rate  (conversion of proceeds)
``ad_cost``          = price x ad_rate
``fulfilment_cost``  = last_mile + storage
``returns_cost``     = return_rate x (return_cost_per_unit + unsellable_rate x landed_cost)
``lost_cost``        = lost_rate x (landed_cost + last_mile)
``total_cost``       = landed_cost + referral + payment + fx_loss + ad + fulfilment + returns
                       + lost
``contribution``     = net_price - total_cost; ``contribution_margin`` = contribution / net_price

Low-value regimes apply when ``consignment_value`` V (market ccy per parcel) is given: the tier
``min_value < V <= max_value`` (converted to the tier's currency) of the market's regime in force
decides. ``exempt``: that levy is zero. ``collected_at_sale``: no import tax at the border.
``flat_per_parcel``: duty = amount x customs_value / V (the unit's share of the parcel's flat
charge). ``rate``: duty = rate x customs_value (replaces duty_rate and extra_duty_rate).
``rate_minus_deduction``: duty = max(rate x customs_value - amount x customs_value / V, 0).
``combined_rate``: duty = rate x customs_value and no separate import tax.

Prices. With ``k`` = 1/(1+t) where prices include tax (else 1), the contribution at price P is
``g(P) = k P - (payment_rate + fx_loss_rate + ad_rate) P - max(referral_rate P, referral_min) - C``
with C = landed_cost + fulfilment + returns + lost + payment_fixed. For a target margin m the
price solves ``g(P) = m k P``. Writing a = (1 - m) k - (payment_rate + fx_loss_rate + ad_rate)
and r = referral_rate, the smallest root is ``(C + referral_min) / a`` where the minimum fee
binds there (r x that price <= referral_min), else ``C / (a - r)``; no price exists when the
percentage costs take the whole net price (a - r <= 0 and the minimum branch has no root).
``breakeven_price`` is the m = 0 case. An unreachable target margin is reported on the line,
whose ``price_for_target_margin`` is then blank while its other outputs stand; any other
problem leaves the whole line blank.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

import numpy as np
import pandas as pd

from xlplan.core.errors import concat_errors, empty_errors, errors_where, row_messages
from xlplan.reference import Rules

TABLE = "landed_cost"

INPUT_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "channel",
    "unit_cost",
    "cost_currency",
    "fx_rate",
    "freight_per_unit",
    "insurance_per_unit",
    "duty_rate",
    "extra_duty_rate",
    "vat_rate",
    "vat_recoverable",
    "clearance_per_unit",
    "consignment_value",
    "last_mile_per_unit",
    "storage_per_unit",
    "price",
    "referral_rate",
    "referral_min",
    "payment_rate",
    "payment_fixed",
    "fx_loss_rate",
    "return_rate",
    "return_cost_per_unit",
    "unsellable_rate",
    "lost_rate",
    "ad_rate",
    "target_margin",
)
"""Input columns of a line. Money is [market ccy/unit] except ``unit_cost`` [cost ccy/unit]
and ``consignment_value`` [market ccy/parcel]; rates are [fraction]; ``fx_rate`` [market ccy
per cost ccy]; ``vat_recoverable`` 1.0/0.0/NaN."""

LABEL_KEYS: tuple[str, ...] = ("sku", "market", "channel")
"""Inputs repeated at the start of every result row, so a result names its line."""

MONEY_OUTPUTS: tuple[str, ...] = (
    "customs_value",
    "duty",
    "import_vat",
    "landed_cost",
    "sales_tax",
    "net_price",
    "referral_fee",
    "payment_fee",
    "fx_loss",
    "ad_cost",
    "fulfilment_cost",
    "returns_cost",
    "lost_cost",
    "total_cost",
    "contribution",
)
"""Outputs per unit in the market currency [market ccy/unit]."""

OUTPUT_KEYS: tuple[str, ...] = (
    "currency",
    *MONEY_OUTPUTS,
    "contribution_margin",
    "breakeven_price",
    "price_for_target_margin",
    "error",
)
"""Output columns: the market currency, :data:`MONEY_OUTPUTS`, ``contribution_margin``
[fraction], the two solved prices [market ccy/unit] and the row's error text."""

PRICE_OUTPUTS: tuple[str, ...] = ("breakeven_price", "price_for_target_margin")


class Treatment(str, Enum):
    """How a low-value regime tier treats a consignment (``low_value_regimes.csv``)."""

    EXEMPT = "exempt"
    COLLECTED_AT_SALE = "collected_at_sale"
    FLAT_PER_PARCEL = "flat_per_parcel"
    RATE = "rate"
    RATE_MINUS_DEDUCTION = "rate_minus_deduction"
    COMBINED_RATE = "combined_rate"


ZERO_DEFAULT = [
    "freight_per_unit",
    "insurance_per_unit",
    "duty_rate",
    "extra_duty_rate",
    "clearance_per_unit",
    "last_mile_per_unit",
    "storage_per_unit",
    "referral_rate",
    "referral_min",
    "payment_rate",
    "payment_fixed",
    "fx_loss_rate",
    "return_rate",
    "return_cost_per_unit",
    "unsellable_rate",
    "lost_rate",
    "ad_rate",
]


REGIME_RULES = [
    "market",
    "applies_to",
    "min_value",
    "max_value",
    "value_currency",
    "treatment",
    "rate",
    "amount",
    "amount_currency",
]
"""The regime columns :func:`_low_value` uses (the others are sources and notes)."""


class LandedCostResult(NamedTuple):
    """``outputs``: one row per input line (same index), :data:`OUTPUT_KEYS`; ``errors``:
    error records (see :mod:`xlplan.errors`)."""

    outputs: pd.DataFrame
    errors: pd.DataFrame


def compute_landed_cost(
    lines: pd.DataFrame, rules: Rules, input_errors: pd.DataFrame | None = None
) -> LandedCostResult:
    """Landed cost and margin outputs for every line; bad rows get errors, the rest compute.

    ``lines`` holds the :data:`INPUT_KEYS` typed: numbers as float (NaN where blank), codes as
    upper-case text (``""`` where blank), ``vat_recoverable`` as 1.0/0.0/NaN; ``input_errors``
    are the records the reading found (their rows compute nothing). Outputs are in the market
    currency per unit [market ccy/unit]; margins are fractions.
    """
    index = lines.index
    typed = lines.reset_index(drop=True)
    errors = empty_errors() if input_errors is None else input_errors
    values, domain_errors, target_errors = _calculate(typed, rules, errors)
    blocking = concat_errors([errors, domain_errors])
    bad = np.zeros(len(typed), dtype=bool)
    bad[blocking["row"].to_numpy(dtype=np.int64)] = True
    numeric = [c for c in OUTPUT_KEYS if c not in ("currency", "error")]
    values.loc[bad, numeric] = np.nan
    # An unreachable target margin is reported, but the line's costs and break-even stand.
    all_errors = concat_errors([blocking, target_errors])
    values["error"] = row_messages(all_errors, len(typed)).to_numpy()
    values.index = index
    return LandedCostResult(values, all_errors)


def _calculate(
    t: pd.DataFrame, rules: Rules, prior: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = len(t)
    # Market rules per line by position: factorise the codes, look up the few distinct ones.
    codes, distinct = pd.factorize(t["market"].to_numpy())
    where = rules.markets.index.get_indexer(pd.Index(distinct))
    row_pos = np.where(codes >= 0, where[np.maximum(codes, 0)] if len(where) else -1, -1)
    known = row_pos >= 0
    errs = [
        errors_where(
            t["market"].ne("").to_numpy() & ~known,
            table=TABLE,
            column="market",
            zh=lambda idx: [f"未知市场: '{m}'" for m in t["market"].to_numpy()[idx]],
            en=lambda idx: [f"unknown market: '{m}'" for m in t["market"].to_numpy()[idx]],
        )
    ]

    def num(col: str) -> np.ndarray:
        return t[col].to_numpy(dtype=float)

    def rule(col: str) -> np.ndarray:
        values = rules.markets[col].to_numpy()
        if len(values) == 0:
            return np.full(n, np.nan, dtype=object)
        return np.where(known, values[np.maximum(row_pos, 0)], np.nan)

    z = {c: np.nan_to_num(num(c), nan=0.0) for c in ZERO_DEFAULT}
    currency = pd.Series(np.where(known, rule("currency"), ""), dtype=object)
    cost_ccy = t["cost_currency"].where(t["cost_currency"] != "", currency)

    # FX: the line's own rate, else the FX table; required when currencies differ.
    fx = num("fx_rate")
    table_fx = rules.fx_rates(cost_ccy, currency).to_numpy()
    fx = np.where(np.isnan(fx), table_fx, fx)
    errs.append(
        errors_where(
            known & np.isnan(fx) & ~_had_error(prior, n, "fx_rate"),
            table=TABLE,
            column="fx_rate",
            zh=lambda idx: [
                f"汇率缺少 {a}→{b}（请填写汇率或在设置表中添加）"
                for a, b in zip(cost_ccy.to_numpy()[idx], currency.to_numpy()[idx], strict=True)
            ],
            en=lambda idx: [
                f"FX rate missing for {a}->{b} (enter fx_rate or add it to the FX table)"
                for a, b in zip(cost_ccy.to_numpy()[idx], currency.to_numpy()[idx], strict=True)
            ],
        )
    )

    tax_rate = np.where(np.isnan(num("vat_rate")), rule("tax_rate").astype(float), num("vat_rate"))
    recoverable = (
        np.where(
            np.isnan(num("vat_recoverable")),
            rule("import_tax_recoverable").astype(float),
            num("vat_recoverable"),
        )
        > 0.5
    )
    cif = rule("valuation_basis") == "CIF"
    incl_duty = rule("tax_base_includes_duty").astype(bool)
    incl_transport = rule("tax_base_includes_transport").astype(bool)
    gross_up = rule("tax_gross_up").astype(bool)
    price_incl = rule("price_includes_tax").astype(bool)

    goods = num("unit_cost") * fx
    transport = z["freight_per_unit"] + z["insurance_per_unit"]
    customs_value = goods + np.where(cif, transport, 0.0)
    duty = customs_value * (z["duty_rate"] + z["extra_duty_rate"])
    tax_base_extra = np.where(incl_transport & ~cif, transport, 0.0)

    regime = _low_value(t, rules, currency, customs_value, known)
    errs.append(regime.errors)
    duty = np.where(regime.duty_override, regime.duty, duty)

    base = customs_value + np.where(incl_duty, duty, 0.0) + tax_base_extra
    import_vat = np.where(gross_up, base * tax_rate / (1.0 - tax_rate), base * tax_rate)
    import_vat = np.where(regime.no_import_tax, 0.0, import_vat)

    landed = (
        goods + transport + duty + z["clearance_per_unit"] + np.where(recoverable, 0.0, import_vat)
    )
    price = num("price")
    k = np.where(price_incl, 1.0 / (1.0 + tax_rate), 1.0)
    sales_tax = price * (1.0 - k)
    net_price = price - sales_tax
    referral = np.maximum(price * z["referral_rate"], z["referral_min"])
    payment = price * z["payment_rate"] + z["payment_fixed"]
    fx_loss = price * z["fx_loss_rate"]
    ad = price * z["ad_rate"]
    fulfilment = z["last_mile_per_unit"] + z["storage_per_unit"]
    returns = z["return_rate"] * (z["return_cost_per_unit"] + z["unsellable_rate"] * landed)
    lost = z["lost_rate"] * (landed + z["last_mile_per_unit"])
    total = landed + referral + payment + fx_loss + ad + fulfilment + returns + lost
    contribution = net_price - total
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(net_price != 0, contribution / net_price, np.nan)

    fixed = landed + fulfilment + returns + lost + z["payment_fixed"]
    pct = z["payment_rate"] + z["fx_loss_rate"] + z["ad_rate"]
    breakeven = solve_price(fixed, k, pct, z["referral_rate"], z["referral_min"], 0.0)
    target = num("target_margin")
    target_price = solve_price(
        fixed, k, pct, z["referral_rate"], z["referral_min"], np.nan_to_num(target)
    )
    target_price = np.where(np.isnan(target), np.nan, target_price)
    unreachable = known & ~np.isnan(target) & np.isnan(target_price) & ~np.isnan(fixed)
    target_errors = errors_where(
        unreachable,
        table=TABLE,
        column="target_margin",
        zh="任何售价都达不到目标利润率：按售价比例的费用已占净售价的全部",
        en="no price reaches the target margin: percentage fees take the whole net price",
    )

    values = pd.DataFrame(
        {
            "currency": currency.to_numpy(),
            "customs_value": customs_value,
            "duty": duty,
            "import_vat": import_vat,
            "landed_cost": landed,
            "sales_tax": sales_tax,
            "net_price": net_price,
            "referral_fee": referral,
            "payment_fee": payment,
            "fx_loss": fx_loss,
            "ad_cost": ad,
            "fulfilment_cost": fulfilment,
            "returns_cost": returns,
            "lost_cost": lost,
            "total_cost": total,
            "contribution": contribution,
            "contribution_margin": margin,
            "breakeven_price": breakeven,
            "price_for_target_margin": target_price,
        }
    )
    return values, concat_errors(errs), target_errors


def _had_error(errors: pd.DataFrame, n: int, column: str) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    rows = errors.loc[errors["column"] == column, "row"].to_numpy(dtype=np.int64)
    out[rows] = True
    return out


def solve_price(
    fixed: np.ndarray,
    k: np.ndarray,
    pct: np.ndarray,
    referral_rate: np.ndarray,
    referral_min: np.ndarray,
    margin: np.ndarray | float,
) -> np.ndarray:
    """The lowest consumer price P [market ccy/unit] whose contribution is ``margin`` x net price.

    ``fixed`` [market ccy/unit]: costs that do not move with the price; ``k`` [fraction]: net
    price per unit of consumer price; ``pct`` [fraction]: payment, FX-loss and ad rates on the
    price; ``referral_rate`` [fraction] with ``referral_min`` [market ccy/unit]. Closed form per
    fee regime (see the module docstring); NaN where no price reaches the margin.
    """
    a = (1.0 - np.asarray(margin, dtype=float)) * k - pct
    with np.errstate(divide="ignore", invalid="ignore"):
        p_min = np.where(a > 0, (fixed + referral_min) / a, np.nan)
        p_pct = np.where(a - referral_rate > 0, fixed / (a - referral_rate), np.nan)
    min_binds = ~np.isnan(p_min) & (referral_rate * p_min <= referral_min)
    return np.where(min_binds, p_min, p_pct)


class _Regime(NamedTuple):
    duty_override: np.ndarray
    duty: np.ndarray
    no_import_tax: np.ndarray
    errors: pd.DataFrame


def _low_value(
    t: pd.DataFrame,
    rules: Rules,
    currency: pd.Series,
    customs_value: np.ndarray,
    known: np.ndarray,
) -> _Regime:
    """Apply the low-value regime tier of each line whose consignment value is given."""
    n = len(t)
    duty_override = np.zeros(n, dtype=bool)
    duty = np.zeros(n)
    no_tax = np.zeros(n, dtype=bool)
    value = t["consignment_value"].to_numpy(dtype=float)
    rows = np.flatnonzero(known & ~np.isnan(value))
    if len(rows) == 0 or rules.regimes.empty:
        return _Regime(duty_override, duty, no_tax, empty_errors())
    cand = pd.DataFrame(
        {
            "row": rows,
            "market": t["market"].to_numpy()[rows],
            "ccy": currency.to_numpy()[rows],
            "value": value[rows],
        }
    ).merge(rules.regimes[REGIME_RULES], on="market", how="inner")
    to_tier = rules.fx_rates(cand["ccy"], cand["value_currency"]).to_numpy()
    missing = np.isnan(to_tier)
    errs = empty_errors()
    if missing.any():
        miss = cand.loc[missing].drop_duplicates("row")
        mask = np.zeros(n, dtype=bool)
        mask[miss["row"].to_numpy()] = True
        pair_zh = pd.Series("", index=range(n), dtype=object)
        pair_zh.iloc[miss["row"].to_numpy()] = (
            miss["ccy"] + "→" + miss["value_currency"]
        ).to_numpy()
        errs = errors_where(
            mask,
            table=TABLE,
            column="consignment_value",
            zh="缺少汇率，无法比较低货值门槛: " + pair_zh,
            en="missing FX rate to compare with the low-value threshold: "
            + pair_zh.str.replace("→", "->"),
        )
    v = cand["value"].to_numpy() * to_tier
    hit = cand.loc[(v > cand["min_value"].to_numpy()) & (v <= cand["max_value"].to_numpy())]
    if hit.empty:
        return _Regime(duty_override, duty, no_tax, errs)
    r = hit["row"].to_numpy()
    cv = customs_value[r]
    share = cv / hit["value"].to_numpy()  # the unit's share of the parcel
    amount = np.nan_to_num(hit["amount"].to_numpy(dtype=float))
    amount_fx = rules.fx_rates(
        hit["amount_currency"].replace("", np.nan).fillna(hit["ccy"]), hit["ccy"]
    ).to_numpy()
    amount_m = amount * np.nan_to_num(amount_fx, nan=0.0)
    rate = np.nan_to_num(hit["rate"].to_numpy(dtype=float))
    treatment = hit["treatment"].to_numpy()
    applies = hit["applies_to"].to_numpy()
    on_duty = (applies == "duty") | (applies == "both")
    on_tax = (applies == "tax") | (applies == "both")
    tier_duty = np.select(
        [
            treatment == Treatment.EXEMPT.value,
            treatment == Treatment.FLAT_PER_PARCEL.value,
            treatment == Treatment.RATE.value,
            treatment == Treatment.RATE_MINUS_DEDUCTION.value,
            treatment == Treatment.COMBINED_RATE.value,
        ],
        [
            np.zeros(len(r)),
            amount_m * share,
            rate * cv,
            np.maximum(rate * cv - amount_m * share, 0),
            rate * cv,
        ],
        default=np.nan,
    )
    sets_duty = on_duty & ~np.isnan(tier_duty)
    duty_override[r[sets_duty]] = True
    duty[r[sets_duty]] = tier_duty[sets_duty]
    clears_tax = on_tax & np.isin(
        treatment,
        [Treatment.EXEMPT.value, Treatment.COLLECTED_AT_SALE.value, Treatment.COMBINED_RATE.value],
    )
    no_tax[r[clears_tax]] = True
    return _Regime(duty_override, duty, no_tax, errs)
