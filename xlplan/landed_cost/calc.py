"""Landed cost, margin waterfall and the prices that break even or hit a target margin.

One vectorised calculation over a table of typed lines (SKU x market x channel); a single line
is the one-row case of the same code. The column keys are declared here (:data:`INPUT_KEYS`,
:data:`OUTPUT_KEYS`); :mod:`xlplan.landed_cost.tables` declares how their cells look and read,
and :func:`xlplan.landed_cost.action.compute_lines` turns raw cells into the typed frame this
module takes. Tariffs, parcels, entries, low-value regimes, entry fees and legal rounding are
in :mod:`xlplan.landed_cost.customs`.

Currencies. ``unit_cost`` is in ``cost_currency`` (blank = the market currency) and is converted
with ``fx_rate`` [market ccy per cost ccy] or, when that is blank, the rules' FX table. Every other
money input, and every output, is per unit sold in the market currency. Nothing is rounded here
for display (:mod:`xlplan.core.money` rounds at the output boundary); the only rounding inside
the chain is the one a market's law prescribes for an assessed amount (``rounding_rules.csv``).

The rules, per unit, with ``t`` the import/consumption tax rate and ``R`` the market's rules
(:mod:`xlplan.reference`); ``origin`` defaults to CN and ``ship_from`` to the origin:

``goods``            = unit_cost x fx_rate
``customs_value``    = goods, plus freight and insurance where the market values CIF
``duty_base``        = customs_value, rounded as the market rounds the value duty is charged on
``duty``             = duty_base x duty_rate; ``extra_duty`` = duty_base x extra_duty_rate;
                       the rates are the line's own, else the tariff's for its ``hs_code``,
                       market and origin (see :mod:`~xlplan.landed_cost.customs`), a scenario's
                       override over both; each rounded as the market rounds a duty. A
                       low-value regime may replace both (below).
``vat_base``         = customs_value (+ duty + extra_duty where R includes duty) (+ freight and
                       insurance where R includes transport and the market values FOB, as AU's
                       VoTI does) + vat_base_adjustment (costs that enter the tax base only, as
                       the UK VAT value adjustment)
``import_vat``       = vat_base x t, or vat_base x t / (1 - t) where R grosses up (Brazil ICMS
                       "por dentro"); zero where a regime exempts it or collects it at sale
``entry_fees``       = the fees of the line's customs entry (US MPF, HMF, brokerage...) shared
                       by customs value
``landed_cost``      = goods + freight + insurance + duty + extra_duty + clearance + entry_fees
                       + import_vat where it is not recoverable
``sales_tax``        = price x t / (1 + t) where consumer prices include the tax, else 0
                       (US/CA sales tax sits on top of ``price`` and is not the seller's revenue)
``net_price``        = price - sales_tax
``referral_fee``     = max(price x referral_rate, referral_min); on the price the buyer pays
                       (or the fee tables', :mod:`~xlplan.landed_cost.fees`)
``refund_admin_fee`` = refund_rate x min(cap, 20% x referral fee) on lines with a
                       ``refund_rate`` whose channel and marketplace have a refund
                       administration row (Amazon's table; TikTok Shop's commission row)
``payment_fee``      = price x payment_rate + payment_fixed; a line naming a
                       ``payment_processor`` with both blank takes the processor's domestic
                       card rate + ``intl_card_share`` x the international-card add-on +
                       ``conversion_share`` x the conversion add-on, and its fixed fee
                       converted to the market currency
``fx_loss``          = price x fx_loss_rate  (conversion of proceeds)
``ad_cost``          = price x ad_rate
``fulfilment_cost``  = last_mile + storage
``returns_cost``     = return_rate x (return_cost_per_unit + unsellable_rate x landed_cost)
``lost_cost``        = lost_rate x (landed_cost + last_mile)
``total_cost``       = landed_cost + referral + refund_admin + payment + fx_loss + ad
                       + fulfilment + returns + lost
``contribution``     = net_price - total_cost; ``contribution_margin`` = contribution / net_price

Low-value regimes apply to a line in a parcel (a ``parcel`` id, ``units_per_parcel`` or
``consignment_value``): the tier ``min_value < V <= max_value`` (V the parcel's value converted
to the tier's currency) of the market's regime in force decides, the most specific row for the
line's origin, ship-from country and transport mode winning. ``exempt``: that levy is zero.
``collected_at_sale``: no import tax at the border. ``flat_per_parcel``: duty = the parcel's
amount shared by customs value. ``flat_per_subheading``: the same, amount x the parcel's
distinct subheadings (the EU's EUR 3). ``rate``: duty = rate x customs_value (replaces every
other duty). ``rate_minus_deduction``: duty = max(rate x customs_value - the unit's share of the
amount, 0). ``combined_rate``: duty = rate x customs_value and no separate import tax.
``none``: no relief (overrides a less specific row). A line without parcel information is a
bulk import: no low-value regime. Its transport mode defaults to courier in a parcel, air
otherwise.

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

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import NamedTuple, cast

import numpy as np
import pandas as pd

from xlplan.core.arrays import nan_to_num
from xlplan.core.columns import Column, Columns, categorical, factorize, frame_of
from xlplan.core.errors import (
    NO_ERRORS,
    Message,
    concat_errors,
    errors_where,
    row_messages,
)
from xlplan.core.memo import derived
from xlplan.landed_cost import customs
from xlplan.landed_cost import fees as platform
from xlplan.landed_cost.customs import Rounding, TransportMode, Treatment
from xlplan.reference import Rules
from xlplan.reference.fees import no_fee_tables

TABLE = "landed_cost"

FEE_INPUTS: tuple[str, ...] = (
    "category",
    "listing_type",
    "length_cm",
    "width_cm",
    "height_cm",
    "weight_kg",
    "months_in_stock",
    "sell_month",
    "competitor_price",
    "refund_rate",
    "payment_processor",
    "intl_card_share",
    "conversion_share",
)
"""Inputs the fee tables read (:mod:`xlplan.landed_cost.fees`): the channel's fee category and
listing type, packed dimensions [cm] and weight [kg], months in stock [months], the sell month
[1-12] and a competitor's price [market ccy/unit]."""

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
    "origin",
    "ship_from",
    "hs_code",
    "transport_mode",
    "parcel",
    "units_per_parcel",
    "shipment",
    "units_per_entry",
    "brokerage_per_entry",
    "vat_base_adjustment",
    "planned_units",
    *FEE_INPUTS,
)
"""Input columns of a line. Money is [market ccy/unit] except ``unit_cost`` [cost ccy/unit],
``consignment_value`` [market ccy/parcel] and ``brokerage_per_entry`` [market ccy/entry]; rates
are [fraction]; ``fx_rate`` [market ccy per cost ccy]; ``vat_recoverable`` 1.0/0.0/NaN;
``origin`` and ``ship_from`` ISO country codes (default CN, and the origin); ``hs_code`` digits;
``parcel`` and ``shipment`` ids shared by the lines of one parcel or customs entry;
``units_per_parcel`` and ``units_per_entry`` [units] of this line in it; ``planned_units``
[units] the weight of the line in the plan's margin (default 1)."""

