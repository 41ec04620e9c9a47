"""A table as its columns by key: what passes between the steps of a calculation where a frame
would be built only to be taken apart again. A frame's fixed cost (building it, reading a
column off it) is paid per call, not per row: a one-line UDF pays it many times over for one
row, a million-line table not at all more than the columns themselves."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple, cast

import numpy as np
import pandas as pd

Column = np.ndarray | pd.Categorical
"""A column of a table: a numpy array, or a categorical of its texts."""


class Columns(NamedTuple):
    """Columns by key, each ``n`` values by position (no index)."""

    columns: Mapping[str, Column]
    n: int

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Columns:
        """A frame's columns (its index is not read): categoricals as they are, every other
        column as its numpy array."""
        return cls(
            {
                str(key): cast(pd.Categorical, column.array)
                if isinstance(column.dtype, pd.CategoricalDtype)
                else column.to_numpy()
                for key, column in frame.items()
            },
            len(frame),
        )

    def rows(self, positions: np.ndarray) -> Columns:
        """The rows at ``positions``, in that order."""
        return Columns(
            {key: column[positions] for key, column in self.columns.items()}, len(positions)
        )


def frame_of(columns: Mapping[str, Column]) -> pd.DataFrame:
    """Columns by key as one frame (index 0..n-1), each column keeping its own array
    (``copy=False``: consolidating thirty columns of a million lines into one block copies
    240 MB for nothing); text stays in object columns, as the callers compare and join it
    (pandas would infer its string dtype from an array of str)."""
    return pd.DataFrame(
        {
            key: pd.Series(values, dtype=object, copy=False)
            if isinstance(values, np.ndarray) and values.dtype == object
            else values
            for key, values in columns.items()
        },
        copy=False,
    )


SMALL = 32
"""Up to this many values a factorisation or a categorical's categories are handled in Python:
pandas' hash tables and category checks cost ~20-100 us a call whatever the size, and a one-line
UDF makes dozens of such calls on one row."""

_PLAIN = (str, float, int, bool)


def factorize(
    values: np.ndarray | pd.Categorical, *, use_na_sentinel: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pandas.factorize` of a numpy array: codes into the distinct values in order of
    appearance, and those values. Blanks (None, NaN) are -1 with ``use_na_sentinel``, else one
    code whose value is NaN. Equal values are one value (``1``, ``1.0`` and ``True``; the first
    seen is kept), as pandas has it. A small array of plain values (text, numbers, None) is
    factorised here, anything else by pandas."""
    if not isinstance(values, np.ndarray) or len(values) > SMALL or values.ndim != 1:
        return _pandas_factorize(values, use_na_sentinel)
    array = values
    if array.dtype.kind not in "OUfiub":
        return _pandas_factorize(array, use_na_sentinel)
    items = array.tolist()
    seen: dict[object, int] = {}
    codes = np.empty(len(items), dtype=np.intp)
    blank = -1
    for i, v in enumerate(items):
        kind = type(v)
        if v is None or (kind is float and v != v):  # NaN is the one float unequal to itself
            if not use_na_sentinel and blank < 0:
                blank = len(seen)
                seen[_Blank] = blank
            codes[i] = blank
        elif kind in _PLAIN:
            codes[i] = seen.setdefault(v, len(seen))
        else:  # numpy scalars, dates, pandas' NA: pandas knows how they compare
            return _pandas_factorize(array, use_na_sentinel)
    distinct = [np.nan if k is _Blank else k for k in seen]
    return codes, np.array(distinct, dtype=object if array.dtype.kind in "OU" else array.dtype)


class _Blank:
    """The key of the blank cells among the distinct values (NaN is no dict key)."""


def _pandas_factorize(
    values: np.ndarray | pd.Categorical, use_na_sentinel: bool
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        values = values.astype(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=use_na_sentinel)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques)


def categorical(codes: np.ndarray, categories: np.ndarray | list[str]) -> pd.Categorical:
    """A categorical of ``categories[codes]`` (-1: missing) from distinct categories, unchecked.
    A few text categories share one dtype made once (building a dtype checks its categories:
    ~50 us, more than the rest of a one-row categorical)."""
    names = tuple(categories) if len(categories) <= SMALL else None
    if names is not None and all(type(v) is str for v in names):
        dtype = _text_dtype(names)
    else:
        dtype = pd.CategoricalDtype(pd.Index(np.asarray(categories, dtype=object), dtype=object))
    return pd.Categorical.from_codes(np.asarray(codes), dtype=dtype, validate=False)


@lru_cache(maxsize=1024)
def _text_dtype(names: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(pd.Index(np.array(names, dtype=object), dtype=object))
