"""Market rules (taxes, valuation, low-value regimes), currencies and FX, in force on a date.

The CSVs in ``data/`` are described in ``data/SOURCES.md``. Every dated row
has ``effective_from`` (inclusive) and ``effective_to`` (exclusive, blank = still in force); a plan
for a date uses the rows in force on that date. Every rule can be overridden from the workbook's
settings tables (:func:`apply_market_overrides`, :func:`load_rules`).

Loading reads package files; the calculators never do: they receive a :class:`Rules` value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.errors import InputError
from xlplan.reference.data import read_data

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
    "effective_from",
    "effective_to",
    "source",
    "uncertain",
    "note",
]
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


def in_force(frame: pd.DataFrame, on: date) -> pd.DataFrame:
    """The rows of a dated reference table in force on ``on`` (``effective_from`` inclusive,
    ``effective_to`` exclusive, blank = open)."""
    start = pd.to_datetime(frame["effective_from"].replace("", None), format="%Y-%m-%d")
    end = pd.to_datetime(frame["effective_to"].replace("", None), format="%Y-%m-%d")
    day = pd.Timestamp(on)
    mask = (start.isna() | (start <= day)) & (end.isna() | (day < end))
    return frame.loc[mask.to_numpy()]


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
    for col in ("treatment", "applies_to", "value_currency", "amount_currency"):
        expanded[col] = expanded[col].astype(str).str.strip()
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


@dataclass(frozen=True)
class Rules:
    """Everything a calculator needs to know about markets, on one date.

    ``markets``: see :func:`markets`. ``regimes``: see :func:`low_value_regimes`.
    ``fx``: ``from_currency, to_currency, rate`` with rate = units of ``to`` per one ``from``.
    ``currencies``: see :func:`currencies`.
    """

    on: date
    markets: pd.DataFrame
    regimes: pd.DataFrame
    fx: pd.DataFrame
    currencies: pd.DataFrame

    def fx_rates(self, src: pd.Series, dst: pd.Series) -> pd.Series:
        """Units of ``dst`` per one ``src``, row by row; NaN where no rate is known."""
        return fx_rates(self.fx, src, dst)


def load_rules(
    on: date,
    *,
    market_overrides: pd.DataFrame | None = None,
    regimes: pd.DataFrame | None = None,
    fx: pd.DataFrame | None = None,
) -> Rules:
    """Rules in force on ``on``, with the workbook's overrides applied.

    ``regimes``, when given, replaces the shipped regimes of the markets it names (rows of the
    same shape as ``low_value_regimes.csv``, already filtered to the date by the caller or not:
    they are filtered here). ``fx`` is the workbook's FX table; without it the rules know no FX
    rates, so lines in a foreign cost currency need their own ``fx_rate``.
    """
    table = apply_market_overrides(markets(on), market_overrides)
    shipped = low_value_regimes(on, table)
    if regimes is not None and not regimes.empty:
        own = regimes.copy()
        for col in REGIME_COLUMNS:
            if col not in own.columns:
                own[col] = ""
        own = expand_regimes(in_force(own.astype(str).replace("nan", ""), on), table)
        shipped = pd.concat(
            [shipped[~shipped["market"].isin(set(own["market"]))], own], ignore_index=True
        )
    fx_table = pd.DataFrame(columns=FX_COLUMNS) if fx is None else fx[FX_COLUMNS].copy()
    return Rules(on=on, markets=table, regimes=shipped, fx=fx_table, currencies=currencies())


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
    ca, ua = pd.factorize(np.asarray(src, dtype=object), use_na_sentinel=False)
    cb, ub = pd.factorize(np.asarray(dst, dtype=object), use_na_sentinel=False)
    width = max(len(ub), 1)
    keys, codes = np.unique(ca.astype(np.int64) * width + cb, return_inverse=True)
    resolved = np.array([one(str(ua[k // width]), str(ub[k % width])) for k in keys], dtype=float)
    out = resolved[codes] if len(resolved) else np.full(len(codes), np.nan)
    return pd.Series(out, index=src.index, dtype=float)