LABEL_KEYS: tuple[str, ...] = ("sku", "market", "channel")
"""Inputs repeated at the start of every result row, so a result names its line."""

MONEY_OUTPUTS: tuple[str, ...] = (
    "customs_value",
    "duty_base",
    "duty",
    "extra_duty",
    "vat_base",
    "import_vat",
    "entry_fees",
    "landed_cost",
    "sales_tax",
    "net_price",
    "referral_fee",
    "refund_admin_fee",
    "payment_fee",
    "fx_loss",
    "ad_cost",
    "fulfilment_cost",
    "fulfilment_fee",
    "fuel_surcharge",
    "storage_fee",
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
    "size_tier",
    "dim_weight_kg",
    "competitor_margin",
    "margin_5_below",
    "margin_8_below",
    "flags",
    "fee_rules",
    "error",
)
"""Output columns: the market currency, :data:`MONEY_OUTPUTS`, ``contribution_margin``
[fraction], the two solved prices [market ccy/unit] and the row's error text."""

TEXT_OUTPUTS: tuple[str, ...] = ("size_tier", "flags", "fee_rules")
"""Text outputs besides ``currency`` and ``error``: blank on a line that could not compute."""

PRICE_OUTPUTS: tuple[str, ...] = ("breakeven_price", "price_for_target_margin")

__all__ = [
    "INPUT_KEYS",
    "LABEL_KEYS",
    "MONEY_OUTPUTS",
    "OUTPUT_KEYS",
    "PRICE_OUTPUTS",
    "LandedCostColumns",
    "LandedCostResult",
    "Rounding",
    "TransportMode",
    "Treatment",
    "compute_landed_cost",
    "landed_cost_columns",
    "output_frame",
    "solve_price",
]

