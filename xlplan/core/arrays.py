"""numpy's ``nan_to_num`` and ``select`` on float arrays, with their meaning and less fixed cost.

Both are called dozens of times per call of the landed-cost chain, whatever the number of
lines, and their argument handling costs more than the work on a one-row array (a one-line
UDF's case): ``np.nan_to_num`` ~14 us against ~3 us, ``np.select`` ~33 us against ~6 us for
three conditions. On a million lines both cost what numpy's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["nan_to_num", "select"]

_LARGEST = float(np.finfo(np.float64).max)


def nan_to_num(values: Any) -> Any:
    """:func:`numpy.nan_to_num`: NaN as 0.0, infinities as the largest finite float, a new
    array. Anything but a float64 array goes to numpy."""
    if not isinstance(values, np.ndarray) or values.dtype != np.float64 or values.ndim == 0:
        return np.nan_to_num(values)
    out = np.where(np.isnan(values), 0.0, values)
    if np.isinf(out).any():
        np.clip(out, -_LARGEST, _LARGEST, out=out)
    return out


def select(
    conditions: Sequence[npt.NDArray[np.bool_]],
    choices: Sequence[Any],
    default: Any = 0,
) -> npt.NDArray[Any]:
    """:func:`numpy.select`: where the first true condition is, its choice; ``default`` where
    none is."""
    if len(conditions) != len(choices):
        raise ValueError("select: as many conditions as choices")
    out = np.asarray(default)
    for condition, choice in zip(reversed(conditions), reversed(choices), strict=True):
        out = np.where(condition, choice, out)
    return np.asarray(out)
