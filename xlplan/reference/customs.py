"""Customs rule tables: tariff rows by HS prefix x market x origin, per-entry fees, money
rounding, and the country codes an origin may take. Every row is dated and sourced
(``data/SOURCES.md``); loaders return the rows in force on a date, typed.

Layers of tariff rows (column ``layer``): :data:`SHIPPED` (``tariff_rows.csv`` and the UK Global
Tariff extract), :data:`WORKBOOK` (the workbook's ``tblTariff``) and :data:`SCENARIO` (a
scenario's overrides). How the calculator picks among them is documented in
:mod:`xlplan.landed_cost.customs`.
"""

from __future__ import annotations

import functools
from datetime import date

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.errors import InputError
from xlplan.reference.data import in_force, read_data

SHIPPED, WORKBOOK, SCENARIO = 0, 1, 2

TARIFF_COLUMNS = [
    "hs_prefix",
    "market",
    "origin",
    "duty_rate",
    "extra_duty_rate",
    "measure",
    "effective_from",
    "effective_to",
    "source",
    "uncertain",
    "note",
]
"""``tariff_rows.csv``: a row with ``duty_rate`` sets the base (MFN or preferential) rate, a row
with ``extra_duty_rate`` an extra duty of its ``measure`` (extra duties of different measures
stack). Blank ``hs_prefix`` = every good; blank ``origin`` = any origin."""

TARIFF_TYPED = [
    "hs_prefix",
    "market",
    "origin",
    "duty_rate",
    "extra_duty_rate",
    "measure",
    "duty_text",
    "layer",
    "uncertain",
]
"""The typed tariff table a :class:`~xlplan.reference.Rules` holds (rows in force only):
``duty_text`` is the published duty where it is not a plain percentage (``duty_rate`` NaN),
``layer`` :data:`SHIPPED` / :data:`WORKBOOK` / :data:`SCENARIO`."""

UK_TARIFF_FILE = "uk_global_tariff_2021.csv"
UK_TARIFF_FROM = "2021-01-01"
UK_TARIFF_SOURCE = (
    "UK Global Tariff CSV (Department for International Trade, published 2020-12-02; "
    "Open Government Licence v3.0)"
)
UK_TARIFF_NOTE = (
    "Rate as published on 2020-12-02 for 2021-01-01; later UKGT amendments, suspensions and "
    "trade remedies not applied."
)

ENTRY_FEE_COLUMNS = [
    "market",
    "fee",
    "entry_type",
    "transport_mode",
    "min_value",
    "max_value",
    "value_currency",
    "rate",
    "min_amount",
    "max_amount",
    "flat_amount",
    "currency",
    "effective_from",
    "effective_to",
    "source",
    "uncertain",
    "note",
]
"""``entry_fees.csv``: one charge per customs entry whose value V satisfies ``min_value < V <=
max_value`` (in ``value_currency``) and whose transport mode is in ``transport_mode``
(``;``-separated, blank = any): ``clamp(rate x V, min_amount, max_amount) + flat_amount`` in
``currency``."""

ROUNDING_COLUMNS = [
    "market",
    "step",
    "method",
    "increment",
    "currency",
    "effective_from",
    "effective_to",
    "source",
    "uncertain",
    "note",
]
"""``rounding_rules.csv``: how the law rounds one step of the customs computation."""

ROUNDING_STEPS = ("duty_base", "duty", "duty_in_vat_base", "vat_base", "import_vat")
"""``duty_base`` the value duty is charged on; ``duty`` each duty amount (base and extra);
``duty_in_vat_base`` the duty as it enters the import-tax base; ``vat_base`` the import-tax base;
``import_vat`` the import tax."""

ROUNDING_METHODS = ("truncate", "half_up", "half_even", "not_collected_below")
"""``truncate`` drops what is below the increment (fractions of a penny disregarded);
``half_up`` and ``half_even`` round to the increment; ``not_collected_below`` leaves the amount
as it is unless it is below the increment, when it is not collected (0)."""

TRANSPORT_MODES = ("ocean", "air", "rail", "road", "courier", "postal")


def _flags(values: pd.Series) -> pd.Series:
    flags, bad = parse.parse_bools(values)
    if bad.any():  # shipped data is checked by the tests; a bad cell is a broken installation
        raise InputError(
            "参考数据中的是/否值无法识别", f"reference data holds an unreadable flag: {values[bad]}"
        )
    return pd.Series(flags == 1.0, index=values.index)


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", None).astype(object), errors="coerce").astype(float)


def tariff_history() -> pd.DataFrame:
    """The shipped ``tariff_rows.csv``, every period (text cells, for display)."""
    return read_data("tariff_rows.csv")


