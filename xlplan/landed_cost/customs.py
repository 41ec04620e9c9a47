"""Customs as it applies to a line: tariff rates by HS code, origin and market; parcels and
customs entries shared by several lines; low-value regimes by origin and transport mode;
per-entry fees; and the money rounding each market's law prescribes. Pure and vectorised: the
landed-cost chain (:mod:`xlplan.landed_cost.calc`) calls these on whole columns.

**Tariff.** Rows are keyed by HS prefix x market x origin (blank prefix = every good, blank
origin = any origin, market ``EU`` = the EU's members). For a line, the rows whose prefix
starts its ``hs_code`` and whose market and origin match apply:

- the *base rate* comes from the row with a ``duty_rate`` and the longest matching prefix; at
  equal length a row for the line's origin beats an any-origin row (a preference or an
  origin-specific rate), the workbook's row beats the shipped one, and a row for the market
  beats one for its customs union;
- *extra duties* are grouped by ``measure``: within a measure the same order picks one row
  (a scenario's row for the measure first), and the measures stack.

A line's own ``duty_rate`` / ``extra_duty_rate`` override what the tariff gives; a scenario's
rate overrides (:data:`xlplan.reference.OVERRIDE_COLUMNS`) override both. A winning base row
whose published duty is specific or compound (no plain percentage) is reported on lines
without their own rate.

**Parcels and entries.** Lines with the same ``parcel`` id form one parcel; a line without an
id but with ``units_per_parcel`` or ``consignment_value`` is a parcel of its own. A parcel's
value for low-value thresholds is its intrinsic value (``consignment_value`` when given, else
the sum of units x goods value); its subheadings are the distinct first six digits of its
lines' HS codes (a line without a code counts as one of its own); a per-parcel charge C reaches
a unit as C x customs value / S, with S the sum of the parcel's units x customs values, so the
lines' shares add up to C. (A lone line that gives only ``consignment_value`` V takes S = V.)
Lines with the same ``shipment`` id form one customs entry; a line with ``units_per_entry`` and
no shipment is an entry of its own; otherwise a parcel is its own entry. Entry fees are shared
the same way, by customs value. A parcel or an entry goes to one market.

**Rounding.** A rule rounds one step (duty base, duty, duty in the VAT base, VAT base, import
tax) of the amount declared for the line: its units in the entry (else in the parcel) times
the per-unit amount; the rounded amount is then divided back per unit. A bulk line (in no
parcel and no entry) is a per-unit average over a declaration of unknown size: no legal
rounding applies to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

import numpy as np
import pandas as pd

from xlplan.core.arrays import nan_to_num, select
from xlplan.core.columns import factorize
from xlplan.core.errors import NO_ERRORS, concat_errors, errors_where
from xlplan.core.memo import derived
from xlplan.reference import SCENARIO, WORKBOOK, Rules

TABLE = "landed_cost"
DEFAULT_ORIGIN = "CN"
SUBHEADING_DIGITS = 6
HS_MIN_DIGITS, HS_MAX_DIGITS = 2, 10


class Treatment(str, Enum):
    """How a low-value regime tier treats a consignment (``low_value_regimes.csv``)."""

    EXEMPT = "exempt"
    COLLECTED_AT_SALE = "collected_at_sale"
    FLAT_PER_PARCEL = "flat_per_parcel"
    FLAT_PER_SUBHEADING = "flat_per_subheading"
    RATE = "rate"
    RATE_MINUS_DEDUCTION = "rate_minus_deduction"
    COMBINED_RATE = "combined_rate"
    NONE = "none"


class TransportMode(str, Enum):
    """How the goods cross the border (regimes and entry fees depend on it)."""

    OCEAN = "ocean"
    AIR = "air"
    RAIL = "rail"
    ROAD = "road"
    COURIER = "courier"
    POSTAL = "postal"


class Rounding(str, Enum):
    """Rounding methods of ``rounding_rules.csv``."""

    TRUNCATE = "truncate"
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    NOT_COLLECTED_BELOW = "not_collected_below"


# --------------------------------------------------------------------------------------------
# HS codes
# --------------------------------------------------------------------------------------------


def normalise_hs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HS codes as digits only (``8504.40`` -> ``850440``; ``""`` where blank) and where a
    code is not 2 to 10 digits once dots, spaces and hyphens are dropped. Works on the distinct
    codes only."""
    inverse, uniques = factorize(np.asarray(codes, dtype=object), use_na_sentinel=False)
    clean = [_HS_SEPARATORS.sub("", str(u)) for u in uniques]
    ok = np.array([c == "" or _HS_DIGITS.fullmatch(c) is not None for c in clean], dtype=bool)
    shown = np.array(clean, dtype=object)
    shown[~ok] = ""
    return np.asarray(shown[inverse], dtype=object), ~ok[inverse]