ZERO_DEFAULT = [
    "freight_per_unit",
    "insurance_per_unit",
    "vat_base_adjustment",
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


class LandedCostResult(NamedTuple):
    """``outputs``: one row per input line (same index), :data:`OUTPUT_KEYS`; ``errors``:
    error records (see :mod:`xlplan.core.errors`)."""

    outputs: pd.DataFrame
    errors: pd.DataFrame


class LandedCostColumns(NamedTuple):
    """``columns``: the :data:`OUTPUT_KEYS` of every line by position, in that order, each its
    own array (numbers float, NaN on a line that could not compute; texts as
    :data:`TEXT_COLUMNS` holds them); ``errors``: error records (see :mod:`xlplan.core.errors`)."""

    columns: dict[str, Column]
    errors: pd.DataFrame


def compute_landed_cost(
    lines: pd.DataFrame,
    rules: Rules,
    input_errors: pd.DataFrame | None = None,
    labels: Mapping[str, Message] | None = None,
) -> LandedCostResult:
    """Landed cost and margin outputs for every line; bad rows get errors, the rest compute.

    ``lines`` holds the :data:`INPUT_KEYS` typed: numbers as float (NaN where blank), codes as
    upper-case text (``""`` where blank), ``vat_recoverable`` as 1.0/0.0/NaN, ``hs_code`` as
    digits, ids as text; ``input_errors`` are the records the reading found (their rows compute
    nothing). Outputs are in the market currency per unit [market ccy/unit]; margins are
    fractions. ``labels`` name the columns in the ``error`` texts
    (:func:`~xlplan.core.errors.row_messages`). The outputs as a frame of
    :func:`landed_cost_columns`.
    """
    result = landed_cost_columns(Columns.of(lines), rules, input_errors, labels)
    values = output_frame(result.columns)
    values.index = lines.index
    return LandedCostResult(values, result.errors)


def landed_cost_columns(
    lines: Columns,
    rules: Rules,
    input_errors: pd.DataFrame | None = None,
    labels: Mapping[str, Message] | None = None,
) -> LandedCostColumns:
    """:func:`compute_landed_cost` of lines handed over as columns, its outputs as columns by
    position: a caller that has the lines' columns at hand and reads the outputs column by
    column (the results table, the one-line UDFs) builds no frame it only takes apart again."""
    n = lines.n
    errors = NO_ERRORS if input_errors is None else input_errors
    columns, domain_errors, target_errors = _calculate(lines, rules, errors)
    blocking = concat_errors([errors, domain_errors])
    bad = np.zeros(n, dtype=bool)
    if len(blocking):  # the usual case: no frame look-up for nothing
        bad[blocking["row"].to_numpy(dtype=np.int64)] = True
    # An unreachable target margin is reported, but the line's costs and break-even stand.
    all_errors = concat_errors([blocking, target_errors])
    columns["error"] = (
        row_messages(all_errors, n, labels).to_numpy(dtype=object)
        if len(all_errors)
        else np.full(n, "", dtype=object)  # what row_messages says of no error, without a Series
    )
    return LandedCostColumns(_output_columns(columns, bad), all_errors)


TEXT_COLUMNS = frozenset(("currency", "error", *TEXT_OUTPUTS))
"""The outputs held as text: :data:`TEXT_OUTPUTS` as categoricals (a few texts and a code per
line), the currency and the error as object arrays; every other output is a float array."""


def _output_columns(columns: Mapping[str, Column], bad: np.ndarray) -> dict[str, Column]:
    """The outputs in :data:`OUTPUT_KEYS` order: numbers NaN and texts blank on a ``bad``
    line, each column an array the caller may write (a categorical's own codes)."""
    out: dict[str, Column] = {}
    flagged = bool(bad.any())
    for key in OUTPUT_KEYS:
        given = columns[key]
        if key in TEXT_OUTPUTS:
            texts = given if isinstance(given, pd.Categorical) else categorical(*_codes(given))
            out[key] = _blank_where(texts, bad) if flagged else texts.copy()
            continue
        if key not in TEXT_COLUMNS:
            values = np.asarray(given, dtype=float)
            if flagged:
                values = np.where(bad, np.nan, values)
        else:
            values = np.asarray(given, dtype=object)
        if not values.flags.writeable:  # a view of an input: the caller may write the outputs
            values = values.copy()
        out[key] = values
    return out


def _blank_where(texts: pd.Categorical, bad: np.ndarray) -> pd.Categorical:
    """``texts`` with ``""`` on the ``bad`` lines."""
    shown = texts.categories.to_numpy(dtype=object)
    blank = np.flatnonzero(shown == "")
    if not len(blank):
        shown = np.append(shown, "")
        blank = np.array([len(shown) - 1])
    return categorical(np.where(bad, blank[0], texts.codes), shown)


def output_frame(columns: Mapping[str, Column]) -> pd.DataFrame:
    """Output columns (:class:`LandedCostColumns`) as one frame, texts as object columns, each
    column its own array (:func:`~xlplan.core.columns.frame_of`)."""
    return frame_of(
        {
            k: np.asarray(v, dtype=object) if isinstance(v, pd.Categorical) else v
            for k, v in columns.items()
        }
    )


def _table_fx(rules: Rules, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rules' FX rate for each pair of currencies ``src[i]`` -> ``dst[i]``, each pair
    resolved once per FX table (:func:`~xlplan.core.memo.derived`): a one-line UDF asks the
    same table for the same pair on every call."""
    known: dict[tuple[str, str], float] = derived(rules.fx, "rates by pair", dict)
    keys = [(str(a), str(b)) for a, b in zip(src.tolist(), dst.tolist(), strict=True)]
    todo = [k for k in dict.fromkeys(keys) if k not in known]
    if todo:
        rates = rules.fx_rates(
            pd.Series([a for a, _ in todo], dtype=object),
            pd.Series([b for _, b in todo], dtype=object),
        ).to_numpy(dtype=float)
        known.update(zip(todo, rates.tolist(), strict=True))
    return np.array([known[k] for k in keys], dtype=float)


def _customs_unions(markets: pd.DataFrame) -> dict[str, str]:
    """Market -> its customs union (``EU``), for the markets in one."""
    if "customs_union" not in markets:
        return {}
    return {str(m): str(u) for m, u in markets["customs_union"].items() if isinstance(u, str) and u}


def _zero_where_blank(values: np.ndarray) -> np.ndarray:
    """An input read as a number with its blanks (NaN) as 0 (inputs are finite or NaN)."""
    return np.where(np.isnan(values), 0.0, values)


def _coded(t: Columns, key: str) -> customs.Coded:
    """A text input column as codes into its distinct values (all ``""`` when absent)."""
    if key not in t.columns:
        return customs.Coded(np.zeros(t.n, dtype=np.int64), np.array([""], dtype=object))
    return customs.coded(t.columns[key])


def _column(t: Columns, key: str, blank: object) -> np.ndarray:
    """A typed input column, or a column of ``blank`` where the lines lack it."""
    if key in t.columns:
        return np.asarray(t.columns[key])
    return np.full(t.n, blank, dtype=object if isinstance(blank, str) else float)


def _calculate(
    t: Columns, rules: Rules, prior: pd.DataFrame
) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame]:
    n = t.n
    # Market rules per line by position: the market codes (a categorical's own, else
    # factorised), the few distinct markets looked up once and taken back to the lines.
    markets = customs.coded(t.columns["market"])
    codes, distinct = markets.codes, markets.uniques
    # The markets' positions as a dict made once per rules: the few distinct markets of the
    # lines are looked up in Python (matching indexes costs ~0.1 ms a call, a one-line UDF's
    # whole market look-up).
    position = derived(
        rules.markets, "positions", lambda: {m: i for i, m in enumerate(rules.markets.index)}
    )
    where = np.array([position.get(m, -1) for m in distinct.tolist()], dtype=np.intp)
    known_market = where >= 0
    known = known_market[codes] if len(distinct) else np.zeros(n, dtype=bool)

    def market_of(idx: np.ndarray) -> np.ndarray:
        return np.asarray(distinct[codes[idx]], dtype=object)

    errs = [
        errors_where(
            (distinct != "")[codes] & ~known if len(distinct) else known,
            table=TABLE,
            column="market",
            zh=lambda idx: [f"未知市场: '{m}'" for m in market_of(idx)],
            en=lambda idx: [f"unknown market: '{m}'" for m in market_of(idx)],
        )
    ]
    column_cache: dict[str, np.ndarray] = {}
    market_rules: dict[str, np.ndarray] = derived(
        rules.markets, "columns", lambda: {str(k): v.to_numpy() for k, v in rules.markets.items()}
    )

    def num(col: str) -> np.ndarray:
        if col not in column_cache:
            column_cache[col] = np.asarray(_column(t, col, np.nan), dtype=float)
        return column_cache[col]

    def per_market(col: str, cast: type | None = None) -> np.ndarray:
        """A market rule for each distinct market (NaN where the market is unknown)."""
        if col not in market_rules or len(rules.markets) == 0:
            values = np.full(len(distinct), np.nan, dtype=object)
        else:
            values = market_rules[col]
            values = np.where(known_market, values[np.maximum(where, 0)], np.nan)
        return values.astype(cast) if cast is not None else values

    def rule(col: str, cast: type | None = None) -> np.ndarray:
        return np.asarray(per_market(col, cast)[codes])

    z = {c: _zero_where_blank(num(c)) for c in ZERO_DEFAULT}
    ccy_market = np.where(known_market, per_market("currency"), "").astype(object)
    ccy = ccy_market[codes]

    # FX: the line's own rate, else the FX table's for each distinct pair of currencies (the
    # cost currency, blank = the market's); required when the currencies differ.
    cost = _coded(t, "cost_currency")
    pair, pairs = customs.combined_codes(cost, markets)
    ccy_of = dict(zip(distinct.tolist(), ccy_market.tolist(), strict=True))
    dst = np.array([ccy_of[m] for _, m in pairs], dtype=object)
    src = np.array([c if c != "" else ccy_of[m] for c, m in pairs], dtype=object)
    fx = num("fx_rate")
    if len(pairs):
        fx = np.where(np.isnan(fx), _table_fx(rules, src, dst)[pair], fx)
    errs.append(
        errors_where(
            known & np.isnan(fx) & ~_had_error(prior, n, "fx_rate"),
            table=TABLE,
            column="fx_rate",
            zh=lambda idx: [
                f"汇率缺少 {a}→{b}（请填写汇率或在设置表中添加）"
                for a, b in zip(src[pair[idx]], dst[pair[idx]], strict=True)
            ],
            en=lambda idx: [
                f"FX rate missing for {a}->{b} (enter fx_rate or add it to the FX table)"
                for a, b in zip(src[pair[idx]], dst[pair[idx]], strict=True)
            ],
        )
    )

    tax_rate = np.where(np.isnan(num("vat_rate")), rule("tax_rate", float), num("vat_rate"))
    recoverable = (
        np.where(
            np.isnan(num("vat_recoverable")),
            rule("import_tax_recoverable", float),
            num("vat_recoverable"),
        )
        > 0.5
    )
    cif = (per_market("valuation_basis") == "CIF")[codes]
    incl_duty = rule("tax_base_includes_duty", bool)
    incl_transport = rule("tax_base_includes_transport", bool)
    gross_up = rule("tax_gross_up", bool)
    price_incl = rule("price_includes_tax", bool)
    unions = derived(rules.markets, "customs unions", lambda: _customs_unions(rules.markets))
    origin = _coded(t, "origin").filled(customs.DEFAULT_ORIGIN)
    ship_from = _coded(t, "ship_from")
    hs = _coded(t, "hs_code")

    goods = num("unit_cost") * fx
    transport = z["freight_per_unit"] + z["insurance_per_unit"]
    customs_value = goods + np.where(cif, transport, 0.0)

    # Parcels and entries
    invalid = ~known | np.isnan(customs_value) | _rows_with_errors(prior, n)
    groups = customs.group_lines(
        _coded(t, "parcel"),
        num("units_per_parcel"),
        num("consignment_value"),
        _coded(t, "shipment"),
        num("units_per_entry"),
        hs,
        markets,
        goods,
        customs_value,
        invalid,
    )
    errs.append(groups.errors)
    mode = _coded(t, "transport_mode")
    units = groups.declared_units
    market_ccy = derived(rules.markets, "currencies", lambda: _currencies(rules.markets))
    places = [(m, market_ccy.get(m, "")) for m in markets.uniques]

    def rounded(values: np.ndarray, step: str) -> np.ndarray:
        inc, method = customs.rounding_rule(rules, step, places)
        if np.isnan(inc).all():
            return values
        return customs.round_step(values, units, inc[markets.codes], method[markets.codes])

    # Rates: the tariff, the line's own rate over it, a scenario's override over both.
    rates = customs.tariff_rates(hs, markets, unions, origin, rules.tariff)
    own_duty, own_extra = num("duty_rate"), num("extra_duty_rate")
    forced_duty = customs.override_rates(rules.overrides, "duty_rate", hs, markets, unions, origin)
    forced_extra = customs.override_rates(
        rules.overrides, "extra_duty_rate", hs, markets, unions, origin
    )
    duty_rate = np.where(np.isnan(own_duty), rates.base, own_duty)
    duty_rate = np.where(np.isnan(forced_duty), duty_rate, forced_duty)
    extra_rate = np.where(np.isnan(own_extra), rates.extra, own_extra)
    extra_rate = np.where(np.isnan(forced_extra), extra_rate, forced_extra)
    unexpressible = known & (rates.unexpressible != "") & np.isnan(own_duty) & np.isnan(forced_duty)
    errs.append(
        errors_where(
            unexpressible,
            table=TABLE,
            column="hs_code",
            zh=lambda idx: [
                f"{distinct[codes[i]]} 税则对 {hs.values(idx)[k]} 为从量或复合税"
                f"（{rates.unexpressible[i]}），无法按比例计算；请填写本行的关税税率"
                for k, i in enumerate(idx)
            ],
            en=lambda idx: [
                f"the {distinct[codes[i]]} tariff gives {hs.values(idx)[k]} a specific or "
                f"compound duty ({rates.unexpressible[i]}) XLPlan cannot apply; enter the "
                "line's duty rate"
                for k, i in enumerate(idx)
            ],
        )
    )
    duty_rate = nan_to_num(duty_rate)
    extra_rate = nan_to_num(extra_rate)

    duty_base = rounded(customs_value, "duty_base")
    duty = rounded(duty_base * duty_rate, "duty")
    extra_duty = rounded(duty_base * extra_rate, "duty")

    regime = customs.low_value(
        markets, rules, ccy, customs_value, groups, origin, ship_from, mode, known
    )
    errs.append(regime.errors)
    duty = np.where(regime.duty_override, regime.duty, duty)
    extra_duty = np.where(regime.duty_override, 0.0, extra_duty)

    duty_in_base = rounded(duty, "duty_in_vat_base") + rounded(extra_duty, "duty_in_vat_base")
    tax_base_extra = np.where(incl_transport & ~cif, transport, 0.0)
    vat_base = rounded(
        customs_value
        + np.where(incl_duty, duty_in_base, 0.0)
        + tax_base_extra
        + z["vat_base_adjustment"],
        "vat_base",
    )
    import_vat = np.where(gross_up, vat_base * tax_rate / (1.0 - tax_rate), vat_base * tax_rate)
    import_vat = rounded(import_vat, "import_vat")
    import_vat = np.where(regime.no_import_tax, 0.0, import_vat)

    fees = customs.entry_fees(
        rules,
        groups,
        markets,
        ccy,
        mode,
        customs_value,
        num("brokerage_per_entry"),
        regime.duty_exempt,
    )

    landed = (
        goods
        + transport
        + duty
        + extra_duty
        + z["clearance_per_unit"]
        + fees
        + np.where(recoverable, 0.0, import_vat)
    )
    price = num("price")
    k = np.where(price_incl, 1.0 / (1.0 + tax_rate), 1.0)
    sales_tax = price * (1.0 - k)
    net_price = price - sales_tax
    payment_rule, no_payment = _processor_payments(t, rules, num, z, ccy)
    fee = _platform_fees(t, rules, num)
    out = fee.columns
    schedule, refund_rule = _refund_admin(t, rules, num, fee.schedule)
    refund_admin = schedule.at(nan_to_num(price), "refund")
    referral = nan_to_num(_floats(out["referral_fee"])) + _floats(out["closing_fee"])
    fulfilment_fee = _floats(out["fulfilment_fee"])
    fuel = nan_to_num(_floats(out["fuel_surcharge"]))
    storage = nan_to_num(_floats(out["storage_fee"])) + nan_to_num(_floats(out["aged_surcharge"]))
    payment = price * z["payment_rate"] + z["payment_fixed"]
    fx_loss = price * z["fx_loss_rate"]
    ad = price * z["ad_rate"]
    fulfilment = nan_to_num(fulfilment_fee) + fuel + storage
    returns = z["return_rate"] * (z["return_cost_per_unit"] + z["unsellable_rate"] * landed)
    # A lost parcel loses the goods and a last mile paid by the seller; FBA fees from the
    # tables are not charged again for a unit the fulfilment centre loses.
    lost = z["lost_rate"] * (landed + z["last_mile_per_unit"])
    total = landed + referral + refund_admin + payment + fx_loss + ad + fulfilment + returns + lost
    contribution = net_price - total
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(net_price != 0, contribution / net_price, np.nan)

    # Costs that do not move with the price; the referral, commission and FBA fees that do are
    # in the fee schedule, solved exactly across their tiers and price bands.
    fixed = landed + returns + lost + z["payment_fixed"] + fee.fixed_fees
    pct = z["payment_rate"] + z["fx_loss_rate"] + z["ad_rate"]
    breakeven = platform.solve_price(schedule, fixed, k, pct, 0.0)
    target = num("target_margin")
    target_price = platform.solve_price(schedule, fixed, k, pct, nan_to_num(target))
    target_price = np.where(np.isnan(target), np.nan, target_price)
    unreachable = known & ~np.isnan(target) & np.isnan(target_price) & ~np.isnan(fixed)
    target_errors = errors_where(
        unreachable,
        table=TABLE,
        column="target_margin",
        zh="任何售价都达不到目标利润率：按售价比例的费用已占净售价的全部",
        en="no price reaches the target margin: percentage fees take the whole net price",
    )

    def margin_at(p: np.ndarray) -> np.ndarray:
        """The margin at price ``p`` [fraction]; NaN where there is no positive price (most
        lines have no competitor price: only the others are looked up)."""
        out = np.full(len(p), np.nan)
        rows = np.flatnonzero(p > 0)
        if len(rows):
            q, kq = p[rows], k[rows]
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = kq * q - pct[rows] * q - schedule.at_rows(q, rows) - fixed[rows]
                out[rows] = gain / (kq * q)
        return out

    competitor = num("competitor_price")
    flags = _flags(
        out["fee_flag"],
        (
            (price > competitor, PriceFlag.ABOVE_COMPETITOR),
            (price < breakeven - 1e-9, PriceFlag.BELOW_BREAKEVEN),
            (no_payment, PriceFlag.NO_PAYMENT_RULE),
        ),
    )
    rule_ids = _joined(_joined(out["fee_rules"], refund_rule), payment_rule)
    values = {
        "currency": ccy,
        "customs_value": customs_value,
        "duty_base": duty_base,
        "duty": duty,
        "extra_duty": extra_duty,
        "vat_base": vat_base,
        "import_vat": import_vat,
        "entry_fees": fees,
        "landed_cost": landed,
        "sales_tax": sales_tax,
        "net_price": net_price,
        "referral_fee": referral,
        "refund_admin_fee": refund_admin,
        "payment_fee": payment,
        "fx_loss": fx_loss,
        "ad_cost": ad,
        "fulfilment_cost": fulfilment,
        "fulfilment_fee": fulfilment_fee,
        "fuel_surcharge": fuel,
        "storage_fee": storage,
        "returns_cost": returns,
        "lost_cost": lost,
        "total_cost": total,
        "contribution": contribution,
        "contribution_margin": margin,
        "breakeven_price": breakeven,
        "price_for_target_margin": target_price,
        "size_tier": out["size_tier"],
        "dim_weight_kg": _floats(out["dim_weight_kg"]),
        "competitor_margin": margin_at(competitor),
        "margin_5_below": margin_at(competitor * 0.95),
        "margin_8_below": margin_at(competitor * 0.92),
        "flags": flags,
        "fee_rules": rule_ids,
    }
    return values, concat_errors(errs), target_errors


class PriceFlag(str, Enum):
    """How the planned price sits against the competitor's and the break-even price, and a
    payment processor the fee tables do not know (its fees are then not counted)."""

    ABOVE_COMPETITOR = "above_competitor"
    BELOW_BREAKEVEN = "below_breakeven"
    NO_PAYMENT_RULE = "no_payment_rule"


def _floats(values: np.ndarray | pd.Categorical) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _flags(
    fee_flags: np.ndarray | pd.Categorical, marks: Sequence[tuple[np.ndarray, PriceFlag]]
) -> pd.Categorical:
    """The fee flags and the price flags of each line, joined by ``;`` (``marks``: where each
    price flag holds). Built on the codes of the few distinct fee flags: one text per
    combination of a fee flag and the price flags, not a string per line."""
    codes, distinct = _codes(fee_flags)
    combined = codes << len(marks)
    for bit, (mask, _) in enumerate(marks):
        combined |= np.asarray(mask, dtype=np.int64) << bit
    width = 1 << len(marks)
    texts = np.empty(len(distinct) * width, dtype=object)
    for i, fee_flag in enumerate(distinct):
        for bits in range(width):
            parts = [str(fee_flag)] if fee_flag else []
            parts += [flag.value for bit, (_, flag) in enumerate(marks) if bits >> bit & 1]
            texts[i * width + bits] = ";".join(parts)
    return _texts_of(combined, texts)


def _texts_of(codes: np.ndarray, texts: np.ndarray) -> pd.Categorical:
    """``texts[codes]`` for every line as a categorical of the texts the lines use. A
    million lines' text outputs stay a few texts and their codes to the writers: made a
    string per line (~180 bytes for the fee rule rows), they were ~1 s of CPU to build and
    to copy into the output file's columns."""
    used, distinct = factorize(codes)
    shown = np.asarray(texts, dtype=object)[np.asarray(distinct, dtype=np.int64)]
    if len(shown) > 1:  # two combinations may read alike ("" joined with "x", "x" with "")
        same, shown = factorize(shown)
        used = same[used]
    return categorical(used, shown)


def _codes(values: np.ndarray | pd.Categorical) -> tuple[np.ndarray, np.ndarray]:
    """A text column as codes into its distinct values (a categorical's own codes)."""
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64), values.categories.to_numpy(dtype=object)
    codes, distinct = factorize(np.asarray(values, dtype=object))
    return np.asarray(codes, dtype=np.int64), np.asarray(distinct, dtype=object)


def _joined(
    first: np.ndarray | pd.Categorical, second: np.ndarray | pd.Categorical
) -> pd.Categorical:
    """Two columns of ``;``-joined rule ids joined (either may be ``""``), on their codes: one
    text per distinct pair, not a string per line."""
    a, a_texts = _codes_blank_as_text(first)
    b, b_texts = _codes_blank_as_text(second)
    texts = np.array(
        [";".join(x for x in (p, q) if x) for p in a_texts.tolist() for q in b_texts.tolist()],
        dtype=object,
    )
    return _texts_of(a * len(b_texts) + b, texts)


def _codes_blank_as_text(values: np.ndarray | pd.Categorical) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_codes` with a missing value (None) read as ``""``."""
    codes, distinct = _codes(values)
    if (codes < 0).any():
        distinct = np.append(distinct, "")
        codes = np.where(codes < 0, len(distinct) - 1, codes)
    return codes, np.array([str(v) for v in distinct.tolist()], dtype=object)


def _refund_admin(
    t: Columns,
    rules: Rules,
    num: Callable[[str], np.ndarray],
    schedule: platform.PriceSchedule,
) -> tuple[platform.PriceSchedule, np.ndarray]:
    """The fee schedule with Amazon's refund administration fee on lines with a refund rate
    (:func:`~xlplan.landed_cost.fees.with_refund_admin`), and its rule id per line."""
    refund_rate = num("refund_rate")
    if rules.fees is None or not (nan_to_num(refund_rate) > 0).any():
        return schedule, np.full(t.n, "", dtype=object)
    admin = platform.with_refund_admin(
        schedule,
        np.asarray(_text(t, "channel").astype(object), dtype=object),
        np.asarray(t.columns["market"], dtype=object),
        refund_rate,
        rules.fees,
    )
    return admin.schedule, admin.rule


def _processor_payments(
    t: Columns,
    rules: Rules,
    num: Callable[[str], np.ndarray],
    z: dict[str, np.ndarray],
    ccy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Lines naming a ``payment_processor`` with a blank payment rate and fixed fee take the
    processor's fees from the tables (``z`` is updated in place); the account is the line's
    market, or the EEA euro account for an EU market the table does not name. Returns the rule
    ids per line and where the tables have no row for the processor, account or an add-on the
    line's shares need."""
    n = t.n
    none = np.full(n, "", dtype=object), np.zeros(n, dtype=bool)
    if rules.fees is None or "payment_processor" not in t.columns:
        return none
    names = np.asarray(_text(t, "payment_processor").astype(object), dtype=object)
    wanted = (names != "") & np.isnan(num("payment_rate")) & np.isnan(num("payment_fixed"))
    if not wanted.any():
        return none
    market = np.asarray(t.columns["market"], dtype=object)
    accounts = list(set(rules.fees.payments["account_country"]))
    union = rules.markets.get("customs_union", pd.Series(dtype=object))
    in_eu = union.reindex(pd.Index(market)).to_numpy(dtype=object) == "EU"
    account = np.where(
        np.isin(market, accounts), market, np.where(in_eu, platform.EEA_ACCOUNT, market)
    )
    terms = platform.payment_processor_terms(np.where(wanted, names, ""), account, rules.fees)
    shares = {key: nan_to_num(num(key)) for key in ("intl_card_share", "conversion_share")}
    rate = terms.rate
    ids: Column = terms.rule[:, 0]
    for j, (share, addon) in enumerate(
        (
            (shares["intl_card_share"], terms.international),
            (shares["conversion_share"], terms.conversion),
        ),
        start=1,
    ):
        rate = rate + np.where(share > 0, share * addon, 0.0)
        ids = _joined(ids, np.where(share > 0, terms.rule[:, j], ""))
    to_market = rules.fx_rates(
        pd.Series(terms.currency, dtype=object).where(terms.currency != "", pd.Series(ccy)),
        pd.Series(ccy, dtype=object),
    ).to_numpy(dtype=float)
    fixed = terms.fixed * to_market
    use = wanted & np.isfinite(rate) & np.isfinite(fixed)
    z["payment_rate"] = np.where(use, rate, z["payment_rate"])
    z["payment_fixed"] = np.where(use, fixed, z["payment_fixed"])
    return np.where(use, np.asarray(ids, dtype=object), ""), wanted & ~use


def _platform_fees(
    t: Columns, rules: Rules, num: Callable[[str], np.ndarray]
) -> platform.FeeColumns:
    """The fee tables' figures for every line (:func:`~xlplan.landed_cost.fees.fee_columns`),
    the typed referral, last-mile and storage figures overriding them. Without fee tables in
    ``rules`` the typed figures alone count, a blank referral rate as 0."""
    tables = rules.fees if rules.fees is not None else no_fee_tables()
    rate = num("referral_rate")
    if rules.fees is None:
        rate = nan_to_num(rate)
    lines = Columns(
        {
            "channel": _text(t, "channel"),
            "market": _text(t, "market"),
            "category": _text(t, "category"),
            "listing_type": _text(t, "listing_type"),
            "price": num("price"),
            **{
                key: num(key)
                for key in (
                    "length_cm",
                    "width_cm",
                    "height_cm",
                    "weight_kg",
                    "months_in_stock",
                    "sell_month",
                    "referral_min",
                    "last_mile_per_unit",
                    "storage_per_unit",
                )
            },
            "referral_rate": rate,
        },
        t.n,
    )
    return platform.fee_columns(lines, tables)


def _currencies(markets: pd.DataFrame) -> dict[object, object]:
    """Each market's currency cell (none when the rules have no currency column)."""
    if "currency" not in markets:
        return {}
    return dict(zip(markets.index, markets["currency"].tolist(), strict=True))


def _text(t: Columns, key: str) -> pd.Categorical:
    """A text column as a categorical of its distinct stripped values (``""`` where blank)."""
    if key not in t.columns:
        return categorical(np.zeros(t.n, dtype=np.int64), [""])
    return text_categorical(t.columns[key])


def text_categorical(values: pd.Series | np.ndarray | pd.Categorical) -> pd.Categorical:
    """Cells as a categorical of their distinct values as text, stripped (``""`` where
    blank): the lines are hashed once (a categorical's own codes are reused), the text work is
    done on the distinct values."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = cast(pd.Categorical, values.array)
    if isinstance(values, pd.Categorical):
        codes = values.codes.astype(np.int64)
        distinct = values.categories.to_numpy(dtype=object)
        if codes.min(initial=0) >= 0 and all(
            isinstance(v, str) and v == v.strip() for v in distinct
        ):  # read already (typed_lines): its categories are the stripped texts
            return values
        if (codes < 0).any():
            distinct = np.append(distinct, np.array([None], dtype=object))
            codes = np.where(codes < 0, len(distinct) - 1, codes)
    else:
        codes, distinct = factorize(np.asarray(values, dtype=object))  # blanks: -1
        distinct = np.append(np.asarray(distinct, dtype=object), np.array([None], dtype=object))
        codes = np.where(codes < 0, len(distinct) - 1, codes)
    labels = ["" if pd.isna(v) else str(v).strip() for v in distinct]
    again, names = factorize(np.asarray(labels, dtype=object))
    if len(again) == 0:
        again = np.zeros(0, dtype=np.int64)
    return categorical(
        np.asarray(again, dtype=np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64),
        names if len(names) else [""],
    )


def _had_error(errors: pd.DataFrame, n: int, column: str) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if not len(errors):  # the usual case: no frame indexing for nothing
        return out
    rows = errors.loc[errors["column"] == column, "row"].to_numpy(dtype=np.int64)
    out[rows] = True
    return out


def _rows_with_errors(errors: pd.DataFrame, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if len(errors):
        out[errors["row"].to_numpy(dtype=np.int64)] = True
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
