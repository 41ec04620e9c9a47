"""Shipped reference data and its loaders: every rule row dated and sourced.

The CSVs in ``data/`` are described in ``data/SOURCES.md``. Every dated row has
``effective_from`` (inclusive) and ``effective_to`` (exclusive, blank = still in force); a plan
for a date uses the rows in force on that date. Every rule can be overridden from the workbook.
Loading reads package files; the calculators never do: they receive values from here.
"""

from __future__ import annotations

import pandas as pd

from xlplan.reference.customs import (
    ENTRY_FEE_COLUMNS,
    ROUNDING_COLUMNS,
    ROUNDING_METHODS,
    ROUNDING_STEPS,
    SCENARIO,
    SHIPPED,
    TARIFF_COLUMNS,
    TARIFF_TYPED,
    TRANSPORT_MODES,
    WORKBOOK,
    countries,
    entry_fee_history,
    entry_fees,
    rounding_history,
    rounding_rules,
    tariff,
    tariff_history,
    typed_tariff,
    uk_global_tariff,
)
from xlplan.reference.data import DATA_DIR, in_force, read_data
from xlplan.reference.rules import (
    FX_COLUMNS,
    MARKET_BOOL_COLUMNS,
    MARKET_RULE_COLUMNS,
    OVERRIDE_COLUMNS,
    PIVOT_CURRENCIES,
    REGIME_COLUMNS,
    Rules,
    apply_market_overrides,
    currencies,
    default_fx,
    empty_overrides,
    expand_regimes,
    fx_rates,
    load_rules,
    low_value_regimes,
    market_history,
    markets,
    regime_history,
)

CHANNELS: tuple[str, ...] = (
    "Amazon",
    "Shopify",
    "TikTok Shop",
    "Mercado Libre",
    "Shopee",
    "Lazada",
    "Walmart",
    "eBay",
    "Temu",
    "Noon",
    "Other",
)
"""Sales channels the templates offer in their lists (others may be typed)."""


def market_macro() -> pd.DataFrame:
    """The market reference table (``data/market_macro.csv``), one row per market.

    ``market`` (ISO2), ``iso3``, ``name``, ``gdp_per_capita_usd`` [US$], ``gdp_year``,
    ``population`` [persons], ``population_year``, ``internet_users_share`` [fraction],
    ``internet_users_year``, ``ecommerce_penetration`` [fraction], ``ecommerce_market_usd_bn``
    [US$ bn], ``source``, ``ecommerce_source`` (``estimate``), ``uncertain`` [bool],
    ``effective_from``, ``effective_to``, ``note``.
    """
    frame = read_data("market_macro.csv")
    for c in (
        "gdp_per_capita_usd",
        "population",
        "internet_users_share",
        "ecommerce_penetration",
        "ecommerce_market_usd_bn",
    ):
        frame[c] = pd.to_numeric(frame[c])
    for c in ("gdp_year", "population_year", "internet_users_year"):
        frame[c] = pd.to_numeric(frame[c]).astype("int64")
    frame["uncertain"] = frame["uncertain"].str.lower().eq("true")
    return frame


def calendar_events() -> pd.DataFrame:
    """The shipped sales events (``data/calendar_events.csv``): uplifts [fraction] and day
    offsets as numbers, every other cell text."""
    frame = read_data("calendar_events.csv")
    for col in ("uplift", "start_offset", "end_offset"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


__all__ = [
    "CHANNELS",
    "DATA_DIR",
    "ENTRY_FEE_COLUMNS",
    "FX_COLUMNS",
    "MARKET_BOOL_COLUMNS",
    "MARKET_RULE_COLUMNS",
    "OVERRIDE_COLUMNS",
    "PIVOT_CURRENCIES",
    "REGIME_COLUMNS",
    "ROUNDING_COLUMNS",
    "ROUNDING_METHODS",
    "ROUNDING_STEPS",
    "SCENARIO",
    "SHIPPED",
    "TARIFF_COLUMNS",
    "TARIFF_TYPED",
    "TRANSPORT_MODES",
    "WORKBOOK",
    "Rules",
    "alias_key",
    "apply_market_overrides",
    "calendar_events",
    "code_aliases",
    "code_lists",
    "countries",
    "currencies",
    "default_fx",
    "empty_overrides",
    "entry_fee_history",
    "entry_fees",
    "expand_regimes",
    "fx_rates",
    "in_force",
    "load_rules",
    "low_value_regimes",
    "market_history",
    "market_macro",
    "markets",
    "read_data",
    "regime_history",
    "rounding_history",
    "rounding_rules",
    "tariff",
    "tariff_history",
    "typed_tariff",
    "uk_global_tariff",
]


def alias_key(text: object) -> str:
    """How a typed name is compared with the aliases: without case, spaces or dots."""
    return "".join(str(text).split()).replace(".", "").casefold()


def code_lists() -> dict[str, set[str]]:
    """The codes a ``markets`` or ``currencies`` column accepts: every market ever shipped,
    every ISO 4217 currency."""
    return {
        "markets": set(market_history()["market"]),
        "currencies": set(currencies().index.astype(str)),
    }


def code_aliases() -> dict[str, dict[str, str]]:
    """Per list, the names people type for a code (``USA``, ``美国``, ``United States`` ->
    ``US``; ``RMB``, ``人民币`` -> ``CNY``), keyed case-, space- and dot-insensitively
    (:func:`alias_key`). Market names come from ``markets.csv``, currency names from
    ``currencies.csv``, the rest from ``code_aliases.csv``."""
    out: dict[str, dict[str, str]] = {"markets": {}, "currencies": {}}
    history = market_history()
    for code, zh, en in history[["market", "name_zh", "name_en"]].itertuples(index=False):
        for name in (zh, en):
            out["markets"].setdefault(alias_key(name), str(code))
    for code, name in currencies()["name_en"].items():
        out["currencies"].setdefault(alias_key(name), str(code))
    for lst, alias, code in read_data("code_aliases.csv")[["list", "alias", "code"]].itertuples(
        index=False
    ):
        out[str(lst)][alias_key(alias)] = str(code)
    return out