_HS_SEPARATORS = re.compile(r"[.\s-]")
_HS_DIGITS = re.compile(rf"\d{{{HS_MIN_DIGITS},{HS_MAX_DIGITS}}}")


class Coded(NamedTuple):
    """A column of a million lines as codes into its few distinct values (``codes`` index
    ``uniques``): rules are resolved once per distinct value, then taken back to the lines."""

    codes: np.ndarray
    uniques: np.ndarray

    def values(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The lines' values (of ``rows`` only, when given)."""
        codes = self.codes if rows is None else self.codes[rows]
        out: np.ndarray = np.asarray(self.uniques, dtype=object)[codes]
        return out

    def filled(self, default: str) -> Coded:
        """Blank values (``""``) read as ``default``."""
        uniques = np.asarray(self.uniques, dtype=object).copy()
        uniques[uniques == ""] = default
        return Coded(self.codes, uniques)


def coded(values: object) -> Coded:
    """A column as :class:`Coded`: a categorical's own codes, else factorised (no blanks: a
    missing value reads as ``""``)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.array
    if isinstance(values, pd.Categorical):
        cats = values.categories.to_numpy(dtype=object)
        codes = values.codes.astype(np.int64)
        if (codes < 0).any():
            cats = np.append(cats, "")
            codes = np.where(codes < 0, len(cats) - 1, codes)
        return Coded(codes, cats)
    array = np.asarray(values, dtype=object)
    codes, uniques = factorize(array, use_na_sentinel=False)
    uniques = np.asarray(uniques, dtype=object)
    uniques[pd.isna(uniques)] = ""
    return Coded(codes.astype(np.int64), uniques)


def combined_codes(*columns: Coded) -> tuple[np.ndarray, list[tuple[object, ...]]]:
    """One code per line for the combination of ``columns``, and the distinct combinations of
    values in code order (integer keys only: a million lines cost a few hash passes)."""
    n = len(columns[0].codes)
    key = np.zeros(n, dtype=np.int64)
    for col in columns:
        key, _ = factorize(key * max(len(col.uniques), 1) + col.codes)
    count = int(key.max()) + 1 if n else 0
    first = np.zeros(count, dtype=np.int64)
    first[key[::-1]] = np.arange(n - 1, -1, -1)  # the last write wins: the first occurrence
    combos = [tuple(col.uniques[col.codes[r]] for col in columns) for r in first]
    return np.asarray(key, dtype=np.int64), combos


# --------------------------------------------------------------------------------------------
# Tariff
# --------------------------------------------------------------------------------------------


class TariffRates(NamedTuple):
    """Per line: the tariff's base rate (NaN where no row applies), its extra duties summed,
    and the published text of a base duty the calculator cannot apply (``""`` otherwise)."""

    base: np.ndarray
    extra: np.ndarray
    unexpressible: np.ndarray


Rank = tuple[int, int, int, int, int]
_Index = tuple[
    dict[tuple[str, str, str], tuple[Rank, float, str]],
    dict[tuple[str, str, str], list[tuple[str, Rank, float]]],
]


def _rank(prefix: str, origin: str, layer: int, union_row: bool) -> Rank:
    """Sort key of a matching row: greater wins (see the module docstring)."""
    return (
        int(layer == SCENARIO),
        len(prefix),
        int(origin != ""),
        int(layer >= WORKBOOK),
        int(not union_row),
    )


def _tariff_index(table: pd.DataFrame) -> _Index:
    """Rows keyed by (market, origin, prefix): the best base row, the extra rows. Built once
    per table (:func:`~xlplan.core.memo.derived`)."""
    return derived(table, "tariff index", lambda: _tariff_index_of(table))


def _tariff_index_of(table: pd.DataFrame) -> _Index:
    base: dict[tuple[str, str, str], tuple[Rank, float, str]] = {}
    extra: dict[tuple[str, str, str], list[tuple[str, Rank, float]]] = {}
    cols = ["hs_prefix", "market", "origin", "duty_rate", "extra_duty_rate", "measure"]
    rows = table[[*cols, "duty_text", "layer"]].itertuples(index=False, name=None)
    for prefix, market, origin, rate, extra_rate, measure, text, layer in rows:
        key = (market, origin, prefix)
        rank = _rank(prefix, origin, int(layer), False)
        if not np.isnan(rate) or text:
            old = base.get(key)
            if old is None or rank >= old[0]:
                base[key] = (rank, float(rate), "" if not np.isnan(rate) else str(text))
        if not np.isnan(extra_rate):
            extra.setdefault(key, []).append((str(measure), rank, float(extra_rate)))
    return base, extra


def _resolve(
    index: _Index, hs: str, market: str, union: str, origin: str
) -> tuple[float, float, str]:
    base, extra = index
    markets = [(market, False)] + ([(union, True)] if union else [])
    best: tuple[Rank, float, str] | None = None
    measures: dict[str, tuple[Rank, float]] = {}
    for length in range(len(hs), -1, -1):
        prefix = hs[:length]
        for mkt, union_row in markets:
            for org in (origin, ""):
                key = (mkt, org, prefix)
                hit = base.get(key)
                if hit is not None:
                    rank = (hit[0][0], length, int(org != ""), hit[0][3], int(not union_row))
                    if best is None or rank > best[0]:
                        best = (rank, hit[1], hit[2])
                for measure, row_rank, rate in extra.get(key, ()):
                    rank = (row_rank[0], length, int(org != ""), row_rank[3], int(not union_row))
                    old = measures.get(measure)
                    if old is None or rank > old[0]:
                        measures[measure] = (rank, rate)
        if length == 0:
            break
    total = sum(rate for _, rate in measures.values())
    if best is None:
        return np.nan, total, ""
    return best[1], total, best[2]


def tariff_rates(
    hs: Coded, market: Coded, unions: dict[str, str], origin: Coded, table: pd.DataFrame
) -> TariffRates:
    """The tariff's rates for every line (see the module docstring), resolved once per
    distinct (HS code, market, origin); ``unions`` maps a market to its customs union."""
    n = len(hs.codes)
    if n == 0 or table.empty:
        return TariffRates(np.full(n, np.nan), np.zeros(n), np.full(n, "", dtype=object))
    index = _tariff_index(table)
    codes, distinct = combined_codes(hs, market, origin)
    resolved = [
        _resolve(index, str(h), str(m), unions.get(str(m), ""), str(o)) for h, m, o in distinct
    ]
    base = np.array([r[0] for r in resolved], dtype=float)
    extra = np.array([r[1] for r in resolved], dtype=float)
    text = np.array([r[2] for r in resolved], dtype=object)
    return TariffRates(base[codes], extra[codes], text[codes])


def override_rates(
    overrides: pd.DataFrame,
    kind: str,
    hs: Coded,
    market: Coded,
    unions: dict[str, str],
    origin: Coded,
) -> np.ndarray:
    """A scenario's overriding rate of ``kind`` per line (NaN where none applies): among the
    override rows matching the line, the longest HS prefix, then a named origin, then the
    market over its union, wins."""
    n = len(hs.codes)
    if overrides.empty or n == 0:  # no scenario: nothing to select
        return np.full(n, np.nan)
    rows = overrides[overrides["kind"] == kind]
    if rows.empty:
        return np.full(n, np.nan)
    table: dict[tuple[str, str, str], float] = {}
    for prefix, mkt, org, rate in rows[["hs_prefix", "market", "origin", "rate"]].itertuples(
        index=False, name=None
    ):
        table[(str(mkt), str(org), str(prefix))] = float(rate)
    codes, distinct = combined_codes(hs, market, origin)

    def one(code: str, mkt: str, org: str) -> float:
        for length in range(len(code), -1, -1):
            for o in (org, ""):
                for m in (mkt, unions.get(mkt, "")):
                    if m and (m, o, code[:length]) in table:
                        return table[(m, o, code[:length])]
        return float("nan")

    values = np.array([one(str(h), str(m), str(o)) for h, m, o in distinct], dtype=float)
    out: np.ndarray = values[codes]
    return out


# --------------------------------------------------------------------------------------------
# Parcels and entries
# --------------------------------------------------------------------------------------------


class Groups(NamedTuple):
    """Per line: whether it is in a parcel, the parcel's value for thresholds [market ccy], the
    share of a per-parcel charge one unit of customs value carries [1/market ccy] (a unit's
    share is customs value x share), the parcel's distinct subheadings; the same for its entry
    (value, share, a key per entry, -1 for none); the units declared for the line (NaN for a
    bulk line, in neither); and the errors."""

    in_parcel: np.ndarray
    parcel_value: np.ndarray
    parcel_share: np.ndarray
    subheadings: np.ndarray
    in_entry: np.ndarray
    entry_value: np.ndarray
    entry_share: np.ndarray
    entry_key: np.ndarray
    declared_units: np.ndarray
    errors: pd.DataFrame


def _group_codes(ids: Coded) -> tuple[np.ndarray, int]:
    """Group number per line (-1 where the id is blank) and the number of groups."""
    named = np.asarray(ids.uniques, dtype=object) != ""
    if not named.any():
        return np.full(len(ids.codes), -1, dtype=np.int64), 0
    numbers = np.where(named, np.cumsum(named) - 1, -1)
    return np.asarray(numbers[ids.codes], dtype=np.int64), int(named.sum())


def _sums(codes: np.ndarray, count: int, weights: np.ndarray) -> np.ndarray:
    """Per line, the sum of ``weights`` over its group (NaN where the line has none)."""
    inside = codes >= 0
    totals = np.bincount(codes[inside], weights=weights[inside], minlength=count)
    out = np.full(len(codes), np.nan)
    out[inside] = totals[codes[inside]]
    return out


def _distinct_per_group(codes: np.ndarray, count: int, keys: np.ndarray) -> np.ndarray:
    """Per line, the number of distinct ``keys`` (ints) in its group."""
    inside = codes >= 0
    pairs = np.unique(np.stack([codes[inside], keys[inside]]), axis=1)
    per_group = np.bincount(pairs[0], minlength=count)
    out = np.zeros(len(codes), dtype=np.int64)
    out[inside] = per_group[codes[inside]]
    return out


def _group_errors(
    codes: np.ndarray,
    count: int,
    id_cells: Coded,
    market: Coded,
    invalid: np.ndarray,
    column: str,
    what: tuple[str, str],
) -> pd.DataFrame:
    """A group (parcel or entry) with lines for several markets, or with a line that has an
    error of its own, cannot be computed: each of its lines says so."""
    inside = codes >= 0
    if not inside.any():
        return NO_ERRORS
    mixed_groups = _distinct_per_group(codes, count, market.codes) > 1
    bad_groups = np.bincount(codes[inside], weights=invalid[inside].astype(float), minlength=count)
    broken = inside & ~invalid & (bad_groups[np.maximum(codes, 0)] > 0) & ~mixed_groups
    if not (mixed_groups.any() or broken.any()):
        return NO_ERRORS
    zh_what, en_what = what
    ids = id_cells.values()
    markets = market.values()
    listing: dict[int, str] = {}
    for g in np.unique(codes[mixed_groups]):
        listing[int(g)] = ", ".join(sorted(set(markets[codes == g]) - {""}))

    def zh_mixed(idx: np.ndarray) -> list[str]:
        return [
            f"{zh_what} '{ids[i]}' 含多个市场的行（{listing[int(codes[i])]}）；"
            f"一个{zh_what}只能进入一个市场"
            for i in idx
        ]

    def en_mixed(idx: np.ndarray) -> list[str]:
        return [
            f"{en_what} '{ids[i]}' holds lines for several markets ({listing[int(codes[i])]}); "
            f"a {en_what} goes to one market"
            for i in idx
        ]

    return concat_errors(
        [
            errors_where(mixed_groups, table=TABLE, column=column, zh=zh_mixed, en=en_mixed),
            errors_where(
                broken,
                table=TABLE,
                column=column,
                zh=lambda idx: [
                    f"{zh_what} '{ids[i]}' 的另一行有错误，无法计算该{zh_what}" for i in idx
                ],
                en=lambda idx: [
                    f"another line of {en_what} '{ids[i]}' has an error, so the {en_what} "
                    "cannot be valued"
                    for i in idx
                ],
            ),
        ]
    )


def group_lines(
    parcel: Coded,
    units_per_parcel: np.ndarray,
    consignment_value: np.ndarray,
    shipment: Coded,
    units_per_entry: np.ndarray,
    hs: Coded,
    market: Coded,
    goods: np.ndarray,
    customs_value: np.ndarray,
    invalid: np.ndarray,
) -> Groups:
    """Parcels and entries of the lines (see the module docstring). Values are per line in
    the market currency; ``invalid`` marks lines that have errors of their own."""
    n = len(parcel.codes)
    errors: list[pd.DataFrame] = []
    cv = np.where(invalid, np.nan, customs_value)

    # Parcels
    p_codes, p_count = _group_codes(parcel)
    has_id = p_codes >= 0
    u_p = np.where(np.isnan(units_per_parcel), 1.0, units_per_parcel)
    given_v = ~np.isnan(consignment_value)
    lone = ~has_id & (~np.isnan(units_per_parcel) | given_v)
    in_parcel = has_id | lone
    value = np.where(has_id, _sums(p_codes, p_count, u_p * goods), u_p * goods)
    if (has_id & given_v).any():
        stated = pd.Series(np.where(has_id & given_v, consignment_value, np.nan))
        by_parcel = stated.groupby(p_codes)
        low = by_parcel.transform("min").to_numpy()
        high = by_parcel.transform("max").to_numpy()
        errors.append(
            errors_where(
                has_id & given_v & (low != high),
                table=TABLE,
                column="consignment_value",
                zh="同一包裹的各行填写的包裹货值不一致",
                en="the lines of this parcel give different consignment values",
            )
        )
        value = np.where(has_id & ~np.isnan(low), low, value)
    value = np.where(lone & given_v, consignment_value, value)
    denominator = np.where(has_id, _sums(p_codes, p_count, u_p * cv), u_p * cv)
    legacy = lone & given_v & np.isnan(units_per_parcel)
    denominator = np.where(legacy, consignment_value, denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(in_parcel, np.where(denominator > 0, 1.0 / denominator, 0.0), np.nan)
    subheadings = np.ones(n, dtype=np.int64)
    if has_id.any():
        # A subheading is the code's first six digits; a line without a code is one of its own.
        heads = [str(u)[:SUBHEADING_DIGITS] for u in hs.uniques]
        head_codes, head_uniques = factorize(np.asarray(heads, dtype=object))
        sub_key = head_codes[hs.codes].astype(np.int64)
        blank = np.asarray(head_uniques, dtype=object)[sub_key] == ""
        sub_key = np.where(blank, len(head_uniques) + np.arange(n), sub_key)
        subheadings = np.where(has_id, _distinct_per_group(p_codes, p_count, sub_key), 1)
    errors.append(
        _group_errors(p_codes, p_count, parcel, market, invalid, "parcel", ("包裹", "parcel"))
    )

    # Entries
    e_codes, e_count = _group_codes(shipment)
    has_entry_id = e_codes >= 0
    u_e = np.where(np.isnan(units_per_entry), 1.0, units_per_entry)
    own_entry = ~has_entry_id & ~np.isnan(units_per_entry)
    parcel_entry = ~has_entry_id & ~own_entry & in_parcel
    in_entry = has_entry_id | own_entry | parcel_entry
    parcel_value_for_entry = np.where(legacy, value, denominator)
    entry_value = select(
        [has_entry_id, own_entry, parcel_entry],
        [_sums(e_codes, e_count, u_e * cv), u_e * cv, parcel_value_for_entry],
        default=np.nan,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        entry_share = np.where(
            in_entry,
            np.where(parcel_entry, share, np.where(entry_value > 0, 1.0 / entry_value, 0.0)),
            np.nan,
        )
    # One key per entry: the shipment's number, else the parcel's, else the line's own.
    entry_key = select(
        [has_entry_id, parcel_entry & has_id, in_entry],
        [e_codes, e_count + p_codes, e_count + p_count + np.arange(n)],
        default=-1,
    )
    errors.append(
        _group_errors(
            e_codes, e_count, shipment, market, invalid, "shipment", ("报关单", "shipment")
        )
    )
    declared = select(
        [has_entry_id | own_entry, in_parcel], [u_e, np.where(legacy, 1.0, u_p)], default=np.nan
    )
    return Groups(
        in_parcel,
        value,
        share,
        subheadings,
        in_entry,
        entry_value,
        entry_share,
        entry_key,
        declared,
        concat_errors(errors),
    )


# --------------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------------

_METHOD_CODES = {m.value: i for i, m in enumerate(Rounding)}


def rounding_rule(
    rules: Rules, step: str, places: Sequence[tuple[object, object]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per (market, currency) of ``places``, the increment (NaN = no rule) and method code of
    ``step``'s rule; a rule applies only to amounts in its own currency."""
    inc = np.full(len(places), np.nan)
    method = np.zeros(len(places), dtype=np.int64)
    found = _rounding_rows(rules.rounding, step)
    for i, key in enumerate(places):
        if key in found:
            m, increment = found[key]
            inc[i] = increment
            method[i] = _METHOD_CODES[m]
    return inc, method


_RoundingRows = dict[tuple[object, object], tuple[str, float]]


def _rounding_rows(table: pd.DataFrame, step: str) -> _RoundingRows:
    """``{(market, currency): (method, increment)}`` of the valid rows of ``step``, built once
    per rounding table and step (a one-line UDF computes with the same rules many times)."""

    def make() -> _RoundingRows:
        rows = table[table["step"] == step]
        return {
            (mkt, ccy): (str(m), float(increment))
            for mkt, m, increment, ccy in rows[
                ["market", "method", "increment", "currency"]
            ].itertuples(index=False, name=None)
            if m in _METHOD_CODES and increment > 0
        }

    return derived(table, ("rounding rows", step), make)


def round_step(
    values: np.ndarray, units: np.ndarray, increment: np.ndarray, method: np.ndarray
) -> np.ndarray:
    """Per-unit ``values`` rounded as the declared amount (``units`` x value) is, per line's
    rule; lines without a rule (NaN increment) or without declared units (NaN) keep theirs.

    The scaled amount is first rounded to 9 decimals of the increment so that binary noise
    (115 x 0.035 = 4.0249999...) does not decide a truncation or a tie.
    """
    ruled = ~np.isnan(increment) & ~np.isnan(values) & ~np.isnan(units)
    if not ruled.any():
        return values
    out = values.copy()
    inc = increment[ruled]
    q = units[ruled]
    steps = np.round(values[ruled] * q / inc, 9)
    code = method[ruled]
    rounded = select(
        [
            code == _METHOD_CODES[Rounding.TRUNCATE.value],
            code == _METHOD_CODES[Rounding.HALF_UP.value],
            code == _METHOD_CODES[Rounding.HALF_EVEN.value],
        ],
        [np.floor(steps), np.floor(steps + 0.5), np.round(steps)],
        default=np.where(steps < 1.0, 0.0, steps),
    )
    out[ruled] = rounded * inc / q
    return out


# --------------------------------------------------------------------------------------------
# Low-value regimes
# --------------------------------------------------------------------------------------------

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
    "origin",
    "ship_from",
    "transport_mode",
]
"""The regime columns :func:`low_value` uses (the others are sources and notes)."""


