"""Marketplace, fulfilment and payment fee tables in force on a date.

The ``fees_*.csv`` files of ``data/`` are described in ``data/SOURCES.md``. Every row carries
``effective_from`` (inclusive), ``effective_to`` (exclusive, blank = still in force), ``source``
(ids of ``fees_sources.csv``), ``uncertain`` and ``note``. :func:`load_fee_tables` returns the
rows in force on one day, typed, each with a ``rule`` id (``file:line``, the CSV line number
counting the header as line 1) so that a result can say which row a figure came from. A
workbook table of the same shape replaces the shipped rows it overlaps (:func:`load_fee_tables`
``overrides``).

Bounds. Weight bands apply when ``weight_from < w <= weight_to``. Price bands carry their own
``price_bounds``: ``(]`` is ``from < P <= to``, ``[)`` is ``from <= P < to``, ``[]`` both ends
closed; a blank ``to`` is no upper limit.

Loading reads package files; the calculators never do: they receive a :class:`FeeTables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.errors import InputError
from xlplan.reference.data import read_data

FEE_FILES: dict[str, str] = {
    "referral": "fees_amazon_referral.csv",
    "refund_admin": "fees_amazon_refund_admin.csv",
    "size_tiers": "fees_fba_size_tiers.csv",
    "fulfilment": "fees_fba_fulfilment.csv",
    "storage": "fees_fba_storage.csv",
    "surcharges": "fees_fba_surcharges.csv",
    "commissions": "fees_marketplace_commissions.csv",
    "payments": "fees_payment_processors.csv",
}
"""Table name -> shipped file."""

DEFAULT_CATEGORY = "*"
"""A ``category`` (or ``listing_type``) of ``*`` applies to every category the table does not
name (Amazon's "Everything Else", Mercado Livre's "Outras categorias")."""

NUMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "referral": ("price_from", "price_to", "rate", "min_fee", "closing_fee"),
    "refund_admin": ("rate_of_referral_fee", "cap_per_line"),
    "size_tiers": (
        "tier_order",
        "max_longest",
        "max_median",
        "max_shortest",
        "max_length_plus_girth",
        "max_unit_weight",
        "max_shipping_weight",
        "dim_divisor",
        "min_side",
        "round_step",
        "round_step_from",
        "round_step_above",
    ),
    "fulfilment": (
        "weight_from",
        "weight_to",
        "price_from",
        "price_to",
        "fee",
        "overage_fee",
        "overage_step",
        "overage_above",
    ),
    "storage": (
        "month_from",
        "month_to",
        "age_from_days",
        "age_to_days",
        "rate",
        "per_unit_alternative",
    ),
    "surcharges": ("rate", "amount"),
    "commissions": ("price_from", "price_to", "rate", "fixed_fee", "cap"),
    "payments": ("rate", "fixed_fee", "cap"),
}
"""Number columns of each table (blank = NaN)."""


@dataclass(frozen=True)
class FeeTables:
    """The fee rows in force on ``on``, typed (see ``data/SOURCES.md`` for each column).

    Every frame has ``rule`` (``file:line``), ``source``, ``uncertain`` (bool) and ``note``.
    """

    on: date
    referral: pd.DataFrame
    refund_admin: pd.DataFrame
    size_tiers: pd.DataFrame
    fulfilment: pd.DataFrame
    storage: pd.DataFrame
    surcharges: pd.DataFrame
    commissions: pd.DataFrame
    payments: pd.DataFrame


def fee_history(name: str) -> pd.DataFrame:
    """Every shipped row of fee table ``name`` (a key of :data:`FEE_FILES`), all periods, as
    text cells with its ``rule`` id (for display and for the workbook's override tables)."""
    file = FEE_FILES[name]
    frame = read_data(file)
    frame.insert(0, "rule", [f"{file}:{i + 2}" for i in range(len(frame))])
    return frame


def fee_sources() -> pd.DataFrame:
    """The sources the fee rows cite: ``source_id, kind, title_and_what_it_says,
    url_or_locator, date``."""
    return read_data("fees_sources.csv")


def _in_force(frame: pd.DataFrame, on: date) -> pd.DataFrame:
    start = pd.to_datetime(frame["effective_from"].replace("", None), format="%Y-%m-%d")
    end = pd.to_datetime(frame["effective_to"].replace("", None), format="%Y-%m-%d")
    day = pd.Timestamp(on)
    mask = (start.isna() | (start <= day)) & (end.isna() | (day < end))
    return frame.loc[mask.to_numpy()]


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in NUMBER_COLUMNS[name]:
        values, bad = parse.parse_numbers(out[col].astype(object))
        if bad.any():
            raise InputError(
                f"费用参考数据 {name}.{col} 中有无法识别的数字",
                f"fee reference data {name}.{col} holds an unreadable number: "
                f"{out[col].to_numpy()[bad][:3]}",
            )
        out[col] = np.asarray(values, dtype=float)
    flags, bad = parse.parse_bools(out["uncertain"].astype(object))
    if bad.any():
        raise InputError(
            f"费用参考数据 {name}.uncertain 中有无法识别的是/否值",
            f"fee reference data {name}.uncertain holds an unreadable flag",
        )
    out["uncertain"] = np.asarray(flags, dtype=float) == 1.0
    return out.reset_index(drop=True)


def _peak_first(fulfilment: pd.DataFrame) -> pd.DataFrame:
    """Inside a holiday peak both the peak and the non-peak card are in force: peak wins."""
    key = ["marketplace", "size_tier", "weight_from", "price_band"]
    order = fulfilment.assign(_peak=fulfilment["season"].ne("peak")).sort_values(
        "_peak", kind="stable"
    )
    kept = order.drop_duplicates(key, keep="first").drop(columns="_peak")
    return kept.sort_index()


def load_fee_tables(on: date, overrides: dict[str, pd.DataFrame] | None = None) -> FeeTables:
    """The fee tables in force on ``on``.

    ``overrides`` maps a table name (:data:`FEE_FILES`) to workbook rows of the same columns
    (text or typed cells; blank dates = always; a ``rule`` id, blank = ``workbook``). The rows
    in force on ``on`` replace the shipped rows of the same keys (:data:`OVERRIDE_KEYS`: the
    marketplace and the category, size tier, storage class or payment component...) and add
    the others.
    """
    frames: dict[str, pd.DataFrame] = {}
    for name in FEE_FILES:
        shipped = fee_history(name)
        own = (overrides or {}).get(name)
        if own is not None and not own.empty:
            own = own.copy()
            for col in shipped.columns:
                if col not in own.columns:
                    own[col] = ""
            own = own[list(shipped.columns)].astype(object).where(own.notna(), "")
            own = own.astype(str)
            own.loc[own["rule"] == "", "rule"] = "workbook"
            own = _in_force(own, on)
            keys = list(OVERRIDE_KEYS[name])
            named = set(map(tuple, own[keys].to_numpy().tolist()))
            mine = pd.Series(
                [tuple(r) in named for r in shipped[keys].to_numpy().tolist()],
                index=shipped.index,
            )
            shipped = pd.concat([shipped[~mine], own], ignore_index=True)
        frames[name] = _typed(name, _in_force(shipped, on))
    frames["fulfilment"] = _peak_first(frames["fulfilment"])
    return FeeTables(on=on, **frames)


def no_fee_tables() -> FeeTables:
    """Fee tables without a row (only the figures typed on the lines count)."""
    return FeeTables(
        on=date(1900, 1, 1),
        **{name: _typed(name, fee_history(name).iloc[:0]) for name in FEE_FILES},
    )


OVERRIDE_KEYS: dict[str, tuple[str, ...]] = {
    "referral": ("marketplace", "category"),
    "refund_admin": ("marketplace",),
    "size_tiers": ("marketplace", "size_tier"),
    "fulfilment": ("marketplace", "season", "size_tier"),
    "storage": ("marketplace", "fee_kind", "size_class"),
    "surcharges": ("marketplace", "surcharge"),
    "commissions": ("channel", "marketplace", "category", "listing_type", "fee_type"),
    "payments": ("processor", "account_country", "component"),
}
"""The keys a workbook row replaces shipped rows by: every shipped row with the same keys as
a row in force goes (a schedule's bands are replaced together)."""
