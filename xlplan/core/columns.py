"""A table as its columns by key: what passes between the steps of a calculation where a frame
would be built only to be taken apart again. A frame's fixed cost (building it, reading a
column off it) is paid per call, not per row: a one-line UDF pays it many times over for one
row, a million-line table not at all more than the columns themselves."""

from __future__ import annotations

from collections.abc import Mapping
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
