"""Market rules (taxes, valuation, low-value regimes), currencies and FX, in force on a date.

The CSVs in ``data/`` are described in ``data/SOURCES.md``. Every dated row
has ``effective_from`` (inclusive) and ``effective_to`` (exclusive, blank = still in force); a plan
for a date uses the rows in force on that date. Every rule can be overridden from the workbook's
settings tables (:func:`apply_market_overrides`, :func:`load_rules`).

Loading reads package files; the calculators never do: they receive a :class:`Rules` value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.columns import factorize
from xlplan.core.errors import InputError
from xlplan.reference import customs
from xlplan.reference.data import in_force, read_data
from xlplan.reference.fees import FeeTables, load_fee_tables

MARKET_BOOL_COLUMNS = [
    "price_includes_tax",
    "tax_base_includes_duty",
    "tax_base_includes_transport",
    "tax_gross_up",
    "import_tax_recoverable",
    "uncertain",
]
MARKET_RULE_COLUMNS = [
    "currency",
    "tax_name",
    "tax_rate",
    "price_includes_tax",
    "valuation_basis",
    "tax_base_includes_duty",
    "tax_base_includes_transport",
    "tax_gross_up",
    "import_tax_recoverable",
]
"""The market columns a workbook may override, all of them rules the calculators use."""

REGIME_COLUMNS = [
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
    "effective_from",
    "effective_to",
    "source",
    "uncertain",
    "note",
]
"""``low_value_regimes.csv``; ``origin``, ``ship_from`` and ``transport_mode`` are
``;``-separated lists (blank = any): a row naming them is more specific than one that does
not, and for one line and levy the most specific row that applies wins."""
OVERRIDE_COLUMNS = ["hs_prefix", "market", "origin", "kind", "rate"]
"""Scenario rate overrides: ``kind`` ``duty_rate`` or ``extra_duty_rate`` (all extra duties
together) set for the lines of ``market`` (and ``origin``, ``hs_prefix`` when given), over the
tariff and over the line's own rate."""
FX_COLUMNS = ["from_currency", "to_currency", "rate"]
PIVOT_CURRENCIES = ("USD", "CNY", "EUR")


def _to_bool(values: pd.Series) -> pd.Series:
    """A shipped true/false column (blank = false), read by the one cell parser."""
    flags, bad = parse.parse_bools(values)
    if bad.any():  # shipped data is checked by the tests; a bad cell is a broken installation
        raise InputError(
            "参考数据中的是/否值无法识别", f"reference data holds an unreadable flag: {values[bad]}"
        )
    return pd.Series(flags == 1.0, index=values.index)


def market_history() -> pd.DataFrame:
    """Every period of every market's rules, as shipped (text cells, for display)."""
    return read_data("markets.csv").copy()


def regime_history() -> pd.DataFrame:
    """Every shipped low-value regime row, all periods (text cells, for display)."""
    return read_data("low_value_regimes.csv").copy()


def _in_force(frame: pd.DataFrame, on: date) -> pd.DataFrame:
    return in_force(frame, on)


def markets(on: date) -> pd.DataFrame:
    """Market rules in force on ``on``, indexed by ISO 3166-1 alpha-2 market code.

    Columns: ``name_zh, name_en, region, customs_union, currency, tax_name, tax_rate
    [fraction], price_includes_tax, valuation_basis (FOB|CIF), tax_base_includes_duty,
    tax_base_includes_transport, tax_gross_up, import_tax_recoverable, effective_from,
    effective_to, source, uncertain, note``.
    """
    frame = in_force(read_data("markets.csv"), on).copy()
    frame["tax_rate"] = pd.to_numeric(frame["tax_rate"])
    for col in MARKET_BOOL_COLUMNS:
        frame[col] = _to_bool(frame[col])
    frame = frame.set_index("market")
    if frame.index.has_duplicates:
        dup = sorted(set(frame.index[frame.index.duplicated()]))
        raise InputError(f"市场规则日期重叠: {dup}", f"market rules overlap on {on}: {dup}")
    return frame


