"""Money: rounding is decided here, once.

Calculators keep full precision through every chain; values are rounded only at the output
boundary (a sheet, a CSV, a printed summary), half-up (ties away from zero) to the minor unit of
the currency they are in: JPY and KRW to 0 decimals, EUR to 2, BHD to 3. Parts that must add up
to a total shown beside them (a target split by month, by tier) are rounded together by largest
remainder (:func:`round_largest_remainder`), to whatever unit the plan rounds to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlplan.core.columns import factorize
from xlplan.core.memo import derived

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


def minor_units(currency: pd.Series | np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Decimal places of each row's currency (``table`` indexed by code, ``minor_unit``).

    Unknown or blank currencies get :data:`DEFAULT_MINOR_UNIT`.
    """
    # Looked up per distinct currency (a handful), then laid out by the lines' codes: a
    # Series.map costs more than the look-up itself on one line, and twice this on many.
    codes, distinct = factorize(np.asarray(currency, dtype=object).astype(str))
    units: dict[object, float] = derived(
        table,
        "minor units",
        lambda: dict(zip(table.index.tolist(), table["minor_unit"].tolist(), strict=True)),
    )
    per_code = np.array([units.get(c, np.nan) for c in distinct], dtype=float)
    per_code[np.isnan(per_code)] = DEFAULT_MINOR_UNIT
    return per_code[codes] if len(codes) else np.zeros(0, dtype=float)


def round_money(
    frame: pd.DataFrame, columns: list[str], currency: pd.Series, table: pd.DataFrame
) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` rounded to each row's currency minor unit."""
    out = frame.copy()
    places = minor_units(currency, table)
    for col in columns:
        out[col] = round_half_up(out[col].to_numpy(dtype=float), places)
    return out


def _half_away(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sign(x) * np.floor(np.abs(x) + 0.5)
    return out


def round_largest_remainder(
    values: np.ndarray, totals: np.ndarray | None = None, unit: float = 1.0
) -> np.ndarray:
    """Round each row of ``values`` to whole ``unit`` so that it sums exactly to its total.

    Parameters
    ----------
    values : 2-D array, rows x parts [ccy] (a 1-D array is one row)
    totals : per-row totals [ccy]; default the row sums. Each total is first rounded to the unit,
        half away from zero.
    unit : rounding unit [ccy], > 0

    Returns
    -------
    Array of the same shape [ccy], every cell a whole multiple of ``unit``; per row the number of
    units sums exactly to the rounded total. Each part is floored to the unit, then the missing
    units go one each to the parts with the largest remainders (ties: the earlier part). If a row
    does not add up to its total, the difference is first spread evenly. A row with any NaN
    (or a NaN total) comes back all NaN.
    """
    arr = np.asarray(values, dtype=float)
    one_row = arr.ndim == 1
    x = arr[None, :] if one_row else arr
    n_rows, n = x.shape
    tot = np.nansum(x, axis=1) if totals is None else np.asarray(totals, dtype=float).reshape(-1)
    bad = np.isnan(x).any(axis=1) | np.isnan(tot)
    x = np.where(bad[:, None], 0.0, x)
    tot = np.where(bad, 0.0, tot)

    # Snap float noise (0.3 / 0.1 = 2.9999999999999996) before flooring.
    scaled = np.round(x / unit, 9)
    floor = np.floor(scaled)
    remainder = scaled - floor
    target = _half_away(np.round(tot / unit, 9))
    missing = target - floor.sum(axis=1)
    if n == 0:
        return arr.copy()
    base = np.floor(missing / n)
    extra = missing - base * n
    order = np.argsort(-remainder, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(n), (n_rows, n)), axis=1)
    units = floor + base[:, None] + (ranks < extra[:, None])
    out: np.ndarray = units * unit
    out[bad] = np.nan
    return out[0] if one_row else out