class Regime(NamedTuple):
    """Per line: whether a regime sets the duty, that duty [market ccy/unit], whether it
    clears the import tax, whether it exempts the duty (a release without an entry), and the
    errors."""

    duty_override: np.ndarray
    duty: np.ndarray
    no_import_tax: np.ndarray
    duty_exempt: np.ndarray
    errors: pd.DataFrame


def _scope(value: object) -> list[str]:
    """A ``;``-separated list cell (blank = any: ``[""]``)."""
    items = [part.strip() for part in str(value if isinstance(value, str) else "").split(";")]
    return [part for part in items if part] or [""]


def line_modes(mode: Coded, groups: Groups, rows: np.ndarray) -> np.ndarray:
    """The transport mode of ``rows``: the line's own, else courier in a parcel, air
    otherwise."""
    values = mode.values(rows)
    default = np.where(groups.in_parcel[rows], TransportMode.COURIER.value, TransportMode.AIR.value)
    return np.where(values == "", default, values)


def _pairs_to_lines(
    key: np.ndarray, pair_combo: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (line, pair) whose pair belongs to the line's combination: positions into the
    lines and into the pairs (sorted by combination), without a join."""
    order = np.argsort(pair_combo, kind="stable")
    per_combo = np.bincount(pair_combo, minlength=count)
    starts = np.cumsum(per_combo) - per_combo
    repeat = per_combo[key]
    total = int(repeat.sum())
    line = np.repeat(np.arange(len(key)), repeat)
    offset = np.arange(total) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    pair = order[np.repeat(starts[key], repeat) + offset]
    return line, pair


def _fx_pairs(rules: Rules, src: list[str], dst: list[str]) -> np.ndarray:
    if not src:
        return np.zeros(0)
    return rules.fx_rates(pd.Series(src, dtype=object), pd.Series(dst, dtype=object)).to_numpy()


def low_value(
    market: Coded,
    rules: Rules,
    currency: np.ndarray,
    customs_value: np.ndarray,
    groups: Groups,
    origin: Coded,
    ship_from: Coded,
    mode: Coded,
    known: np.ndarray,
) -> Regime:
    """The low-value regime tier of each parcel line (``min_value < V <= max_value`` with V the
    parcel's value in the tier's currency). For one line and levy, the most specific matching
    row wins: one that names the line's origin, ship-from country or transport mode beats one
    that does not (each named dimension counts one).

    The rows that fit a line depend only on its market, currency, origin, ship-from country and
    mode: they are found once per distinct combination, then spread to the lines."""
    n = len(customs_value)
    duty_override = np.zeros(n, dtype=bool)
    duty = np.zeros(n)
    no_tax = np.zeros(n, dtype=bool)
    exempt = np.zeros(n, dtype=bool)
    value = groups.parcel_value
    rows = np.flatnonzero(known & groups.in_parcel & ~np.isnan(value))
    if len(rows) == 0 or rules.regimes.empty:
        return Regime(duty_override, duty, no_tax, exempt, NO_ERRORS)
    regimes = rules.regimes.reindex(columns=REGIME_RULES).reset_index(drop=True)
    by_market: dict[str, list[int]] = {}
    for i, code in enumerate(regimes["market"].astype(str)):
        by_market.setdefault(code, []).append(i)
    scopes = [
        (_scope(o), _scope(sf), _scope(md))
        for o, sf, md in regimes[["origin", "ship_from", "transport_mode"]].itertuples(
            index=False, name=None
        )
    ]
    line_origin = origin.values(rows)
    line_ship = ship_from.values(rows)
    line_ship = np.where(line_ship == "", line_origin, line_ship)
    key, combos = combined_codes(
        coded(market.values(rows)),
        coded(currency[rows]),
        coded(line_origin),
        coded(line_ship),
        coded(line_modes(mode, groups, rows)),
    )
    pair_combo: list[int] = []
    pair_row: list[int] = []
    pair_spec: list[int] = []
    for c, (mkt, _ccy, org, ship, md) in enumerate(combos):
        for i in by_market.get(str(mkt), ()):
            orgs, ships, modes = scopes[i]
            if (
                (orgs == [""] or org in orgs)
                and (ships == [""] or ship in ships)
                and (modes == [""] or md in modes)
            ):
                pair_combo.append(c)
                pair_row.append(i)
                pair_spec.append((orgs != [""]) + (ships != [""]) + (modes != [""]))
    if not pair_row:
        return Regime(duty_override, duty, no_tax, exempt, NO_ERRORS)
    pr = np.array(pair_row)
    ccys = [str(combos[c][1]) for c in pair_combo]
    tier_ccy = regimes["value_currency"].astype(str).to_numpy()[pr].tolist()
    to_tier = _fx_pairs(rules, ccys, tier_ccy)
    amount_ccy = regimes["amount_currency"].fillna("").astype(str).to_numpy()[pr]
    amount_fx = _fx_pairs(rules, [a or c for a, c in zip(amount_ccy, ccys, strict=True)], ccys)
    line, pair = _pairs_to_lines(key, np.array(pair_combo), len(combos))
    r = rows[line]
    errs = NO_ERRORS
    missing = np.isnan(to_tier[pair])
    if missing.any():
        mask = np.zeros(n, dtype=bool)
        mask[r[missing]] = True
        text = np.full(n, "", dtype=object)
        text[r[missing]] = [f"{ccys[k]}->{tier_ccy[k]}" for k in pair[missing]]
        errs = errors_where(
            mask,
            table=TABLE,
            column="consignment_value",
            zh=lambda idx: [f"缺少汇率，无法比较低货值门槛: {text[i]}" for i in idx],
            en=lambda idx: [
                f"missing FX rate to compare with the low-value threshold: {text[i]}" for i in idx
            ],
        )
    v = value[r] * to_tier[pair]
    lo = regimes["min_value"].to_numpy(dtype=float)[pr][pair]
    hi = regimes["max_value"].to_numpy(dtype=float)[pr][pair]
    inside = (v > lo) & (v <= hi)
    r, pair = r[inside], pair[inside]
    if len(r) == 0:
        return Regime(duty_override, duty, no_tax, exempt, errs)
    regime_row = pr[pair]
    specificity = np.array(pair_spec)[pair]
    applies = regimes["applies_to"].astype(str).to_numpy()[regime_row]
    on_duty = (applies == "duty") | (applies == "both")
    on_tax = (applies == "tax") | (applies == "both")

    def most_specific(levy: np.ndarray) -> np.ndarray:
        best = np.full(n, -1)
        np.maximum.at(best, r[levy], specificity[levy])
        return np.asarray(levy & (specificity == best[r]), dtype=bool)

    on_duty = most_specific(on_duty)
    on_tax = most_specific(on_tax)
    cv = customs_value[r]
    amount = nan_to_num(regimes["amount"].to_numpy(dtype=float)[regime_row])
    amount_m = amount * nan_to_num(amount_fx[pair]) * cv * groups.parcel_share[r]
    rate = nan_to_num(regimes["rate"].to_numpy(dtype=float)[regime_row])
    treatment = regimes["treatment"].astype(str).to_numpy()[regime_row]
    tier_duty = select(
        [
            treatment == Treatment.EXEMPT.value,
            treatment == Treatment.FLAT_PER_PARCEL.value,
            treatment == Treatment.FLAT_PER_SUBHEADING.value,
            treatment == Treatment.RATE.value,
            treatment == Treatment.RATE_MINUS_DEDUCTION.value,
            treatment == Treatment.COMBINED_RATE.value,
        ],
        [
            np.zeros(len(r)),
            amount_m,
            amount_m * groups.subheadings[r],
            rate * cv,
            np.maximum(rate * cv - amount_m, 0),
            rate * cv,
        ],
        default=np.nan,
    )
    sets_duty = on_duty & ~np.isnan(tier_duty)
    duty_override[r[sets_duty]] = True
    duty[r[sets_duty]] = tier_duty[sets_duty]
    exempt[r[sets_duty & (treatment == Treatment.EXEMPT.value)]] = True
    clears_tax = on_tax & np.isin(
        treatment,
        [Treatment.EXEMPT.value, Treatment.COLLECTED_AT_SALE.value, Treatment.COMBINED_RATE.value],
    )
    no_tax[r[clears_tax]] = True
    return Regime(duty_override, duty, no_tax, exempt, errs)


# --------------------------------------------------------------------------------------------
# Entry fees
# --------------------------------------------------------------------------------------------


def entry_fees(
    rules: Rules,
    groups: Groups,
    market: Coded,
    currency: np.ndarray,
    mode: Coded,
    customs_value: np.ndarray,
    brokerage: np.ndarray,
    waived: np.ndarray,
) -> np.ndarray:
    """Per-entry fees per unit [market ccy/unit]: the fees in force for the entry's market,
    transport mode and value, plus the line's ``brokerage_per_entry`` (which replaces the
    shipped brokerage row), shared by customs value. Zero on lines whose duty a low-value regime
    exempts: such a parcel is released without an entry."""
    n = len(customs_value)
    out = np.zeros(n)
    rows = np.flatnonzero(groups.in_entry & ~waived & ~np.isnan(groups.entry_value))
    if len(rows) == 0:
        return out
    # The entry's brokerage: the largest any of its lines gives (0 = none, not the shipped fee).
    own = nan_to_num(brokerage[rows])
    given = ~np.isnan(brokerage[rows])
    if given.any():
        by_entry = pd.DataFrame({"own": own, "given": given}).groupby(groups.entry_key[rows])
        own = by_entry["own"].transform("max").to_numpy()
        given = by_entry["given"].transform("max").to_numpy(dtype=bool)
    fees = rules.entry_fees.reset_index(drop=True)
    by_market: dict[str, list[int]] = {}
    for i, code in enumerate(fees["market"].astype(str)):
        by_market.setdefault(code, []).append(i)
    present = {str(m) for m in market.uniques}
    if not fees.empty and present & set(by_market):
        key, combos = combined_codes(
            coded(market.values(rows)),
            coded(currency[rows]),
            coded(line_modes(mode, groups, rows)),
            coded(given),
        )
        fee_modes = [_scope(m) for m in fees["transport_mode"]]
        names = fees["fee"].astype(str).tolist()
        pair_combo: list[int] = []
        pair_row: list[int] = []
        for c, (mkt, _ccy, md, has_own) in enumerate(combos):
            for i in by_market.get(str(mkt), ()):
                if (fee_modes[i] == [""] or md in fee_modes[i]) and not (
                    has_own and names[i] == "customs_brokerage"
                ):
                    pair_combo.append(c)
                    pair_row.append(i)
        if pair_row:
            pr = np.array(pair_row)
            ccys = [str(combos[c][1]) for c in pair_combo]
            to_tier = _fx_pairs(
                rules, ccys, fees["value_currency"].astype(str).to_numpy()[pr].tolist()
            )
            back = _fx_pairs(rules, fees["currency"].astype(str).to_numpy()[pr].tolist(), ccys)
            line, pair = _pairs_to_lines(key, np.array(pair_combo), len(combos))
            v = groups.entry_value[rows[line]] * to_tier[pair]
            fee_row = pr[pair]
            inside = (v > fees["min_value"].to_numpy(dtype=float)[fee_row]) & (
                v <= fees["max_value"].to_numpy(dtype=float)[fee_row]
            )
            line, pair, v, fee_row = line[inside], pair[inside], v[inside], fee_row[inside]
            rate = fees["rate"].to_numpy(dtype=float)[fee_row]
            part = np.maximum(
                nan_to_num(rate) * v,
                nan_to_num(fees["min_amount"].to_numpy(dtype=float)[fee_row]),
            )
            cap = fees["max_amount"].to_numpy(dtype=float)[fee_row]
            part = np.where(np.isnan(cap), part, np.minimum(part, cap))
            part = np.where(np.isnan(rate), 0.0, part)
            amount = part + nan_to_num(fees["flat_amount"].to_numpy(dtype=float)[fee_row])
            np.add.at(out, rows[line], nan_to_num(amount * back[pair]))
    out[rows] += own
    share = nan_to_num(groups.entry_share)
    return np.asarray(out * share * nan_to_num(customs_value), dtype=float)