def low_value_regimes(on: date, market_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Low-value (de minimis) regimes in force on ``on``, one row per market and tier.

    Rows keyed by a customs union (``EU``) are expanded to its member markets using
    ``market_table`` (default: :func:`markets` on the same date). ``min_value`` (exclusive) and
    ``max_value`` (inclusive) are in ``value_currency``; ``amount`` in ``amount_currency``.
    """
    table = markets(on) if market_table is None else market_table
    frame = in_force(read_data("low_value_regimes.csv"), on)
    return expand_regimes(frame, table)


def expand_regimes(frame: pd.DataFrame, market_table: pd.DataFrame) -> pd.DataFrame:
    """Normalise a regime table: numbers parsed, unions expanded to member markets."""
    out = frame.copy()
    for col in ("min_value", "max_value", "rate", "amount"):
        out[col] = pd.to_numeric(out[col].replace("", None).astype(object), errors="coerce")
    out["min_value"] = out["min_value"].fillna(0.0)
    out["max_value"] = out["max_value"].fillna(np.inf)
    unions = market_table["customs_union"].replace("", None).dropna()
    members = pd.DataFrame({"union": unions.to_numpy(), "member": unions.index.to_numpy()})
    expanded = out.merge(members, how="left", left_on="market", right_on="union")
    expanded["market"] = expanded["member"].fillna(expanded["market"])
    expanded = expanded.drop(columns=["union", "member"])
    for col in (
        "treatment",
        "applies_to",
        "value_currency",
        "amount_currency",
        "origin",
        "ship_from",
        "transport_mode",
    ):
        if col not in expanded.columns:
            expanded[col] = ""
        expanded[col] = expanded[col].fillna("").astype(str).str.strip().str.replace(" ", "")
    for col in ("origin", "ship_from"):
        expanded[col] = expanded[col].str.upper()
    expanded["transport_mode"] = expanded["transport_mode"].str.lower()
    return expanded.reset_index(drop=True)


def currencies() -> pd.DataFrame:
    """ISO 4217 currencies indexed by code, with ``minor_unit`` (decimal places)."""
    frame = read_data("currencies.csv").copy()
    frame["minor_unit"] = pd.to_numeric(frame["minor_unit"]).astype("int64")
    return frame.set_index("currency")


def default_fx() -> pd.DataFrame:
    """Shipped default FX rates (``from_currency, to_currency, rate, as_of, source``).

    Used to pre-fill the workbook's FX table, which is what the calculators read.
    """
    frame = read_data("fx_rates.csv").copy()
    frame["rate"] = pd.to_numeric(frame["rate"])
    return frame


def apply_market_overrides(table: pd.DataFrame, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """Replace market rules by the non-blank cells of a workbook overrides table.

    ``overrides`` has a ``market`` column and any of :data:`MARKET_RULE_COLUMNS`; a market
    that is not shipped is added when the override gives at least its currency.
    """
    if overrides is None or overrides.empty:
        return table
    out = table.copy()
    over = overrides.set_index("market")
    new = [m for m in over.index if m not in out.index]
    if new:
        out = pd.concat([out, pd.DataFrame(index=pd.Index(new, name=out.index.name))])
    for col in (c for c in MARKET_RULE_COLUMNS if c in over.columns):
        given = over[col].dropna()
        if len(given):
            if col not in out.columns:
                out[col] = np.nan
            if col == "tax_rate":
                given = pd.to_numeric(given).astype(float)
                out[col] = out[col].astype(float)
            elif out[col].dtype == bool or col in ("currency", "valuation_basis", "tax_name"):
                out[col] = out[col].astype(object)
            out.loc[given.index, col] = given.to_numpy()
    for col in MARKET_BOOL_COLUMNS:
        if col in out.columns:
            out[col] = out[col].fillna(False).astype(bool)
    return out


def empty_overrides() -> pd.DataFrame:
    """A scenario rate-override table without rows (:data:`OVERRIDE_COLUMNS`)."""
    return pd.DataFrame(
        {
            "hs_prefix": pd.Series([], dtype=object),
            "market": pd.Series([], dtype=object),
            "origin": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
            "rate": pd.Series([], dtype=float),
        }
    )


def _empty_entry_fees() -> pd.DataFrame:
    return customs.typed_entry_fees(pd.DataFrame(columns=customs.ENTRY_FEE_COLUMNS))


def _empty_rounding() -> pd.DataFrame:
    return customs.typed_rounding(pd.DataFrame(columns=customs.ROUNDING_COLUMNS))


def _country_codes() -> frozenset[str]:
    return frozenset(customs.countries().index.astype(str))


@dataclass(frozen=True)
class Rules:
    """Everything a calculator needs to know about markets, on one date.

    ``markets``: see :func:`markets`. ``regimes``: see :func:`low_value_regimes`.
    ``fx``: ``from_currency, to_currency, rate`` with rate = units of ``to`` per one ``from``.
    ``currencies``: see :func:`currencies`. ``tariff``: the tariff rows in force
    (:data:`~xlplan.reference.customs.TARIFF_TYPED`); ``entry_fees`` and ``rounding``: see
    :func:`~xlplan.reference.customs.entry_fees` and
    :func:`~xlplan.reference.customs.rounding_rules`; ``countries``: the ISO codes an origin may
    take; ``overrides``: a scenario's rate overrides (:data:`OVERRIDE_COLUMNS`); ``fees``: the
    marketplace, fulfilment and payment fee tables (:mod:`xlplan.reference.fees`), None = only
    the fee figures typed on the lines. The customs tables default to empty (no tariff, fees or
    rounding) and the fee tables to None, as a hand-made ``Rules`` for a test wants.
    """

    on: date
    markets: pd.DataFrame
    regimes: pd.DataFrame
    fx: pd.DataFrame
    currencies: pd.DataFrame
    tariff: pd.DataFrame = field(default_factory=customs.empty_tariff)
    entry_fees: pd.DataFrame = field(default_factory=_empty_entry_fees)
    rounding: pd.DataFrame = field(default_factory=_empty_rounding)
    countries: frozenset[str] = field(default_factory=_country_codes)
    overrides: pd.DataFrame = field(default_factory=empty_overrides)
    fees: FeeTables | None = None

    def fx_rates(self, src: pd.Series, dst: pd.Series) -> pd.Series:
        """Units of ``dst`` per one ``src``, row by row; NaN where no rate is known."""
        return fx_rates(self.fx, src, dst)


def _own_rows(frame: pd.DataFrame, columns: list[str], on: date) -> pd.DataFrame:
    """A workbook's rule rows as text cells, every column present, filtered to ``on``."""
    own = frame.copy()
    for col in columns:
        if col not in own.columns:
            own[col] = ""
    own = own[columns].astype(object).where(own[columns].notna(), "")
    return in_force(own.astype(str).replace("nan", ""), on)


def _replace_keyed(shipped: pd.DataFrame, own: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``own`` rows replace the shipped rows with the same ``keys``."""
    if own.empty:
        return shipped
    mine = set(own[keys].itertuples(index=False, name=None))
    kept = [k not in mine for k in shipped[keys].itertuples(index=False, name=None)]
    return pd.concat([shipped[kept], own], ignore_index=True)


def load_rules(
    on: date,
    *,
    market_overrides: pd.DataFrame | None = None,
    regimes: pd.DataFrame | None = None,
    fx: pd.DataFrame | None = None,
    tariff: pd.DataFrame | None = None,
    entry_fees: pd.DataFrame | None = None,
    rounding: pd.DataFrame | None = None,
    fee_overrides: dict[str, pd.DataFrame] | None = None,
) -> Rules:
    """Rules in force on ``on``, with the workbook's overrides applied.

    ``regimes``, when given, replaces the shipped regimes of the markets it names (rows of the
    same shape as ``low_value_regimes.csv``, already filtered to the date by the caller or not:
    they are filtered here). ``fx`` is the workbook's FX table; without it the rules know no FX
    rates, so lines in a foreign cost currency need their own ``fx_rate``. ``tariff`` rows (the
    workbook's ``tblTariff``, shaped as ``tariff_rows.csv``) join the shipped ones as the
    workbook layer; ``entry_fees`` rows replace the shipped fees of the same market and fee,
    ``rounding`` rows the shipped rules of the same market and step. Dates are ISO text;
    workbook rows are filtered to ``on`` here. The fee tables in force on ``on`` come with
    them, ``fee_overrides`` (see :func:`~xlplan.reference.fees.load_fee_tables`) applied.
    """
    table = apply_market_overrides(markets(on), market_overrides)
    shipped = low_value_regimes(on, table)
    if regimes is not None and not regimes.empty:
        own = expand_regimes(_own_rows(regimes, REGIME_COLUMNS, on), table)
        shipped = pd.concat(
            [shipped[~shipped["market"].isin(set(own["market"]))], own], ignore_index=True
        )
    tariff_table = customs.tariff(on)
    if tariff is not None and not tariff.empty:
        own = customs.typed_tariff(_own_rows(tariff, customs.TARIFF_COLUMNS, on), customs.WORKBOOK)
        tariff_table = pd.concat([tariff_table, own], ignore_index=True)
    fees = customs.entry_fees(on)
    if entry_fees is not None and not entry_fees.empty:
        own = customs.typed_entry_fees(_own_rows(entry_fees, customs.ENTRY_FEE_COLUMNS, on))
        fees = _replace_keyed(fees, own, ["market", "fee"])
    rounding_table = customs.rounding_rules(on)
    if rounding is not None and not rounding.empty:
        own = customs.typed_rounding(_own_rows(rounding, customs.ROUNDING_COLUMNS, on))
        rounding_table = _replace_keyed(rounding_table, own, ["market", "step"])
    fx_table = pd.DataFrame(columns=FX_COLUMNS) if fx is None else fx[FX_COLUMNS].copy()
    return Rules(
        on=on,
        markets=table,
        regimes=shipped,
        fx=fx_table,
        currencies=currencies(),
        tariff=tariff_table,
        entry_fees=fees,
        rounding=rounding_table,
        fees=load_fee_tables(on, fee_overrides),
    )


def fx_rates(table: pd.DataFrame, src: pd.Series, dst: pd.Series) -> pd.Series:
    """Vectorised FX look-up: units of ``dst`` per one unit of ``src``.

    Tries, in order: the same currency (1), a direct row, the inverse of a row, and a cross
    through a pivot currency (USD, CNY, EUR). Earlier rows of ``table`` win over later ones.
    Only the distinct currency pairs are resolved, then mapped back to the rows.
    """
    direct: dict[tuple[str, str], float] = {}
    for a, b, r in table[FX_COLUMNS].itertuples(index=False, name=None):
        rate = float(r)
        if not (np.isfinite(rate) and rate > 0):
            continue
        direct.setdefault((str(a), str(b)), rate)
    both = dict(direct)
    for (a, b), r in direct.items():
        both.setdefault((b, a), 1.0 / r)

    def one(a: str, b: str) -> float:
        if a == b:
            return 1.0
        if (a, b) in both:
            return both[(a, b)]
        for p in PIVOT_CURRENCIES:
            if (a, p) in both and (p, b) in both:
                return both[(a, p)] * both[(p, b)]
        return float("nan")

    # Factorise each side and resolve each distinct (a, b) pair once: no per-row strings.
    ca, ua = factorize(np.asarray(src, dtype=object), use_na_sentinel=False)
    cb, ub = factorize(np.asarray(dst, dtype=object), use_na_sentinel=False)
    width = max(len(ub), 1)
    codes, keys = factorize(ca.astype(np.int64) * width + cb)  # hashing, not sorting
    resolved = np.array([one(str(ua[k // width]), str(ub[k % width])) for k in keys], dtype=float)
    out = resolved[codes] if len(resolved) else np.full(len(codes), np.nan)
    return pd.Series(out, index=src.index, dtype=float)