@functools.cache
def _uk_tariff() -> pd.DataFrame:
    extract = read_data(UK_TARIFF_FILE)
    text = extract["ukgt_duty_rate"]
    return pd.DataFrame(
        {
            "hs_prefix": extract["commodity"],
            "market": "GB",
            "origin": "",
            "duty_rate": extract["duty_rate"],
            "extra_duty_rate": "",
            "measure": "",
            "duty_text": text.where(extract["duty_rate"] == "", ""),
            "effective_from": UK_TARIFF_FROM,
            "effective_to": "",
            "source": UK_TARIFF_SOURCE,
            "uncertain": "true",
            "note": UK_TARIFF_NOTE,
        }
    )


def uk_global_tariff() -> pd.DataFrame:
    """The UK Global Tariff extract as tariff rows (GB, any origin; text cells): 11,830
    commodity codes as published on 2020-12-02 for 2021-01-01, every row ``uncertain`` (later
    amendments not applied). ``duty_text`` holds the published duty where it is specific or
    compound (no ``duty_rate``)."""
    return _uk_tariff().copy()


def typed_tariff(frame: pd.DataFrame, layer: int) -> pd.DataFrame:
    """Tariff rows (text or typed cells, :data:`TARIFF_COLUMNS`) as :data:`TARIFF_TYPED`."""
    out = pd.DataFrame(index=frame.index)
    for col in ("hs_prefix", "market", "origin", "measure"):
        values = frame[col] if col in frame.columns else pd.Series("", index=frame.index)
        out[col] = values.fillna("").astype(str).str.strip()
    out["hs_prefix"] = out["hs_prefix"].str.replace(r"[.\s-]", "", regex=True)
    out["market"] = out["market"].str.upper()
    out["origin"] = out["origin"].str.upper()
    for col in ("duty_rate", "extra_duty_rate"):
        values = frame[col] if col in frame.columns else pd.Series("", index=frame.index)
        out[col] = _numbers(values.astype(object).where(values.notna(), ""))
    text = frame["duty_text"] if "duty_text" in frame.columns else pd.Series("", index=frame.index)
    out["duty_text"] = text.fillna("").astype(str)
    out["layer"] = layer
    flags = frame["uncertain"] if "uncertain" in frame.columns else pd.Series("", index=frame.index)
    out["uncertain"] = _flags(flags.astype(object).where(flags.notna(), "").astype(str))
    return out.reset_index(drop=True)


def tariff(on: date) -> pd.DataFrame:
    """Shipped tariff rows in force on ``on`` (``tariff_rows.csv`` and the UK Global Tariff
    extract), typed (:data:`TARIFF_TYPED`)."""
    rows = pd.concat([in_force(tariff_history(), on), in_force(_uk_tariff(), on)])
    return typed_tariff(rows, SHIPPED)


def empty_tariff() -> pd.DataFrame:
    """A typed tariff table without rows."""
    return typed_tariff(pd.DataFrame(columns=TARIFF_COLUMNS), SHIPPED)


def entry_fee_history() -> pd.DataFrame:
    """The shipped ``entry_fees.csv``, every period (text cells, for display)."""
    return read_data("entry_fees.csv")


def typed_entry_fees(frame: pd.DataFrame) -> pd.DataFrame:
    """Entry-fee rows with numbers parsed (NaN where blank); blank ``min_value`` = 0, blank
    ``max_value`` = no upper bound."""
    out = frame.copy()
    for col in ("min_value", "max_value", "rate", "min_amount", "max_amount", "flat_amount"):
        out[col] = _numbers(out[col].astype(object).where(out[col].notna(), ""))
    out["min_value"] = out["min_value"].fillna(0.0)
    out["max_value"] = out["max_value"].fillna(np.inf)
    for col in ("market", "fee", "transport_mode", "value_currency", "currency"):
        out[col] = out[col].fillna("").astype(str).str.strip()
    return out.reset_index(drop=True)


def entry_fees(on: date) -> pd.DataFrame:
    """Per-entry fees in force on ``on`` (:data:`ENTRY_FEE_COLUMNS`, numbers parsed)."""
    return typed_entry_fees(in_force(entry_fee_history(), on))


def rounding_history() -> pd.DataFrame:
    """The shipped ``rounding_rules.csv``, every period (text cells, for display)."""
    return read_data("rounding_rules.csv")


def typed_rounding(frame: pd.DataFrame) -> pd.DataFrame:
    """Rounding rows with ``increment`` parsed."""
    out = frame.copy()
    out["increment"] = _numbers(out["increment"].astype(object).where(out["increment"].notna(), ""))
    for col in ("market", "step", "method", "currency"):
        out[col] = out[col].fillna("").astype(str).str.strip()
    return out.reset_index(drop=True)


def rounding_rules(on: date) -> pd.DataFrame:
    """Money rounding rules in force on ``on`` (:data:`ROUNDING_COLUMNS`, increment parsed)."""
    return typed_rounding(in_force(rounding_history(), on))


def countries() -> pd.DataFrame:
    """ISO 3166-1 alpha-2 country codes (``country``, ``name_en``, ``name_zh``), indexed by
    code: the codes an origin or a ship-from country may take."""
    return read_data("countries.csv").set_index("country")
