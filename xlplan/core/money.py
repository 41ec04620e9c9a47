"""Money: rounding is decided here, once.

Calculators keep full precision through every chain; values are rounded only at the output
boundary (a sheet, a CSV, a printed summary), half-up (ties away from zero) to the minor unit of
the currency they are in: JPY and KRW to 0 decimals, EUR to 2, BHD to 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_MINOR_UNIT = 2


def round_half_up(
    values: pd.Series | np.ndarray, decimals: pd.Series | np.ndarray | int
) -> np.ndarray:
    """Round half-up (ties away from zero) to ``decimals`` places, element by element.

    The values are first rounded to 9 significant decimals past the target so that binary
    noise (2.675 stored as 2.67499999...) does not turn a tie into a round-down. NaN stays NaN.
    """
    x = np.asarray(values, dtype=float)
    d = np.asarray(decimals, dtype=float)
    factor = np.power(10.0, d)
    scaled = np.round(x * factor, 9)
    return np.asarray(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / factor, dtype=float)


def minor_units(currency: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """Decimal places of each row's currency (``table`` indexed by code, ``minor_unit``).

    Unknown or blank currencies get :data:`DEFAULT_MINOR_UNIT`.
    """
    mapped = currency.astype(str).map(table["minor_unit"])
    return mapped.fillna(DEFAULT_MINOR_UNIT).to_numpy(dtype=float)


def round_money(
    frame: pd.DataFrame, columns: list[str], currency: pd.Series, table: pd.DataFrame
) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` rounded to each row's currency minor unit."""
    out = frame.copy()
    places = minor_units(currency, table)
    for col in columns:
        out[col] = round_half_up(out[col].to_numpy(dtype=float), places)
    return out
